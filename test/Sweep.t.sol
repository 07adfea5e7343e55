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

    /// @dev Any stray stake, swept in part or whole: the order may name up to one rao more than the
    ///      vault holds (the share pool's rounding), and the runtime moves what is there.
    /// @dev The stake held is at least the minimum: with `MIN_STAKE - 1` held and `MIN_STAKE` named,
    ///      the sweep counts the position as movable (its dust check reads the named amount), the
    ///      runtime clamps the move to what is held and refuses it as below the minimum, and the
    ///      whole sweep reverts `MoveFailed` rather than leaving the dust for a later sweep.
    function testFuzz_Sweep_MovesStrayStakeOntoTheFundHotkey(uint64 held, uint64 amount) public {
        held = uint64(bound(held, MIN_STAKE, type(uint64).max));
        amount = uint64(bound(amount, MIN_STAKE, uint256(held) + 1 > type(uint64).max ? held : uint256(held) + 1));
        staking.setStake(strayHk, vault, 4, held);
        Sweep memory s = _order(0);
        s.positions[0].amount = amount;
        t.sweep(s, _sweepSigs(s));
        uint256 moved = amount < held ? amount : held;
        assertEq(_fundStake(4), moved);
        assertEq(staking.stakeOf(strayHk, vault, 4), held - moved);
        assertEq(t.sweepNonce(), 1);
    }

    /// @dev Any position worth the minimum beside any amount that is dust at some price.
    function testFuzz_Sweep_LeavesDustForALaterSweep(uint64 amount, uint64 dust, uint128 priceRao) public {
        uint256 minValue = uint256(MIN_STAKE) * 1e9; // rao per alpha times alpha
        amount = uint64(bound(amount, MIN_STAKE, type(uint64).max));
        dust = uint64(bound(dust, 1, minValue - 1));
        priceRao = uint128(bound(priceRao, 1, (minValue - 1) / dust)); // `dust` is worth < 0.002 TAO
        staking.setSubnet(5, priceRao, false);
        staking.setStake(strayHk, vault, 4, amount);
        staking.setStake(strayHk, vault, 5, dust); // the runtime would refuse to move it
        Sweep memory s = _order(0);
        s.positions = new Position[](2);
        s.positions[0] = Position({netuid: 4, hotkey: strayHk, amount: amount});
        s.positions[1] = Position({netuid: 5, hotkey: strayHk, amount: dust});
        bytes[] memory sigs = _sweepSigs(s);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.Swept(0, 1); // position 0 only
        t.sweep(s, sigs);
        assertEq(_fundStake(4), amount);
        assertEq(staking.stakeOf(strayHk, vault, 4), 0);
        assertEq(staking.stakeOf(strayHk, vault, 5), dust, "dust waits");
        assertEq(_fundStake(5), 0);
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
