// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DeliveredRequestTest} from "./BaseTest.sol";
import {Position, CreationReport, RequestStatus} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";

/// @notice `expire`: closing a Pending request after its grace.
contract ExpireTest is DeliveredRequestTest {
    /// @dev A second request, of any bond in whole rao up to every TAO there will ever be (21
    ///      million), expired: exactly its bond becomes the fund's, the setup's stays locked.
    function testFuzz_Expire_SendsTheBondToTheFund(uint96 bond) public {
        bond = uint96(bound(bond, BOND / 1e9, 21e6 * 1e9) * 1e9);
        vm.deal(miner, bond);
        vm.prank(miner);
        bytes32 rid = t.requestCreation{value: bond}(1, minerColdkey, miner, 0);
        vm.roll(block.number + WINDOW + GRACE + 1);
        vm.prank(makeAddr("anyone"));
        t.expire(rid);
        assertEq(uint8(t.request(rid).status), uint8(RequestStatus.Expired));
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Pending), "the setup's request is not due yet");
        assertEq(t.fundNativeBalance(), bond);
        assertEq(address(t).balance, uint256(BOND) + bond);
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

    /// @dev A guardian's pause of any length up to twice its limit (it ends by itself at
    ///      `pauseEndsAt`): only the blocks actually paused are added.
    function testFuzz_Expire_PausedBlocksDoNotCount(uint256 pausedBlocks) public {
        uint256 rb = t.request(id).requestBlock;
        vm.prank(guardian);
        t.setPaused(true);
        uint256 limit = t.pauseEndsAt() - block.number; // GUARDIAN_PAUSE_BLOCKS (7 days)
        pausedBlocks = bound(pausedBlocks, 1, 2 * limit);
        vm.roll(block.number + pausedBlocks);
        vm.prank(guardian);
        t.setPaused(false);
        uint256 counted = pausedBlocks < limit ? pausedBlocks : limit;
        uint256 at = rb + WINDOW + GRACE + counted + 1;
        assertEq(t.expireableAt(id), at, "the paused blocks are added");
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
