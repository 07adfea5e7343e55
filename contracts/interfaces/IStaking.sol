// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Subtensor's StakingV2 precompile (`opentensor/subtensor` `precompiles/src/solidity/stakingV2.sol`).
address constant STAKING_PRECOMPILE = 0x0000000000000000000000000000000000000805;

/// @title IStaking
/// @notice The subset of subtensor's StakingV2 precompile TAO20 uses. The caller's coldkey is its
///         mirror account `blake2_256("evm:" ++ h160)`: for the TAO20 contract, the vault.
/// @dev Amounts are alpha in rao (9 decimals), not wei.
/// @dev Warning: the runtime clamps a transfer to the stake available, enforces a minimum stake
///      value (`DefaultMinStake`) and honours a per-subnet transfer toggle; a call may move less
///      than asked or revert. TAO20 checks `getStake` itself before every move it relies on.
interface IStaking {
    /// @notice Moves `amount` of the caller's stake from `origin_hotkey` to `destination_hotkey`.
    function moveStake(
        bytes32 origin_hotkey,
        bytes32 destination_hotkey,
        uint256 origin_netuid,
        uint256 destination_netuid,
        uint256 amount
    ) external;

    /// @notice Transfers `amount` of the caller's stake under `hotkey` to `destination_coldkey`.
    function transferStake(
        bytes32 destination_coldkey,
        bytes32 hotkey,
        uint256 origin_netuid,
        uint256 destination_netuid,
        uint256 amount
    ) external;

    /// @notice The alpha `coldkey` stakes under `hotkey` on `netuid`, in rao.
    function getStake(bytes32 hotkey, bytes32 coldkey, uint256 netuid) external view returns (uint256);
}
