// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {EventsLib} from "../contracts/libraries/EventsLib.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract RedeemTest is BaseTest {
    uint256 internal minted;

    function setUp() public override {
        super.setUp();
        (minted,) = _createShares(10e9, 10e9, 1e9); // 10 shares gross, one netuid
        vm.prank(miner);
        t.transfer(holder, 4e18);
    }

    function _redeem(uint256 shares) internal returns (uint256[] memory) {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        return t.redeem(shares, holderColdkey, mins, skip);
    }

    // ------------------------------------------------------------------ fuzzing helpers

    /// @dev S: the supply a redemption in this block divides by (after the management fee accrual).
    function _supply() internal view returns (uint256) {
        return t.totalSupply() + t.pendingManagementFee();
    }

    /// @dev ITAO20.redeem: what is burned of `shares` after the fee `ceil(shares * redeemFeeBps / 1e4)`.
    function _burnedOf(uint256 shares) internal pure returns (uint256) {
        return shares - (shares * REDEEM_FEE + 9999) / 10_000;
    }

    /// @dev Enough shares (at most two more than the fewest) that a redemption of them is owed at
    ///      least `amount` of a position of `stake` in a supply of `supply`:
    ///      `floor(stake * burned / S) >= amount` once `burned >= ceil(amount * S / stake)`. Fewer
    ///      may be owed nothing (the redemption then reverts `NothingToRedeem`).
    function _sharesOwed(uint256 amount, uint256 stake, uint256 supply) internal pure returns (uint256) {
        uint256 burned = (amount * supply + stake - 1) / stake;
        return burned * 10_000 / (10_000 - REDEEM_FEE) + 2;
    }

    /// @dev A bond in whole rao, from the creation bond up to every TAO there will ever be (21
    ///      million): the contract books native TAO in u96 sums, which real balances cannot fill.
    function _bond(uint96 raw) internal pure returns (uint96) {
        return uint96(bound(raw, BOND / 1e9, 21e6 * 1e9) * 1e9);
    }

    /// @dev A request of bond `bond` left to expire: its bond becomes the fund's native TAO.
    function _expiredBond(uint96 bond) internal {
        vm.deal(miner, bond);
        vm.prank(miner);
        bytes32 id = t.requestCreation{value: bond}(1, minerColdkey, miner, 0);
        vm.roll(block.number + WINDOW + GRACE + 1);
        t.expire(id);
    }

    /// @dev Whether `amount` of netuid 1 is worth less than the runtime minimum at `priceRao` per alpha.
    function _isDust(uint256 amount, uint256 priceRao) internal pure returns (bool) {
        return amount * priceRao < uint256(MIN_STAKE) * 1e9;
    }

    /// @dev Any fund position (its delivery grown by emissions or shrunk), any part of the holder's
    ///      shares that is owed something, any time since the last accrual (up to a year): the
    ///      holder gets `floor(stake * burned / S)`, transferred, or booked when it is dust.
    function testFuzz_Redeem_PaysItsShareOfEveryPosition(uint256 shares, uint64 stake, uint256 blocks) public {
        stake = uint64(bound(stake, MIN_STAKE, type(uint64).max));
        staking.setStake(fundHk(1), vault, 1, stake);
        vm.roll(block.number + bound(blocks, 0, 2_629_800));
        uint256 supply = _supply();
        uint256 accrued = t.pendingManagementFee();
        shares = bound(shares, _sharesOwed(1, stake, supply), 4e18);
        uint256 fee = shares - _burnedOf(shares);
        uint256 burned = _burnedOf(shares);
        uint256 expected = uint256(stake) * burned / supply;
        uint256 feesBefore = t.balanceOf(feeRecipient);
        uint256[] memory amounts = _redeem(shares);
        assertEq(amounts[0], expected, "floor(stake * burned / S)");
        if (_isDust(expected, 1e9)) {
            assertEq(t.claimOf(holderColdkey, 1), expected, "dust is booked to the holder's coldkey");
            assertEq(_fundStake(1), stake, "and never sent to the runtime");
        } else {
            assertEq(
                staking.stakeOf(fundHk(1), holderColdkey, 1), expected, "stake under the fund hotkey, holder coldkey"
            );
            assertEq(_fundStake(1), stake - expected);
        }
        assertEq(t.balanceOf(holder), 4e18 - shares);
        assertEq(t.balanceOf(feeRecipient), feesBefore + fee + accrued, "redeem fee and management fee");
        assertEq(t.totalSupply(), supply - burned, "only the burned part leaves the supply");
    }

    function testFuzz_Redeem_PaysNativeTaoAsTheLastPosition(uint256 shares, uint96 bond) public {
        bond = _bond(bond);
        _expiredBond(bond); // the bond becomes the fund's native TAO
        uint256 before = holder.balance;
        uint256 supply = _supply();
        shares = bound(shares, _sharesOwed(1e9, bond, supply), 4e18); // owed at least one rao
        uint256[] memory amounts = _redeem(shares);
        uint256 native = uint256(bond) * _burnedOf(shares) / supply;
        assertEq(amounts[amounts.length - 1], native - native % 1e9, "floor, in whole rao");
        assertEq(holder.balance, before + amounts[amounts.length - 1]);
        assertEq(t.fundNativeBalance(), bond - amounts[amounts.length - 1], "the rest stays the fund's");
    }

    function testFuzz_Redeem_SkippedPositionIsBookedToTheRedeemer(uint256 shares) public {
        uint256 supply = _supply();
        shares = bound(shares, _sharesOwed(1, 10e9, supply), 4e18);
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        vm.prank(holder);
        uint256[] memory amounts = t.redeem(shares, holderColdkey, mins, skip);
        assertEq(amounts[0], 10e9 * _burnedOf(shares) / supply, "owed, not forgone");
        assertEq(_fundStake(1), 10e9, "nothing moved");
        assertEq(t.claimOf(holderColdkey, 1), amounts[0], "booked to the redeemer's coldkey");
        assertEq(t.reserved(1), amounts[0], "and reserved out of the fund's position");
    }

    /// @dev Any redemption owed something of netuid 1, at any price that makes that amount dust.
    function testFuzz_Redeem_DustBelowTheRuntimeMinimumIsBooked(uint256 shares, uint128 priceRao) public {
        uint256 supply = _supply();
        shares = bound(shares, _sharesOwed(1, 10e9, supply), 4e18);
        uint256 owed = 10e9 * _burnedOf(shares) / supply;
        // Below 2e15 / owed rao per alpha, `owed` is worth less than 0.002 TAO.
        priceRao = uint128(bound(priceRao, 1, (uint256(MIN_STAKE) * 1e9 - 1) / owed));
        staking.setSubnet(1, priceRao, false);
        vm.expectEmit(true, true, false, true, address(t));
        emit EventsLib.ClaimBooked(holderColdkey, 1, owed);
        uint256[] memory amounts = _redeem(shares);
        assertEq(amounts[0], owed);
        assertEq(_fundStake(1), 10e9, "dust is never sent to the runtime");
        assertEq(t.claimOf(holderColdkey, 1), amounts[0]);
        assertEq(t.balanceOf(holder), 4e18 - shares, "the shares are burned");
    }

    function testFuzz_Redeem_ReservedClaimsAreNotOthersToRedeem(uint256 bookedShares, uint256 shares) public {
        uint256 supply = _supply();
        bookedShares = bound(bookedShares, _sharesOwed(1, 10e9, supply), 4e18);
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        vm.prank(holder);
        uint256 booked = t.redeem(bookedShares, holderColdkey, mins, skip)[0];
        assertEq(booked, 10e9 * _burnedOf(bookedShares) / supply);
        supply = _supply();
        uint256 minerShares = t.balanceOf(miner);
        shares = bound(shares, _sharesOwed(1, 10e9 - booked, supply), minerShares);
        (mins, skip) = _noSkip();
        vm.prank(miner);
        uint256 got = t.redeem(shares, minerColdkey, mins, skip)[0];
        assertEq(got, (10e9 - booked) * _burnedOf(shares) / supply, "pro rata of the fund's part only");
    }

    function test_Claim_PaysTheBookedColdkeyCalledByAnyone() public {
        staking.setSubnet(1, 0, true); // transfers disabled: the holder must skip it
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        vm.prank(holder);
        uint256 booked = t.redeem(1e18, holderColdkey, mins, skip)[0];
        uint16[] memory netuids = new uint16[](1);
        netuids[0] = 1;
        vm.expectRevert(); // still disabled: the transfer fails the whole claim
        t.claim(holderColdkey, netuids);
        staking.setSubnet(1, 0, false);
        vm.prank(makeAddr("anyone"));
        t.claim(holderColdkey, netuids);
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), booked, "paid to the booked coldkey");
        assertEq(t.claimOf(holderColdkey, 1), 0);
        assertEq(t.reserved(1), 0);
        vm.expectRevert(ErrorsLib.NothingToClaim.selector);
        t.claim(holderColdkey, netuids);
    }

    /// @dev Any booked amount, dust at any price below the minimum, paid once any price makes it
    ///      worth the minimum.
    function testFuzz_Claim_DustWaitsUntilItIsWorthTheMinimum(uint256 shares, uint128 priceRao, uint128 laterPriceRao)
        public
    {
        uint256 supply = _supply();
        shares = bound(shares, _sharesOwed(1, 10e9, supply), 4e18);
        uint256 owed = 10e9 * _burnedOf(shares) / supply;
        uint256 minValue = uint256(MIN_STAKE) * 1e9; // rao per alpha times alpha
        priceRao = uint128(bound(priceRao, 1, (minValue - 1) / owed));
        laterPriceRao = uint128(bound(laterPriceRao, (minValue + owed - 1) / owed, type(uint64).max));
        staking.setSubnet(1, priceRao, false);
        _redeem(shares);
        assertEq(t.claimOf(holderColdkey, 1), owed, "booked");
        uint16[] memory netuids = new uint16[](1);
        netuids[0] = 1;
        vm.expectRevert(ErrorsLib.NothingToClaim.selector);
        t.claim(holderColdkey, netuids);
        staking.setSubnet(1, laterPriceRao, false);
        t.claim(holderColdkey, netuids);
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), owed);
        assertEq(t.claimOf(holderColdkey, 1), 0);
        assertEq(t.reserved(1), 0);
        assertEq(_fundStake(1), 10e9 - owed);
    }

    function testFuzz_ClaimNative_PaysASkippedNativePosition(uint256 shares, uint96 bond) public {
        bond = _bond(bond);
        _expiredBond(bond); // the bond becomes the fund's native TAO
        uint256 supply = _supply();
        shares = bound(shares, _sharesOwed(1e9, bond, supply), 4e18); // owed at least one rao
        uint256 expected = uint256(bond) * _burnedOf(shares) / supply;
        expected -= expected % 1e9; // whole rao
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[skip.length - 1] = true;
        uint256 before = holder.balance;
        vm.prank(holder);
        uint256[] memory amounts = t.redeem(shares, holderColdkey, mins, skip);
        uint256 native = amounts[amounts.length - 1];
        assertEq(native, expected, "floor, in whole rao");
        assertEq(holder.balance, before, "not paid");
        assertEq(t.nativeClaimOf(holder), native);
        assertEq(t.fundNativeBalance(), bond - native, "no longer the fund's");
        t.claimNative(holder);
        assertEq(holder.balance, before + native);
        assertEq(t.nativeClaimOf(holder), 0);
        assertEq(t.fundNativeBalance(), bond - native, "the claim was not the fund's");
    }

    /// @dev The fund hotkey's owner swapped it away (`swap_hotkey`): every position reads zero.
    function test_RevertWhen_Redeem_EveryPositionSwappedAway() public {
        staking.setStake(fundHk(1), vault, 1, 0);
        staking.setStake(keccak256("swapped"), vault, 1, 10e9);
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        vm.expectRevert(ErrorsLib.NothingToRedeem.selector);
        t.redeem(1e18, holderColdkey, mins, skip);
        assertEq(t.balanceOf(holder), 4e18, "no shares burned for nothing");
    }

    function test_Redeem_NeverPaused() public {
        vm.prank(guardian);
        t.setPaused(true);
        assertGt(_redeem(1e18)[0], 0);
    }

    /// @dev No precompile reports the toggle: a transfer there is a failed dispatch, which fails the
    ///      whole redemption and consumes the gas forwarded to it. The redeemer must skip it.
    /// @dev A transfer the runtime refuses (transfers disabled, not skipped) is booked to the
    ///      coldkey as if skipped; the refusal costs the gas forwarded to it, no more.
    function test_Redeem_TransfersDisabledAndNotSkippedBooks() public {
        staking.setSubnet(1, 0, true);
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        uint256[] memory amounts = t.redeem(1e18, holderColdkey, mins, skip);
        assertGt(amounts[0], 0);
        assertEq(t.claimOf(holderColdkey, 1), amounts[0], "booked, not lost");
        assertEq(t.reserved(1), amounts[0]);
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), 0, "nothing moved");
        assertEq(t.balanceOf(holder), 3e18);
    }

    function test_RevertWhen_Redeem_BelowMinAmount() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        mins[0] = 10e9;
        vm.prank(holder);
        vm.expectPartialRevert(ErrorsLib.AmountBelowMinimum.selector);
        t.redeem(1e18, holderColdkey, mins, skip);
    }

    function test_RevertWhen_Redeem_WrongPositionCount() public {
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.WrongPositionCount.selector, 1, 1, N_FUND + 1));
        t.redeem(1e18, holderColdkey, new uint256[](1), new bool[](1));
    }

    function test_RevertWhen_Redeem_ZeroShares() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        vm.expectRevert(ErrorsLib.ZeroRedemption.selector);
        t.redeem(0, holderColdkey, mins, skip);
    }

    function test_RevertWhen_Redeem_AllShareIsFee() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        vm.expectRevert(ErrorsLib.ZeroRedemption.selector);
        t.redeem(1, holderColdkey, mins, skip); // ceil(1 * 50 / 10 000) = 1
    }

    function test_RevertWhen_Redeem_ZeroColdkey() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        vm.expectRevert(ErrorsLib.ZeroColdkey.selector);
        t.redeem(1e18, bytes32(0), mins, skip);
    }

    function test_RevertWhen_Redeem_MoreThanTheBalance() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        vm.expectPartialRevert(IERC20Errors.ERC20InsufficientBalance.selector);
        t.redeem(5e18, holderColdkey, mins, skip);
    }
}
