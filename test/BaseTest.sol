// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

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
import {STAKING_PRECOMPILE} from "../contracts/interfaces/IStaking.sol";
import {ALPHA_PRECOMPILE} from "../contracts/interfaces/IAlpha.sol";
import {ADDRESS_MAPPING_PRECOMPILE} from "../contracts/interfaces/IAddressMapping.sol";
import {TAO20Timelock} from "../contracts/governance/TAO20Timelock.sol";
import {StakingMock} from "./mocks/StakingMock.sol";
import {AlphaMock} from "./mocks/AlphaMock.sol";
import {AddressMappingMock} from "./mocks/AddressMappingMock.sol";
import {BalanceTransferMock} from "./mocks/BalanceTransferMock.sol";
import {Hasher} from "./utils/Hasher.sol";

/// @notice Shared fixture: precompile mocks at their real addresses, a deployed TAO20 with five
///         signers (threshold 4, the least the 2n/3 rule allows), 20 fund netuids, owned by a
///         TAO20Timelock whose proposer is the `owner` multisig, labelled actors and helpers that
///         build, sign and submit reports the way keepers do.
abstract contract BaseTest is Test {
    uint64 internal constant GENESIS = 1000;
    uint64 internal constant EPOCH_LEN = 100_800;
    uint32 internal constant WINDOW = 300;
    uint32 internal constant GRACE = 600;
    uint96 internal constant BOND = 1 ether;
    uint16 internal constant MINT_FEE = 50;
    uint16 internal constant REDEEM_FEE = 50;
    uint16 internal constant MGMT_FEE = 100;
    uint64 internal constant MIN_STAKE = 2_000_000;
    /// @dev The governance delay (48 hours) and how long a ready change stays applicable.
    uint256 internal constant TIMELOCK_BLOCKS = 14_400;
    uint256 internal constant LAPSE_BLOCKS = 14_400;
    uint256 internal constant N_FUND = 20;
    uint8 internal constant THRESHOLD = 4;

    ITAO20 internal t;
    TAO20Timelock internal timelock;
    StakingMock internal staking = StakingMock(STAKING_PRECOMPILE);
    Hasher internal hasher;

    uint256[5] internal signerKeys; // ascending by address
    address[5] internal signerAddrs;
    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal feeRecipient = makeAddr("feeRecipient");
    address internal miner = makeAddr("miner");
    address internal holder = makeAddr("holder");
    bytes32 internal minerColdkey = keccak256("tao20.coldkey.miner");
    bytes32 internal holderColdkey = keccak256("tao20.coldkey.holder");
    bytes32 internal vault;
    /// @dev The BalanceTransfer precompile (`StakingLib.BALANCE_TRANSFER_PRECOMPILE`).
    address internal constant BALANCE_TRANSFER = 0x0000000000000000000000000000000000000800;
    BalanceTransferMock internal balances = BalanceTransferMock(BALANCE_TRANSFER);

    function setUp() public virtual {
        vm.etch(STAKING_PRECOMPILE, address(new StakingMock()).code);
        vm.etch(ALPHA_PRECOMPILE, address(new AlphaMock()).code);
        vm.etch(ADDRESS_MAPPING_PRECOMPILE, address(new AddressMappingMock()).code);
        vm.etch(BALANCE_TRANSFER, address(new BalanceTransferMock()).code);
        vm.label(STAKING_PRECOMPILE, "StakingV2");
        vm.label(ALPHA_PRECOMPILE, "Alpha");
        vm.label(ADDRESS_MAPPING_PRECOMPILE, "AddressMapping");
        hasher = new Hasher();
        _makeSigners();
        vm.roll(GENESIS + 10);
        address[] memory proposers = new address[](1);
        proposers[0] = owner;
        address[] memory executors = new address[](1); // address(0): anyone applies a ready change
        timelock = new TAO20Timelock(TIMELOCK_BLOCKS, LAPSE_BLOCKS, proposers, executors, address(0));
        vm.label(address(timelock), "TAO20Timelock");
        t = _deployTAO20(_params());
        vm.label(address(t), "TAO20");
        vault = t.vault();
        vm.deal(miner, 100 ether);
        vm.deal(holder, 100 ether);
    }

    // ------------------------------------------------------------------ fixture

    /// @dev Deploys the settlement module, built with the vault the core will have (its mirror
    ///      account, or the configured one), then the core; as script/Deploy.s.sol does.
    function _deployTAO20(InitParams memory p) internal returns (ITAO20) {
        address module = _deploySettlement(p, vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1));
        return ITAO20(deployCode("TAO20.sol:TAO20", abi.encode(p, module)));
    }

    /// @dev A settlement module for a core that will live at `core`.
    function _deploySettlement(InitParams memory p, address core) internal returns (address) {
        bytes32 v = p.vaultColdkey;
        if (v == bytes32(0) && ADDRESS_MAPPING_PRECOMPILE.code.length != 0) {
            v = AddressMappingMock(ADDRESS_MAPPING_PRECOMPILE).addressMapping(core);
        }
        // Parameters the module refuses too (its constructor checks them as the core's does) leave
        // no module: the core's constructor then names the parameter.
        bytes memory code = abi.encodePacked(vm.getCode("TAO20Settlement.sol:TAO20Settlement"), abi.encode(p, v));
        address module;
        assembly {
            module := create(0, add(code, 0x20), mload(code))
        }
        return module;
    }

    function _makeSigners() internal {
        for (uint256 i; i < 5; ++i) {
            signerKeys[i] = uint256(keccak256(abi.encodePacked("tao20.test.signer", vm.toString(i))));
            signerAddrs[i] = vm.addr(signerKeys[i]);
        }
        for (uint256 i; i < 5; ++i) {
            for (uint256 j = i + 1; j < 5; ++j) {
                if (signerAddrs[j] < signerAddrs[i]) {
                    (signerAddrs[i], signerAddrs[j]) = (signerAddrs[j], signerAddrs[i]);
                    (signerKeys[i], signerKeys[j]) = (signerKeys[j], signerKeys[i]);
                }
            }
        }
        for (uint256 i; i < 5; ++i) {
            vm.label(signerAddrs[i], string.concat("signer", vm.toString(i)));
        }
    }

    function _params() internal view returns (InitParams memory p) {
        p.owner = address(timelock);
        p.guardian = guardian;
        p.signers = new address[](5);
        for (uint256 i; i < 5; ++i) {
            p.signers[i] = signerAddrs[i];
        }
        p.threshold = THRESHOLD;
        p.mintFeeBps = MINT_FEE;
        p.redeemFeeBps = REDEEM_FEE;
        p.managementFeeBps = MGMT_FEE;
        p.feeRecipient = feeRecipient;
        p.creationBond = BOND;
        p.genesisBlock = GENESIS;
        p.epochLength = EPOCH_LEN;
        p.deliveryWindow = WINDOW;
        p.expiryGrace = GRACE;
        p.minStakeRao = MIN_STAKE;
        p.defaultFundHotkey = fundHk(1);
        p.fundNetuids = new uint16[](N_FUND);
        p.fundHotkeys = new bytes32[](N_FUND);
        for (uint256 i; i < N_FUND; ++i) {
            p.fundNetuids[i] = uint16(i + 1);
            p.fundHotkeys[i] = bytes32(0); // the default
        }
    }

    /// @dev The fund stakes every netuid under one validator hotkey (the deployment default).
    function fundHk(uint16) internal pure returns (bytes32) {
        return keccak256("tao20.fund");
    }

    function minerHk(uint16 netuid) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("tao20.minerhk", netuid));
    }

    // ------------------------------------------------------------------ signing

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", t.domainSeparator(), structHash));
    }

    /// @dev Signatures of the first `count` signers (ascending by address), as a relayer sends them.
    function _sigs(bytes32 digest, uint256 count) internal view returns (bytes[] memory sigs) {
        sigs = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            sigs[i] = _sigOf(signerKeys[i], digest);
        }
    }

    function _sigOf(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// @dev A digest under a domain with another chain id or verifying contract.
    function _digestFor(uint256 chainId, address verifying, bytes32 structHash) internal pure returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TAO20"),
                keccak256("1"),
                chainId,
                verifying
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev The malleable twin of a signature: same signer, s' = n - s, v flipped.
    function _highS(bytes memory sig) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s, uint8 v) = _split(sig);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function _split(bytes memory sig) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        assembly {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
    }

    /// @dev Replaces the signer set through the timelock (version + 1).
    function _rotateSigners(address[] memory list, uint8 threshold) internal {
        _govern(abi.encodeCall(t.setSigners, (list, threshold)));
    }

    // ------------------------------------------------------------------ governance

    uint256 internal govSalt;

    /// @dev Schedules `call` on the TAO20 contract through the timelock (the proposer multisig).
    function _schedule(bytes memory call) internal returns (bytes32 salt) {
        salt = bytes32(++govSalt);
        vm.prank(owner);
        timelock.schedule(address(t), 0, call, bytes32(0), salt, TIMELOCK_BLOCKS);
    }

    /// @dev Executes a scheduled `call` (anyone may); returns whether it applied.
    function _execute(bytes memory call, bytes32 salt) internal returns (bool ok) {
        (ok,) = address(timelock).call(abi.encodeCall(timelock.execute, (address(t), 0, call, bytes32(0), salt)));
    }

    /// @dev Schedules `call`, waits out the delay and applies it; reverts with the call's own error.
    function _govern(bytes memory call) internal {
        bytes32 salt = _schedule(call);
        vm.roll(block.number + TIMELOCK_BLOCKS);
        timelock.execute(address(t), 0, call, bytes32(0), salt);
    }

    bytes32 internal fundHotkeySalt;
    bytes32 internal bondSalt;

    /// @dev Queues the fund hotkey of `netuid` and waits out the delay; `_applyFundHotkey` applies it.
    function _queueFundHotkey(uint16 netuid, bytes32 hotkey) internal {
        fundHotkeySalt = _schedule(abi.encodeCall(t.setFundHotkey, (netuid, hotkey)));
        vm.roll(block.number + TIMELOCK_BLOCKS);
    }

    /// @dev Applies a queued fund hotkey change (anyone may); returns whether it applied.
    function _applyFundHotkey(uint16 netuid, bytes32 hotkey) internal returns (bool ok) {
        return _execute(abi.encodeCall(t.setFundHotkey, (netuid, hotkey)), fundHotkeySalt);
    }

    /// @dev Queues a new creation bond (its delay starts now).
    function _queueCreationBond(uint96 bond) internal {
        bondSalt = _schedule(abi.encodeCall(t.setCreationBond, (bond)));
    }

    /// @dev Applies a queued creation bond (anyone may); returns whether it applied.
    function _applyCreationBond(uint96 bond) internal returns (bool ok) {
        return _execute(abi.encodeCall(t.setCreationBond, (bond)), bondSalt);
    }

    // ------------------------------------------------------------------ epochs

    function _file(uint256 assetCount) internal view returns (CreationFile memory f) {
        uint64 e = t.epochAt(block.number);
        f.epochId = e;
        f.validFromBlock = GENESIS + e * EPOCH_LEN;
        f.validUntilBlock = f.validFromBlock + EPOCH_LEN - 1;
        f.sharesPerUnit = 1000e18;
        f.toleranceBps = 5;
        f.minUnits = 1;
        f.signerSetVersion = 1;
        f.assets = new Asset[](assetCount);
        uint256 left = 10_000;
        for (uint256 i; i < assetCount; ++i) {
            uint16 w = i + 1 == assetCount ? uint16(left) : uint16(10_000 / assetCount);
            left -= w;
            f.assets[i] = Asset({netuid: uint16(i + 1), qtyPerUnit: uint64(1e9 * (i + 1)), weightBps: w});
        }
    }

    function _fileSigs(CreationFile memory f) internal view returns (bytes[] memory) {
        return _sigs(_digest(hasher.creationFile(f)), THRESHOLD);
    }

    function _publish(uint256 assetCount) internal returns (CreationFile memory f) {
        f = _file(assetCount);
        t.publishEpoch(f, _fileSigs(f));
    }

    // ------------------------------------------------------------------ creation

    function _request(uint32 units, uint256 minSharesOut) internal returns (bytes32 id) {
        vm.prank(miner);
        id = t.requestCreation{value: BOND}(units, minerColdkey, miner, minSharesOut);
    }

    /// @dev The miner's substrate delivery: stake under its own hotkeys moved to the vault coldkey.
    function _deliver(uint256 assetCount, uint64 amountEach) internal returns (Position[] memory ps) {
        ps = new Position[](assetCount);
        for (uint256 i; i < assetCount; ++i) {
            uint16 n = uint16(i + 1);
            staking.setStake(
                minerHk(n), minerColdkey, n, uint256(amountEach) + staking.stakeOf(minerHk(n), minerColdkey, n)
            );
            staking.transferStakeFrom(minerColdkey, vault, minerHk(n), n, amountEach);
            ps[i] = Position({netuid: n, hotkey: minerHk(n), amount: amountEach});
        }
    }

    function _report(bytes32 id, Position[] memory ps, uint256 valueRao, uint256 nav)
        internal
        view
        returns (CreationReport memory r)
    {
        r.requestId = id;
        r.epochId = t.request(id).epochId;
        r.creationFileHash = t.epoch(r.epochId).fileHash;
        r.receiver = t.request(id).receiver;
        r.units = t.request(id).units;
        r.positions = ps;
        r.deliveryBlock = uint64(t.request(id).requestBlock) + 1;
        r.deliveryIndex = 2;
        r.valueRao = valueRao;
        r.navPerShare = nav;
        r.signerSetVersion = t.signerSetVersion();
    }

    function _reportSigs(CreationReport memory r) internal view returns (bytes[] memory) {
        return _sigs(_digest(hasher.creationReport(r)), THRESHOLD);
    }

    /// @dev Publishes a one-asset epoch if needed, requests, delivers and mints; returns shares.
    function _createShares(uint64 amount, uint256 valueRao, uint256 nav) internal returns (uint256 shares, bytes32 id) {
        if (t.epoch(t.epochAt(block.number)).fileHash == bytes32(0)) _publish(1);
        id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, amount);
        CreationReport memory r = _report(id, ps, valueRao, nav);
        shares = t.mint(r, _reportSigs(r));
    }

    function _refundReport(bytes32 id, bytes32 coldkey, Position[] memory ps, uint64 deliveryBlock)
        internal
        view
        returns (RefundReport memory r)
    {
        r.requestId = id;
        r.coldkey = coldkey;
        r.positions = ps;
        r.deliveryBlock = deliveryBlock;
        r.deliveryIndex = 3;
        r.signerSetVersion = t.signerSetVersion();
    }

    function _refundSigs(RefundReport memory r) internal view returns (bytes[] memory) {
        return _sigs(_digest(hasher.refundReport(r)), THRESHOLD);
    }

    function _sweepSigs(Sweep memory s) internal view returns (bytes[] memory) {
        return _sigs(_digest(hasher.sweep(s)), THRESHOLD);
    }

    function _fundStake(uint16 netuid) internal view returns (uint256) {
        return staking.stakeOf(fundHk(netuid), vault, netuid);
    }

    /// @dev A fuzzed alpha amount: worth the runtime minimum at the mock's 1 TAO per alpha (the
    ///      runtime refuses to move less), and a u64 as the runtime's stake is.
    function _amount(uint64 raw) internal pure returns (uint64) {
        return uint64(bound(raw, MIN_STAKE, type(uint64).max));
    }

    /// @dev Positions of `a1` and `a2` rao of netuids 1 and 2 under the miner's hotkeys.
    function _positions(uint64 a1, uint64 a2) internal pure returns (Position[] memory ps) {
        ps = new Position[](2);
        ps[0] = Position({netuid: 1, hotkey: minerHk(1), amount: a1});
        ps[1] = Position({netuid: 2, hotkey: minerHk(2), amount: a2});
    }

    function _noSkip() internal view returns (uint256[] memory mins, bool[] memory skip) {
        uint256 n = t.positionCount();
        mins = new uint256[](n);
        skip = new bool[](n);
    }
}

/// @notice A published two-asset epoch and one request whose delivery (3e9 rao of each asset)
///         has arrived, the starting point of the refund and expiry suites.
abstract contract DeliveredRequestTest is BaseTest {
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

    function _ps() internal pure returns (Position[] memory ps) {
        ps = new Position[](2);
        for (uint16 n = 1; n <= 2; ++n) {
            ps[n - 1] = Position({netuid: n, hotkey: minerHk(n), amount: 3e9});
        }
    }
}
