// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "../../contracts/interfaces/IStaking.sol";

/// @notice A devnet helper: the total stake of a hotkey over a list of coldkeys in one call, so the
///         simulator's ledger on anvil answers a neuron's stake with one `eth_call`.
contract StakeTotals {
    function total(address staking, bytes32 hotkey, uint256 netuid, bytes32[] calldata coldkeys)
        external
        view
        returns (uint256 sum)
    {
        for (uint256 i; i < coldkeys.length; ++i) {
            sum += IStaking(staking).getStake(hotkey, coldkeys[i], netuid);
        }
    }
}
