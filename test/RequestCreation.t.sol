// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {Request, RequestStatus} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {EventsLib} from "../contracts/libraries/EventsLib.sol";

contract RequestCreationTest is BaseTest {
    function setUp() public override {
        super.setUp();
        _publish(2);
    }

    /// @dev Any units from the file's minimum, any bond in whole rao from the creation bond up to the
    ///      u96 `requestCreation` takes (the only bond locked), any `minSharesOut` that fits its u128 field.
    function testFuzz_RequestCreation_StoresTheRequestAndEmits(uint32 units, uint96 bond, uint128 minSharesOut) public {
        units = uint32(bound(units, t.epoch(0).minUnits, type(uint32).max));
        bond = uint96(bound(bond, BOND / 1e9, type(uint96).max / 1e9) * 1e9);
        vm.deal(miner, bond);
        bytes32 expectedId = keccak256(abi.encode(block.chainid, address(t), miner, uint256(0)));
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.CreationRequested(
            expectedId,
            miner,
            holder,
            minerColdkey,
            0,
            units,
            uint64(block.number),
            uint64(block.number + WINDOW),
            minSharesOut,
            bond
        );
        vm.prank(miner);
        bytes32 id = t.requestCreation{value: bond}(units, minerColdkey, holder, minSharesOut);
        assertEq(id, expectedId, "requestId = keccak256(abi.encode(chainid, this, miner, nonce))");
        Request memory q = t.request(id);
        assertEq(q.miner, miner);
        assertEq(q.receiver, holder);
        assertEq(q.units, units);
        assertEq(q.coldkey, minerColdkey);
        assertEq(q.minSharesOut, minSharesOut);
        assertEq(q.bond, bond);
        assertEq(uint8(q.status), uint8(RequestStatus.Pending));
        assertEq(address(t).balance, bond);
        assertEq(t.fundNativeBalance(), 0, "a bond is not the fund's");
        assertEq(miner.balance, 0, "the whole msg.value is the bond");
    }

    function test_RequestCreation_NonceIncrements() public {
        bytes32 a = _request(1, 0);
        bytes32 b = _request(1, 0);
        assertTrue(a != b);
        assertEq(t.nonces(miner), 2);
        assertEq(b, keccak256(abi.encode(block.chainid, address(t), miner, uint256(1))));
    }

    function test_RequestCreation_RemarkBindsChainVaultAndRequest() public {
        bytes32 id = _request(1, 0);
        assertEq(t.deliveryRemark(id), keccak256(abi.encodePacked("TAO20", block.chainid, vault, id)));
    }

    function test_RevertWhen_RequestCreation_Paused() public {
        vm.prank(guardian);
        t.setPaused(true);
        vm.prank(miner);
        vm.expectRevert(ErrorsLib.Paused.selector);
        t.requestCreation{value: BOND}(1, minerColdkey, miner, 0);
    }

    /// @dev The runtime credits floor(wei / 1e9) rao: a bond with sub-rao wei would overstate the
    ///      balance the contract books.
    function test_RevertWhen_RequestCreation_BondNotWholeRao() public {
        vm.prank(miner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotWholeRao.selector, uint256(BOND) + 1));
        t.requestCreation{value: uint256(BOND) + 1}(1, minerColdkey, miner, 0);
    }

    function test_RequestCreation_RecordsThePausedBlocksSoFar() public {
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + 50);
        vm.prank(guardian);
        t.setPaused(false);
        bytes32 id = _request(1, 0);
        assertEq(t.request(id).pausedAtRequest, 50);
        assertEq(t.expireableAt(id), block.number + WINDOW + GRACE + 1);
    }

    function test_RevertWhen_RequestCreation_BondTooLow() public {
        vm.prank(miner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BondTooLow.selector, BOND - 1, BOND));
        t.requestCreation{value: BOND - 1}(1, minerColdkey, miner, 0);
    }

    function test_RevertWhen_RequestCreation_TooFewUnits() public {
        vm.prank(miner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.TooFewUnits.selector, 0, 1));
        t.requestCreation{value: BOND}(0, minerColdkey, miner, 0);
    }

    function test_RevertWhen_RequestCreation_EpochNotPublished() public {
        vm.roll(GENESIS + EPOCH_LEN);
        vm.prank(miner);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.EpochNotPublished.selector, 1));
        t.requestCreation{value: BOND}(1, minerColdkey, miner, 0);
    }

    function test_RevertWhen_RequestCreation_ZeroColdkey() public {
        vm.prank(miner);
        vm.expectRevert(ErrorsLib.ZeroColdkey.selector);
        t.requestCreation{value: BOND}(1, bytes32(0), miner, 0);
    }

    function test_RevertWhen_RequestCreation_ZeroReceiver() public {
        vm.prank(miner);
        vm.expectRevert(ErrorsLib.ZeroReceiver.selector);
        t.requestCreation{value: BOND}(1, minerColdkey, address(0), 0);
    }
}
