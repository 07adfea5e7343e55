// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAlpha} from "../../contracts/interfaces/IAlpha.sol";

/// @notice The Alpha precompile at 0x…0808, answering `getAlphaPrice` in the runtime's unit: wei of
///         TAO per whole alpha, 1e18 = 1 TAO per alpha (`precompiles/src/alpha.rs` scales the pool's
///         price by 1e9 to a whole-rao `u64`, then `into_evm_balance` multiplies it by 1e9). So every
///         answer is a multiple of 1e9, exactly as on chain.
/// @dev The staking mock's `setSubnet` writes the price here too, so both mocks agree on one price.
///      A subnet whose price was never set answers 1 TAO per alpha without a per-subnet read (one
///      bitmap word answers a whole basket, as the staking mock's toggle word does): the gas
///      snapshots then measure the contract's own cost of asking, not a test double's storage. On
///      chain the precompile charges four database reads (`record_db_reads(4)` in `alpha.rs`).
contract AlphaMock {
    /// @dev Bit `netuid % 256` of word `netuid / 256`: the subnet has a price of its own.
    mapping(uint256 word => uint256) internal setBits;
    /// @dev Rao of TAO per whole alpha, for subnets whose bit is set.
    mapping(uint256 netuid => uint256) internal priceRao;

    /// @notice Sets the subnet's price in rao of TAO per whole alpha (0 restores 1 TAO per alpha).
    function setPriceRao(uint256 netuid, uint256 rao) external {
        uint256 bit = 1 << (netuid % 256);
        if (rao == 0) {
            setBits[netuid / 256] &= ~bit;
            delete priceRao[netuid];
        } else {
            setBits[netuid / 256] |= bit;
            priceRao[netuid] = rao;
        }
    }

    /// @notice `getAlphaPrice(uint16)`, served straight from calldata like the staking mock's
    ///         selectors (the runtime's precompile has no Solidity dispatch to pay for).
    fallback() external {
        bytes4 selector = IAlpha.getAlphaPrice.selector;
        assembly ("memory-safe") {
            if iszero(eq(shr(224, calldataload(0)), shr(224, selector))) { revert(0, 0) }
            let netuid := calldataload(4)
            let price := 1000000000000000000
            mstore(0, div(netuid, 256))
            mstore(0x20, setBits.slot)
            if and(sload(keccak256(0, 0x40)), shl(mod(netuid, 256), 1)) {
                mstore(0, netuid)
                mstore(0x20, priceRao.slot)
                price := mul(sload(keccak256(0, 0x40)), 1000000000)
            }
            mstore(0, price)
            return(0, 0x20)
        }
    }
}
