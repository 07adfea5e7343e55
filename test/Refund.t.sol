// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DeliveredRequestTest} from "./BaseTest.sol";
import {Position, RefundReport, CreationReport, RequestStatus, DeliveryState} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {EventsLib} from "../contracts/libraries/EventsLib.sol";
import {TAO20Settlement} from "../contracts/TAO20Settlement.sol";

/// @notice `refund`: request deliveries after expiry, orphans, and every revert.
contract RefundTest is DeliveredRequestTest {
    function _expectRefundRevert(RefundReport memory r, bytes memory err) internal {
        bytes[] memory sigs = _refundSigs(r);
        vm.expectRevert(err);
        t.refund(r, sigs);
    }

    function test_Refund_ReturnsTheDeliveryAndForfeitsTheBond() public {
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        t.refund(r, _refundSigs(r));
        for (uint16 n = 1; n <= 2; ++n) {
            assertEq(staking.stakeOf(minerHk(n), minerColdkey, n), 3e9, "back to the miner's coldkey");
            assertEq(staking.stakeOf(minerHk(n), vault, n), 0);
        }
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Refunded));
        assertEq(t.fundNativeBalance(), BOND, "the bond went to the fund");
        uint256 did = (uint256(deliveryBlock) << 32) | 3;
        assertEq(uint8(t.deliveryState(did)), uint8(DeliveryState.Refunding));
        assertTrue(t.positionRefunded(did, 1, minerHk(1)));
        assertTrue(t.positionRefunded(did, 2, minerHk(2)));
    }

    function test_Refund_OrphanByDeliveryId() public {
        bytes32 stranger = keccak256("stranger");
        staking.setStake(minerHk(5), stranger, 5, 1e9);
        staking.transferStakeFrom(stranger, vault, minerHk(5), 5, 1e9);
        Position[] memory ps = new Position[](1);
        ps[0] = Position({netuid: 5, hotkey: minerHk(5), amount: 1e9});
        RefundReport memory r = _refundReport(bytes32(0), stranger, ps, 777);
        t.refund(r, _refundSigs(r));
        assertEq(staking.stakeOf(minerHk(5), stranger, 5), 1e9);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.NothingToRefund.selector, 777, 3));
    }

    function test_Refund_DeliveryOfAnExpiredRequest() public {
        vm.roll(block.number + WINDOW + GRACE + 1);
        t.expire(id);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        t.refund(r, _refundSigs(r));
        assertEq(staking.stakeOf(minerHk(1), minerColdkey, 1), 3e9);
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Expired), "stays Expired");
    }

    function test_Refund_NeverPaused() public {
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        t.refund(r, _refundSigs(r));
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Refunded));
    }

    function test_RevertWhen_Refund_BeforeExpiry() public {
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        uint256 expiry = t.request(id).requestBlock + WINDOW;
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.RefundBeforeExpiry.selector, id, expiry));
    }

    function test_RevertWhen_Refund_AfterMint() public {
        CreationReport memory cr = _report(id, _ps(), 6e9, 1e9);
        t.mint(cr, _reportSigs(cr));
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.RequestNotPending.selector, id, RequestStatus.Minted));
    }

    function test_RevertWhen_Refund_Twice() public {
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        t.refund(r, _refundSigs(r));
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.NothingToRefund.selector, deliveryBlock, 3));
    }

    function test_Refund_DustWaitsThenTheSameReportRefundsIt() public {
        vm.roll(block.number + WINDOW);
        staking.setSubnet(2, 1e5, false); // 3e9 of netuid 2 is worth 3e5 rao: dust
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        bytes[] memory sigs = _refundSigs(r);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.Refunded(id, minerColdkey, deliveryBlock, 3, 1); // position 0 only
        t.refund(r, sigs);
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Refunded), "the first refund closes the request");
        assertEq(t.fundNativeBalance(), BOND, "and forfeits the bond once");
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.NothingToRefund.selector, deliveryBlock, 3));
        staking.setSubnet(2, 0, false);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.Refunded(id, minerColdkey, deliveryBlock, 3, 2); // position 1 now
        t.refund(r, sigs);
        assertEq(staking.stakeOf(minerHk(2), minerColdkey, 2), 3e9);
        assertEq(t.fundNativeBalance(), BOND, "the bond was not forfeited twice");
    }

    function test_RevertWhen_Refund_MintedDelivery() public {
        CreationReport memory cr = _report(id, _ps(), 6e9, 1e9);
        t.mint(cr, _reportSigs(cr));
        RefundReport memory r = _refundReport(bytes32(0), minerColdkey, _ps(), cr.deliveryBlock);
        r.deliveryIndex = cr.deliveryIndex;
        _expectRefundRevert(
            r, abi.encodeWithSelector(ErrorsLib.DeliveryMinted.selector, cr.deliveryBlock, cr.deliveryIndex)
        );
    }

    function test_RevertWhen_Settlement_CalledDirectly() public {
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        TAO20Settlement module = TAO20Settlement(t.SETTLEMENT());
        bytes[] memory sigs = _refundSigs(r);
        vm.expectRevert(ErrorsLib.NotDelegated.selector);
        module.refund(r, sigs);
        vm.expectRevert(ErrorsLib.NotDelegated.selector);
        module.expire(id);
    }

    function test_RevertWhen_Refund_ToAnotherColdkey() public {
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, holderColdkey, _ps(), deliveryBlock);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.ColdkeyMismatch.selector));
    }

    function test_RevertWhen_Refund_FromAFundHotkey() public {
        _createShares(5e9, 5e9, 1e9); // the fund now holds netuid 1 under its hotkey
        vm.roll(block.number + WINDOW);
        Position[] memory ps = new Position[](1);
        ps[0] = Position({netuid: 1, hotkey: fundHk(1), amount: 1e9});
        RefundReport memory r = _refundReport(bytes32(0), minerColdkey, ps, 5);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.FundHotkeyPosition.selector, 1, fundHk(1)));
    }

    function test_RevertWhen_Refund_PositionNotHeld() public {
        vm.roll(block.number + WINDOW);
        Position[] memory ps = _ps();
        ps[0].amount = 4e9;
        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveryBlock);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.PositionNotHeld.selector, 1, minerHk(1), 3e9, 4e9));
    }

    function test_RevertWhen_Refund_DeliveryOutsideTheRequestWindow() public {
        vm.roll(block.number + WINDOW);
        uint64 rb = uint64(t.request(id).requestBlock);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), rb + WINDOW + 1);
        _expectRefundRevert(
            r, abi.encodeWithSelector(ErrorsLib.DeliveryOutsideWindow.selector, rb + WINDOW + 1, rb + 1, rb + WINDOW)
        );
    }

    function test_RevertWhen_Refund_UnknownRequest() public {
        RefundReport memory r = _refundReport(keccak256("x"), minerColdkey, _ps(), deliveryBlock);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.UnknownRequest.selector, keccak256("x")));
    }

    function test_RevertWhen_Refund_StaleSignerSet() public {
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        r.signerSetVersion = 7;
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.StaleSignerSet.selector, 7, 1));
    }

    function test_RevertWhen_Refund_BelowThreshold() public {
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(id, minerColdkey, _ps(), deliveryBlock);
        bytes[] memory sigs = _sigs(_digest(hasher.refundReport(r)), 2);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BelowThreshold.selector, 2, 4));
        t.refund(r, sigs);
    }
}
