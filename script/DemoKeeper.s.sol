// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {ITAO20, Asset, CreationFile, Position, CreationReport, RefundReport} from "../contracts/interfaces/ITAO20.sol";
import {IStaking, STAKING_PRECOMPILE} from "../contracts/interfaces/IStaking.sol";
import {IAlpha, ALPHA_PRECOMPILE} from "../contracts/interfaces/IAlpha.sol";
import {Hasher} from "../test/utils/Hasher.sol";
import {SharesMathLib} from "../contracts/libraries/SharesMathLib.sol";

/// @notice The scripted keeper of `make demo` (until the Rust keeper replaces it): builds creation
///         files and reports from chain state, signs them at run time with the test signer keys
///         (test/vectors/protocol.json `constants.keys`, never real keys) and relays them.
/// @dev Each entry point is one keeper duty; `tools/demo.sh` calls them with `--sig` and `--broadcast`.
contract DemoKeeper is Script {
    /// @notice Delivery hotkey convention of the demo miner.
    function minerHotkey(uint16 netuid) public pure returns (bytes32) {
        return keccak256(abi.encodePacked("tao20.demo.minerhk", netuid));
    }

    function _t() internal view returns (ITAO20) {
        string memory d = vm.readFile(string.concat("deployments/", vm.toString(block.chainid), ".json"));
        return ITAO20(vm.parseJsonAddress(d, ".tao20"));
    }

    /// @notice Publishes the current epoch's creation file over `netuids` (equal weights) at the
    ///         spot prices of the Alpha precompile and the fund's NAV now.
    function publish(uint16[] calldata netuids) external {
        ITAO20 t = _t();
        CreationFile memory f;
        f.epochId = t.epochAt(block.number);
        f.validFromBlock = t.GENESIS_BLOCK() + f.epochId * t.EPOCH_LENGTH();
        f.validUntilBlock = f.validFromBlock + t.EPOCH_LENGTH() - 1;
        f.sharesPerUnit = 1000e18;
        f.toleranceBps = 5;
        f.minUnits = 1;
        f.signerSetVersion = t.signerSetVersion();
        f.assets = new Asset[](netuids.length);
        uint256 unitValue = f.sharesPerUnit * _nav(t) / 1e18;
        uint256 left = 10_000;
        for (uint256 i; i < netuids.length; ++i) {
            uint16 w = i == 0
                ? uint16(10_000 - (10_000 / netuids.length) * (netuids.length - 1))
                : uint16(10_000 / netuids.length);
            left -= w;
            // getAlphaPrice answers wei per alpha: FP18 TAO per alpha already.
            uint256 priceFp18 = IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(netuids[i]);
            uint256 qty = unitValue * w * 1e18 / (10_000 * priceFp18);
            f.assets[i] = Asset({netuid: netuids[i], qtyPerUnit: uint64(qty), weightBps: w});
            console2.log("asset netuid / qtyPerUnit / weightBps", netuids[i], qty, w);
        }
        bytes[] memory sigs = _sign(t, HashLib_creationFile(f));
        vm.broadcast();
        t.publishEpoch(f, sigs);
    }

    /// @notice Checks the delivery of `requestId` against the creation file (tolerance, every asset,
    ///         nothing else) and mints it with a fresh quorum signature; reverts on an invalid delivery.
    function mint(bytes32 requestId, uint64 deliveryBlock, uint32 deliveryIndex) external {
        ITAO20 t = _t();
        CreationReport memory r;
        r.requestId = requestId;
        r.epochId = t.request(requestId).epochId;
        r.creationFileHash = t.epoch(r.epochId).fileHash;
        r.receiver = t.request(requestId).receiver;
        r.units = t.request(requestId).units;
        Asset[] memory assets = t.epochAssets(r.epochId);
        uint16 tolerance = t.epoch(r.epochId).toleranceBps;
        r.positions = new Position[](assets.length);
        for (uint256 i; i < assets.length; ++i) {
            uint256 held =
                IStaking(STAKING_PRECOMPILE).getStake(minerHotkey(assets[i].netuid), t.vault(), assets[i].netuid);
            uint256 want = uint256(assets[i].qtyPerUnit) * r.units;
            uint256 diff = held > want ? held - want : want - held;
            uint256 allowed = want * tolerance / 10_000;
            require(diff <= (allowed > 1 ? allowed : 1), "keeper: delivery outside tolerance, not signing a mint");
            r.positions[i] =
                Position({netuid: assets[i].netuid, hotkey: minerHotkey(assets[i].netuid), amount: uint64(held)});
            r.valueRao += held * IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(assets[i].netuid) / 1e18;
        }
        r.deliveryBlock = deliveryBlock;
        r.deliveryIndex = deliveryIndex;
        r.navPerShare = _nav(t);
        r.signerSetVersion = t.signerSetVersion();
        console2.log("report valueRao / navPerShare", r.valueRao, r.navPerShare);
        bytes[] memory sigs = _sign(t, HashLib_creationReport(r));
        vm.broadcast();
        t.mint(r, sigs);
    }

    /// @notice Refunds what the vault holds under the miner's hotkeys for `requestId` to its coldkey.
    function refund(bytes32 requestId, uint64 deliveryBlock, uint32 deliveryIndex) external {
        ITAO20 t = _t();
        RefundReport memory r;
        r.requestId = requestId;
        r.coldkey = t.request(requestId).coldkey;
        r.deliveryBlock = deliveryBlock;
        r.deliveryIndex = deliveryIndex;
        r.signerSetVersion = t.signerSetVersion();
        uint16[] memory netuids = t.fundNetuids();
        uint256 n;
        Position[] memory tmp = new Position[](netuids.length);
        for (uint256 i; i < netuids.length; ++i) {
            uint256 held = IStaking(STAKING_PRECOMPILE).getStake(minerHotkey(netuids[i]), t.vault(), netuids[i]);
            if (held != 0) {
                tmp[n++] = Position({netuid: netuids[i], hotkey: minerHotkey(netuids[i]), amount: uint64(held)});
            }
        }
        r.positions = new Position[](n);
        for (uint256 i; i < n; ++i) {
            r.positions[i] = tmp[i];
        }
        bytes[] memory sigs = _sign(t, HashLib_refundReport(r));
        vm.broadcast();
        t.refund(r, sigs);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Fund value at spot prices over its supply (including the management fee due now): each
    ///      position's stake less the claims booked against it, plus native TAO in whole rao.
    function _nav(ITAO20 t) internal view returns (uint256) {
        uint16[] memory netuids = t.fundNetuids();
        uint256 v = t.fundNativeBalance() / 1e9;
        for (uint256 i; i < netuids.length; ++i) {
            uint256 stake = IStaking(STAKING_PRECOMPILE).getStake(t.fundHotkey(netuids[i]), t.vault(), netuids[i]);
            v += (stake - t.reserved(netuids[i])) * IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(netuids[i]) / 1e18;
        }
        return SharesMathLib.navPerShare(v, t.totalSupply() + t.pendingManagementFee());
    }

    /// @dev Signatures of the first `threshold` test signers, sorted by address as the contract wants.
    function _sign(ITAO20 t, bytes32 structHash) internal view returns (bytes[] memory sigs) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", t.domainSeparator(), structHash));
        string memory vectors = vm.readFile("test/vectors/protocol.json");
        (address[] memory members, uint8 threshold) = t.signers();
        sigs = new bytes[](threshold);
        uint256 found;
        for (uint256 m; m < members.length && found < threshold; ++m) {
            for (uint256 k; k < 5; ++k) {
                string memory at = string.concat(".constants.keys.signer", vm.toString(k));
                if (vm.parseJsonAddress(vectors, string.concat(at, ".address")) != members[m]) continue;
                (uint8 v, bytes32 r, bytes32 s) =
                    vm.sign(vm.parseJsonUint(vectors, string.concat(at, ".privateKey")), digest);
                sigs[found++] = abi.encodePacked(r, s, v);
            }
        }
        require(found == threshold, "keeper: not enough test keys in the signer set");
    }

    // HashLib works on calldata: a throwaway Hasher (never broadcast) hands it the structs as calldata.
    function HashLib_creationFile(CreationFile memory f) internal returns (bytes32) {
        return new Hasher().creationFile(f);
    }

    function HashLib_creationReport(CreationReport memory r) internal returns (bytes32) {
        return new Hasher().creationReport(r);
    }

    function HashLib_refundReport(RefundReport memory r) internal returns (bytes32) {
        return new Hasher().refundReport(r);
    }
}
