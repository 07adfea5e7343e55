// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {Position, Sweep} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {EventsLib} from "../contracts/libraries/EventsLib.sol";

contract SweepTest is BaseTest {
    bytes32 internal strayHk = keccak256("emissions");

    function setUp() public override {
        super.setUp();
        staking.setStake(strayHk, vault, 4, 5e7); // e.g. emissions earned while a delivery waited
    }

    function _order(uint64 nonce) internal view returns (Sweep memory s) {
        s.positions = new Position[](1);
        s.positions[0] = Position({netuid: 4, hotkey: strayHk, amount: 5e7});
        s.nonce = nonce;
        s.signerSetVersion = 1;
    }

    function test_Sweep_MovesStrayStakeOntoTheFundHotkey() public {
        Sweep memory s = _order(0);
        t.sweep(s, _sweepSigs(s));
        assertEq(_fundStake(4), 5e7);
        assertEq(staking.stakeOf(strayHk, vault, 4), 0);
        assertEq(t.sweepNonce(), 1);
    }

    function test_Sweep_LeavesDustForALaterSweep() public {
        staking.setStake(strayHk, vault, 5, 1e3); // 1e3 rao of TAO: the runtime would refuse to move it
        Sweep memory s = _order(0);
        s.positions = new Position[](2);
        s.positions[0] = Position({netuid: 4, hotkey: strayHk, amount: 5e7});
        s.positions[1] = Position({netuid: 5, hotkey: strayHk, amount: 1e3});
        bytes[] memory sigs = _sweepSigs(s);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.Swept(0, 1); // position 0 only
        t.sweep(s, sigs);
        assertEq(_fundStake(4), 5e7);
        assertEq(staking.stakeOf(strayHk, vault, 5), 1e3, "dust waits");
        assertEq(t.sweepNonce(), 1, "the nonce is spent all the same");
    }

    function test_RevertWhen_Sweep_Replayed() public {
        Sweep memory s = _order(0);
        bytes[] memory sigs = _sweepSigs(s);
        t.sweep(s, sigs);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.WrongSweepNonce.selector, 0, 1));
        t.sweep(s, sigs);
    }

    function test_RevertWhen_Sweep_FromAFundHotkey() public {
        Sweep memory s = _order(0);
        s.positions[0].hotkey = fundHk(4);
        bytes[] memory sigs = _sweepSigs(s);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.FundHotkeyPosition.selector, 4, fundHk(4)));
        t.sweep(s, sigs);
    }

    function test_RevertWhen_Sweep_MoreThanHeld() public {
        Sweep memory s = _order(0);
        s.positions[0].amount = 5e7 + 2; // one rao short is the share pool's rounding, two is not held
        bytes[] memory sigs = _sweepSigs(s);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.PositionNotHeld.selector, 4, strayHk, 5e7, 5e7 + 2));
        t.sweep(s, sigs);
    }
}
