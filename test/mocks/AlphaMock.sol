// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAlpha} from "../../contracts/interfaces/IAlpha.sol";
import {STAKING_PRECOMPILE} from "../../contracts/interfaces/IStaking.sol";
import {StakingMock} from "./StakingMock.sol";

/// @notice The Alpha precompile's price, read from the staking mock so both agree on one price.
contract AlphaMock is IAlpha {
    function getAlphaPrice(uint16 netuid) external view returns (uint256) {
        return StakingMock(STAKING_PRECOMPILE).alphaPrice(netuid);
    }
}
