// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking, STAKING_PRECOMPILE} from "../interfaces/IStaking.sol";
import {IAlpha, ALPHA_PRECOMPILE} from "../interfaces/IAlpha.sol";
import {IAddressMapping, ADDRESS_MAPPING_PRECOMPILE} from "../interfaces/IAddressMapping.sol";

/// @title StakingLib
/// @notice Calls to the StakingV2, Alpha and AddressMapping precompiles without Solidity's
///         `extcodesize` guard: a precompile need not carry code, and these calls sit in per-asset
///         loops where every hundred gas counts.
/// @dev Warning: a refused `moveStake` / `transferStake` is a failed dispatch, an EVM error exit
///      that consumes all the gas forwarded (`precompiles/src/extensions.rs`). Callers decide
///      beforehand whether the runtime would accept a move; the revert bubbled here is a real
///      failure, never control flow.
library StakingLib {
    /// @notice The precompile answered `getStake` with less than one word.
    error BadStakeAnswer();

    /// @notice `getAlphaPrice(netuid)`: wei of TAO per whole alpha (1e18 = 1 TAO per alpha), a
    ///         multiple of 1e9; 0 when the precompile does not answer (treated as worthless).
    function alphaPrice(uint256 netuid) internal view returns (uint256 price) {
        bytes4 selector = IAlpha.getAlphaPrice.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), netuid)
            let ok := staticcall(gas(), ALPHA_PRECOMPILE, ptr, 0x24, ptr, 0x20)
            price := mul(mload(ptr), and(ok, gt(returndatasize(), 0x1f)))
        }
    }

    /// @notice The AddressMapping precompile's mirror account of `account`; zero where no
    ///         precompile answers (a plain EVM, as in some tests).
    function mirrorOf(address account) internal view returns (bytes32 mirror) {
        bytes4 selector = IAddressMapping.addressMapping.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), account)
            let ok := staticcall(gas(), ADDRESS_MAPPING_PRECOMPILE, ptr, 0x24, ptr, 0x20)
            mirror := mul(mload(ptr), and(ok, gt(returndatasize(), 0x1f)))
        }
    }

    /// @notice `getStake(hotkey, coldkey, netuid)`.
    function stakeOf(bytes32 hotkey, bytes32 coldkey, uint256 netuid) internal view returns (uint256 amount) {
        bytes4 selector = IStaking.getStake.selector;
        bool ok;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), hotkey)
            mstore(add(ptr, 0x24), coldkey)
            mstore(add(ptr, 0x44), netuid)
            ok := staticcall(gas(), STAKING_PRECOMPILE, ptr, 0x64, ptr, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            amount := mload(ptr)
        }
        if (!ok) revert BadStakeAnswer();
    }

    /// @notice `moveStake(from, to, netuid, netuid, amount)`; bubbles a revert.
    function move(bytes32 fromHotkey, bytes32 toHotkey, uint256 netuid, uint256 amount) internal {
        _call(IStaking.moveStake.selector, fromHotkey, toHotkey, netuid, amount);
    }

    /// @notice `transferStake(coldkey, hotkey, netuid, netuid, amount)`; bubbles a revert.
    function transfer(bytes32 toColdkey, bytes32 hotkey, uint256 netuid, uint256 amount) internal {
        _call(IStaking.transferStake.selector, toColdkey, hotkey, netuid, amount);
    }

    function _call(bytes4 selector, bytes32 a, bytes32 b, uint256 netuid, uint256 amount) private {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), a)
            mstore(add(ptr, 0x24), b)
            mstore(add(ptr, 0x44), netuid)
            mstore(add(ptr, 0x64), netuid)
            mstore(add(ptr, 0x84), amount)
            if iszero(call(gas(), STAKING_PRECOMPILE, 0, ptr, 0xa4, 0, 0)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
        }
    }
}
