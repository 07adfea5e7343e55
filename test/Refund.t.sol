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

    // ------------------------------------------------------------------ fuzzing helpers

    /// @dev The miner's `transfer_stake` of each position to the vault.
    function _deliverPositions(Position[] memory ps) internal {
        for (uint256 i; i < ps.length; ++i) {
            (uint16 n, uint64 a) = (ps[i].netuid, ps[i].amount);
            staking.setStake(minerHk(n), minerColdkey, n, a + staking.stakeOf(minerHk(n), minerColdkey, n));
            staking.transferStakeFrom(minerColdkey, vault, minerHk(n), n, a);
        }
    }

    /// @dev The setup's delivery, of `a1` and `a2` rao of netuids 1 and 2 instead of 3e9 each.
    function _setDelivery(uint64 a1, uint64 a2) internal returns (Position[] memory ps) {
        ps = _positions(a1, a2);
        staking.setStake(minerHk(1), vault, 1, a1);
        staking.setStake(minerHk(2), vault, 2, a2);
    }

    /// @dev A second request, of any bond in whole rao (up to all 21 million TAO), delivered in the
    ///      next block: the refund returns exactly its positions and forfeits exactly its bond.
    function testFuzz_Refund_ReturnsTheDeliveryAndForfeitsTheBond(uint64 a1, uint64 a2, uint96 bond) public {
        Position[] memory ps = _positions(_amount(a1), _amount(a2));
        bond = uint96(bound(bond, BOND / 1e9, 21e6 * 1e9) * 1e9);
        vm.deal(miner, bond);
        vm.prank(miner);
        bytes32 rid = t.requestCreation{value: bond}(1, minerColdkey, miner, 0);
        vm.roll(block.number + 1);
        uint64 at = uint64(block.number);
        _deliverPositions(ps);
        vm.roll(block.number + WINDOW);
        RefundReport memory r = _refundReport(rid, minerColdkey, ps, at);
        t.refund(r, _refundSigs(r));
        for (uint16 n = 1; n <= 2; ++n) {
            assertEq(staking.stakeOf(minerHk(n), minerColdkey, n), ps[n - 1].amount, "back to the miner's coldkey");
            assertEq(staking.stakeOf(minerHk(n), vault, n), 3e9, "the setup's delivery stays");
        }
        assertEq(uint8(t.request(rid).status), uint8(RequestStatus.Refunded));
        assertEq(t.fundNativeBalance(), bond, "the bond went to the fund");
        assertEq(address(t).balance, uint256(BOND) + bond, "the setup's bond is still locked");
        uint256 did = (uint256(at) << 32) | 3;
        assertEq(uint8(t.deliveryState(did)), uint8(DeliveryState.Refunding));
        assertTrue(t.positionRefunded(did, 1, minerHk(1)));
        assertTrue(t.positionRefunded(did, 2, minerHk(2)));
    }

    function testFuzz_Refund_OrphanByDeliveryId(uint64 amount, uint64 deliveryBlock) public {
        amount = _amount(amount);
        bytes32 stranger = keccak256("stranger");
        staking.setStake(minerHk(5), stranger, 5, amount);
        staking.transferStakeFrom(stranger, vault, minerHk(5), 5, amount);
        Position[] memory ps = new Position[](1);
        ps[0] = Position({netuid: 5, hotkey: minerHk(5), amount: amount});
        RefundReport memory r = _refundReport(bytes32(0), stranger, ps, deliveryBlock);
        t.refund(r, _refundSigs(r));
        assertEq(staking.stakeOf(minerHk(5), stranger, 5), amount);
        assertEq(staking.stakeOf(minerHk(5), vault, 5), 0);
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.NothingToRefund.selector, deliveryBlock, 3));
    }

    function testFuzz_Refund_DeliveryOfAnExpiredRequest(uint64 a1, uint64 a2) public {
        Position[] memory ps = _setDelivery(_amount(a1), _amount(a2));
        vm.roll(block.number + WINDOW + GRACE + 1);
        t.expire(id);
        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveryBlock);
        t.refund(r, _refundSigs(r));
        for (uint16 n = 1; n <= 2; ++n) {
            assertEq(staking.stakeOf(minerHk(n), minerColdkey, n), ps[n - 1].amount);
            assertEq(staking.stakeOf(minerHk(n), vault, n), 0);
        }
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Expired), "stays Expired");
        assertEq(t.fundNativeBalance(), BOND, "the bond was forfeited once, by the expiry");
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

    /// @dev Any delivery whose netuid 2 position is dust at some price (below 2e15 rao: worth less
    ///      than 0.002 TAO at some price of at least 1 rao per alpha), refunded once a later price
    ///      makes it worth the minimum.
    function testFuzz_Refund_DustWaitsThenTheSameReportRefundsIt(
        uint64 a1,
        uint64 a2,
        uint128 priceRao,
        uint128 laterPriceRao
    ) public {
        uint256 minValue = uint256(MIN_STAKE) * 1e9; // rao per alpha times alpha
        a2 = uint64(bound(a2, MIN_STAKE, minValue - 1));
        Position[] memory ps = _setDelivery(_amount(a1), a2);
        priceRao = uint128(bound(priceRao, 1, (minValue - 1) / a2));
        laterPriceRao = uint128(bound(laterPriceRao, (minValue + a2 - 1) / a2, type(uint64).max));
        vm.roll(block.number + WINDOW);
        staking.setSubnet(2, priceRao, false); // a2 of netuid 2 is worth less than 0.002 TAO: dust
        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveryBlock);
        bytes[] memory sigs = _refundSigs(r);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.Refunded(id, minerColdkey, deliveryBlock, 3, 1); // position 0 only
        t.refund(r, sigs);
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Refunded), "the first refund closes the request");
        assertEq(t.fundNativeBalance(), BOND, "and forfeits the bond once");
        _expectRefundRevert(r, abi.encodeWithSelector(ErrorsLib.NothingToRefund.selector, deliveryBlock, 3));
        assertEq(staking.stakeOf(minerHk(1), minerColdkey, 1), ps[0].amount);
        assertEq(staking.stakeOf(minerHk(2), vault, 2), a2, "dust waits in the vault");
        staking.setSubnet(2, laterPriceRao, false);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.Refunded(id, minerColdkey, deliveryBlock, 3, 2); // position 1 now
        t.refund(r, sigs);
        assertEq(staking.stakeOf(minerHk(2), minerColdkey, 2), a2);
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
