// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {CreationFile, CreationReport, Position} from "../contracts/interfaces/ITAO20.sol";
import {STAKING_PRECOMPILE} from "../contracts/interfaces/IStaking.sol";
import {ALPHA_PRECOMPILE} from "../contracts/interfaces/IAlpha.sol";

/// @notice Gas snapshots of the hot paths (snapshots/TAO20.json), measured cold: `vm.cool` resets
///         the contract, the mocks and the actors to untouched, as in a fresh transaction. Steady
///         state: the fund already holds every netuid, and receiver and redeemer already hold
///         shares and stake (a first-time holder pays the zero-to-non-zero writes; see the README).
contract GasTest is BaseTest {
    function _coolAll() internal {
        vm.cool(address(t));
        vm.cool(STAKING_PRECOMPILE);
        vm.cool(ALPHA_PRECOMPILE);
        vm.cool(miner);
        vm.cool(holder);
        vm.cool(feeRecipient);
    }

    /// @dev A first creation of `assets` assets so the fund is past its first mint.
    function _seed(uint256 assets) internal {
        _publish(assets);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(assets, 5e9);
        CreationReport memory r = _report(id, ps, 5e9 * assets, 1e9);
        t.mint(r, _reportSigs(r));
        vm.roll(block.number + 10);
    }

    function _mintGas(uint256 assets, string memory name) internal {
        _seed(assets);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(assets, 5e9);
        CreationReport memory r = _report(id, ps, 5e9 * assets, 1e9);
        bytes[] memory sigs = _reportSigs(r);
        _coolAll();
        t.mint(r, sigs);
        vm.snapshotGasLastCall("TAO20", name);
    }

    function test_Gas_Mint_1Asset() public {
        _mintGas(1, "mint_3of5_1asset");
    }

    function test_Gas_Mint_20Assets() public {
        _mintGas(20, "mint_3of5_20assets");
    }

    function test_Gas_PublishEpoch_20Assets() public {
        CreationFile memory f = _file(20);
        bytes[] memory sigs = _fileSigs(f);
        _coolAll();
        t.publishEpoch(f, sigs);
        vm.snapshotGasLastCall("TAO20", "publishEpoch_20assets");
    }

    function _redeemGas(bool fresh, string memory name) internal {
        _seed(20);
        vm.prank(miner);
        t.transfer(holder, 10e18);
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        if (!fresh) {
            vm.prank(holder);
            t.redeem(1e18, holderColdkey, mins, skip);
            vm.roll(block.number + 1);
        }
        _coolAll();
        vm.prank(holder);
        t.redeem(1e18, holderColdkey, mins, skip);
        vm.snapshotGasLastCall("TAO20", name);
    }

    function test_Gas_Redeem_20Assets() public {
        _redeemGas(false, "redeem_20assets");
    }

    function test_Gas_Redeem_20Assets_FreshColdkey() public {
        _redeemGas(true, "redeem_20assets_fresh_coldkey");
    }
}
