// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @notice setSigners, fees, bond, fund hotkeys (all behind the 48-hour timelock), pause, ownership.
contract GovernanceTest is BaseTest {
    function _four() internal view returns (address[] memory list) {
        list = new address[](4);
        for (uint256 i; i < 4; ++i) {
            list[i] = signerAddrs[i];
        }
    }

    function test_SetSigners_AppliesAfterTheTimelockAndBumpsTheVersion() public {
        _rotateSigners(_four(), 3);
        assertEq(t.signerSetVersion(), 2);
        (address[] memory list, uint8 threshold) = t.signers();
        assertEq(list.length, 4);
        assertEq(threshold, 3);
    }

    function test_RevertWhen_SetSigners_TimelockNotElapsed() public {
        vm.prank(owner);
        t.setSigners(_four(), 3);
        uint256 eta = block.number + t.TIMELOCK_BLOCKS();
        vm.roll(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.TimelockNotElapsed.selector, eta, eta - 1));
        t.applySigners();
    }

    function test_RevertWhen_SetSigners_ThresholdBelowTwoThirds() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidThreshold.selector, 2, 4));
        t.setSigners(_four(), 2); // floor(8/3) + 1 = 3
    }

    function test_RevertWhen_SetSigners_Unsorted() public {
        address[] memory list = _four();
        (list[0], list[1]) = (list[1], list[0]);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidSigners.selector, 1));
        t.setSigners(list, 3);
    }

    function test_RevertWhen_SetSigners_NotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        t.setSigners(_four(), 3);
    }

    function test_RevertWhen_ApplySigners_NothingQueued() public {
        vm.expectRevert(ErrorsLib.NothingQueued.selector);
        t.applySigners();
    }

    function test_CancelChange_DropsTheQueuedSigners() public {
        vm.startPrank(owner);
        t.setSigners(_four(), 3);
        t.cancelChange(0, 0);
        vm.stopPrank();
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        vm.expectRevert(ErrorsLib.NothingQueued.selector);
        t.applySigners();
    }

    function test_SetFees_AccruesAtTheOldRateThenSwitches() public {
        _createShares(10e9, 10e9, 1e9);
        address newRecipient = makeAddr("newRecipient");
        vm.prank(owner);
        t.setFees(10, 20, 30, newRecipient);
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        uint256 due = t.pendingManagementFee();
        uint256 before = t.balanceOf(feeRecipient);
        t.applyFees();
        assertEq(t.balanceOf(feeRecipient), before + due, "old recipient paid up to the switch");
        (uint16 m, uint16 r, uint16 g) = t.fees();
        assertEq(m, 10);
        assertEq(r, 20);
        assertEq(g, 30);
        assertEq(t.feeRecipient(), newRecipient);
    }

    function test_RevertWhen_SetFees_AboveCaps() public {
        vm.startPrank(owner);
        vm.expectRevert(ErrorsLib.InvalidFees.selector);
        t.setFees(101, 0, 0, feeRecipient);
        vm.expectRevert(ErrorsLib.InvalidFees.selector);
        t.setFees(0, 101, 0, feeRecipient);
        vm.expectRevert(ErrorsLib.InvalidFees.selector);
        t.setFees(0, 0, 201, feeRecipient);
        vm.expectRevert(ErrorsLib.InvalidFees.selector);
        t.setFees(0, 0, 0, address(0));
        vm.stopPrank();
    }

    function test_RevertWhen_ApplyFees_TimelockNotElapsed() public {
        vm.prank(owner);
        t.setFees(10, 20, 30, feeRecipient);
        vm.expectPartialRevert(ErrorsLib.TimelockNotElapsed.selector);
        t.applyFees();
    }

    function test_SetCreationBond_AfterTheTimelock() public {
        vm.prank(owner);
        t.setCreationBond(2 ether);
        vm.expectPartialRevert(ErrorsLib.TimelockNotElapsed.selector);
        t.applyCreationBond();
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        t.applyCreationBond();
        assertEq(t.creationBond(), 2 ether);
    }

    function test_SetFundHotkey_NewNetuidJoinsTheFund() public {
        vm.prank(owner);
        t.setFundHotkey(42, keccak256("hk42"));
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        t.applyFundHotkey(42);
        assertEq(t.fundHotkey(42), keccak256("hk42"));
        assertEq(t.positionCount(), N_FUND + 2);
    }

    function test_SetFundHotkey_ChangeMovesTheStake() public {
        _createShares(10e9, 10e9, 1e9);
        vm.prank(owner);
        t.setFundHotkey(1, keccak256("new hk"));
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        t.applyFundHotkey(1);
        assertEq(staking.stakeOf(keccak256("new hk"), vault, 1), 10e9);
        assertEq(staking.stakeOf(fundHk(1), vault, 1), 0);
    }

    function test_SetFundHotkey_OwnHotkeyUsedByMintAndRedeemThenBackToDefault() public {
        bytes32 own = keccak256("own hk");
        vm.prank(owner);
        t.setFundHotkey(1, own);
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        t.applyFundHotkey(1);
        assertEq(t.fundHotkey(1), own);
        assertEq(t.fundHotkey(2), t.DEFAULT_FUND_HOTKEY(), "other netuids keep the default");
        _createShares(10e9, 10e9, 1e9);
        assertEq(staking.stakeOf(own, vault, 1), 10e9, "minted onto the netuid's own hotkey");
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(miner);
        uint256 got = t.redeem(1e18, holderColdkey, mins, skip)[0];
        assertEq(staking.stakeOf(own, holderColdkey, 1), got, "redeemed from the netuid's own hotkey");
        bytes32 defaultHk = t.DEFAULT_FUND_HOTKEY();
        vm.prank(owner);
        t.setFundHotkey(1, defaultHk);
        vm.roll(block.number + t.TIMELOCK_BLOCKS());
        t.applyFundHotkey(1);
        assertEq(t.fundHotkey(1), t.DEFAULT_FUND_HOTKEY());
        assertEq(staking.stakeOf(own, vault, 1), 0, "moved back to the default hotkey");
        assertEq(_fundStake(1), 10e9 - got);
    }

    function test_RevertWhen_SetFundHotkey_RootNetuid() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidNetuid.selector, 0));
        t.setFundHotkey(0, keccak256("hk"));
    }

    function test_RevertWhen_ApplyFundHotkey_TimelockNotElapsed() public {
        vm.prank(owner);
        t.setFundHotkey(1, keccak256("hk"));
        vm.expectPartialRevert(ErrorsLib.TimelockNotElapsed.selector);
        t.applyFundHotkey(1);
    }

    function test_Pause_GuardianOrOwnerOnly() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotGuardian.selector, address(this)));
        t.setPaused(true);
        vm.prank(guardian);
        t.setPaused(true);
        assertTrue(t.paused());
        vm.prank(owner);
        t.setPaused(false);
        assertFalse(t.paused());
    }

    function test_Ownership_TwoStep() public {
        address next = makeAddr("next");
        vm.prank(owner);
        Ownable2Step(address(t)).transferOwnership(next);
        assertEq(Ownable(address(t)).owner(), owner, "not before acceptance");
        vm.prank(next);
        Ownable2Step(address(t)).acceptOwnership();
        assertEq(Ownable(address(t)).owner(), next);
    }

    function test_RevertWhen_RenounceOwnership() public {
        vm.prank(owner);
        vm.expectRevert(ErrorsLib.RenounceDisabled.selector);
        Ownable(address(t)).renounceOwnership();
    }

    function test_ManagementFee_AccruesPerBlock() public {
        _createShares(10e9, 10e9, 1e9);
        uint256 supply = t.totalSupply();
        vm.roll(block.number + 2_629_800);
        uint256 fee = t.accrueManagementFee();
        assertEq(fee, supply * MGMT_FEE * 2_629_800 / (10_000 * 2_629_800), "one year at 100 bps");
        assertEq(t.lastAccrual(), block.number);
    }
}
