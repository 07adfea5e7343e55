// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    ISettlementModule,
    ITAO20Core,
    Asset,
    CreationFile,
    Position,
    CreationReport,
    Request,
    RequestStatus,
    DeliveryState,
    Epoch,
    PauseClock,
    InitParams
} from "./interfaces/ITAO20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

import {ErrorsLib} from "./libraries/ErrorsLib.sol";
import {EventsLib} from "./libraries/EventsLib.sol";
import {HashLib} from "./libraries/HashLib.sol";
import {SharesMathLib} from "./libraries/SharesMathLib.sol";
import {StakingLib} from "./libraries/StakingLib.sol";
import {TAO20Base} from "./TAO20Base.sol";

/// @title TAO20
/// @notice The TAO20 index fund: share token, epochs, creation, redemption, fees and governance, in
///         the order PROTOCOL.md gives them. Refunds, expiries, sweeps and the payout of bonds and
///         claims live in {TAO20Settlement}, which this contract's fallback reaches by
///         `delegatecall`. NatSpec of every entry point lives in {ITAO20Core} / {ITAO20Settlement}.
///         Governance is the owner's: a `TAO20Timelock` gives each change its notice.
contract TAO20 is TAO20Base, ITAO20Core {
    using HashLib for CreationFile;
    using HashLib for CreationReport;

    // ------------------------------------------------------------------ constants

    /// @inheritdoc ITAO20Core
    uint256 public constant DEAD_SHARES = 1e15;
    /// @inheritdoc ITAO20Core
    address public constant DEAD_ADDRESS = 0x000000000000000000000000000000000000dEaD;
    /// @notice Caps: mint and redeem fee (bps), management fee (bps a year).
    uint256 public constant MAX_MINT_FEE_BPS = 100;
    uint256 public constant MAX_REDEEM_FEE_BPS = 100;
    uint256 public constant MAX_MANAGEMENT_FEE_BPS = 200;
    /// @notice Most assets in a creation file, signers in a set, netuids in the fund.
    uint256 public constant MAX_ASSETS = 64;
    uint256 public constant MAX_SIGNERS = 32;
    uint256 public constant MAX_FUND_POSITIONS = MAX_NETUIDS;
    /// @notice Highest `minStakeRao` governance may set: 1 TAO, 500 times the runtime's 0.002 TAO.
    ///         Above it every redemption would book instead of pay and refunds and sweeps stop.
    uint64 public constant MAX_MIN_STAKE_RAO = 1e9;
    /// @notice The price band at deployment (`priceBand()`): a report's value may be at most 6x the
    ///         delivery's value at the Alpha precompile's prices, its NAV per share at least 1/6 of the
    ///         fund's. Coarse on purpose (spot prices move within a block; keepers value at the
    ///         valuation block): a circuit breaker against a compromised quorum, as Chainlink's
    ///         min/max answer, not a second oracle. Bounds for governance: 5% to 655%.
    uint16 public constant DEFAULT_PRICE_BAND_BPS = 50_000;
    uint16 public constant MIN_PRICE_BAND_BPS = 500;

    /// @notice The settlement module this contract delegates refunds, expiries, sweeps and payouts to.
    address public immutable SETTLEMENT;

    // ------------------------------------------------------------------ construction

    /// @param settlement_ a `TAO20Settlement` deployed with the same parameters and this contract's
    ///        vault (deploy it first: the core's initcode cannot carry the module's under EIP-3860).
    constructor(InitParams memory p, address settlement_) TAO20Base(p, _vaultOf(p)) {
        if (p.fundNetuids.length != p.fundHotkeys.length) revert ErrorsLib.InvalidParameter("fundHotkeys");
        if (p.minStakeRao == 0 || p.minStakeRao > MAX_MIN_STAKE_RAO) {
            revert ErrorsLib.InvalidParameter("minStakeRao");
        }
        if (p.creationBond % RAO != 0) revert ErrorsLib.NotWholeRao(p.creationBond);
        _checkFees(p.mintFeeBps, p.redeemFeeBps, p.managementFeeBps, p.feeRecipient);
        _checkSigners(p.signers, p.threshold);
        _checkSettlement(settlement_);
        SETTLEMENT = settlement_;

        cfg = Config({
            signerSetVersion: 0,
            threshold: 0,
            paused: false,
            mintFeeBps: p.mintFeeBps,
            redeemFeeBps: p.redeemFeeBps,
            managementFeeBps: p.managementFeeBps,
            lastAccrual: uint40(block.number),
            sweepNonce: 0,
            minStakeRao: p.minStakeRao,
            priceBandBps: DEFAULT_PRICE_BAND_BPS
        });
        _installSigners(p.signers, p.threshold);
        feeTo = p.feeRecipient;
        bondRequired = p.creationBond;
        pauser = p.guardian;
        emit EventsLib.FeesUpdated(p.mintFeeBps, p.redeemFeeBps, p.managementFeeBps, p.feeRecipient);
        emit EventsLib.CreationBondUpdated(p.creationBond);
        emit EventsLib.MinStakeUpdated(p.minStakeRao);
        emit EventsLib.PriceBandUpdated(DEFAULT_PRICE_BAND_BPS);
        emit EventsLib.GuardianUpdated(p.guardian);
        for (uint256 i; i < p.fundNetuids.length; ++i) {
            uint16 netuid = p.fundNetuids[i];
            if (netuid == 0 || _isFundNetuid(netuid)) revert ErrorsLib.InvalidParameter("fundNetuids");
            _addFundNetuid(netuid, p.fundHotkeys[i] == bytes32(0) ? p.defaultFundHotkey : p.fundHotkeys[i]);
        }
    }

    // ------------------------------------------------------------------ epochs

    /// @inheritdoc ITAO20Core
    function publishEpoch(CreationFile calldata file, bytes[] calldata signatures) external {
        Config memory c = cfg;
        _checkVersion(file.signerSetVersion, c);
        uint64 current = _epochAt(block.number);
        if (file.epochId != current) revert ErrorsLib.WrongEpoch(file.epochId, current);
        if (epochs[current].fileHash != bytes32(0)) revert ErrorsLib.EpochAlreadyPublished(current);
        uint64 start = GENESIS + current * EPOCH_BLOCKS;
        if (file.validFromBlock != start || file.validUntilBlock != start + EPOCH_BLOCKS - 1) {
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

    /// @inheritdoc ITAO20Core
    function requestCreation(uint32 units, bytes32 coldkey, address receiver, uint256 minSharesOut)
        external
        payable
        returns (bytes32 requestId)
    {
        (PauseClock memory pc, bool pausedNow) = _clockNow();
        if (pausedNow) revert ErrorsLib.Paused();
        if (coldkey == bytes32(0)) revert ErrorsLib.ZeroColdkey();
        if (receiver == address(0)) revert ErrorsLib.ZeroReceiver();
        if (msg.value < bondRequired) revert ErrorsLib.BondTooLow(msg.value, bondRequired);
        // The runtime credits floor(wei / 1e9) rao: booking anything finer would overstate the balance.
        if (msg.value % RAO != 0) revert ErrorsLib.NotWholeRao(msg.value);
        // Bonds and claims are booked in one u96 total.
        if (minSharesOut > type(uint128).max || msg.value > type(uint96).max - lockedNative) {
            revert ErrorsLib.ValueTooLarge();
        }
        uint64 epochId = _epochAt(block.number);
        Epoch storage ep = epochs[epochId];
        if (ep.fileHash == bytes32(0)) revert ErrorsLib.EpochNotPublished(epochId);
        if (units < ep.minUnits) revert ErrorsLib.TooFewUnits(units, ep.minUnits);

        // The block's first request opens its mint record, so that a mint updates a slot rather than
        // paying for a new one (and marks the block for the refunds' search).
        if (mintedAt[block.number] == 0) {
            mintedAt[block.number] = MINTS_OPENED;
            // forge-lint: disable-next-line(incorrect-shift)
            requestBlocks[block.number >> 8] |= 1 << (block.number & 0xff); // bit b % 256: block b
        }
        uint256 nonce = requestCount[msg.sender]++;
        requestId = keccak256(abi.encode(block.chainid, address(this), msg.sender, nonce));
        requests[requestId] = Request({
            miner: msg.sender,
            units: units,
            epochId: epochId,
            receiver: receiver,
            requestBlock: uint40(block.number),
            status: RequestStatus.Pending,
            // forge-lint: disable-next-line(unsafe-typecast)
            pausedAtRequest: uint48(pc.pausedTotal), // at most the block number
            coldkey: coldkey,
            // forge-lint: disable-next-line(unsafe-typecast)
            minSharesOut: uint128(minSharesOut), // checked against 2^128 - 1 above
            // forge-lint: disable-next-line(unsafe-typecast)
            bond: uint128(msg.value) // checked against 2^96 - 1 above
        });
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative += uint96(msg.value);
        emit EventsLib.CreationRequested(
            requestId,
            msg.sender,
            receiver,
            coldkey,
            epochId,
            units,
            uint64(block.number),
            uint64(block.number + WINDOW),
            minSharesOut,
            msg.value
        );
    }

    /// @inheritdoc ITAO20Core
    function mint(CreationReport calldata report, bytes[] calldata signatures)
        external
        nonReentrant
        returns (uint256 sharesOut)
    {
        Config memory c = cfg;
        Request storage rq = requests[report.requestId];
        (uint256 deliveryId, bytes32[] memory toHotkeys) = _checkCreationReport(report, rq, c);
        _verifyQuorum(_hashTypedDataV4(report.hash()), signatures, c);
        // Minted or refunded, never both: a refund of this delivery id is refused from now on.
        _recordMint(rq.requestBlock, report.deliveryBlock, report.deliveryIndex);
        sharesOut = _issueShares(report, rq, c);
        for (uint256 i; i < report.positions.length; ++i) {
            Position calldata p = report.positions[i];
            // A zero target: the position already lies on the fund hotkey (delivered before it took
            // over), held out of the fund until now.
            if (toHotkeys[i] == bytes32(0)) _releaseHeld(p.netuid, p.amount);
            else StakingLib.move(p.hotkey, toHotkeys[i], p.netuid, p.amount);
        }
    }

    /// @dev Every check of `mint` but the signatures; returns the delivery id and the fund hotkey
    ///      each position moves to (zero: it stays).
    function _checkCreationReport(CreationReport calldata report, Request storage rq, Config memory c)
        internal
        view
        returns (uint256 deliveryId, bytes32[] memory toHotkeys)
    {
        _requireUnpaused(c.paused);
        _checkVersion(report.signerSetVersion, c);
        _requirePending(report.requestId, rq.status);
        if (report.epochId != rq.epochId) revert ErrorsLib.EpochMismatch();
        if (report.receiver != rq.receiver) revert ErrorsLib.ReceiverMismatch();
        if (report.units != rq.units) revert ErrorsLib.UnitsMismatch();
        if (report.creationFileHash != epochs[report.epochId].fileHash) {
            revert ErrorsLib.FileHashMismatch();
        }
        _checkWindow(report.deliveryBlock, rq.requestBlock);
        if (report.navPerShare == 0) revert ErrorsLib.ZeroNav();
        deliveryId = _deliveryId(report.deliveryBlock, report.deliveryIndex);
        if (settled[deliveryId] != DeliveryState.Open) {
            revert ErrorsLib.DeliverySettled(report.deliveryBlock, report.deliveryIndex, DeliveryState.Refunding);
        }
        toHotkeys = _checkPositions(report.positions, true, report.deliveryBlock, true);
    }

    /// @dev Appends the minted delivery to the mint record of its request's block (opened by the
    ///      block's first request, so this updates a slot).
    function _recordMint(uint40 requestBlock, uint64 deliveryBlock, uint32 deliveryIndex) internal {
        uint256 entry = ((uint256(deliveryBlock) - requestBlock) << 32) | deliveryIndex;
        for (uint256 k;; ++k) {
            uint256 key = uint256(requestBlock) | (k << 64);
            uint256 slot = mintedAt[key];
            uint256 count = slot & 0xff;
            if (count < MINTS_PER_SLOT) {
                mintedAt[key] = (slot | MINTS_OPENED | (entry << (8 + 48 * count))) + 1;
                return;
            }
        }
    }

    /// @dev Accrues the management fee, computes and mints the shares of a checked report.
    function _issueShares(CreationReport calldata report, Request storage rq, Config memory c)
        internal
        returns (uint256 sharesOut)
    {
        uint256 accrued = _accrueUnminted(c);
        uint256 supply = totalSupply() + accrued;
        _checkPriceBand(report, supply, c.priceBandBps);
        (uint256 gross, uint256 fee, uint256 net) =
            SharesMathLib.mintShares(report.valueRao, report.navPerShare, c.mintFeeBps);
        if (gross == 0) revert ErrorsLib.ZeroShares();
        uint256 dead = supply == 0 ? DEAD_SHARES : 0;
        if (net <= dead) revert ErrorsLib.ZeroShares();
        sharesOut = net - dead;
        uint256 minOut = rq.minSharesOut;
        if (sharesOut < minOut) revert ErrorsLib.SlippageExceeded(sharesOut, minOut);

        // The bond stays locked until its miner claims it (`claimBond`): pulled, never pushed.
        rq.status = RequestStatus.Minted;
        _mint(report.receiver, sharesOut);
        // The mint fee and the management fee accrued just before go out as one fee mint.
        if (fee + accrued != 0) _mint(feeTo, fee + accrued);
        if (dead != 0) _mint(DEAD_ADDRESS, dead);
        emit EventsLib.CreationMinted(
            report.requestId, rq.miner, report.epochId, report.units, report.valueRao, sharesOut
        );
    }

    /// @dev Defence in depth against a compromised quorum (Chainlink's min/max answer): the
    ///      report's value at most `1 + band` times the delivery's value at the Alpha precompile's
    ///      prices, its NAV per share at least `1 / (1 + band)` of the fund's at those prices (fund
    ///      positions net of reservations, plus native TAO). The first mint has no NAV to compare.
    function _checkPriceBand(CreationReport calldata report, uint256 supply, uint16 band) internal view {
        uint256 factor = SharesMathLib.BPS + band;
        uint256 spot;
        for (uint256 i; i < report.positions.length; ++i) {
            Position calldata p = report.positions[i];
            spot += p.amount * StakingLib.alphaPrice(p.netuid); // u64 alpha times u64 rao * 1e9
        }
        spot /= 1e18;
        if (report.valueRao * SharesMathLib.BPS > spot * factor) {
            revert ErrorsLib.ValueOutOfBand(report.valueRao, spot);
        }
        if (supply == 0) return;
        uint256 nav = (_fundValueRao() * 1e18) / supply;
        if (report.navPerShare * factor < nav * SharesMathLib.BPS) {
            revert ErrorsLib.NavOutOfBand(report.navPerShare, nav);
        }
    }

    /// @dev The fund's value at the Alpha precompile's prices, rao: each fund position net of its
    ///      reservation, plus native TAO.
    function _fundValueRao() internal view returns (uint256 value) {
        uint16[] memory netuids = netuidList;
        for (uint256 i; i < netuids.length; ++i) {
            uint16 netuid = netuids[i];
            // The fund's own stake as `_payPositions` reads it (a shared function called from both
            // loops is not inlined and costs a 20-netuid redemption ~830 gas).
            uint256 nibble = netuidBits[netuid >> 6] >> ((netuid & 0x3f) << 2);
            bytes32 hk = nibble & OWN_HOTKEY == 0 ? DEFAULT_HOTKEY : hotkeyOverride[netuid];
            uint256 stake = StakingLib.stakeOf(hk, VAULT, netuid);
            if (nibble & HAS_CLAIMS != 0) {
                uint256 reservedHere = netuidState[netuid].reserved;
                stake = stake > reservedHere ? stake - reservedHere : 0;
            }
            value += stake * StakingLib.alphaPrice(netuid);
        }
        value = value / 1e18 + fundNativeBalance() / RAO;
    }

    // ------------------------------------------------------------------ redemption

    /// @inheritdoc ITAO20Core
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
        Config memory c = cfg;
        uint256 accrued = _accrueUnminted(c);
        uint256 supply = totalSupply() + accrued; // S: after the fee accrual, before the burn
        uint256 fee = SharesMathLib.feeUp(shares, c.redeemFeeBps);
        uint256 burned = shares - fee;
        if (burned == 0) revert ErrorsLib.ZeroRedemption();
        // The redeem fee and the management fee go out as one fee mint (as in `mint`).
        _burn(msg.sender, shares);
        if (fee + accrued != 0) _mint(feeTo, fee + accrued);

        amounts = new uint256[](n + 1);
        // The runtime moves whole rao.
        uint256 native = SharesMathLib.wholeRao(SharesMathLib.redeemAmount(fundNativeBalance(), burned, supply));
        amounts[n] = native;
        // forge-lint: disable-next-line(unsafe-typecast)
        fundNative -= uint96(native); // at most fundNativeBalance(), which is at most fundNative
        bool any = native != 0;
        bool bookNative = any && skip[n];
        if (bookNative) _bookNative(native);
        if (native < minAmounts[n]) revert ErrorsLib.AmountBelowMinimum(n, native, minAmounts[n]);
        if (_payPositions(coldkey, burned, supply, minAmounts, skip, c.minStakeRao, amounts)) any = true;
        // E.g. every position's hotkey swapped away: burning shares for nothing helps no one.
        if (!any) revert ErrorsLib.NothingToRedeem();
        // Emitted after the runtime answered: only then are the amounts actually paid known.
        emit EventsLib.Redeemed(msg.sender, coldkey, shares, fee, burned, amounts);
        if (!bookNative) _sendNative(msg.sender, native);
    }

    /// @dev For each fund position: `floor((stake - reserved) * burned / supply)`, then booked to
    ///      `coldkey` when skipped or dust at the Alpha precompile's price (decided before any call),
    ///      or when the runtime refuses the transfer (transfers disabled: the refusal costs at most
    ///      `DISPATCH_GAS`), else transferred. One pass: a booking is state, but the only calls made
    ///      are to the precompiles, which cannot call back (and the guard is held). Returns whether
    ///      any position owed something.
    function _payPositions(
        bytes32 coldkey,
        uint256 burned,
        uint256 supply,
        uint256[] calldata minAmounts,
        bool[] calldata skip,
        uint64 minStake,
        uint256[] memory amounts
    ) internal returns (bool any) {
        uint16[] memory netuids = netuidList;
        uint256 minValue = uint256(minStake) * 1e18;
        uint256 wordIndex = type(uint256).max;
        uint256 bits;
        for (uint256 i; i < netuids.length; ++i) {
            uint16 netuid = netuids[i];
            // Every listed netuid is a fund netuid; read its bitmap word once per 64 netuids.
            if (netuid >> 6 != wordIndex) {
                wordIndex = netuid >> 6;
                bits = netuidBits[wordIndex];
            }
            uint256 nibble = bits >> ((netuid & 0x3f) << 2);
            bytes32 hk = nibble & OWN_HOTKEY == 0 ? DEFAULT_HOTKEY : hotkeyOverride[netuid];
            uint256 stake = StakingLib.stakeOf(hk, VAULT, netuid);
            if (nibble & HAS_CLAIMS != 0) {
                // Booked claims and held deliveries are not the fund's.
                uint256 reservedHere = netuidState[netuid].reserved;
                stake = stake > reservedHere ? stake - reservedHere : 0;
            }
            uint256 amount = SharesMathLib.redeemAmount(stake, burned, supply);
            if (amount < minAmounts[i]) revert ErrorsLib.AmountBelowMinimum(i, amount, minAmounts[i]);
            if (amount == 0) continue;
            any = true;
            amounts[i] = amount;
            if (skip[i] || _isBelow(netuid, amount, minValue) || !StakingLib.tryTransfer(coldkey, hk, netuid, amount)) {
                claims[coldkey][netuid] += amount;
                // forge-lint: disable-next-line(unsafe-typecast)
                netuidState[netuid].reserved += uint64(amount); // at most the vault's stake, a u64
                bits |= HAS_CLAIMS << ((netuid & 0x3f) << 2);
                netuidBits[wordIndex] = bits;
                emit EventsLib.ClaimBooked(coldkey, netuid, amount);
            }
        }
    }

    /// @dev Books the redeemer's native TAO to the caller, locked out of the fund's balance.
    function _bookNative(uint256 amount) internal {
        nativeClaims[msg.sender] += amount;
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative += uint96(amount); // a share of the contract's balance
        emit EventsLib.NativeClaimBooked(msg.sender, amount);
    }

    // ------------------------------------------------------------------ fees

    /// @inheritdoc ITAO20Core
    function accrueManagementFee() external returns (uint256 fee) {
        Config memory c = cfg;
        fee = _accrue(c);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc ITAO20Core
    function setSigners(address[] calldata newSigners, uint8 newThreshold) external onlyOwner {
        _checkSigners(newSigners, newThreshold);
        _installSigners(newSigners, newThreshold);
    }

    /// @inheritdoc ITAO20Core
    function setFees(uint16 mintFeeBps_, uint16 redeemFeeBps_, uint16 managementFeeBps_, address recipient)
        external
        onlyOwner
    {
        _checkFees(mintFeeBps_, redeemFeeBps_, managementFeeBps_, recipient);
        Config memory c = cfg;
        _accrue(c); // the old rate and recipient own the blocks before the change
        cfg.mintFeeBps = mintFeeBps_;
        cfg.redeemFeeBps = redeemFeeBps_;
        cfg.managementFeeBps = managementFeeBps_;
        feeTo = recipient;
        emit EventsLib.FeesUpdated(mintFeeBps_, redeemFeeBps_, managementFeeBps_, recipient);
    }

    /// @inheritdoc ITAO20Core
    function setCreationBond(uint96 bond) external onlyOwner {
        if (bond % RAO != 0) revert ErrorsLib.NotWholeRao(bond);
        bondRequired = bond;
        emit EventsLib.CreationBondUpdated(bond);
    }

    /// @inheritdoc ITAO20Core
    function setMinStake(uint64 minStakeRao_) external onlyOwner {
        if (minStakeRao_ == 0 || minStakeRao_ > MAX_MIN_STAKE_RAO) revert ErrorsLib.InvalidParameter("minStakeRao");
        cfg.minStakeRao = minStakeRao_;
        emit EventsLib.MinStakeUpdated(minStakeRao_);
    }

    /// @inheritdoc ITAO20Core
    function setPriceBand(uint16 priceBandBps_) external onlyOwner {
        if (priceBandBps_ < MIN_PRICE_BAND_BPS) revert ErrorsLib.InvalidParameter("priceBandBps");
        cfg.priceBandBps = priceBandBps_;
        emit EventsLib.PriceBandUpdated(priceBandBps_);
    }

    /// @inheritdoc ITAO20Core
    function setGuardian(address guardian_) external onlyOwner {
        pauser = guardian_;
        emit EventsLib.GuardianUpdated(guardian_);
    }

    // ------------------------------------------------------------------ ownership

    /// @inheritdoc ITAO20Core
    function owner() public view override(Ownable, ITAO20Core) returns (address) {
        return super.owner();
    }

    /// @inheritdoc ITAO20Core
    function pendingOwner() public view override(Ownable2Step, ITAO20Core) returns (address) {
        return super.pendingOwner();
    }

    /// @inheritdoc ITAO20Core
    function transferOwnership(address newOwner) public override(Ownable2Step, ITAO20Core) {
        super.transferOwnership(newOwner);
    }

    /// @inheritdoc ITAO20Core
    function acceptOwnership() public override(Ownable2Step, ITAO20Core) {
        super.acceptOwnership();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ITAO20Core
    function fundHotkey(uint16 netuid) external view returns (bytes32) {
        return _fundHotkey(netuid);
    }

    /// @inheritdoc ITAO20Core
    function DEFAULT_FUND_HOTKEY() external view returns (bytes32) {
        return DEFAULT_HOTKEY;
    }

    /// @inheritdoc ITAO20Core
    function GENESIS_BLOCK() external view returns (uint64) {
        return GENESIS;
    }

    /// @inheritdoc ITAO20Core
    function EPOCH_LENGTH() external view returns (uint64) {
        return EPOCH_BLOCKS;
    }

    /// @inheritdoc ITAO20Core
    function DELIVERY_WINDOW() external view returns (uint32) {
        return WINDOW;
    }

    /// @inheritdoc ITAO20Core
    function EXPIRY_GRACE() external view returns (uint32) {
        return GRACE;
    }

    /// @inheritdoc ITAO20Core
    function feeRecipient() external view returns (address) {
        return feeTo;
    }

    /// @inheritdoc ITAO20Core
    function guardian() external view returns (address) {
        return pauser;
    }

    /// @inheritdoc ITAO20Core
    function creationBond() external view returns (uint96) {
        return bondRequired;
    }

    /// @inheritdoc ITAO20Core
    function nonces(address miner) external view returns (uint256) {
        return requestCount[miner];
    }

    /// @inheritdoc ITAO20Core
    function claimOf(bytes32 coldkey, uint16 netuid) external view returns (uint256) {
        return claims[coldkey][netuid];
    }

    /// @inheritdoc ITAO20Core
    function nativeClaimOf(address account) external view returns (uint256) {
        return nativeClaims[account];
    }

    /// @inheritdoc ITAO20Core
    function fundHotkeySince(uint16 netuid) external view returns (uint64) {
        return netuidState[netuid].hotkeySince;
    }

    /// @inheritdoc ITAO20Core
    function reserved(uint16 netuid) external view returns (uint256) {
        return netuidState[netuid].reserved;
    }

    /// @inheritdoc ITAO20Core
    function vault() external view returns (bytes32) {
        return VAULT;
    }

    /// @inheritdoc ITAO20Core
    function epochAt(uint256 blockNumber) external view returns (uint64) {
        return _epochAt(blockNumber);
    }

    /// @inheritdoc ITAO20Core
    function epoch(uint64 epochId) external view returns (Epoch memory) {
        return epochs[epochId];
    }

    /// @inheritdoc ITAO20Core
    function epochAssets(uint64 epochId) external view returns (Asset[] memory) {
        return assetsOf[epochId];
    }

    /// @inheritdoc ITAO20Core
    function request(bytes32 requestId) external view returns (Request memory) {
        return requests[requestId];
    }

    /// @inheritdoc ITAO20Core
    function deliveryRemark(bytes32 requestId) external view returns (bytes32) {
        return keccak256(abi.encodePacked("TAO20", block.chainid, VAULT, requestId));
    }

    /// @inheritdoc ITAO20Core
    function signers() external view returns (address[] memory, uint8) {
        return (signerList, cfg.threshold);
    }

    /// @inheritdoc ITAO20Core
    function signerSetVersion() external view returns (uint64) {
        return cfg.signerSetVersion;
    }

    /// @inheritdoc ITAO20Core
    function paused() external view returns (bool pausedNow) {
        (, pausedNow) = _clockNow();
    }

    /// @inheritdoc ITAO20Core
    function fees() external view returns (uint16 mintFeeBps, uint16 redeemFeeBps, uint16 managementFeeBps) {
        Config memory c = cfg;
        return (c.mintFeeBps, c.redeemFeeBps, c.managementFeeBps);
    }

    /// @inheritdoc ITAO20Core
    function sweepNonce() external view returns (uint64) {
        return cfg.sweepNonce;
    }

    /// @inheritdoc ITAO20Core
    function lastAccrual() external view returns (uint64) {
        return cfg.lastAccrual;
    }

    /// @inheritdoc ITAO20Core
    function minStakeRao() external view returns (uint64) {
        return cfg.minStakeRao;
    }

    /// @inheritdoc ITAO20Core
    function fundNetuids() external view returns (uint16[] memory) {
        return netuidList;
    }

    /// @inheritdoc ITAO20Core
    function positionCount() external view returns (uint256) {
        return netuidList.length + 1;
    }

    /// @inheritdoc ITAO20Core
    function fundNativeBalance() public view returns (uint256 amount) {
        uint256 balance = address(this).balance;
        // On chain the balance is whole rao and covers every booking; a plain EVM may hold dust wei.
        amount = balance > lockedNative ? balance - lockedNative : 0;
        uint256 own = fundNative;
        amount = SharesMathLib.wholeRao(amount < own ? amount : own);
    }

    /// @inheritdoc ITAO20Core
    function pendingManagementFee() external view returns (uint256) {
        Config memory c = cfg;
        return SharesMathLib.managementFee(totalSupply(), c.managementFeeBps, block.number - c.lastAccrual);
    }

    /// @inheritdoc ITAO20Core
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ settlement

    /// @dev Refunds, expiries, sweeps and payouts: the settlement module, run in this contract's
    ///      context (its storage, its vault), with the caller's calldata and return data untouched.
    fallback() external {
        address module = SETTLEMENT;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev The vault: the configured one or the AddressMapping precompile's answer, and where that
    ///      precompile answers the two must agree (the mirror account is blake2_256("evm:" ++
    ///      address), which the EVM cannot hash cheaply); only a plain EVM (tests) takes the
    ///      configuration alone.
    function _vaultOf(InitParams memory p) private view returns (bytes32 vault_) {
        bytes32 mapped = StakingLib.mirrorOf(address(this));
        vault_ = p.vaultColdkey == bytes32(0) ? mapped : p.vaultColdkey;
        if (vault_ == bytes32(0) || (mapped != bytes32(0) && mapped != vault_)) {
            revert ErrorsLib.InvalidParameter("vaultColdkey");
        }
    }

    /// @dev The module runs on this contract's storage, so it must carry this contract's immutables.
    function _checkSettlement(address module) private view {
        if (module.code.length == 0) revert ErrorsLib.InvalidParameter("settlement");
        (bytes32 v, bytes32 hk, uint64 g, uint64 e, uint32 w, uint32 gr) = ISettlementModule(module).immutables();
        if (v != VAULT || hk != DEFAULT_HOTKEY || g != GENESIS || e != EPOCH_BLOCKS || w != WINDOW || gr != GRACE) {
            revert ErrorsLib.InvalidParameter("settlement");
        }
    }

    function _epochAt(uint256 blockNumber) internal view returns (uint64) {
        if (blockNumber < GENESIS) revert ErrorsLib.BeforeGenesis(blockNumber);
        return uint64((blockNumber - GENESIS) / EPOCH_BLOCKS);
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

    /// @dev Mints the management fee due since the last accrual; returns it. `c` is updated too.
    function _accrue(Config memory c) internal returns (uint256 fee) {
        fee = _accrueUnminted(c);
        if (fee != 0) _mint(feeTo, fee);
    }

    /// @dev Books the management fee due since the last accrual; the caller mints it before any
    ///      other change of supply.
    function _accrueUnminted(Config memory c) internal returns (uint256 fee) {
        uint256 blocks = block.number - c.lastAccrual;
        if (blocks == 0) return 0;
        c.lastAccrual = uint40(block.number);
        cfg.lastAccrual = uint40(block.number);
        if (c.managementFeeBps == 0) return 0;
        fee = SharesMathLib.managementFee(totalSupply(), c.managementFeeBps, blocks);
        if (fee != 0) emit EventsLib.ManagementFeeAccrued(fee, blocks);
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
        uint32 version = cfg.signerSetVersion + 1;
        for (uint256 i; i < list.length; ++i) {
            signerVersionOf[list[i]] = version;
        }
        signerList = list;
        cfg.signerSetVersion = version;
        cfg.threshold = threshold_;
        emit EventsLib.SignersUpdated(version, list, threshold_);
    }
}
