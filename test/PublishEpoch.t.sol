// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {CreationFile, Asset} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {EventsLib} from "../contracts/libraries/EventsLib.sol";

contract PublishEpochTest is BaseTest {
    function _expectPublishRevert(CreationFile memory f, bytes memory err) internal {
        bytes[] memory sigs = _fileSigs(f);
        vm.expectRevert(err);
        t.publishEpoch(f, sigs);
    }

    function test_PublishEpoch_StoresTheFile() public {
        CreationFile memory f = _file(3);
        bytes32 h = hasher.creationFile(f);
        bytes[] memory sigs = _fileSigs(f);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.EpochPublished(0, h, f.validFromBlock, f.validUntilBlock, 1000e18, 5, 1, 3);
        t.publishEpoch(f, sigs);
        assertEq(t.epoch(0).fileHash, h);
        assertEq(t.epoch(0).minUnits, 1);
        Asset[] memory stored = t.epochAssets(0);
        assertEq(stored.length, 3);
        assertEq(stored[2].netuid, 3);
        assertEq(stored[2].qtyPerUnit, 3e9);
    }

    function test_PublishEpoch_NextEpochAfterTheBoundary() public {
        _publish(1);
        vm.roll(GENESIS + EPOCH_LEN);
        CreationFile memory f = _file(2);
        assertEq(f.epochId, 1);
        t.publishEpoch(f, _fileSigs(f));
        assertEq(t.epoch(1).validFromBlock, GENESIS + EPOCH_LEN);
    }

    function test_RevertWhen_PublishEpoch_AlreadyPublished() public {
        _publish(1);
        _expectPublishRevert(_file(2), abi.encodeWithSelector(ErrorsLib.EpochAlreadyPublished.selector, 0));
    }

    function test_RevertWhen_PublishEpoch_NotTheCurrentEpoch() public {
        CreationFile memory f = _file(1);
        f.epochId = 1;
        f.validFromBlock += EPOCH_LEN;
        f.validUntilBlock += EPOCH_LEN;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.WrongEpoch.selector, 1, 0));
    }

    function test_RevertWhen_PublishEpoch_WrongBounds() public {
        CreationFile memory f = _file(1);
        f.validUntilBlock += 1;
        _expectPublishRevert(
            f, abi.encodeWithSelector(ErrorsLib.WrongEpochBounds.selector, f.validFromBlock, f.validUntilBlock)
        );
    }

    function test_RevertWhen_PublishEpoch_StaleSignerSet() public {
        CreationFile memory f = _file(1);
        f.signerSetVersion = 0;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.StaleSignerSet.selector, 0, 1));
    }

    function test_RevertWhen_PublishEpoch_BelowThreshold() public {
        CreationFile memory f = _file(1);
        bytes[] memory sigs = _sigs(_digest(hasher.creationFile(f)), 3);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BelowThreshold.selector, 3, 4));
        t.publishEpoch(f, sigs);
    }

    function test_RevertWhen_PublishEpoch_UnsortedSignatures() public {
        CreationFile memory f = _file(1);
        bytes[] memory sigs = _fileSigs(f);
        (sigs[2], sigs[3]) = (sigs[3], sigs[2]);
        vm.expectRevert(
            abi.encodeWithSelector(ErrorsLib.UnsortedSignatures.selector, 3, signerAddrs[2], signerAddrs[3])
        );
        t.publishEpoch(f, sigs);
    }

    function test_RevertWhen_PublishEpoch_HighS() public {
        CreationFile memory f = _file(1);
        bytes[] memory sigs = _fileSigs(f);
        sigs[0] = _highS(sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidSignatureS.selector, 0));
        t.publishEpoch(f, sigs);
    }

    function test_RevertWhen_PublishEpoch_WrongChainIdInDomain() public {
        CreationFile memory f = _file(1);
        bytes[] memory sigs = _sigs(_digestFor(964, address(t), hasher.creationFile(f)), THRESHOLD);
        (bool ok, bytes memory err) = address(t).call(abi.encodeCall(t.publishEpoch, (f, sigs)));
        assertFalse(ok);
        assertEq(bytes4(err), ErrorsLib.NotSigner.selector);
    }

    function test_RevertWhen_PublishEpoch_AssetsUnsorted() public {
        CreationFile memory f = _file(3);
        (f.assets[0], f.assets[1]) = (f.assets[1], f.assets[0]);
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.AssetsNotSorted.selector, 1));
    }

    function test_RevertWhen_PublishEpoch_RootNetuid() public {
        CreationFile memory f = _file(1);
        f.assets[0].netuid = 0;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.AssetsNotSorted.selector, 0));
    }

    function test_RevertWhen_PublishEpoch_WeightsNotFull() public {
        CreationFile memory f = _file(2);
        f.assets[1].weightBps -= 1;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.WeightsNotFull.selector, 9999));
    }

    function test_RevertWhen_PublishEpoch_NetuidWithoutFundHotkey() public {
        CreationFile memory f = _file(1);
        f.assets[0].netuid = 99;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.UnknownNetuid.selector, 99));
    }

    function test_RevertWhen_PublishEpoch_NoAssets() public {
        CreationFile memory f = _file(1);
        f.assets = new Asset[](0);
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.InvalidAssetCount.selector, 0));
    }

    function test_RevertWhen_PublishEpoch_ZeroQtyPerUnit() public {
        CreationFile memory f = _file(2);
        f.assets[1].qtyPerUnit = 0;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.ZeroQtyPerUnit.selector, 1));
    }

    function test_RevertWhen_PublishEpoch_ZeroMinUnits() public {
        CreationFile memory f = _file(1);
        f.minUnits = 0;
        _expectPublishRevert(f, abi.encodeWithSelector(ErrorsLib.InvalidFileParameters.selector));
    }

    function test_RevertWhen_PublishEpoch_BeforeGenesis() public {
        vm.roll(GENESIS - 1);
        CreationFile memory f;
        f.signerSetVersion = 1;
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BeforeGenesis.selector, GENESIS - 1));
        t.publishEpoch(f, new bytes[](0));
    }
}
