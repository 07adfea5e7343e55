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

    function test_Redeem_PaysItsShareOfEveryPosition() public {
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 fee = (2e18 * uint256(REDEEM_FEE) + 9999) / 10_000;
        uint256 burned = 2e18 - fee;
        uint256 expected = 10e9 * burned / supply;
        uint256[] memory amounts = _redeem(2e18);
        assertEq(amounts[0], expected, "floor(stake * burned / S)");
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), expected, "stake under the fund hotkey, holder coldkey");
        assertEq(_fundStake(1), 10e9 - expected);
        assertEq(t.balanceOf(holder), 2e18);
        assertEq(t.totalSupply(), supply - burned, "only the burned part leaves the supply");
    }

    function test_Redeem_PaysNativeTaoAsTheLastPosition() public {
        bytes32 id = _request(1, 0);
        vm.roll(block.number + WINDOW + GRACE + 1);
        t.expire(id); // the bond becomes the fund's native TAO
        uint256 before = holder.balance;
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256[] memory amounts = _redeem(4e18);
        uint256 burned = 4e18 - (4e18 * uint256(REDEEM_FEE) + 9999) / 10_000;
        uint256 native = uint256(BOND) * burned / supply;
        assertEq(amounts[amounts.length - 1], native - native % 1e9, "floor, in whole rao");
        assertEq(holder.balance, before + amounts[amounts.length - 1]);
    }

    function test_Redeem_SkippedPositionIsBookedToTheRedeemer() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        vm.prank(holder);
        uint256[] memory amounts = t.redeem(1e18, holderColdkey, mins, skip);
        assertGt(amounts[0], 0, "owed, not forgone");
        assertEq(_fundStake(1), 10e9, "nothing moved");
        assertEq(t.claimOf(holderColdkey, 1), amounts[0], "booked to the redeemer's coldkey");
        assertEq(t.reserved(1), amounts[0], "and reserved out of the fund's position");
    }

    function test_Redeem_DustBelowTheRuntimeMinimumIsBooked() public {
        staking.setSubnet(1, 1e6, false); // 1e-3 TAO per alpha: a small amount is worth < 0.002 TAO
        vm.expectEmit(true, true, false, false, address(t));
        emit EventsLib.ClaimBooked(holderColdkey, 1, 0);
        uint256[] memory amounts = _redeem(1e16);
        assertGt(amounts[0], 0);
        assertEq(_fundStake(1), 10e9, "dust is never sent to the runtime");
        assertEq(t.claimOf(holderColdkey, 1), amounts[0]);
        assertEq(t.balanceOf(holder), 4e18 - 1e16, "the shares are burned");
    }

    function test_Redeem_ReservedClaimsAreNotOthersToRedeem() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        vm.prank(holder);
        uint256 booked = t.redeem(4e18, holderColdkey, mins, skip)[0];
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 shares = 1e18;
        uint256 burned = shares - (shares * REDEEM_FEE + 9999) / 10_000;
        (mins, skip) = _noSkip();
        vm.prank(miner);
        uint256 got = t.redeem(shares, minerColdkey, mins, skip)[0];
        assertEq(got, (10e9 - booked) * burned / supply, "pro rata of the fund's part only");
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

    function test_Claim_DustWaitsUntilItIsWorthTheMinimum() public {
        staking.setSubnet(1, 1e6, false);
        _redeem(1e16);
        uint16[] memory netuids = new uint16[](1);
        netuids[0] = 1;
        vm.expectRevert(ErrorsLib.NothingToClaim.selector);
        t.claim(holderColdkey, netuids);
        staking.setSubnet(1, 0, false);
        uint256 owed = t.claimOf(holderColdkey, 1);
        t.claim(holderColdkey, netuids);
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), owed);
    }

    function test_ClaimNative_PaysASkippedNativePosition() public {
        bytes32 id = _request(1, 0);
        vm.roll(block.number + WINDOW + GRACE + 1);
        t.expire(id); // the bond becomes the fund's native TAO
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[skip.length - 1] = true;
        uint256 before = holder.balance;
        vm.prank(holder);
        uint256[] memory amounts = t.redeem(4e18, holderColdkey, mins, skip);
        uint256 native = amounts[amounts.length - 1];
        assertGt(native, 0);
        assertEq(holder.balance, before, "not paid");
        assertEq(t.nativeClaimOf(holder), native);
        assertEq(t.fundNativeBalance(), BOND - native, "no longer the fund's");
        t.claimNative(holder);
        assertEq(holder.balance, before + native);
        assertEq(t.nativeClaimOf(holder), 0);
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
