// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking, STAKING_PRECOMPILE} from "../interfaces/IStaking.sol";
import {IAlpha, ALPHA_PRECOMPILE} from "../interfaces/IAlpha.sol";
import {IAddressMapping, ADDRESS_MAPPING_PRECOMPILE} from "../interfaces/IAddressMapping.sol";

/// @title StakingLib
/// @notice Calls to the StakingV2, Alpha, AddressMapping and BalanceTransfer precompiles without
///         Solidity's `extcodesize` guard: a precompile need not carry code, and these calls sit in
///         per-asset loops where every hundred gas counts.
/// @dev A refused `moveStake` / `transferStake` is a failed dispatch, an EVM error exit that consumes
///      all the gas forwarded (`precompiles/src/extensions.rs`). So every dispatching call forwards
///      exactly `DISPATCH_GAS`, never all the gas left: a subnet owner who disables transfers
///      (`TransferToggle`, which no precompile reports) can then burn at most that much of a
///      caller's gas, not its whole limit. Callers check the gas left first (`GasTooLow`), so a call
///      never fails because the transaction ran short: a failure is the runtime's answer.
library StakingLib {
    /// @notice Gas forwarded to each dispatching precompile call. Frontier converts gas to weight at
    ///         `WeightPerGas` = 75% x 4 s / 75 M gas = 40 000 ref-time ps per gas
    ///         (`runtime/src/lib.rs`); the pallet's benchmarked weights (`pallets/subtensor/src/
    ///         weights.rs`, RocksDb reads 25 us, writes 100 us) put `transfer_stake` (19 reads,
    ///         6 writes) at 1.33e9 ps = 33 339 gas and `move_stake` (19 reads, 7 writes) at 1.39e9 ps
    ///         = 34 777 gas, `transfer_allow_death` far below. 100 000 is about three times the
    ///         dearest, room for the precompile's own reads and a heavier runtime; the
    ///         precompile refuses a call whose weight exceeds the gas it was given.
    uint256 internal constant DISPATCH_GAS = 100_000;
    /// @notice The BalanceTransfer precompile (`transfer(bytes32)`, payable): native TAO to a
    ///         substrate account (`precompiles/src/balance_transfer.rs`, index 2048).
    address internal constant BALANCE_TRANSFER_PRECOMPILE = 0x0000000000000000000000000000000000000800;

    /// @dev `transfer(bytes32)`.
    bytes4 private constant PAY_NATIVE = 0xcd6f4eb1;

    /// @notice The precompile answered `getStake` with less than one word.
    error BadStakeAnswer();
    /// @notice Too little gas left to forward `DISPATCH_GAS` to a precompile call: raise the limit.
    error GasTooLow(uint256 left, uint256 needed);
    /// @notice The runtime refused a `moveStake` of `amount` on `netuid` (no reason is returned).
    error MoveFailed(uint256 netuid, uint256 amount);

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

    /// @notice `moveStake(from, to, netuid, netuid, amount)`; reverts `MoveFailed` if refused.
    function move(bytes32 fromHotkey, bytes32 toHotkey, uint256 netuid, uint256 amount) internal {
        if (!_call(IStaking.moveStake.selector, fromHotkey, toHotkey, netuid, amount)) {
            revert MoveFailed(netuid, amount);
        }
    }

    /// @notice `transferStake(coldkey, hotkey, netuid, netuid, amount)`; whether the runtime applied
    ///         it (refused: transfers disabled, or the runtime's minimum), the caller keeps the
    ///         amount owed.
    function tryTransfer(bytes32 toColdkey, bytes32 hotkey, uint256 netuid, uint256 amount) internal returns (bool ok) {
        ok = _call(IStaking.transferStake.selector, toColdkey, hotkey, netuid, amount);
    }

    /// @notice Pays `weiAmount` (whole rao) of native TAO to substrate account `to` through the
    ///         BalanceTransfer precompile; whether it was applied.
    function tryPayNative(bytes32 to, uint256 weiAmount) internal returns (bool ok) {
        _checkGas();
        bytes4 selector = PAY_NATIVE;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), to)
            ok := call(DISPATCH_GAS, BALANCE_TRANSFER_PRECOMPILE, weiAmount, ptr, 0x24, 0, 0)
        }
    }

    /// @dev EIP-150 forwards at most 63/64 of the gas left; 10 000 covers the call's own cost.
    function _checkGas() private view {
        uint256 needed = (DISPATCH_GAS * 64) / 63 + 10_000;
        if (gasleft() < needed) revert GasTooLow(gasleft(), needed);
    }

    function _call(bytes4 selector, bytes32 a, bytes32 b, uint256 netuid, uint256 amount) private returns (bool ok) {
        _checkGas();
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), a)
            mstore(add(ptr, 0x24), b)
            mstore(add(ptr, 0x44), netuid)
            mstore(add(ptr, 0x64), netuid)
            mstore(add(ptr, 0x84), amount)
            ok := call(DISPATCH_GAS, STAKING_PRECOMPILE, 0, ptr, 0xa4, 0, 0)
        }
    }
}
