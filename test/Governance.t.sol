// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {TAO20Timelock} from "../contracts/governance/TAO20Timelock.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @notice Governance through the TAO20Timelock (48-hour delay in blocks, lapsing changes): signers,
///         fees, bond, minimum stake and fund hotkeys; pause; ownership.
contract GovernanceTest is BaseTest {
    function _four() internal view returns (address[] memory list) {
        list = new address[](4);
        for (uint256 i; i < 4; ++i) {
            list[i] = signerAddrs[i];
        }
    }

    function _readyState() internal pure returns (bytes32) {
        return bytes32(1 << uint8(TimelockController.OperationState.Ready));
    }

    // ------------------------------------------------------------------ the timelock

    function test_SetSigners_AppliesAfterTheTimelockAndBumpsTheVersion() public {
        _rotateSigners(_four(), 3);
        assertEq(t.signerSetVersion(), 2);
        (address[] memory list, uint8 threshold) = t.signers();
        assertEq(list.length, 4);
        assertEq(threshold, 3);
    }

    function test_RevertWhen_Timelock_DelayNotElapsed() public {
        bytes memory call = abi.encodeCall(t.setSigners, (_four(), 3));
        bytes32 salt = _schedule(call);
        bytes32 id = timelock.hashOperation(address(t), 0, call, bytes32(0), salt);
        assertEq(timelock.getTimestamp(id), block.number + TIMELOCK_BLOCKS, "ready block, not a timestamp");
        vm.roll(block.number + TIMELOCK_BLOCKS - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, _readyState())
        );
        timelock.execute(address(t), 0, call, bytes32(0), salt);
    }

    function test_Timelock_CountsBlocksNotSeconds() public {
        bytes memory call = abi.encodeCall(t.setCreationBond, (2 ether));
        bytes32 salt = _schedule(call);
        vm.warp(block.timestamp + 30 days); // time passes, blocks do not
        assertFalse(_execute(call, salt), "ready by the clock");
        vm.roll(block.number + TIMELOCK_BLOCKS);
        assertTrue(_execute(call, salt), "ready by blocks");
        assertEq(t.creationBond(), 2 ether);
    }

    function test_Timelock_ChangeLapsesAndNeedsAFreshNotice() public {
        bytes memory call = abi.encodeCall(t.setCreationBond, (2 ether));
        bytes32 salt = _schedule(call);
        bytes32 id = timelock.hashOperation(address(t), 0, call, bytes32(0), salt);
        vm.roll(block.number + TIMELOCK_BLOCKS + LAPSE_BLOCKS + 1);
        assertEq(uint8(timelock.getOperationState(id)), uint8(TimelockController.OperationState.Unset), "lapsed");
        assertEq(timelock.getTimestamp(id), 0);
        assertFalse(_execute(call, salt), "applied after its window");
        // Scheduling it again gives a fresh 48-hour notice.
        vm.prank(owner);
        timelock.schedule(address(t), 0, call, bytes32(0), salt, TIMELOCK_BLOCKS);
        assertFalse(_execute(call, salt), "applied without the fresh notice");
        vm.roll(block.number + TIMELOCK_BLOCKS);
        assertTrue(_execute(call, salt));
        assertEq(t.creationBond(), 2 ether);
    }

    function test_Timelock_ApplicableUntilTheLastBlockOfItsWindow() public {
        bytes memory call = abi.encodeCall(t.setCreationBond, (3 ether));
        bytes32 salt = _schedule(call);
        vm.roll(block.number + TIMELOCK_BLOCKS + LAPSE_BLOCKS);
        vm.prank(makeAddr("anyone"));
        timelock.execute(address(t), 0, call, bytes32(0), salt);
        assertEq(t.creationBond(), 3 ether);
    }

    function test_Timelock_CancelDropsTheQueuedChange() public {
        bytes memory call = abi.encodeCall(t.setSigners, (_four(), 3));
        bytes32 salt = _schedule(call);
        bytes32 id = timelock.hashOperation(address(t), 0, call, bytes32(0), salt);
        vm.prank(owner);
        timelock.cancel(id);
        vm.roll(block.number + TIMELOCK_BLOCKS);
        assertFalse(_execute(call, salt));
        assertEq(t.signerSetVersion(), 1);
    }

    function test_RevertWhen_Timelock_ScheduledByAStranger() public {
        address stranger = makeAddr("stranger");
        bytes32 role = timelock.PROPOSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        timelock.schedule(address(t), 0, "", bytes32(0), bytes32(0), TIMELOCK_BLOCKS);
    }

    function test_RevertWhen_Timelock_DelayBelowTheMinimum() public {
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockInsufficientDelay.selector, TIMELOCK_BLOCKS - 1, TIMELOCK_BLOCKS
            )
        );
        timelock.schedule(address(t), 0, "", bytes32(0), bytes32(0), TIMELOCK_BLOCKS - 1);
    }

    function test_RevertWhen_Timelock_ZeroLapseWindow() public {
        vm.expectRevert(TAO20Timelock.TimelockZeroLapse.selector);
        new TAO20Timelock(TIMELOCK_BLOCKS, 0, new address[](0), new address[](0), address(0));
    }

    // ------------------------------------------------------------------ setters (owner only)

    function test_RevertWhen_Setters_NotOwner() public {
        bytes memory err = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, owner);
        vm.startPrank(owner); // the multisig itself must go through the timelock
        vm.expectRevert(err);
        t.setSigners(_four(), 3);
        vm.expectRevert(err);
        t.setFundHotkey(1, keccak256("hk"));
        vm.expectRevert(err);
        t.setFees(0, 0, 0, feeRecipient);
        vm.expectRevert(err);
        t.setCreationBond(0);
        vm.expectRevert(err);
        t.setMinStake(1);
        vm.expectRevert(err);
        t.setGuardian(owner);
        vm.stopPrank();
    }

    function test_RevertWhen_SetSigners_ThresholdBelowTwoThirds() public {
        bytes32 salt = _schedule(abi.encodeCall(t.setSigners, (_four(), 2)));
        vm.roll(block.number + TIMELOCK_BLOCKS);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidThreshold.selector, 2, 4)); // floor(8/3) + 1 = 3
        timelock.execute(address(t), 0, abi.encodeCall(t.setSigners, (_four(), 2)), bytes32(0), salt);
    }

    function test_RevertWhen_SetSigners_Unsorted() public {
        address[] memory list = _four();
        (list[0], list[1]) = (list[1], list[0]);
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidSigners.selector, 1));
        t.setSigners(list, 3);
    }

    function test_SetFees_AccruesAtTheOldRateThenSwitches() public {
        _createShares(10e9, 10e9, 1e9);
        address newRecipient = makeAddr("newRecipient");
        bytes32 salt = _schedule(abi.encodeCall(t.setFees, (10, 20, 30, newRecipient)));
        vm.roll(block.number + TIMELOCK_BLOCKS);
        uint256 due = t.pendingManagementFee();
        uint256 before = t.balanceOf(feeRecipient);
        assertTrue(_execute(abi.encodeCall(t.setFees, (10, 20, 30, newRecipient)), salt));
        assertEq(t.balanceOf(feeRecipient), before + due, "old recipient paid up to the switch");
        (uint16 m, uint16 r, uint16 g) = t.fees();
        assertEq(m, 10);
        assertEq(r, 20);
        assertEq(g, 30);
        assertEq(t.feeRecipient(), newRecipient);
    }

    function test_RevertWhen_SetFees_AboveCaps() public {
        vm.startPrank(address(timelock));
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

    function test_SetCreationBond_AfterTheTimelock() public {
        _queueCreationBond(2 ether);
        assertFalse(_applyCreationBond(2 ether), "before the delay");
        vm.roll(block.number + TIMELOCK_BLOCKS);
        assertTrue(_applyCreationBond(2 ether));
        assertEq(t.creationBond(), 2 ether);
    }

    function test_RevertWhen_SetCreationBond_NotWholeRao() public {
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotWholeRao.selector, 1 ether + 1));
        t.setCreationBond(1 ether + 1);
    }

    function test_SetMinStake_FollowsARuntimeUpgrade() public {
        _govern(abi.encodeCall(t.setMinStake, (5_000_000)));
        assertEq(t.minStakeRao(), 5_000_000);
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidParameter.selector, "minStakeRao"));
        t.setMinStake(0);
    }

    function test_SetFundHotkey_NewNetuidJoinsTheFund() public {
        _govern(abi.encodeCall(t.setFundHotkey, (42, keccak256("hk42"))));
        assertEq(t.fundHotkey(42), keccak256("hk42"));
        assertEq(t.fundHotkeySince(42), block.number);
        assertEq(t.positionCount(), N_FUND + 2);
    }

    function test_SetFundHotkey_ChangeMovesTheStake() public {
        _createShares(10e9, 10e9, 1e9);
        _govern(abi.encodeCall(t.setFundHotkey, (1, keccak256("new hk"))));
        assertEq(staking.stakeOf(keccak256("new hk"), vault, 1), 10e9);
        assertEq(staking.stakeOf(fundHk(1), vault, 1), 0);
        assertEq(t.fundHotkeySince(1), block.number, "deliveries from before stay settleable");
    }

    function test_SetFundHotkey_DustStaysUnderTheOldHotkey() public {
        staking.setStake(fundHk(3), vault, 3, 1e6); // worth 1e6 rao < the minimum: the runtime refuses to move it
        _govern(abi.encodeCall(t.setFundHotkey, (3, keccak256("new hk"))));
        assertEq(t.fundHotkey(3), keccak256("new hk"), "the change applies");
        assertEq(staking.stakeOf(fundHk(3), vault, 3), 1e6, "stray dust for a later sweep");
    }

    function test_SetFundHotkey_OwnHotkeyUsedByMintAndRedeemThenBackToDefault() public {
        bytes32 own = keccak256("own hk");
        _govern(abi.encodeCall(t.setFundHotkey, (1, own)));
        assertEq(t.fundHotkey(1), own);
        assertEq(t.fundHotkey(2), t.DEFAULT_FUND_HOTKEY(), "other netuids keep the default");
        _createShares(10e9, 10e9, 1e9);
        assertEq(staking.stakeOf(own, vault, 1), 10e9, "minted onto the netuid's own hotkey");
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(miner);
        uint256 got = t.redeem(1e18, holderColdkey, mins, skip)[0];
        assertEq(staking.stakeOf(own, holderColdkey, 1), got, "redeemed from the netuid's own hotkey");
        bytes32 defaultHk = t.DEFAULT_FUND_HOTKEY();
        _govern(abi.encodeCall(t.setFundHotkey, (1, defaultHk)));
        assertEq(t.fundHotkey(1), t.DEFAULT_FUND_HOTKEY());
        assertEq(staking.stakeOf(own, vault, 1), 0, "moved back to the default hotkey");
        assertEq(_fundStake(1), 10e9 - got);
    }

    function test_RevertWhen_SetFundHotkey_RootNetuid() public {
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidNetuid.selector, 0));
        t.setFundHotkey(0, keccak256("hk"));
    }

    // ------------------------------------------------------------------ pause and ownership

    function test_Pause_GuardianOrOwnerOnly() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotGuardian.selector, address(this)));
        t.setPaused(true);
        vm.prank(guardian);
        t.setPaused(true);
        assertTrue(t.paused());
        vm.prank(address(timelock));
        t.setPaused(false);
        assertFalse(t.paused());
    }

    function test_Ownership_TwoStepThroughTheTimelock() public {
        address next = makeAddr("next");
        _govern(abi.encodeCall(Ownable2Step.transferOwnership, (next)));
        assertEq(Ownable(address(t)).owner(), address(timelock), "not before acceptance");
        vm.prank(next);
        Ownable2Step(address(t)).acceptOwnership();
        assertEq(Ownable(address(t)).owner(), next);
    }

    function test_RevertWhen_RenounceOwnership() public {
        vm.prank(address(timelock));
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
