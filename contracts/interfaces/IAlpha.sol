// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Subtensor's Alpha precompile (`opentensor/subtensor` `precompiles/src/solidity/alpha.sol`).
address constant ALPHA_PRECOMPILE = 0x0000000000000000000000000000000000000808;

/// @title IAlpha
/// @notice The subset of subtensor's Alpha precompile TAO20 uses.
/// @dev Warning: the spot price moves with every swap in the subnet's pool and can be pushed
///      within a block. TAO20 never values shares with it on chain; it is read only to tell
///      whether an amount falls below the runtime's minimum stake value before asking the runtime
///      to move it.
interface IAlpha {
    /// @notice The subnet's current alpha price in **wei** of TAO per whole alpha (1e18 = 1 TAO per
    ///         alpha; subtensor 84b4023): `alpha.rs` floors `current_alpha_price x 1e9` to whole rao
    ///         and converts it with `into_evm_balance` (x 1e9), so the answer is a multiple of 1e9.
    ///         That is FP18 TAO per alpha: `value(amount) = floor(amount x price / 1e18)` rao.
    function getAlphaPrice(uint16 netuid) external view returns (uint256);
}
