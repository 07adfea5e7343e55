// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {
    ITAO20,
    Asset,
    CreationFile,
    Position,
    CreationReport,
    RefundReport,
    Sweep,
    Request,
    RequestStatus,
    Epoch,
    InitParams
} from "./interfaces/ITAO20.sol";
import {IAlpha, ALPHA_PRECOMPILE} from "./interfaces/IAlpha.sol";
import {IAddressMapping, ADDRESS_MAPPING_PRECOMPILE} from "./interfaces/IAddressMapping.sol";
import {ErrorsLib} from "./libraries/ErrorsLib.sol";
import {EventsLib} from "./libraries/EventsLib.sol";
import {HashLib} from "./libraries/HashLib.sol";
import {SharesMathLib} from "./libraries/SharesMathLib.sol";
import {SignatureLib} from "./libraries/SignatureLib.sol";
import {StakingLib} from "./libraries/StakingLib.sol";

/// @title TAO20
/// @notice The TAO20 index fund: share token, creation, refund, redemption, fees and signers, in the
///         order PROTOCOL.md gives them. NatSpec of every entry point lives in {ITAO20}.
contract TAO20 is ITAO20, ERC20, EIP712, Ownable2Step, ReentrancyGuardTransient {
    using HashLib for CreationFile;
    using HashLib for CreationReport;
    using HashLib for RefundReport;
    using HashLib for Sweep;

    // ------------------------------------------------------------------ constants

    /// @notice Blocks between queueing a governance change and applying it (48 hours).
    uint256 public constant TIMELOCK_BLOCKS = 14_400;
    /// @notice Shares locked forever by the first mint, so the share price cannot be inflated.
    uint256 public constant DEAD_SHARES = 1e15;
    /// @notice Holder of the dead shares (OpenZeppelin's ERC-20 refuses the zero address).
    address public constant DEAD_ADDRESS = 0x000000000000000000000000000000000000dEaD;
    /// @notice Caps: mint and redeem fee (bps), management fee (bps a year).
    uint256 public constant MAX_MINT_FEE_BPS = 100;
    uint256 public constant MAX_REDEEM_FEE_BPS = 100;
    uint256 public constant MAX_MANAGEMENT_FEE_BPS = 200;
    /// @notice Most assets in a creation file, signers in a set, netuids in the fund.
    uint256 public constant MAX_ASSETS = 64;
    uint256 public constant MAX_SIGNERS = 32;
    uint256 public constant MAX_FUND_POSITIONS = 128;

    uint8 internal constant CHANGE_SIGNERS = 0;
    uint8 internal constant CHANGE_FEES = 1;
    uint8 internal constant CHANGE_BOND = 2;
    uint8 internal constant CHANGE_FUND_HOTKEY = 3;

    // ------------------------------------------------------------------ immutables

    bytes32 internal immutable VAULT;
    /// @notice The hotkey the fund stakes every netuid under unless governance set another for it.
    bytes32 public immutable DEFAULT_FUND_HOTKEY;
    /// @notice First block of epoch 0.
    uint64 public immutable GENESIS_BLOCK;
    /// @notice Blocks per epoch.
    uint64 public immutable EPOCH_LENGTH;
    /// @notice Blocks after the request in which its delivery may be included (L).
    uint32 public immutable DELIVERY_WINDOW;
    /// @notice Blocks after expiry before `expire` may close a request.
    uint32 public immutable EXPIRY_GRACE;
    /// @notice The runtime's minimum stake value (`DefaultMinStake`), in rao.
    uint256 public immutable MIN_STAKE_RAO;

    // ------------------------------------------------------------------ storage

    /// @dev Everything `mint` needs besides the request, in one slot.
    struct Config {
        uint64 signerSetVersion;
        uint8 threshold;
        bool paused;
        uint16 mintFeeBps;
        uint16 redeemFeeBps;
        uint16 managementFeeBps;
        uint64 lastAccrual;
        uint64 sweepNonce;
    }

    struct PendingSigners {
        address[] signers;
        uint8 threshold;
        uint64 eta;
    }

    struct PendingFees {
        uint16 mintFeeBps;
        uint16 redeemFeeBps;
        uint16 managementFeeBps;
        address recipient;
        uint64 eta;
    }

    struct PendingBond {
        uint96 bond;
        uint64 eta;
    }

    struct PendingHotkey {
        bytes32 hotkey;
        uint64 eta;
    }

    Config internal cfg;
    /// @notice Receives fee shares.
    address public feeRecipient;
    /// @notice Native TAO (wei) `requestCreation` requires at least.
    uint96 public creationBond;
    /// @notice May pause requests and mints.
    address public guardian;
    /// @dev Bonds of open requests plus bonds owed to miners: native TAO that is not the fund's.
    uint256 internal lockedNative;

    mapping(address signer => uint64 version) internal signerVersionOf;
    address[] internal signerList;

    mapping(uint64 epochId => Epoch) internal epochs;
    mapping(uint64 epochId => Asset[]) internal assetsOf;

    mapping(bytes32 requestId => Request) internal requests;
    /// @notice Requests opened by each miner so far.
    mapping(address miner => uint256) public nonces;
    /// @notice Delivery ids `(block << 32) | extrinsicIndex` already refunded.
    mapping(uint256 deliveryId => bool) public deliveryRefunded;
    /// @notice Bonds the contract could not push back at mint, claimable with `claimBond`.
    mapping(address miner => uint256) public bondOwed;

    /// @dev Two bits per netuid, 128 netuids a word (word `n / 128`, bits `2 * (n % 128)`): bit 0 a
    ///      fund netuid, bit 1 one with its own hotkey. One warm slot answers for a whole basket,
    ///      where a per-netuid hotkey slot would cost a cold read per asset in every mint and redemption.
    mapping(uint256 word => uint256) internal netuidBits;
    mapping(uint16 netuid => bytes32) internal hotkeyOverride;
    uint16[] internal netuidList;

    PendingSigners internal pendingSigners;
    PendingFees internal pendingFees;
    PendingBond internal pendingBond;
    mapping(uint16 netuid => PendingHotkey) internal pendingHotkeys;

    // ------------------------------------------------------------------ construction

    constructor(InitParams memory p) ERC20("TAO20 Subnet Index", "TAO20") EIP712("TAO20", "1") Ownable(p.owner) {
        if (p.epochLength == 0) revert ErrorsLib.InvalidParameter("epochLength");
        if (p.deliveryWindow == 0) revert ErrorsLib.InvalidParameter("deliveryWindow");
        if (p.fundNetuids.length != p.fundHotkeys.length) revert ErrorsLib.InvalidParameter("fundHotkeys");
        if (p.defaultFundHotkey == bytes32(0)) revert ErrorsLib.InvalidParameter("defaultFundHotkey");
        DEFAULT_FUND_HOTKEY = p.defaultFundHotkey;
        _checkFees(p.mintFeeBps, p.redeemFeeBps, p.managementFeeBps, p.feeRecipient);
        _checkSigners(p.signers, p.threshold);

        GENESIS_BLOCK = p.genesisBlock;
        EPOCH_LENGTH = p.epochLength;
        DELIVERY_WINDOW = p.deliveryWindow;
        EXPIRY_GRACE = p.expiryGrace;
        MIN_STAKE_RAO = p.minStakeRao;
        // The mirror account is blake2_256("evm:" ++ address), which the EVM cannot hash cheaply:
        // take it from the deployer, or from the runtime's own AddressMapping precompile.
        VAULT = p.vaultColdkey != bytes32(0)
            ? p.vaultColdkey
            : IAddressMapping(ADDRESS_MAPPING_PRECOMPILE).addressMapping(address(this));
        if (VAULT == bytes32(0)) revert ErrorsLib.InvalidParameter("vaultColdkey");

        cfg = Config({
            signerSetVersion: 0,
            threshold: 0,
            paused: false,
            mintFeeBps: p.mintFeeBps,
            redeemFeeBps: p.redeemFeeBps,
            managementFeeBps: p.managementFeeBps,
            lastAccrual: uint64(block.number),
            sweepNonce: 0
        });
        _installSigners(p.signers, p.threshold);
        feeRecipient = p.feeRecipient;
        creationBond = p.creationBond;
        guardian = p.guardian;
        emit EventsLib.FeesUpdated(p.mintFeeBps, p.redeemFeeBps, p.managementFeeBps, p.feeRecipient);
        emit EventsLib.CreationBondUpdated(p.creationBond);
        emit EventsLib.GuardianUpdated(p.guardian);
        for (uint256 i; i < p.fundNetuids.length; ++i) {
            uint16 netuid = p.fundNetuids[i];
            if (netuid == 0 || _isFundNetuid(netuid)) revert ErrorsLib.InvalidParameter("fundNetuids");
            _addFundNetuid(netuid, p.fundHotkeys[i] == bytes32(0) ? p.defaultFundHotkey : p.fundHotkeys[i]);
        }
    }

    // ------------------------------------------------------------------ epochs

    /// @inheritdoc ITAO20
    function publishEpoch(CreationFile calldata file, bytes[] calldata signatures) external {
        Config memory c = cfg;
        if (file.signerSetVersion != c.signerSetVersion) {
            revert ErrorsLib.StaleSignerSet(file.signerSetVersion, c.signerSetVersion);
        }
        uint64 current = _epochAt(block.number);
        if (file.epochId != current) revert ErrorsLib.WrongEpoch(file.epochId, current);
        if (epochs[current].fileHash != bytes32(0)) revert ErrorsLib.EpochAlreadyPublished(current);
        uint64 start = GENESIS_BLOCK + current * EPOCH_LENGTH;
        if (file.validFromBlock != start || file.validUntilBlock != start + EPOCH_LENGTH - 1) {
            revert ErrorsLib.WrongEpochBounds(file.validFromBlock, file.validUntilBlock);
        }
        _checkAssets(file);

        bytes32 structHash = file.hash();
        _verifyQuorum(_hashTypedDataV4(structHash), signatures, c);

        epochs[current] = Epoch({
            fileHash: structHash,
            validFromBlock: file.validFromBlock,
            validUntilBlock: file.validUntilBlock,
            minUnits: file.minUnits,
            toleranceBps: file.toleranceBps,
            sharesPerUnit: file.sharesPerUnit
        });
        Asset[] storage stored = assetsOf[current];
        for (uint256 i; i < file.assets.length; ++i) {
            stored.push(file.assets[i]);
        }
        emit EventsLib.EpochPublished(
            current,
            structHash,
            file.validFromBlock,
            file.validUntilBlock,
            file.sharesPerUnit,
            file.toleranceBps,
            file.minUnits,
            file.assets.length
        );
    }

    // ------------------------------------------------------------------ creation

    /// @inheritdoc ITAO20
    function requestCreation(uint32 units, bytes32 coldkey, address receiver, uint256 minSharesOut)
        external
        payable
        returns (bytes32 requestId)
    {
        if (cfg.paused) revert ErrorsLib.Paused();
        if (coldkey == bytes32(0)) revert ErrorsLib.ZeroColdkey();
        if (receiver == address(0)) revert ErrorsLib.ZeroReceiver();
        if (msg.value < creationBond) revert ErrorsLib.BondTooLow(msg.value, creationBond);
        if (minSharesOut > type(uint128).max || msg.value > type(uint128).max) {
            revert ErrorsLib.ValueTooLarge();
        }
        uint64 epochId = _epochAt(block.number);
        Epoch storage ep = epochs[epochId];
        if (ep.fileHash == bytes32(0)) revert ErrorsLib.EpochNotPublished(epochId);
        if (units < ep.minUnits) revert ErrorsLib.TooFewUnits(units, ep.minUnits);

        uint256 nonce = nonces[msg.sender]++;
        requestId = keccak256(abi.encode(block.chainid, address(this), msg.sender, nonce));
        requests[requestId] = Request({
            miner: msg.sender,
            units: units,
            epochId: epochId,
            receiver: receiver,
            requestBlock: uint40(block.number),
            status: RequestStatus.Pending,
            coldkey: coldkey,
            // forge-lint: disable-next-line(unsafe-typecast)
            minSharesOut: uint128(minSharesOut), // both checked against 2^128 - 1 above
            // forge-lint: disable-next-line(unsafe-typecast)
            bond: uint128(msg.value)
        });
        lockedNative += msg.value;
        emit EventsLib.CreationRequested(
            requestId,
            msg.sender,
            receiver,
            coldkey,
            epochId,
            units,
            uint64(block.number),
            uint64(block.number + DELIVERY_WINDOW),
            minSharesOut,
            msg.value
        );
    }

    /// @inheritdoc ITAO20
    function mint(CreationReport calldata report, bytes[] calldata signatures)
        external
        nonReentrant
        returns (uint256 sharesOut)
    {
        Config memory c = cfg;
        Request storage rq = requests[report.requestId];
        bytes32[] memory toHotkeys = _checkCreationReport(report, rq, c);
        _verifyQuorum(_hashTypedDataV4(report.hash()), signatures, c);
        sharesOut = _issueShares(report, rq, c);
        for (uint256 i; i < report.positions.length; ++i) {
            Position calldata p = report.positions[i];
            StakingLib.move(p.hotkey, toHotkeys[i], p.netuid, p.amount);
        }
        uint256 bond = rq.bond;
        if (bond != 0) _pushBond(rq.miner, bond);
    }

    /// @dev Every check of `mint` but the signatures; returns the fund hotkey of each position.
    function _checkCreationReport(CreationReport calldata report, Request storage rq, Config memory c)
        internal
        view
        returns (bytes32[] memory toHotkeys)
    {
        if (c.paused) revert ErrorsLib.Paused();
        if (report.signerSetVersion != c.signerSetVersion) {
            revert ErrorsLib.StaleSignerSet(report.signerSetVersion, c.signerSetVersion);
        }
        _requirePending(report.requestId, rq.status);
        if (report.epochId != rq.epochId) revert ErrorsLib.EpochMismatch();
        if (report.receiver != rq.receiver) revert ErrorsLib.ReceiverMismatch();
        if (report.units != rq.units) revert ErrorsLib.UnitsMismatch();
        if (report.creationFileHash != epochs[report.epochId].fileHash) {
            revert ErrorsLib.FileHashMismatch();
        }
        _checkWindow(report.deliveryBlock, rq.requestBlock);
        if (report.navPerShare == 0) revert ErrorsLib.ZeroNav();
        toHotkeys = _checkPositions(report.positions, true);
    }

    /// @dev Accrues the management fee, computes and mints the shares of a checked report.
    function _issueShares(CreationReport calldata report, Request storage rq, Config memory c)
        internal
        returns (uint256 sharesOut)
    {
        uint256 accrued = _accrueUnminted(c);
        uint256 supply = totalSupply() + accrued;
        (uint256 gross, uint256 fee, uint256 net) =
            SharesMathLib.mintShares(report.valueRao, report.navPerShare, c.mintFeeBps);
        if (gross == 0) revert ErrorsLib.ZeroShares();
        uint256 dead = supply == 0 ? DEAD_SHARES : 0;
        if (net <= dead) revert ErrorsLib.ZeroShares();
        sharesOut = net - dead;
        uint256 minOut = rq.minSharesOut;
        if (sharesOut < minOut) revert ErrorsLib.SlippageExceeded(sharesOut, minOut);

        rq.status = RequestStatus.Minted;
        lockedNative -= rq.bond;
        _mint(report.receiver, sharesOut);
        // The mint fee and the management fee accrued just before go out as one fee mint.
        if (fee + accrued != 0) _mint(feeRecipient, fee + accrued);
        if (dead != 0) _mint(DEAD_ADDRESS, dead);
        emit EventsLib.CreationMinted(
            report.requestId, rq.miner, report.epochId, report.units, report.valueRao, sharesOut
        );
    }

    /// @inheritdoc ITAO20
    function refund(RefundReport calldata report, bytes[] calldata signatures) external nonReentrant {
        Config memory c = cfg;
        if (report.signerSetVersion != c.signerSetVersion) {
            revert ErrorsLib.StaleSignerSet(report.signerSetVersion, c.signerSetVersion);
        }
        if (report.coldkey == bytes32(0)) revert ErrorsLib.ZeroColdkey();
        uint256 deliveryId = (uint256(report.deliveryBlock) << 32) | report.deliveryIndex;
        if (deliveryRefunded[deliveryId]) {
            revert ErrorsLib.DeliveryAlreadyRefunded(report.deliveryBlock, report.deliveryIndex);
        }
        Request storage rq = requests[report.requestId];
        RequestStatus status = rq.status;
        if (report.requestId != bytes32(0)) {
            if (status == RequestStatus.None) revert ErrorsLib.UnknownRequest(report.requestId);
            if (status == RequestStatus.Minted || status == RequestStatus.Refunded) {
                revert ErrorsLib.RequestNotPending(report.requestId, status);
            }
            uint256 expiryBlock = uint256(rq.requestBlock) + DELIVERY_WINDOW;
            if (status == RequestStatus.Pending && block.number <= expiryBlock) {
                revert ErrorsLib.RefundBeforeExpiry(report.requestId, expiryBlock);
            }
            if (report.coldkey != rq.coldkey) revert ErrorsLib.ColdkeyMismatch();
            _checkWindow(report.deliveryBlock, rq.requestBlock);
        }
        _checkPositions(report.positions, false);
        _verifyQuorum(_hashTypedDataV4(report.hash()), signatures, c);

        deliveryRefunded[deliveryId] = true;
        if (report.requestId != bytes32(0) && status == RequestStatus.Pending) {
            rq.status = RequestStatus.Refunded;
            lockedNative -= rq.bond;
            emit EventsLib.BondForfeited(report.requestId, rq.bond);
        }
        emit EventsLib.Refunded(
            report.requestId, report.coldkey, report.deliveryBlock, report.deliveryIndex, report.positions.length
        );
        for (uint256 i; i < report.positions.length; ++i) {
            Position calldata p = report.positions[i];
            StakingLib.transfer(report.coldkey, p.hotkey, p.netuid, p.amount);
            emit EventsLib.StakeMoved(p.netuid, p.hotkey, p.hotkey, report.coldkey, p.amount);
        }
    }

    /// @inheritdoc ITAO20
    function expire(bytes32 requestId) external {
        Request storage rq = requests[requestId];
        _requirePending(requestId, rq.status);
        uint256 after_ = uint256(rq.requestBlock) + DELIVERY_WINDOW + EXPIRY_GRACE;
        if (block.number <= after_) revert ErrorsLib.ExpiryNotReached(requestId, after_);
        rq.status = RequestStatus.Expired;
        lockedNative -= rq.bond;
        emit EventsLib.CreationExpired(requestId, rq.bond);
    }

    /// @inheritdoc ITAO20
    function sweep(Sweep calldata order, bytes[] calldata signatures) external nonReentrant {
        Config memory c = cfg;
        if (order.signerSetVersion != c.signerSetVersion) {
            revert ErrorsLib.StaleSignerSet(order.signerSetVersion, c.signerSetVersion);
        }
        if (order.nonce != c.sweepNonce) revert ErrorsLib.WrongSweepNonce(order.nonce, c.sweepNonce);
        bytes32[] memory toHotkeys = _checkPositions(order.positions, true);
        _verifyQuorum(_hashTypedDataV4(order.hash()), signatures, c);

        cfg.sweepNonce = c.sweepNonce + 1;
        emit EventsLib.Swept(order.nonce, order.positions.length);
        for (uint256 i; i < order.positions.length; ++i) {
            Position calldata p = order.positions[i];
            StakingLib.move(p.hotkey, toHotkeys[i], p.netuid, p.amount);
            emit EventsLib.StakeMoved(p.netuid, p.hotkey, toHotkeys[i], VAULT, p.amount);
        }
    }

    /// @inheritdoc ITAO20
    function claimBond() external nonReentrant {
        uint256 amount = bondOwed[msg.sender];
        if (amount == 0) revert ErrorsLib.NothingToClaim();
        bondOwed[msg.sender] = 0;
        lockedNative -= amount;
        emit EventsLib.BondClaimed(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert ErrorsLib.NativeTransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------ redemption

    /// @inheritdoc ITAO20
    function redeem(uint256 shares, bytes32 coldkey, uint256[] calldata minAmounts, bool[] calldata skip)
        external
        nonReentrant
        returns (uint256[] memory amounts)
    {
        uint256 n = netuidList.length;
        if (minAmounts.length != n + 1 || skip.length != n + 1) {
            revert ErrorsLib.WrongPositionCount(minAmounts.length, skip.length, n + 1);
        }
        if (coldkey == bytes32(0)) revert ErrorsLib.ZeroColdkey();
        if (shares == 0) revert ErrorsLib.ZeroRedemption();
        uint256 fee;
        uint256 burned;
        bytes32[] memory hotkeys;
        uint16[] memory netuids;
        {
            Config memory c = cfg;
            _accrue(c); // mints the fee first: `supply` below includes it
            uint256 supply = totalSupply();
            fee = SharesMathLib.feeUp(shares, c.redeemFeeBps);
            burned = shares - fee;
            if (burned == 0) revert ErrorsLib.ZeroRedemption();
            (amounts, hotkeys, netuids) = _redemptionAmounts(burned, supply, skip);
        }

        if (fee != 0) _transfer(msg.sender, feeRecipient, fee);
        _burn(msg.sender, burned);

        _payPositions(coldkey, netuids, hotkeys, amounts, minAmounts);
        if (amounts[n] < minAmounts[n]) revert ErrorsLib.AmountBelowMinimum(n, amounts[n], minAmounts[n]);
        // Emitted after the runtime answered: only then are the amounts actually paid known.
        emit EventsLib.Redeemed(msg.sender, coldkey, shares, fee, burned, amounts);
        _payNative(amounts[n]);
    }

    function _payNative(uint256 amount) internal {
        if (amount == 0) return;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert ErrorsLib.NativeTransferFailed(msg.sender, amount);
    }

    /// @dev floor(stake * burned / supply) of each unskipped position, native TAO last.
    function _redemptionAmounts(uint256 burned, uint256 supply, bool[] calldata skip)
        internal
        view
        returns (uint256[] memory amounts, bytes32[] memory hotkeys, uint16[] memory netuids)
    {
        netuids = netuidList;
        uint256 n = netuids.length;
        amounts = new uint256[](n + 1);
        hotkeys = new bytes32[](n);
        uint256 word = type(uint256).max;
        uint256 bits;
        for (uint256 i; i < n; ++i) {
            if (skip[i]) continue;
            uint16 netuid = netuids[i];
            // Every listed netuid is a fund netuid; read its bitmap word once per 128 netuids.
            if (netuid >> 7 != word) {
                word = netuid >> 7;
                bits = netuidBits[word];
            }
            bytes32 hk = (bits >> ((netuid & 0x7f) << 1)) & 2 == 0 ? DEFAULT_FUND_HOTKEY : hotkeyOverride[netuid];
            hotkeys[i] = hk;
            uint256 stake = StakingLib.stakeOf(hk, VAULT, netuid);
            amounts[i] = SharesMathLib.redeemAmount(stake, burned, supply);
        }
        if (!skip[n]) amounts[n] = SharesMathLib.redeemAmount(fundNativeBalance(), burned, supply);
    }

    /// @dev Transfers each stake amount to `coldkey`; dust the runtime refuses stays in the fund.
    function _payPositions(
        bytes32 coldkey,
        uint16[] memory netuids,
        bytes32[] memory hotkeys,
        uint256[] memory amounts,
        uint256[] calldata minAmounts
    ) internal {
        for (uint256 i; i < hotkeys.length; ++i) {
            uint256 amount = amounts[i];
            if (amount != 0) {
                uint16 netuid = netuids[i];
                if (!StakingLib.tryTransfer(coldkey, hotkeys[i], netuid, amount)) {
                    // Only an amount the runtime refuses as dust stays in the fund; anything else is
                    // a real failure and undoes the whole redemption.
                    bytes memory reason = _lastRevertData();
                    if (!_belowMinimumStake(netuid, amount)) _revertWith(reason);
                    amounts[i] = amount = 0;
                }
            }
            if (amount < minAmounts[i]) revert ErrorsLib.AmountBelowMinimum(i, amount, minAmounts[i]);
        }
    }

    // ------------------------------------------------------------------ fees

    /// @inheritdoc ITAO20
    function accrueManagementFee() external returns (uint256 fee) {
        Config memory c = cfg;
        fee = _accrue(c);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc ITAO20
    function setSigners(address[] calldata newSigners, uint8 newThreshold) external onlyOwner {
        _checkSigners(newSigners, newThreshold);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 eta = uint64(block.number + TIMELOCK_BLOCKS); // block numbers stay far below 2^64
        pendingSigners = PendingSigners({signers: newSigners, threshold: newThreshold, eta: eta});
        emit EventsLib.ChangeQueued(CHANGE_SIGNERS, 0, eta);
    }

    /// @inheritdoc ITAO20
    function applySigners() external {
        PendingSigners memory q = pendingSigners;
        _checkEta(q.eta);
        delete pendingSigners;
        _installSigners(q.signers, q.threshold);
    }

    /// @inheritdoc ITAO20
    function setFundHotkey(uint16 netuid, bytes32 hotkey) external onlyOwner {
        if (netuid == 0) revert ErrorsLib.InvalidNetuid(netuid);
        if (hotkey == bytes32(0)) revert ErrorsLib.ZeroHotkey();
        if (!_isFundNetuid(netuid) && netuidList.length >= MAX_FUND_POSITIONS) {
            revert ErrorsLib.TooManyPositions();
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 eta = uint64(block.number + TIMELOCK_BLOCKS); // block numbers stay far below 2^64
        pendingHotkeys[netuid] = PendingHotkey({hotkey: hotkey, eta: eta});
        emit EventsLib.ChangeQueued(CHANGE_FUND_HOTKEY, netuid, eta);
    }

    /// @inheritdoc ITAO20
    function applyFundHotkey(uint16 netuid) external nonReentrant {
        PendingHotkey memory q = pendingHotkeys[netuid];
        _checkEta(q.eta);
        delete pendingHotkeys[netuid];
        bytes32 old = fundHotkey(netuid);
        if (old == bytes32(0)) {
            if (netuidList.length >= MAX_FUND_POSITIONS) revert ErrorsLib.TooManyPositions();
            _addFundNetuid(netuid, q.hotkey);
            return;
        }
        if (q.hotkey == old) return;
        _setHotkey(netuid, q.hotkey);
        emit EventsLib.FundHotkeyUpdated(netuid, old, q.hotkey);
        uint256 stake = StakingLib.stakeOf(old, VAULT, netuid);
        if (stake != 0) {
            emit EventsLib.StakeMoved(netuid, old, q.hotkey, VAULT, stake);
            StakingLib.move(old, q.hotkey, netuid, stake);
        }
    }

    /// @inheritdoc ITAO20
    function setFees(uint16 mintFeeBps_, uint16 redeemFeeBps_, uint16 managementFeeBps_, address recipient)
        external
        onlyOwner
    {
        _checkFees(mintFeeBps_, redeemFeeBps_, managementFeeBps_, recipient);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 eta = uint64(block.number + TIMELOCK_BLOCKS); // block numbers stay far below 2^64
        pendingFees = PendingFees(mintFeeBps_, redeemFeeBps_, managementFeeBps_, recipient, eta);
        emit EventsLib.ChangeQueued(CHANGE_FEES, 0, eta);
    }

    /// @inheritdoc ITAO20
    function applyFees() external {
        PendingFees memory q = pendingFees;
        _checkEta(q.eta);
        delete pendingFees;
        Config memory c = cfg;
        _accrue(c); // the old rate and recipient own the blocks before the change
        cfg.mintFeeBps = q.mintFeeBps;
        cfg.redeemFeeBps = q.redeemFeeBps;
        cfg.managementFeeBps = q.managementFeeBps;
        feeRecipient = q.recipient;
        emit EventsLib.FeesUpdated(q.mintFeeBps, q.redeemFeeBps, q.managementFeeBps, q.recipient);
    }

    /// @inheritdoc ITAO20
    function setCreationBond(uint96 bond) external onlyOwner {
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 eta = uint64(block.number + TIMELOCK_BLOCKS); // block numbers stay far below 2^64
        pendingBond = PendingBond(bond, eta);
        emit EventsLib.ChangeQueued(CHANGE_BOND, 0, eta);
    }

    /// @inheritdoc ITAO20
    function applyCreationBond() external {
        PendingBond memory q = pendingBond;
        _checkEta(q.eta);
        delete pendingBond;
        creationBond = q.bond;
        emit EventsLib.CreationBondUpdated(q.bond);
    }

    /// @inheritdoc ITAO20
    function cancelChange(uint8 kind, uint16 netuid) external onlyOwner {
        if (kind == CHANGE_SIGNERS) delete pendingSigners;
        else if (kind == CHANGE_FEES) delete pendingFees;
        else if (kind == CHANGE_BOND) delete pendingBond;
        else if (kind == CHANGE_FUND_HOTKEY) delete pendingHotkeys[netuid];
        else revert ErrorsLib.NothingQueued();
        emit EventsLib.ChangeCancelled(kind, netuid);
    }

    /// @inheritdoc ITAO20
    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit EventsLib.GuardianUpdated(guardian_);
    }

    /// @inheritdoc ITAO20
    function setPaused(bool paused_) external {
        if (msg.sender != guardian && msg.sender != owner()) revert ErrorsLib.NotGuardian(msg.sender);
        cfg.paused = paused_;
        emit EventsLib.PausedSet(paused_);
    }

    /// @notice Disabled: timelocked changes and the guardian need an owner.
    function renounceOwnership() public view override onlyOwner {
        revert ErrorsLib.RenounceDisabled();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ITAO20
    function fundHotkey(uint16 netuid) public view returns (bytes32) {
        uint256 bits = netuidBits[netuid >> 7] >> ((netuid & 0x7f) << 1);
        if (bits & 1 == 0) return bytes32(0);
        return bits & 2 == 0 ? DEFAULT_FUND_HOTKEY : hotkeyOverride[netuid];
    }

    /// @inheritdoc ITAO20
    function vault() external view returns (bytes32) {
        return VAULT;
    }

    /// @inheritdoc ITAO20
    function epochAt(uint256 blockNumber) external view returns (uint64) {
        return _epochAt(blockNumber);
    }

    /// @inheritdoc ITAO20
    function epoch(uint64 epochId) external view returns (Epoch memory) {
        return epochs[epochId];
    }

    /// @inheritdoc ITAO20
    function epochAssets(uint64 epochId) external view returns (Asset[] memory) {
        return assetsOf[epochId];
    }

    /// @inheritdoc ITAO20
    function request(bytes32 requestId) external view returns (Request memory) {
        return requests[requestId];
    }

    /// @inheritdoc ITAO20
    function deliveryRemark(bytes32 requestId) external view returns (bytes32) {
        return keccak256(abi.encodePacked("TAO20", block.chainid, VAULT, requestId));
    }

    /// @inheritdoc ITAO20
    function signers() external view returns (address[] memory, uint8) {
        return (signerList, cfg.threshold);
    }

    /// @notice The current signer set version; every report carries it.
    function signerSetVersion() external view returns (uint64) {
        return cfg.signerSetVersion;
    }

    /// @notice Whether requests and mints are paused.
    function paused() external view returns (bool) {
        return cfg.paused;
    }

    /// @notice Current fees (bps) and the next sweep nonce.
    function fees() external view returns (uint16 mintFeeBps, uint16 redeemFeeBps, uint16 managementFeeBps) {
        Config memory c = cfg;
        return (c.mintFeeBps, c.redeemFeeBps, c.managementFeeBps);
    }

    /// @notice The nonce the next `Sweep` must carry.
    function sweepNonce() external view returns (uint64) {
        return cfg.sweepNonce;
    }

    /// @notice Block of the last management fee accrual.
    function lastAccrual() external view returns (uint64) {
        return cfg.lastAccrual;
    }

    /// @inheritdoc ITAO20
    function fundNetuids() external view returns (uint16[] memory) {
        return netuidList;
    }

    /// @inheritdoc ITAO20
    function positionCount() external view returns (uint256) {
        return netuidList.length + 1;
    }

    /// @inheritdoc ITAO20
    function fundNativeBalance() public view returns (uint256) {
        return address(this).balance - lockedNative;
    }

    /// @inheritdoc ITAO20
    function pendingManagementFee() external view returns (uint256) {
        Config memory c = cfg;
        return SharesMathLib.managementFee(totalSupply(), c.managementFeeBps, block.number - c.lastAccrual);
    }

    /// @inheritdoc ITAO20
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internals

    function _epochAt(uint256 blockNumber) internal view returns (uint64) {
        if (blockNumber < GENESIS_BLOCK) revert ErrorsLib.BeforeGenesis(blockNumber);
        return uint64((blockNumber - GENESIS_BLOCK) / EPOCH_LENGTH);
    }

    function _requirePending(bytes32 requestId, RequestStatus status) internal pure {
        if (status == RequestStatus.None) revert ErrorsLib.UnknownRequest(requestId);
        if (status != RequestStatus.Pending) revert ErrorsLib.RequestNotPending(requestId, status);
    }

    /// @dev The delivery must be included in `(requestBlock, requestBlock + DELIVERY_WINDOW]`.
    function _checkWindow(uint64 deliveryBlock, uint40 requestBlock) internal view {
        uint256 end = uint256(requestBlock) + DELIVERY_WINDOW;
        if (deliveryBlock <= requestBlock || deliveryBlock > end) {
            revert ErrorsLib.DeliveryOutsideWindow(deliveryBlock, uint256(requestBlock) + 1, end);
        }
    }

    /// @dev Positions strictly ascending by (netuid, hotkey), non-zero, never on a fund hotkey, and
    ///      held by the vault. With `toFund`, each netuid must have a fund hotkey; returns them.
    function _checkPositions(Position[] calldata positions, bool toFund)
        internal
        view
        returns (bytes32[] memory toHotkeys)
    {
        uint256 len = positions.length;
        if (len == 0) revert ErrorsLib.NoPositions();
        toHotkeys = new bytes32[](len);
        uint256 prevKey;
        for (uint256 i; i < len; ++i) {
            Position calldata p = positions[i];
            // (netuid, hotkey) as one 256-bit key would need 272 bits; compare in two steps.
            uint256 key = p.netuid;
            if (i != 0) {
                Position calldata q = positions[i - 1];
                if (key < prevKey || (key == prevKey && p.hotkey <= q.hotkey)) {
                    revert ErrorsLib.PositionsNotSorted(i);
                }
            }
            prevKey = key;
            if (p.amount == 0) revert ErrorsLib.ZeroPositionAmount(i);
            if (p.hotkey == bytes32(0)) revert ErrorsLib.ZeroHotkey();
            bytes32 fundHk = fundHotkey(p.netuid);
            if (toFund && fundHk == bytes32(0)) revert ErrorsLib.UnknownNetuid(p.netuid);
            if (p.hotkey == fundHk) revert ErrorsLib.FundHotkeyPosition(p.netuid, p.hotkey);
            toHotkeys[i] = fundHk;
            uint256 held = StakingLib.stakeOf(p.hotkey, VAULT, p.netuid);
            if (held < p.amount) revert ErrorsLib.PositionNotHeld(p.netuid, p.hotkey, held, p.amount);
        }
    }

    function _checkAssets(CreationFile calldata file) internal view {
        uint256 len = file.assets.length;
        if (len == 0 || len > MAX_ASSETS) revert ErrorsLib.InvalidAssetCount(len);
        if (file.sharesPerUnit == 0) revert ErrorsLib.InvalidFileParameters();
        if (file.minUnits == 0) revert ErrorsLib.InvalidFileParameters();
        if (file.toleranceBps > SharesMathLib.BPS) revert ErrorsLib.InvalidFileParameters();
        uint256 weights;
        uint256 prev;
        for (uint256 i; i < len; ++i) {
            Asset calldata a = file.assets[i];
            if (a.netuid <= prev) revert ErrorsLib.AssetsNotSorted(i);
            prev = a.netuid;
            if (a.qtyPerUnit == 0) revert ErrorsLib.ZeroQtyPerUnit(i);
            if (!_isFundNetuid(a.netuid)) revert ErrorsLib.UnknownNetuid(a.netuid);
            weights += a.weightBps;
        }
        if (weights != SharesMathLib.BPS) revert ErrorsLib.WeightsNotFull(weights);
    }

    /// @dev At least `threshold` signatures, strictly ascending by signer, each from the current set.
    function _verifyQuorum(bytes32 digest, bytes[] calldata signatures, Config memory c) internal view {
        uint256 count = signatures.length;
        if (count < c.threshold) revert ErrorsLib.BelowThreshold(count, c.threshold);
        address prev;
        for (uint256 i; i < count; ++i) {
            address signer = SignatureLib.recover(digest, signatures[i], i);
            if (signerVersionOf[signer] != c.signerSetVersion) revert ErrorsLib.NotSigner(i, signer);
            if (signer <= prev) {
                if (signer == prev) revert ErrorsLib.DuplicateSigner(i, signer);
                revert ErrorsLib.UnsortedSignatures(i, signer, prev);
            }
            prev = signer;
        }
    }

    /// @dev Mints the management fee due since the last accrual; returns it. `c` is updated too.
    function _accrue(Config memory c) internal returns (uint256 fee) {
        fee = _accrueUnminted(c);
        if (fee != 0) _mint(feeRecipient, fee);
    }

    /// @dev Books the management fee due since the last accrual; the caller mints it before any
    ///      other change of supply.
    function _accrueUnminted(Config memory c) internal returns (uint256 fee) {
        uint256 blocks = block.number - c.lastAccrual;
        if (blocks == 0) return 0;
        c.lastAccrual = uint64(block.number);
        cfg.lastAccrual = uint64(block.number);
        if (c.managementFeeBps == 0) return 0;
        fee = SharesMathLib.managementFee(totalSupply(), c.managementFeeBps, blocks);
        if (fee != 0) emit EventsLib.ManagementFeeAccrued(fee, blocks);
    }

    function _pushBond(address miner, uint256 bond) internal {
        // A miner that cannot take native TAO must not block its own mint: the bond waits for it.
        (bool ok,) = miner.call{value: bond}("");
        if (!ok) {
            bondOwed[miner] += bond;
            lockedNative += bond;
            emit EventsLib.BondOwed(miner, bond);
        }
    }

    function _belowMinimumStake(uint16 netuid, uint256 amount) internal view returns (bool) {
        uint256 price = IAlpha(ALPHA_PRECOMPILE).getAlphaPrice(netuid);
        return amount * price / 1e9 < MIN_STAKE_RAO;
    }

    function _lastRevertData() internal pure returns (bytes memory reason) {
        assembly ("memory-safe") {
            reason := mload(0x40)
            mstore(reason, returndatasize())
            returndatacopy(add(reason, 0x20), 0, returndatasize())
            mstore(0x40, add(add(reason, 0x20), and(add(returndatasize(), 0x1f), not(0x1f))))
        }
    }

    function _revertWith(bytes memory reason) internal pure {
        assembly ("memory-safe") {
            revert(add(reason, 0x20), mload(reason))
        }
    }

    function _checkEta(uint64 eta) internal view {
        if (eta == 0) revert ErrorsLib.NothingQueued();
        if (block.number < eta) revert ErrorsLib.TimelockNotElapsed(eta, block.number);
    }

    function _checkFees(uint16 mintBps, uint16 redeemBps, uint16 managementBps, address recipient) internal pure {
        if (
            mintBps > MAX_MINT_FEE_BPS || redeemBps > MAX_REDEEM_FEE_BPS || managementBps > MAX_MANAGEMENT_FEE_BPS
                || recipient == address(0)
        ) revert ErrorsLib.InvalidFees();
    }

    function _checkSigners(address[] memory list, uint8 threshold_) internal pure {
        uint256 n = list.length;
        if (n == 0 || n > MAX_SIGNERS) revert ErrorsLib.InvalidSigners(n);
        address prev;
        for (uint256 i; i < n; ++i) {
            if (list[i] <= prev) revert ErrorsLib.InvalidSigners(i);
            prev = list[i];
        }
        if (threshold_ < (2 * n) / 3 + 1 || threshold_ > n) revert ErrorsLib.InvalidThreshold(threshold_, n);
    }

    function _installSigners(address[] memory list, uint8 threshold_) internal {
        uint64 version = cfg.signerSetVersion + 1;
        for (uint256 i; i < list.length; ++i) {
            signerVersionOf[list[i]] = version;
        }
        signerList = list;
        cfg.signerSetVersion = version;
        cfg.threshold = threshold_;
        emit EventsLib.SignersUpdated(version, list, threshold_);
    }

    function _isFundNetuid(uint16 netuid) internal view returns (bool) {
        return (netuidBits[netuid >> 7] >> ((netuid & 0x7f) << 1)) & 1 != 0;
    }

    function _setHotkey(uint16 netuid, bytes32 hotkey) internal {
        // forge-lint: disable-next-line(incorrect-shift)
        uint256 ownBit = 2 << ((netuid & 0x7f) << 1); // the mask (bit 1) moved to the netuid's pair
        if (hotkey == DEFAULT_FUND_HOTKEY) {
            netuidBits[netuid >> 7] &= ~ownBit;
            delete hotkeyOverride[netuid];
        } else {
            netuidBits[netuid >> 7] |= ownBit;
            hotkeyOverride[netuid] = hotkey;
        }
    }

    function _addFundNetuid(uint16 netuid, bytes32 hotkey) internal {
        // forge-lint: disable-next-line(incorrect-shift)
        netuidBits[netuid >> 7] |= 1 << ((netuid & 0x7f) << 1); // the mask (bit 0) moved to the netuid's pair
        _setHotkey(netuid, hotkey);
        netuidList.push(netuid);
        emit EventsLib.FundHotkeyUpdated(netuid, bytes32(0), hotkey);
    }
}
