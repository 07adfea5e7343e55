// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {StakingMock} from "./mocks/StakingMock.sol";
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
        assertEq(amounts[amounts.length - 1], uint256(BOND) * burned / supply);
        assertEq(holder.balance, before + amounts[amounts.length - 1]);
    }

    function test_Redeem_SkippedPositionStaysInTheFund() public {
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        vm.prank(holder);
        uint256[] memory amounts = t.redeem(1e18, holderColdkey, mins, skip);
        assertEq(amounts[0], 0);
        assertEq(_fundStake(1), 10e9);
    }

    function test_Redeem_DustBelowTheRuntimeMinimumStaysInTheFund() public {
        staking.setSubnet(1, 1e6, false); // 1e-3 TAO per alpha: a small amount is worth < 0.002 TAO
        uint256[] memory amounts = _redeem(1e16);
        assertEq(amounts[0], 0, "dust left in the fund");
        assertEq(_fundStake(1), 10e9);
        assertEq(t.balanceOf(holder), 4e18 - 1e16, "the shares are still burned");
    }

    function test_Redeem_NeverPaused() public {
        vm.prank(guardian);
        t.setPaused(true);
        assertGt(_redeem(1e18)[0], 0);
    }

    function test_RevertWhen_Redeem_TransfersDisabled() public {
        staking.setSubnet(1, 0, true);
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(StakingMock.TransfersDisabled.selector, 1));
        t.redeem(1e18, holderColdkey, mins, skip);
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
