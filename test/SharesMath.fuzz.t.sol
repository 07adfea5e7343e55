// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {SharesMathLib} from "../contracts/libraries/SharesMathLib.sol";
import {CreationReport, Position} from "../contracts/interfaces/ITAO20.sol";

/// @notice Fuzz tests of the share, fee and redemption maths, in the library and through the contract.
contract SharesMathFuzzTest is BaseTest {
    // ------------------------------------------------------------------ library

    function testFuzz_MintShares_NeverWorthMoreThanTheDelivery(uint256 value, uint256 nav, uint16 bps) public pure {
        value = bound(value, 0, 1e30);
        nav = bound(nav, 1, 1e30);
        bps = uint16(bound(bps, 0, 100));
        (uint256 gross, uint256 fee, uint256 out) = SharesMathLib.mintShares(value, nav, bps);
        assertLe(gross * nav, value * 1e18, "gross rounds down");
        assertEq(out + fee, gross);
        assertLe(out * nav, value * 1e18);
    }

    function testFuzz_MintFee_RoundsUpAndStaysUnderTheCap(uint256 gross, uint16 bps) public pure {
        gross = bound(gross, 0, 1e40);
        bps = uint16(bound(bps, 0, 100));
        uint256 fee = SharesMathLib.feeUp(gross, bps);
        assertGe(fee * 10_000, gross * bps, "rounds up");
        assertLt(fee * 10_000, gross * bps + 10_000, "by less than one unit");
        assertLe(fee, gross / 100 + 1, "at most 1 % (plus the rounding unit)");
    }

    function testFuzz_ManagementFee_RoundsDownAndStaysUnderTheCap(uint256 supply, uint16 bps, uint32 blocks)
        public
        pure
    {
        supply = bound(supply, 0, 1e36);
        bps = uint16(bound(bps, 0, 200));
        uint256 fee = SharesMathLib.managementFee(supply, bps, blocks);
        assertLe(fee * 10_000 * 2_629_800, supply * bps * blocks, "rounds down");
        assertLe(fee, supply * 200 * uint256(blocks) / (10_000 * 2_629_800), "never above 200 bps a year");
    }

    function testFuzz_RedeemAmount_NeverMoreThanProRata(uint256 stake, uint256 burned, uint256 supply) public pure {
        supply = bound(supply, 1, 1e36);
        burned = bound(burned, 0, supply);
        stake = bound(stake, 0, type(uint64).max);
        uint256 amount = SharesMathLib.redeemAmount(stake, burned, supply);
        assertLe(amount * supply, stake * burned, "floor");
        assertLe(amount, stake);
    }

    /// The NAV is rounded up so that shares priced at it never give a minter the rounding dust.
    function testFuzz_NavPerShare_RoundsUp(uint256 value, uint256 supply) public pure {
        value = bound(value, 0, 1e30);
        supply = bound(supply, 0, 1e36);
        uint256 nav = SharesMathLib.navPerShare(value, supply);
        if (supply == 0) return assertEq(nav, 1e9);
        assertGe(nav * supply, value * 1e18);
        if (nav > 0) assertLt((nav - 1) * supply, value * 1e18);
    }

    function testFuzz_PositionValue_RoundsDown(uint64 amount, uint256 price) public pure {
        price = bound(price, 0, 1e30);
        uint256 v = SharesMathLib.positionValue(amount, price);
        assertLe(v * 1e18, uint256(amount) * price);
        assertGt((v + 1) * 1e18, uint256(amount) * price);
    }

    // ------------------------------------------------------------------ through the contract

    function _mintFair(uint64 amount) internal returns (uint256 shares) {
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 v = _fundStake(1);
        (shares,) = _createShares(amount, amount, SharesMathLib.navPerShare(v, supply));
    }

    function _redeemAll(address who, bytes32 coldkey) internal returns (uint256 got) {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        uint256 bal = t.balanceOf(who);
        vm.prank(who);
        got = t.redeem(bal, coldkey, mins, skip)[0];
    }

    function testFuzz_MintThenFullRedemption_NeverReturnsMoreThanDelivered(uint64 amount, uint32 wait) public {
        amount = uint64(bound(amount, 1e7, 1e18));
        _mintFair(amount);
        vm.roll(block.number + bound(wait, 0, 1e6));
        assertLe(_redeemAll(miner, minerColdkey), amount);
    }

    function testFuzz_SecondMinter_CannotTakeMoreThanItBrought(uint64 first, uint64 second) public {
        first = uint64(bound(first, 1e7, 1e17));
        second = uint64(bound(second, 1e7, 1e17));
        _mintFair(first);
        uint256 firstShares = t.balanceOf(miner);
        vm.prank(miner);
        t.transfer(holder, firstShares); // the first miner's shares rest with the holder
        vm.roll(block.number + 1);
        uint256 before = _fundStake(1);
        _mintFair(second);
        assertEq(_fundStake(1), before + second);
        assertLe(_redeemAll(miner, minerColdkey), second, "no value taken from the holder");
    }

    function testFuzz_InflationAttack_DonationGainsNothing(uint64 donation, uint64 victim) public {
        donation = uint64(bound(donation, 1e7, 1e17));
        victim = uint64(bound(victim, 1e7, 1e17));
        // Attacker: the smallest first mint, then a donation straight to the fund hotkey.
        _mintFair(2e7);
        address attacker = miner;
        uint256 attackerShares = t.balanceOf(attacker);
        staking.setStake(fundHk(1), vault, 1, _fundStake(1) + donation);
        // Victim mints at the NAV the quorum reports, which counts the donation.
        miner = makeAddr("victim");
        vm.deal(miner, 10 ether);
        uint256 victimShares = _mintFair(victim);
        assertGt(victimShares, 0, "the victim gets shares");
        // The attacker redeems everything: no more than it put in (2e7 + donation).
        miner = attacker;
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(attacker);
        uint256 got = t.redeem(attackerShares, keccak256("attacker"), mins, skip)[0];
        assertLe(got, 2e7 + uint256(donation), "the donation is not recovered with a profit");
    }

    function testFuzz_Mint_SharesNeverWorthMoreThanValue(uint64 amount, uint256 nav) public {
        amount = uint64(bound(amount, 1e7, 1e18));
        nav = bound(nav, 1e6, uint256(amount) * 500); // gross above the dead shares and the fee
        (uint256 shares,) = _createShares(amount, amount, nav);
        uint256 fee = t.balanceOf(feeRecipient);
        assertLe((shares + fee + t.DEAD_SHARES()) * nav, uint256(amount) * 1e18);
    }
}
