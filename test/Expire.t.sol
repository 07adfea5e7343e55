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

    function test_RevertWhen_Expire_UnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownRequest.selector, bytes32(0)));
        t.expire(bytes32(0));
    }
}
