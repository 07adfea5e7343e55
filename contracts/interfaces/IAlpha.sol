// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Subtensor's Alpha precompile (`opentensor/subtensor` `precompiles/src/solidity/alpha.sol`).
address constant ALPHA_PRECOMPILE = 0x0000000000000000000000000000000000000808;

/// @title IAlpha
/// @notice The subset of subtensor's Alpha precompile TAO20 uses.
/// @dev Warning: the spot price moves with every swap in the subnet's pool and can be pushed
///      within a block. TAO20 never values shares with it on chain; it is read only to tell
///      whether a redemption amount falls below the runtime's minimum stake value.
interface IAlpha {
    /// @notice The subnet's current alpha price in rao of TAO per whole alpha (1e9 = 1 TAO).
    function getAlphaPrice(uint16 netuid) external view returns (uint256);
}
