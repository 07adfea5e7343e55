// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DeliveredRequestTest} from "./BaseTest.sol";
import {Position, CreationReport, RequestStatus} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";

/// @notice `expire`: closing a Pending request after its grace.
contract ExpireTest is DeliveredRequestTest {
    function test_Expire_SendsTheBondToTheFund() public {
        vm.roll(block.number + WINDOW + GRACE + 1);
        vm.prank(makeAddr("anyone"));
        t.expire(id);
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Expired));
        assertEq(t.fundNativeBalance(), BOND);
    }

    function test_RevertWhen_Expire_GraceNotElapsed() public {
        uint256 after_ = t.request(id).requestBlock + WINDOW + GRACE;
        vm.roll(after_);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ExpiryNotReached.selector, id, after_));
        t.expire(id);
    }

    function test_RevertWhen_Expire_AfterMint() public {
        CreationReport memory cr = _report(id, _ps(), 6e9, 1e9);
        t.mint(cr, _reportSigs(cr));
        vm.roll(block.number + WINDOW + GRACE + 1);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.RequestNotPending.selector, id, RequestStatus.Minted));
        t.expire(id);
    }

    function test_RevertWhen_Expire_WhilePaused() public {
        vm.roll(block.number + WINDOW + GRACE + 1);
        vm.prank(guardian);
        t.setPaused(true);
        assertEq(t.expireableAt(id), type(uint256).max, "never while paused");
        vm.expectRevert(ErrorsLib.Paused.selector);
        t.expire(id);
    }

    function test_Expire_PausedBlocksDoNotCount() public {
        uint256 rb = t.request(id).requestBlock;
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + 1000);
        vm.prank(guardian);
        t.setPaused(false);
        uint256 at = rb + WINDOW + GRACE + 1000 + 1;
        assertEq(t.expireableAt(id), at, "the 1000 paused blocks are added");
        vm.roll(at - 1);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ExpiryNotReached.selector, id, at - 1));
        t.expire(id);
        vm.roll(at);
        t.expire(id);
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Expired));
    }

    function test_Expire_AWholeGraceAfterTheUnpause() public {
        uint256 rb = t.request(id).requestBlock;
        vm.roll(rb + WINDOW + GRACE - 5); // paused five blocks before the deadline ...
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + 2); // ... for two blocks
        vm.prank(guardian);
        t.setPaused(false);
        assertEq(t.expireableAt(id), block.number + GRACE + 1, "a whole grace to mint after the unpause");
        assertEq(t.pauseClock().pausedTotal, 2);
        assertEq(t.pauseClock().lastUnpause, block.number);
    }

    function test_Expire_APauseBeforeTheRequestDoesNotExtendIt() public {
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + 500);
        vm.prank(guardian);
        t.setPaused(false);
        vm.roll(block.number + 1);
        bytes32 later = _request(1, 0);
        assertEq(t.expireableAt(later), block.number + WINDOW + GRACE + 1);
    }

    function test_ExpireableAt_MaxWhenNotPending() public {
        CreationReport memory cr = _report(id, _ps(), 6e9, 1e9);
        t.mint(cr, _reportSigs(cr));
        assertEq(t.expireableAt(id), type(uint256).max);
    }

    function test_RevertWhen_Expire_UnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownRequest.selector, bytes32(0)));
        t.expire(bytes32(0));
    }
}
