// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking, STAKING_PRECOMPILE} from "../interfaces/IStaking.sol";

/// @title StakingLib
/// @notice Calls to the StakingV2 precompile without Solidity's `extcodesize` guard: a precompile
///         need not carry code, and these calls sit in per-asset loops where every hundred gas counts.
library StakingLib {
    /// @notice The precompile answered `getStake` with less than one word.
    error BadStakeAnswer();

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
        _call(IStaking.moveStake.selector, fromHotkey, toHotkey, netuid, amount, true);
    }

    /// @notice `transferStake(coldkey, hotkey, netuid, netuid, amount)`; bubbles a revert.
    function transfer(bytes32 toColdkey, bytes32 hotkey, uint256 netuid, uint256 amount) internal {
        _call(IStaking.transferStake.selector, toColdkey, hotkey, netuid, amount, true);
    }

    /// @notice `transferStake(coldkey, hotkey, netuid, netuid, amount)`; false instead of a revert.
    function tryTransfer(bytes32 toColdkey, bytes32 hotkey, uint256 netuid, uint256 amount) internal returns (bool ok) {
        return _call(IStaking.transferStake.selector, toColdkey, hotkey, netuid, amount, false);
    }

    function _call(bytes4 selector, bytes32 a, bytes32 b, uint256 netuid, uint256 amount, bool bubble)
        private
        returns (bool ok)
    {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), a)
            mstore(add(ptr, 0x24), b)
            mstore(add(ptr, 0x44), netuid)
            mstore(add(ptr, 0x64), netuid)
            mstore(add(ptr, 0x84), amount)
            ok := call(gas(), STAKING_PRECOMPILE, 0, ptr, 0xa4, 0, 0)
            if and(iszero(ok), bubble) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
        }
    }
}
