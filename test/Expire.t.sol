// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {Position, CreationReport, RequestStatus} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";

/// @notice `expire`: closing a Pending request after its grace.
contract ExpireTest is BaseTest {
    bytes32 internal id;
    uint64 internal deliveryBlock;

    function setUp() public override {
        super.setUp();
        _publish(2);
        id = _request(1, 0);
        vm.roll(block.number + 1);
        deliveryBlock = uint64(block.number);
        _deliver(2, 3e9);
    }

    function _ps() internal view returns (Position[] memory ps) {
        ps = new Position[](2);
        for (uint16 n = 1; n <= 2; ++n) {
            ps[n - 1] = Position({netuid: n, hotkey: minerHk(n), amount: 3e9});
        }
    }

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
