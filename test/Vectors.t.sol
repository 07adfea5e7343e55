// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {
    ITAO20,
    Asset,
    CreationFile,
    Position,
    CreationReport,
    RefundReport,
    Sweep,
    InitParams
} from "../contracts/interfaces/ITAO20.sol";
import {SharesMathLib} from "../contracts/libraries/SharesMathLib.sol";
import {ExpiryLib} from "../contracts/libraries/ExpiryLib.sol";
import {PauseClock} from "../contracts/interfaces/ITAO20.sol";
import {STAKING_PRECOMPILE} from "../contracts/interfaces/IStaking.sol";
import {ALPHA_PRECOMPILE} from "../contracts/interfaces/IAlpha.sol";
import {StakingMock} from "./mocks/StakingMock.sol";
import {AlphaMock} from "./mocks/AlphaMock.sol";
import {Hasher} from "./utils/Hasher.sol";

/// @notice Asserts the contracts against the shared vectors file that the Rust keeper asserts too.
/// @dev Every case whose `asserted_by` names "forge" must have a handler here, or the test fails.
///      `VECTORS_REGEN=true forge test --mc VectorsTest` rewrites the `expected` values this suite
///      computes (only those, in place) after a deliberate protocol change; review the diff.
///      Values come from the real code: struct hashes from the contract's HashLib, digests from the
///      TAO20 contract deployed at the case's verifying contract under the case's chain id, shares
///      and fees from SharesMathLib, remarks from `deliveryRemark`.
contract VectorsTest is Test {
    string internal constant PATH = "test/vectors/protocol.json";

    string internal json;
    bool internal regen;
    uint256 internal asserted;
    Hasher internal hasher;

    function setUp() public {
        json = vm.readFile(PATH);
        regen = vm.envOr("VECTORS_REGEN", false);
        hasher = new Hasher();
    }

    function test_Vectors_AllForgeCasesHold() public {
        string[] memory names = vm.parseJsonKeys(json, ".cases");
        for (uint256 n; n < names.length; n++) {
            string memory i = names[n];
            if (!_assertedByForge(i)) continue;
            string memory kind = vm.parseJsonString(json, _case(i, ".kind"));
            bytes32 k = keccak256(bytes(kind));
            if (k == keccak256("eip712_domain")) _domain(i);
            else if (k == keccak256("fp18_mul")) _mulDiv(i, true);
            else if (k == keccak256("fp18_div")) _mulDiv(i, false);
            else if (k == keccak256("eip712_typehash")) _typehash(i);
            else if (k == keccak256("eip712_struct")) _struct(i, false);
            else if (k == keccak256("eip712_signature")) _struct(i, true);
            else if (k == keccak256("request_id")) _requestId(i);
            else if (k == keccak256("delivery_remark")) _remark(i);
            else if (k == keccak256("position_value")) _positionValue(i);
            else if (k == keccak256("management_fee")) _managementFee(i);
            else if (k == keccak256("nav_per_share")) _nav(i);
            else if (k == keccak256("shares")) _shares(i);
            else if (k == keccak256("redemption")) _redemption(i);
            else if (k == keccak256("dust")) _dust(i);
            else if (k == keccak256("fund_value")) _fundValue(i);
            else if (k == keccak256("expiry")) _expiry(i);
            else if (k == keccak256("native_redemption")) _nativeRedemption(i);
            else revert(string.concat("no forge handler for vector kind ", kind));
            asserted++;
        }
        assertGt(asserted, 0, "no vector asserted");
        emit log_named_uint("vector cases asserted by forge", asserted);
    }

    // ------------------------------------------------------------------ foundation kinds

    function _domain(string memory i) internal {
        uint256 chainId = vm.parseJsonUint(json, _case(i, ".input.chainId"));
        address verifying = vm.parseJsonAddress(json, _case(i, ".input.verifyingContract"));
        bytes32 got = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TAO20"),
                keccak256("1"),
                chainId,
                verifying
            )
        );
        // The contract's own separator must agree with the formula.
        assertEq(_contractAt(verifying, chainId).domainSeparator(), got, string.concat(i, ": contract domain"));
        _checkBytes32(i, ".expected.domainSeparator", got);
    }

    function _mulDiv(string memory i, bool isMul) internal {
        uint256 a = vm.parseJsonUint(json, _case(i, ".input.a"));
        uint256 b = vm.parseJsonUint(json, _case(i, ".input.b"));
        bool ceil = keccak256(bytes(vm.parseJsonString(json, _case(i, ".input.rounding")))) == keccak256("ceil");
        Math.Rounding r = ceil ? Math.Rounding.Ceil : Math.Rounding.Floor;
        uint256 got = isMul ? Math.mulDiv(a, b, 1e18, r) : Math.mulDiv(a, 1e18, b, r);
        _checkUintString(i, ".expected.result", got);
    }

    // ------------------------------------------------------------------ EIP-712 kinds

    function _typehash(string memory i) internal {
        bytes32 t = keccak256(bytes(vm.parseJsonString(json, _case(i, ".input.type"))));
        bytes32[6] memory hashes = hasher.typeHashes();
        string memory pos = "Position(uint16 netuid,bytes32 hotkey,uint64 amount)";
        string memory asset = "Asset(uint16 netuid,uint64 qtyPerUnit,uint16 weightBps)";
        string memory encodeType;
        bytes32 typeHash;
        if (t == keccak256("Asset")) {
            (encodeType, typeHash) = (asset, hashes[0]);
        } else if (t == keccak256("CreationFile")) {
            encodeType = string.concat(
                "CreationFile(uint64 epochId,uint64 validFromBlock,uint64 validUntilBlock,uint256 sharesPerUnit,uint16 toleranceBps,uint32 minUnits,Asset[] assets,uint64 signerSetVersion)",
                asset
            );
            typeHash = hashes[1];
        } else if (t == keccak256("Position")) {
            (encodeType, typeHash) = (pos, hashes[2]);
        } else if (t == keccak256("CreationReport")) {
            encodeType = string.concat(
                "CreationReport(bytes32 requestId,uint64 epochId,bytes32 creationFileHash,address receiver,uint32 units,Position[] positions,uint64 deliveryBlock,uint32 deliveryIndex,uint256 valueRao,uint256 navPerShare,uint64 signerSetVersion)",
                pos
            );
            typeHash = hashes[3];
        } else if (t == keccak256("RefundReport")) {
            encodeType = string.concat(
                "RefundReport(bytes32 requestId,bytes32 coldkey,Position[] positions,uint64 deliveryBlock,uint32 deliveryIndex,uint64 signerSetVersion)",
                pos
            );
            typeHash = hashes[4];
        } else if (t == keccak256("Sweep")) {
            encodeType = string.concat("Sweep(Position[] positions,uint64 nonce,uint64 signerSetVersion)", pos);
            typeHash = hashes[5];
        } else {
            revert(string.concat(i, ": unknown EIP-712 type"));
        }
        // The library's constant must be the hash of the canonical encodeType.
        assertEq(keccak256(bytes(encodeType)), typeHash, string.concat(i, ": typehash vs encodeType"));
        _checkString(i, ".expected.encodeType", encodeType);
        _checkBytes32(i, ".expected.typeHash", typeHash);
    }

    /// @dev eip712_struct and eip712_signature: struct hash from HashLib, digest from the contract.
    function _struct(string memory i, bool withSignature) internal {
        string memory t = vm.parseJsonString(json, _case(i, ".input.type"));
        string memory v = _case(i, ".input.value");
        bytes32 th = keccak256(bytes(t));
        bytes32 structHash;
        if (th == keccak256("Asset")) structHash = hasher.asset(_asset(v));
        else if (th == keccak256("Position")) structHash = hasher.position(_position(v));
        else if (th == keccak256("CreationFile")) structHash = hasher.creationFile(_file(v));
        else if (th == keccak256("CreationReport")) structHash = hasher.creationReport(_report(v));
        else if (th == keccak256("RefundReport")) structHash = hasher.refundReport(_refund(v));
        else if (th == keccak256("Sweep")) structHash = hasher.sweep(_sweep(v));
        else revert(string.concat(i, ": unknown EIP-712 type ", t));

        uint256 chainId = vm.parseJsonUint(json, _case(i, ".input.chainId"));
        address verifying = vm.parseJsonAddress(json, _case(i, ".input.verifyingContract"));
        bytes32 digest =
            keccak256(abi.encodePacked("\x19\x01", _contractAt(verifying, chainId).domainSeparator(), structHash));
        if (!withSignature) _checkBytes32(i, ".expected.structHash", structHash);
        _checkBytes32(i, ".expected.digest", digest);
        if (!withSignature) return;

        _signature(i, digest);
    }

    function _signature(string memory i, bytes32 digest) internal {
        string memory signer = vm.parseJsonString(json, _case(i, ".input.signer"));
        uint256 key = vm.parseJsonUint(json, string.concat(".constants.keys.", signer, ".privateKey"));
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, digest);
        assertLe(uint256(s), SECP256K1_HALF_N, "low-s");
        assertEq(ecrecover(digest, sv, r, s), vm.addr(key), "recovers");
        _checkAddress(i, ".expected.address", vm.addr(key));
        _checkBytes(i, ".expected.signature", abi.encodePacked(r, s, sv));
    }

    uint256 internal constant SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // ------------------------------------------------------------------ protocol maths kinds

    function _requestId(string memory i) internal {
        uint256 chainId = vm.parseJsonUint(json, _case(i, ".input.chainId"));
        address c = vm.parseJsonAddress(json, _case(i, ".input.contract"));
        address m = vm.parseJsonAddress(json, _case(i, ".input.miner"));
        uint256 nonce = vm.parseJsonUint(json, _case(i, ".input.nonce"));
        // RequestCreation.t.sol proves the contract derives its ids by this formula.
        _checkBytes32(i, ".expected.requestId", keccak256(abi.encode(chainId, c, m, nonce)));
    }

    function _remark(string memory i) internal {
        uint256 chainId = vm.parseJsonUint(json, _case(i, ".input.chainId"));
        bytes32 vault = vm.parseJsonBytes32(json, _case(i, ".input.vault"));
        bytes32 id = vm.parseJsonBytes32(json, _case(i, ".input.requestId"));
        address at = vm.parseJsonAddress(json, ".constants.contract");
        ITAO20 c = _deploy(at, vault);
        vm.chainId(chainId);
        bytes32 got = c.deliveryRemark(id);
        assertEq(got, keccak256(abi.encodePacked("TAO20", chainId, vault, id)), string.concat(i, ": formula"));
        _checkBytes32(i, ".expected.remark", got);
    }

    function _positionValue(string memory i) internal {
        uint256 amount = vm.parseJsonUint(json, _case(i, ".input.amount"));
        uint256 price = vm.parseJsonUint(json, _case(i, ".input.price"));
        _checkUintString(i, ".expected.value", SharesMathLib.positionValue(amount, price));
    }

    function _managementFee(string memory i) internal {
        uint256 supply = vm.parseJsonUint(json, _case(i, ".input.supply"));
        uint256 bps = vm.parseJsonUint(json, _case(i, ".input.bps"));
        uint256 blocks = vm.parseJsonUint(json, _case(i, ".input.blocks"));
        _checkUintString(i, ".expected.fee", SharesMathLib.managementFee(supply, bps, blocks));
    }

    function _nav(string memory i) internal {
        uint256 value = vm.parseJsonUint(json, _case(i, ".input.valueRao"));
        uint256 supply = vm.parseJsonUint(json, _case(i, ".input.supply"));
        _checkUintString(i, ".expected.navPerShare", SharesMathLib.navPerShare(value, supply));
    }

    function _shares(string memory i) internal {
        uint256 value = vm.parseJsonUint(json, _case(i, ".input.valueRao"));
        uint256 nav = vm.parseJsonUint(json, _case(i, ".input.navPerShare"));
        uint256 bps = vm.parseJsonUint(json, _case(i, ".input.mintFeeBps"));
        (uint256 gross, uint256 fee, uint256 out) = SharesMathLib.mintShares(value, nav, bps);
        _checkUintString(i, ".expected.gross", gross);
        _checkUintString(i, ".expected.fee", fee);
        _checkUintString(i, ".expected.sharesOut", out);
    }

    function _redemption(string memory i) internal {
        uint256 shares = vm.parseJsonUint(json, _case(i, ".input.shares"));
        uint256 bps = vm.parseJsonUint(json, _case(i, ".input.redeemFeeBps"));
        uint256 supply = vm.parseJsonUint(json, _case(i, ".input.supply"));
        uint256[] memory stakes = _uintArray(_case(i, ".input.stakes"));
        uint256 fee = SharesMathLib.feeUp(shares, bps);
        uint256 burned = shares - fee;
        uint256[] memory amounts = new uint256[](stakes.length);
        for (uint256 k; k < stakes.length; ++k) {
            amounts[k] = SharesMathLib.redeemAmount(stakes[k], burned, supply);
        }
        _checkUintString(i, ".expected.fee", fee);
        _checkUintString(i, ".expected.burned", burned);
        _checkUintArray(i, ".expected.amounts", amounts);
    }

    /// @dev The contract's dust rule (`SharesMathLib.isDust`, used by redeem, refund, sweep, claim).
    function _dust(string memory i) internal {
        uint256 amount = vm.parseJsonUint(json, _case(i, ".input.amount"));
        uint256 price = vm.parseJsonUint(json, _case(i, ".input.price"));
        uint256 minStake = vm.parseJsonUint(json, _case(i, ".input.minStakeRao"));
        _checkUintString(i, ".expected.valueRao", SharesMathLib.positionValue(amount, price));
        _checkBool(i, ".expected.dust", SharesMathLib.isDust(amount, price, minStake));
    }

    /// @dev V as keepers compute it from the contract's views: each position's
    ///      `getStake - reserved(netuid)` (saturating, as `redeem` does) at its price, plus
    ///      `fundNativeBalance()` (whole rao) in rao.
    function _fundValue(string memory i) internal {
        string memory pp = _case(i, ".input.positions");
        uint256 v;
        for (uint256 k; k < _length(pp); ++k) {
            string memory at = string.concat(pp, "[", vm.toString(k), "]");
            uint256 netuid = vm.parseJsonUint(json, string.concat(at, ".netuid"));
            uint256 stake = vm.parseJsonUint(json, string.concat(at, ".stake"));
            uint256 held = vm.parseJsonUint(json, string.concat(at, ".reserved"));
            v += SharesMathLib.positionValue(stake > held ? stake - held : 0, _priceOf(i, netuid));
        }
        uint256 native = SharesMathLib.wholeRao(vm.parseJsonUint(json, _case(i, ".input.nativeWei")));
        _checkUintString(i, ".expected.valueRao", v + native / 1e9);
    }

    function _priceOf(string memory i, uint256 netuid) internal view returns (uint256) {
        string memory ps = _case(i, ".input.prices");
        for (uint256 k; k < _length(ps); ++k) {
            string memory at = string.concat(ps, "[", vm.toString(k), "]");
            if (vm.parseJsonUint(json, string.concat(at, ".netuid")) == netuid) {
                return vm.parseJsonUint(json, string.concat(at, ".price"));
            }
        }
        revert(string.concat(i, ": no price for a position"));
    }

    /// @dev `expireableAt` as the contract answers it: ExpiryLib's last refused block + 1, never
    ///      (2^256 - 1) while paused.
    function _expiry(string memory i) internal {
        PauseClock memory clock = PauseClock({
            pausedSince: uint64(vm.parseJsonUint(json, _case(i, ".input.pausedSince"))),
            pausedTotal: uint64(vm.parseJsonUint(json, _case(i, ".input.pausedTotal"))),
            lastUnpause: uint64(vm.parseJsonUint(json, _case(i, ".input.lastUnpause")))
        });
        uint256 at = type(uint256).max;
        if (clock.pausedSince == 0) {
            at = ExpiryLib.expireAfter(
                vm.parseJsonUint(json, _case(i, ".input.requestBlock")),
                vm.parseJsonUint(json, _case(i, ".input.deliveryWindow")),
                vm.parseJsonUint(json, _case(i, ".input.expiryGrace")),
                vm.parseJsonUint(json, _case(i, ".input.pausedAtRequest")),
                clock
            ) + 1;
        }
        _checkUintString(i, ".expected.expireableAt", at);
    }

    /// @dev The native TAO `redeem` pays: its share of the fund's native TAO, in whole rao.
    function _nativeRedemption(string memory i) internal {
        uint256 native = vm.parseJsonUint(json, _case(i, ".input.nativeWei"));
        uint256 burned = vm.parseJsonUint(json, _case(i, ".input.burned"));
        uint256 supply = vm.parseJsonUint(json, _case(i, ".input.supply"));
        _checkUintString(
            i, ".expected.amountWei", SharesMathLib.wholeRao(SharesMathLib.redeemAmount(native, burned, supply))
        );
    }

    // ------------------------------------------------------------------ the keeper's signature mints

    /// @notice The CreationReport of case `report_3pos_31337`, signed by signer0..signer4 in the
    ///         `sig_report_3pos_31337_signer*` cases (the Rust keeper asserts the same signatures),
    ///         mints on the contract deployed at `constants.contract`.
    function test_Vectors_SignedReportMints() public {
        vm.etch(STAKING_PRECOMPILE, address(new StakingMock()).code);
        vm.etch(ALPHA_PRECOMPILE, address(new AlphaMock()).code);
        address at = vm.parseJsonAddress(json, ".constants.contract");
        CreationFile memory f = _file(_case("creation_file_3assets_31337", ".input.value"));
        CreationReport memory r = _report(_case("report_3pos_31337", ".input.value"));
        address miner = vm.parseJsonAddress(json, ".constants.keys.miner.address");
        bytes32 coldkey = keccak256("tao20.vectors.miner.coldkey");

        vm.chainId(31_337);
        vm.roll(f.validFromBlock);
        ITAO20 c = _deployWith(at, StakingMock(STAKING_PRECOMPILE).mirrorOf(at), f, r);
        bytes32 vault = c.vault();

        bytes[] memory fileSigs = new bytes[](5);
        bytes[] memory sigs = new bytes[](5);
        bytes32 fileDigest = keccak256(abi.encodePacked("\x19\x01", c.domainSeparator(), hasher.creationFile(f)));
        address[] memory order = _sortedSigners();
        for (uint256 k; k < 5; ++k) {
            string memory name = _signerName(order[k]);
            uint256 key = vm.parseJsonUint(json, string.concat(".constants.keys.", name, ".privateKey"));
            (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(key, fileDigest);
            fileSigs[k] = abi.encodePacked(rr, ss, v);
            sigs[k] =
                vm.parseJsonBytes(json, _case(string.concat("sig_report_3pos_31337_", name), ".expected.signature"));
        }
        c.publishEpoch(f, fileSigs);

        vm.roll(r.deliveryBlock - 1);
        vm.deal(miner, 1 ether);
        vm.prank(miner);
        bytes32 id = c.requestCreation{value: 0}(r.units, coldkey, r.receiver, 0);
        assertEq(id, r.requestId, "the vector's requestId is the contract's");
        vm.roll(r.deliveryBlock);
        for (uint256 k; k < r.positions.length; ++k) {
            Position memory p = r.positions[k];
            StakingMock(STAKING_PRECOMPILE).setStake(p.hotkey, vault, p.netuid, p.amount);
        }
        uint256 out = c.mint(r, sigs);
        (uint256 gross, uint256 fee,) = SharesMathLib.mintShares(r.valueRao, r.navPerShare, 0);
        assertEq(fee, 0);
        assertEq(out, gross - c.DEAD_SHARES(), "shares of the first mint");
        assertEq(c.balanceOf(r.receiver), out);
    }

    // ------------------------------------------------------------------ JSON -> structs

    function _asset(string memory p) internal view returns (Asset memory a) {
        a.netuid = uint16(vm.parseJsonUint(json, string.concat(p, ".netuid")));
        a.qtyPerUnit = uint64(vm.parseJsonUint(json, string.concat(p, ".qtyPerUnit")));
        a.weightBps = uint16(vm.parseJsonUint(json, string.concat(p, ".weightBps")));
    }

    function _position(string memory p) internal view returns (Position memory x) {
        x.netuid = uint16(vm.parseJsonUint(json, string.concat(p, ".netuid")));
        x.hotkey = vm.parseJsonBytes32(json, string.concat(p, ".hotkey"));
        x.amount = uint64(vm.parseJsonUint(json, string.concat(p, ".amount")));
    }

    function _positions(string memory p) internal view returns (Position[] memory xs) {
        uint256 n = _length(p);
        xs = new Position[](n);
        for (uint256 k; k < n; ++k) {
            xs[k] = _position(string.concat(p, "[", vm.toString(k), "]"));
        }
    }

    function _file(string memory p) internal view returns (CreationFile memory f) {
        f.epochId = uint64(vm.parseJsonUint(json, string.concat(p, ".epochId")));
        f.validFromBlock = uint64(vm.parseJsonUint(json, string.concat(p, ".validFromBlock")));
        f.validUntilBlock = uint64(vm.parseJsonUint(json, string.concat(p, ".validUntilBlock")));
        f.sharesPerUnit = vm.parseJsonUint(json, string.concat(p, ".sharesPerUnit"));
        f.toleranceBps = uint16(vm.parseJsonUint(json, string.concat(p, ".toleranceBps")));
        f.minUnits = uint32(vm.parseJsonUint(json, string.concat(p, ".minUnits")));
        f.signerSetVersion = uint64(vm.parseJsonUint(json, string.concat(p, ".signerSetVersion")));
        string memory ap = string.concat(p, ".assets");
        uint256 n = _length(ap);
        f.assets = new Asset[](n);
        for (uint256 k; k < n; ++k) {
            f.assets[k] = _asset(string.concat(ap, "[", vm.toString(k), "]"));
        }
    }

    function _report(string memory p) internal view returns (CreationReport memory r) {
        r.requestId = vm.parseJsonBytes32(json, string.concat(p, ".requestId"));
        r.epochId = uint64(vm.parseJsonUint(json, string.concat(p, ".epochId")));
        r.creationFileHash = vm.parseJsonBytes32(json, string.concat(p, ".creationFileHash"));
        r.receiver = vm.parseJsonAddress(json, string.concat(p, ".receiver"));
        r.units = uint32(vm.parseJsonUint(json, string.concat(p, ".units")));
        r.positions = _positions(string.concat(p, ".positions"));
        r.deliveryBlock = uint64(vm.parseJsonUint(json, string.concat(p, ".deliveryBlock")));
        r.deliveryIndex = uint32(vm.parseJsonUint(json, string.concat(p, ".deliveryIndex")));
        r.valueRao = vm.parseJsonUint(json, string.concat(p, ".valueRao"));
        r.navPerShare = vm.parseJsonUint(json, string.concat(p, ".navPerShare"));
        r.signerSetVersion = uint64(vm.parseJsonUint(json, string.concat(p, ".signerSetVersion")));
    }

    function _refund(string memory p) internal view returns (RefundReport memory r) {
        r.requestId = vm.parseJsonBytes32(json, string.concat(p, ".requestId"));
        r.coldkey = vm.parseJsonBytes32(json, string.concat(p, ".coldkey"));
        r.positions = _positions(string.concat(p, ".positions"));
        r.deliveryBlock = uint64(vm.parseJsonUint(json, string.concat(p, ".deliveryBlock")));
        r.deliveryIndex = uint32(vm.parseJsonUint(json, string.concat(p, ".deliveryIndex")));
        r.signerSetVersion = uint64(vm.parseJsonUint(json, string.concat(p, ".signerSetVersion")));
    }

    function _sweep(string memory p) internal view returns (Sweep memory s) {
        s.positions = _positions(string.concat(p, ".positions"));
        s.nonce = uint64(vm.parseJsonUint(json, string.concat(p, ".nonce")));
        s.signerSetVersion = uint64(vm.parseJsonUint(json, string.concat(p, ".signerSetVersion")));
    }

    function _length(string memory arrayPath) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(arrayPath, "[", vm.toString(n), "]"))) {
            n++;
        }
    }

    function _uintArray(string memory arrayPath) internal view returns (uint256[] memory xs) {
        uint256 n = _length(arrayPath);
        xs = new uint256[](n);
        for (uint256 k; k < n; ++k) {
            xs[k] = vm.parseJsonUint(json, string.concat(arrayPath, "[", vm.toString(k), "]"));
        }
    }

    // ------------------------------------------------------------------ the contract under test

    /// @dev The TAO20 contract deployed at `at` (once), observed under `chainId`.
    function _contractAt(address at, uint256 chainId) internal returns (ITAO20 c) {
        if (at.code.length == 0) _deploy(at, keccak256("tao20.vectors.vault"));
        vm.chainId(chainId);
        return ITAO20(at);
    }

    function _sortedSigners() internal view returns (address[] memory list) {
        list = new address[](5);
        for (uint256 k; k < 5; ++k) {
            list[k] = vm.parseJsonAddress(json, string.concat(".constants.keys.signer", vm.toString(k), ".address"));
        }
        for (uint256 a; a < 5; ++a) {
            for (uint256 b = a + 1; b < 5; ++b) {
                if (list[b] < list[a]) (list[a], list[b]) = (list[b], list[a]);
            }
        }
    }

    function _signerName(address who) internal view returns (string memory) {
        for (uint256 k; k < 5; ++k) {
            string memory name = string.concat("signer", vm.toString(k));
            if (vm.parseJsonAddress(json, string.concat(".constants.keys.", name, ".address")) == who) return name;
        }
        revert("unknown signer");
    }

    function _deploy(address at, bytes32 vault) internal returns (ITAO20) {
        CreationFile memory none;
        CreationReport memory noReport;
        return _deployWith(at, vault, none, noReport);
    }

    /// @dev Deploys at `at` with the vector keys as signers (threshold 4), no fees, and fund hotkeys
    ///      for the file's netuids distinct from the report's delivery hotkeys.
    function _deployWith(address at, bytes32 vault, CreationFile memory f, CreationReport memory r)
        internal
        returns (ITAO20)
    {
        InitParams memory p;
        p.owner = address(this);
        p.guardian = address(this);
        p.signers = _sortedSigners();
        p.threshold = 4;
        p.feeRecipient = address(0xFEE);
        p.genesisBlock = f.validFromBlock - f.epochId * (f.validUntilBlock + 1 - f.validFromBlock);
        p.epochLength = f.assets.length == 0 ? 100_800 : f.validUntilBlock + 1 - f.validFromBlock;
        if (f.assets.length == 0) p.genesisBlock = 0;
        p.deliveryWindow = 300;
        p.expiryGrace = 600;
        p.minStakeRao = 2_000_000;
        p.vaultColdkey = vault == bytes32(0) ? keccak256("tao20.vectors.vault") : vault;
        p.defaultFundHotkey = keccak256("tao20.vectors.fund");
        p.fundNetuids = new uint16[](f.assets.length);
        p.fundHotkeys = new bytes32[](f.assets.length);
        for (uint256 k; k < f.assets.length; ++k) {
            p.fundNetuids[k] = f.assets[k].netuid;
            p.fundHotkeys[k] = keccak256(abi.encodePacked("tao20.vectors.fund", f.assets[k].netuid));
        }
        r; // the report's hotkeys are asserted distinct by mint itself
        if (at.code.length != 0) vm.etch(at, "");
        address module = deployCode("TAO20Settlement.sol:TAO20Settlement", abi.encode(p, p.vaultColdkey));
        deployCodeTo("TAO20.sol:TAO20", abi.encode(p, module), at);
        return ITAO20(at);
    }

    // ------------------------------------------------------------------ helpers

    function _case(string memory i, string memory field) internal pure returns (string memory) {
        return string.concat(".cases.", i, field);
    }

    function _assertedByForge(string memory i) internal view returns (bool) {
        string[] memory by = vm.parseJsonStringArray(json, _case(i, ".asserted_by"));
        for (uint256 j; j < by.length; j++) {
            if (keccak256(bytes(by[j])) == keccak256("forge")) return true;
        }
        return false;
    }

    function _write(string memory i, string memory field, string memory value) internal {
        vm.writeJson(value, PATH, _case(i, field));
    }

    function _checkBytes32(string memory i, string memory field, bytes32 got) internal {
        if (regen) return _write(i, field, string.concat('"', vm.toString(got), '"'));
        assertEq(got, vm.parseJsonBytes32(json, _case(i, field)), string.concat(i, field));
    }

    function _checkBytes(string memory i, string memory field, bytes memory got) internal {
        if (regen) return _write(i, field, string.concat('"', vm.toString(got), '"'));
        assertEq(got, vm.parseJsonBytes(json, _case(i, field)), string.concat(i, field));
    }

    function _checkAddress(string memory i, string memory field, address got) internal {
        if (regen) return _write(i, field, string.concat('"', vm.toString(got), '"'));
        assertEq(got, vm.parseJsonAddress(json, _case(i, field)), string.concat(i, field));
    }

    function _checkString(string memory i, string memory field, string memory got) internal {
        if (regen) return _write(i, field, string.concat('"', got, '"'));
        assertEq(got, vm.parseJsonString(json, _case(i, field)), string.concat(i, field));
    }

    function _checkBool(string memory i, string memory field, bool got) internal {
        if (regen) return _write(i, field, got ? "true" : "false");
        assertEq(got, vm.parseJsonBool(json, _case(i, field)), string.concat(i, field));
    }

    function _checkUintString(string memory i, string memory field, uint256 got) internal {
        if (regen) return _write(i, field, string.concat('"', vm.toString(got), '"'));
        assertEq(got, vm.parseJsonUint(json, _case(i, field)), string.concat(i, field));
    }

    function _checkUintArray(string memory i, string memory field, uint256[] memory got) internal {
        if (regen) {
            string memory out = "[";
            for (uint256 k; k < got.length; ++k) {
                out = string.concat(out, k == 0 ? '"' : ',"', vm.toString(got[k]), '"');
            }
            return _write(i, field, string.concat(out, "]"));
        }
        uint256[] memory want = _uintArray(_case(i, field));
        assertEq(got, want, string.concat(i, field));
    }
}
