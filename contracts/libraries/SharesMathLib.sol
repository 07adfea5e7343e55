// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title SharesMathLib
/// @notice The share, fee and redemption maths of PROTOCOL.md. Integers only; every rounding favours
///         the fund (holders already in it), never the party entering or leaving.
library SharesMathLib {
    /// @notice Basis point denominator.
    uint256 internal constant BPS = 10_000;
    /// @notice Blocks a year (365.25 days of 12-second blocks), the management fee's period.
    uint256 internal constant BLOCKS_PER_YEAR = 2_629_800;
    /// @notice NAV per share of an empty fund: 1 TAO (1e9 rao) per whole share.
    uint256 internal constant INITIAL_NAV = 1e9;
    /// @notice One whole share / one FP18 unit.
    uint256 internal constant WAD = 1e18;
    /// @notice One rao of TAO in wei: the runtime moves whole rao only.
    uint256 internal constant RAO = 1e9;

    /// @notice floor(amount * price / 1e18): rao value of `amount` alpha at FP18 `price`.
    function positionValue(uint256 amount, uint256 price) internal pure returns (uint256) {
        return Math.mulDiv(amount, price, WAD);
    }

    /// @notice ceil(valueRao * 1e18 / supply), or 1e9 when `supply` is zero.
    /// @dev Rounded up, unlike PROTOCOL.md's floor: `gross = floor(value * 1e18 / nav)` then never
    ///      pays the minter for the NAV's rounding dust, so value per share cannot fall by it.
    function navPerShare(uint256 valueRao, uint256 supply) internal pure returns (uint256) {
        return supply == 0 ? INITIAL_NAV : Math.mulDiv(valueRao, WAD, supply, Math.Rounding.Ceil);
    }

    /// @notice Shares of a delivery: gross rounded down, fee rounded up.
    function mintShares(uint256 valueRao, uint256 nav, uint256 mintFeeBps)
        internal
        pure
        returns (uint256 gross, uint256 fee, uint256 sharesOut)
    {
        gross = Math.mulDiv(valueRao, WAD, nav);
        fee = feeUp(gross, mintFeeBps);
        sharesOut = gross - fee;
    }

    /// @notice ceil(amount * bps / 10 000).
    function feeUp(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return Math.mulDiv(amount, bps, BPS, Math.Rounding.Ceil);
    }

    /// @notice floor(supply * bps * blocks / (10 000 * 2 629 800)).
    function managementFee(uint256 supply, uint256 bps, uint256 blocks) internal pure returns (uint256) {
        return Math.mulDiv(supply, bps * blocks, BPS * BLOCKS_PER_YEAR);
    }

    /// @notice Whether `amount` of alpha at `priceWei` (the Alpha precompile's wei per alpha, FP18 TAO
    ///         per alpha) is worth less than `minStakeRao`: `floor(amount * price / 1e18) < min`,
    ///         i.e. `amount * price < min * 1e18`. The runtime refuses to move such an amount.
    function isDust(uint256 amount, uint256 priceWei, uint256 minStakeRao) internal pure returns (bool) {
        return amount * priceWei < minStakeRao * WAD;
    }

    /// @notice `weiAmount` rounded down to whole rao (what the runtime can hold and move).
    function wholeRao(uint256 weiAmount) internal pure returns (uint256) {
        return weiAmount - weiAmount % RAO;
    }

    /// @notice floor(stake * burned / supply): a redeemer's part of one position.
    /// @dev Exact either way: the plain product when it cannot overflow (stakes are u64 in the
    ///      runtime, shares far below 2^192), the 512-bit one otherwise.
    function redeemAmount(uint256 stake, uint256 burned, uint256 supply) internal pure returns (uint256) {
        if (stake <= type(uint64).max && burned <= type(uint192).max) return stake * burned / supply;
        return Math.mulDiv(stake, burned, supply);
    }
}
