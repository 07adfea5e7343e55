// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    ISettlementModule,
    ITAO20Settlement,
    Position,
    RefundReport,
    Sweep,
    Request,
    RequestStatus,
    DeliveryState,
    PauseClock,
    InitParams
} from "./interfaces/ITAO20.sol";
import {ErrorsLib} from "./libraries/ErrorsLib.sol";
import {EventsLib} from "./libraries/EventsLib.sol";
import {ExpiryLib} from "./libraries/ExpiryLib.sol";
import {HashLib} from "./libraries/HashLib.sol";
import {StakingLib} from "./libraries/StakingLib.sol";
import {TAO20Base} from "./TAO20Base.sol";

/// @title TAO20Settlement
/// @notice The settlement of everything the core does not mint or redeem: refunds of deliveries
///         position by position, expiries, sweeps of stray stake, and the payout of bonds and of
///         claims booked by redemptions. PROTOCOL.md "Creation" steps 6-7 and "Redemption".
/// @dev Runs only by `delegatecall` from the TAO20 core (its fallback), on the core's storage and
///      as the vault; the core deploys it with its own immutables. NatSpec in {ITAO20Settlement}.
contract TAO20Settlement is TAO20Base, ITAO20Settlement, ISettlementModule {
    using HashLib for RefundReport;
    using HashLib for Sweep;

    address private immutable SELF;

    constructor(InitParams memory p, bytes32 vault_) TAO20Base(p, vault_) {
        SELF = address(this);
    }

    /// @inheritdoc ISettlementModule
    function immutables()
        external
        view
        returns (bytes32 vault, bytes32 defaultHotkey, uint64 genesis, uint64 epochBlocks, uint32 window, uint32 grace)
    {
        return (VAULT, DEFAULT_HOTKEY, GENESIS, EPOCH_BLOCKS, WINDOW, GRACE);
    }

    /// @dev Its own storage is empty: only the core, delegating, may run it.
    modifier onlyDelegated() {
        if (address(this) == SELF) revert ErrorsLib.NotDelegated();
        _;
    }

    // ------------------------------------------------------------------ deliveries

    /// @inheritdoc ITAO20Settlement
    function refund(RefundReport calldata report, bytes[] calldata signatures) external onlyDelegated nonReentrant {
        Config memory c = cfg;
        _checkVersion(report.signerSetVersion, c);
        if (report.coldkey == bytes32(0)) revert ErrorsLib.ZeroColdkey();
        uint256 count = report.positions.length;
        if (count > MAX_REPORT_POSITIONS) revert ErrorsLib.TooManyReportPositions(count);
        uint256 deliveryId = _deliveryId(report.deliveryBlock, report.deliveryIndex);
        DeliveryState state = settled[deliveryId];
        // Minted or refunded, never both.
        if (_isMinted(report.deliveryBlock, report.deliveryIndex)) {
            revert ErrorsLib.DeliveryMinted(report.deliveryBlock, report.deliveryIndex);
        }
        Request storage rq = requests[report.requestId];
        RequestStatus status = rq.status;
        if (report.requestId != bytes32(0)) {
            if (status == RequestStatus.None) revert ErrorsLib.UnknownRequest(report.requestId);
            if (status == RequestStatus.Minted) revert ErrorsLib.RequestNotPending(report.requestId, status);
            uint256 expiryBlock = uint256(rq.requestBlock) + WINDOW;
            if (status == RequestStatus.Pending && block.number <= expiryBlock) {
                revert ErrorsLib.RefundBeforeExpiry(report.requestId, expiryBlock);
            }
            if (report.coldkey != rq.coldkey) revert ErrorsLib.ColdkeyMismatch();
            _checkWindow(report.deliveryBlock, rq.requestBlock);
        }
        _checkPositions(report.positions, false, report.deliveryBlock, false);
        _verifyQuorum(_hashTypedDataV4(report.hash()), signatures, c);

        bool closesRequest = report.requestId != bytes32(0) && status == RequestStatus.Pending;
        if (state == DeliveryState.Open) settled[deliveryId] = DeliveryState.Refunding;
        if (closesRequest) {
            rq.status = RequestStatus.Refunded;
            // forge-lint: disable-next-line(unsafe-typecast)
            lockedNative -= uint96(rq.bond); // bonds are below 2^96 (requestCreation)
            // forge-lint: disable-next-line(unsafe-typecast)
            fundNative += uint96(rq.bond);
            emit EventsLib.BondForfeited(report.requestId, rq.bond);
        }
        // Settled per position: one refunded before is skipped; dust, and a position whose transfer
        // the runtime refuses (transfers disabled), wait: the same signed report, relayed again,
        // refunds them then. The rest must be held.
        uint256 mask;
        for (uint256 i; i < count; ++i) {
            Position calldata p = report.positions[i];
            bytes32 key = keccak256(abi.encode(deliveryId, p.netuid, p.hotkey));
            if (refundedPositions[key] || !_refundPosition(p, report.coldkey, c.minStakeRao)) {
                continue;
            }
            refundedPositions[key] = true;
            // forge-lint: disable-next-line(incorrect-shift)
            mask |= 1 << i; // bit i: position i
        }
        if (mask == 0 && state == DeliveryState.Refunding && !closesRequest) {
            revert ErrorsLib.NothingToRefund(report.deliveryBlock, report.deliveryIndex);
        }
        emit EventsLib.Refunded(report.requestId, report.coldkey, report.deliveryBlock, report.deliveryIndex, mask);
    }

    /// @dev Returns one position to `coldkey`; whether it moved. On a retired netuid the runtime
    ///      paid its alpha to the vault in TAO: that TAO goes. A position on its netuid's fund hotkey
    ///      (delivered before that hotkey took over, as `_checkPositions` made sure) comes out of the
    ///      stake held back there. The precompiles cannot call back.
    function _refundPosition(Position calldata p, bytes32 coldkey, uint64 minStake) internal returns (bool) {
        Retirement storage r = retirements[p.netuid];
        if (r.totalAlpha != 0 && !_isFundNetuid(p.netuid)) {
            uint256 rao = _retiredRao(r, p.amount);
            uint128 left = r.deliveryRao;
            if (rao > left || !_payRetired(coldkey, p.netuid, p.amount, rao)) return false;
            // forge-lint: disable-next-line(unsafe-typecast)
            r.deliveryRao = left - uint128(rao); // rao <= left
            return true;
        }
        bool onFundHotkey = p.hotkey == _fundHotkey(p.netuid);
        _checkHeld(p, onFundHotkey);
        if (_wouldRefuse(p, minStake)) return false;
        if (!StakingLib.tryTransfer(coldkey, p.hotkey, p.netuid, p.amount)) return false;
        if (onFundHotkey) _releaseHeld(p.netuid, p.amount);
        emit EventsLib.StakeMoved(p.netuid, p.hotkey, p.hotkey, coldkey, p.amount);
        return true;
    }

    /// @dev Whether the runtime would refuse to move position `p` out of the vault as dust: it moves
    ///      `min(amount, stake)`, and the stake may read one rao short of the amount (`_checkHeld`),
    ///      so at the boundary the stake decides (read only there).
    function _wouldRefuse(Position calldata p, uint64 minStake) internal view returns (bool) {
        if (_isDust(p.netuid, p.amount, minStake)) return true;
        if (!_isDust(p.netuid, p.amount - 1, minStake)) return false;
        return StakingLib.stakeOf(p.hotkey, VAULT, p.netuid) < p.amount;
    }

    /// @dev Pays `rao` of a retired netuid's locked proceeds to substrate account `coldkey`; whether
    ///      the runtime applied it (the caller debits its pot only then).
    function _payRetired(bytes32 coldkey, uint16 netuid, uint256 alpha, uint256 rao) internal returns (bool) {
        if (rao != 0 && !StakingLib.tryPayNative(coldkey, rao * RAO)) return false;
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative -= uint96(rao * RAO); // locked at retirement
        emit EventsLib.RetiredPaid(coldkey, netuid, alpha, rao * RAO);
        return true;
    }

    /// @inheritdoc ITAO20Settlement
    function expire(bytes32 requestId) external onlyDelegated {
        Request storage rq = requests[requestId];
        _requirePending(requestId, rq.status);
        (PauseClock memory pc, bool pausedNow) = _clockNow();
        // Time spent paused never counts against a miner: no expiry while paused.
        if (pausedNow) revert ErrorsLib.Paused();
        uint256 lastBlock = ExpiryLib.expireAfter(rq.requestBlock, WINDOW, GRACE, rq.pausedAtRequest, pc);
        if (block.number <= lastBlock) revert ErrorsLib.ExpiryNotReached(requestId, lastBlock);
        rq.status = RequestStatus.Expired;
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative -= uint96(rq.bond); // bonds are below 2^96 (requestCreation)
        // forge-lint: disable-next-line(unsafe-typecast)
        fundNative += uint96(rq.bond);
        emit EventsLib.CreationExpired(requestId, rq.bond);
    }

    /// @inheritdoc ITAO20Settlement
    function sweep(Sweep calldata order, bytes[] calldata signatures) external onlyDelegated nonReentrant {
        Config memory c = cfg;
        _checkVersion(order.signerSetVersion, c);
        if (order.nonce != c.sweepNonce) revert ErrorsLib.WrongSweepNonce(order.nonce, c.sweepNonce);
        uint256 count = order.positions.length;
        if (count > MAX_REPORT_POSITIONS) revert ErrorsLib.TooManyReportPositions(count);
        // No delivery block: a position on a fund hotkey is never stray stake.
        bytes32[] memory toHotkeys = _checkPositions(order.positions, true, type(uint64).max, true);
        _verifyQuorum(_hashTypedDataV4(order.hash()), signatures, c);

        // The runtime refuses a move below the minimum: such a position waits for a later sweep.
        uint256 mask;
        for (uint256 i; i < count; ++i) {
            Position calldata p = order.positions[i];
            // forge-lint: disable-next-line(incorrect-shift)
            if (!_wouldRefuse(p, c.minStakeRao)) mask |= 1 << i; // bit i: position i
        }
        cfg.sweepNonce = c.sweepNonce + 1;
        emit EventsLib.Swept(order.nonce, mask);
        for (uint256 i; i < count; ++i) {
            // forge-lint: disable-next-line(incorrect-shift)
            if (mask & (1 << i) == 0) continue; // bit i: position i
            Position calldata p = order.positions[i];
            emit EventsLib.StakeMoved(p.netuid, p.hotkey, toHotkeys[i], VAULT, p.amount);
            StakingLib.move(p.hotkey, toHotkeys[i], p.netuid, p.amount);
        }
    }

    // ------------------------------------------------------------------ governance (cold paths)

    /// @inheritdoc ITAO20Settlement
    function setFundHotkey(uint16 netuid, bytes32 hotkey) external onlyDelegated onlyOwner nonReentrant {
        if (netuid == 0) revert ErrorsLib.InvalidNetuid(netuid);
        if (hotkey == bytes32(0)) revert ErrorsLib.ZeroHotkey();
        bytes32 old = _fundHotkey(netuid);
        if (old == hotkey) return;
        if (old == bytes32(0)) {
            uint128 owed = retirements[netuid].claimsAlpha;
            if (owed != 0) revert ErrorsLib.RetiredClaimsOutstanding(netuid, owed);
            if (netuidList.length >= MAX_NETUIDS) revert ErrorsLib.TooManyPositions();
        }
        NetuidState memory s = netuidState[netuid];
        // Deliveries already made under the new hotkey stay mintable and refundable (`hotkeySince`),
        // and the stake they lie in is held out of the fund until they are (redemptions and NAV
        // count `stake - reserved`): the fund is exactly what it was before the change.
        s.hotkeySince = uint64(block.number);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 found = uint64(StakingLib.stakeOf(hotkey, VAULT, netuid)); // the runtime's u64 alpha
        // Deliveries held back under the old hotkey stay there, ordinary positions off the fund
        // hotkey now, which a mint moves and a refund returns.
        uint64 leftBehind = s.held;
        s.reserved = s.reserved - leftBehind + found;
        s.held = found;
        netuidState[netuid] = s;
        uint256 bit = HAS_CLAIMS << ((netuid & 0x3f) << 2);
        if (s.reserved == 0) netuidBits[netuid >> 6] &= ~bit;
        else netuidBits[netuid >> 6] |= bit;
        if (found != 0) emit EventsLib.DeliveryStakeHeld(netuid, hotkey, found);
        if (old == bytes32(0)) {
            _addFundNetuid(netuid, hotkey);
            return;
        }
        _setHotkey(netuid, hotkey);
        emit EventsLib.FundHotkeyUpdated(netuid, old, hotkey);
        uint256 stake = StakingLib.stakeOf(old, VAULT, netuid);
        stake = stake > leftBehind ? stake - leftBehind : 0;
        // Dust the runtime would refuse to move stays under the old hotkey, stray stake for a sweep.
        if (stake != 0 && !_isDust(netuid, stake, cfg.minStakeRao)) {
            emit EventsLib.StakeMoved(netuid, old, hotkey, VAULT, stake);
            StakingLib.move(old, hotkey, netuid, stake);
        }
    }

    /// @inheritdoc ITAO20Settlement
    function setPaused(bool paused_) external onlyDelegated {
        bool byOwner = msg.sender == owner();
        if (msg.sender != pauser && !byOwner) revert ErrorsLib.NotGuardian(msg.sender);
        // A guardian's pause that ran out ended at its last block, and bars the next one as long.
        bool lapsed = clock.pausedSince != 0;
        (PauseClock memory pc, bool pausedNow) = _clockNow();
        lapsed = lapsed && !pausedNow;
        uint64 now_ = uint64(block.number);
        uint64 ends = pauseEnds;
        if (lapsed) pauseCooldownUntil = ends + GUARDIAN_PAUSE_BLOCKS;
        if (paused_) {
            if (pausedNow) {
                // The owner's pause replaces a guardian's, without its limit.
                if (byOwner) pauseEnds = type(uint64).max;
                return;
            }
            // The guardian pauses at most half the time: after a pause, as long again unpaused.
            if (!byOwner && now_ < pauseCooldownUntil) revert ErrorsLib.PauseCooldown(pauseCooldownUntil);
            pc.pausedSince = now_;
            pauseEnds = byOwner ? type(uint64).max : now_ + GUARDIAN_PAUSE_BLOCKS;
        } else {
            if (pausedNow) {
                if (ends != type(uint64).max) pauseCooldownUntil = now_ + (now_ - pc.pausedSince);
                pc.pausedTotal += now_ - pc.pausedSince;
                pc.pausedSince = 0;
                pc.lastUnpause = now_;
            } else if (!lapsed) {
                return;
            }
        }
        clock = pc;
        cfg.paused = paused_;
        emit EventsLib.PausedSet(paused_);
    }

    /// @inheritdoc ITAO20Settlement
    function deliveryState(uint256 deliveryId) external view onlyDelegated returns (DeliveryState) {
        // forge-lint: disable-next-line(unsafe-typecast)
        if (_isMinted(uint64(deliveryId >> 32), uint32(deliveryId))) return DeliveryState.Minted;
        return settled[deliveryId];
    }

    /// @inheritdoc ITAO20Settlement
    function positionRefunded(uint256 deliveryId, uint16 netuid, bytes32 hotkey)
        external
        view
        onlyDelegated
        returns (bool)
    {
        return refundedPositions[keccak256(abi.encode(deliveryId, netuid, hotkey))];
    }

    /// @inheritdoc ITAO20Settlement
    function expireableAt(bytes32 requestId) external view onlyDelegated returns (uint256) {
        Request storage rq = requests[requestId];
        (PauseClock memory pc, bool pausedNow) = _clockNow();
        if (rq.status != RequestStatus.Pending || pausedNow) return type(uint256).max;
        return ExpiryLib.expireAfter(rq.requestBlock, WINDOW, GRACE, rq.pausedAtRequest, pc) + 1;
    }

    /// @inheritdoc ITAO20Settlement
    function pauseClock() external view onlyDelegated returns (PauseClock memory pc) {
        (pc,) = _clockNow();
    }

    /// @inheritdoc ITAO20Settlement
    function pauseEndsAt() external view onlyDelegated returns (uint64) {
        (, bool pausedNow) = _clockNow();
        return pausedNow ? pauseEnds : 0;
    }

    /// @inheritdoc ITAO20Settlement
    function priceBand() external view onlyDelegated returns (uint16) {
        return cfg.priceBandBps;
    }

    /// @inheritdoc ITAO20Settlement
    function heldForDeliveries(uint16 netuid) external view onlyDelegated returns (uint256) {
        return netuidState[netuid].held;
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc ITAO20Settlement
    function claimBond(bytes32 requestId) external onlyDelegated nonReentrant {
        Request storage rq = requests[requestId];
        uint256 amount = rq.bond;
        if (rq.status != RequestStatus.Minted || amount == 0) revert ErrorsLib.BondNotClaimable(requestId);
        address miner = rq.miner;
        rq.bond = 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative -= uint96(amount); // bonds are below 2^96 (requestCreation)
        emit EventsLib.BondClaimed(requestId, miner, amount);
        _sendNative(miner, amount);
    }

    /// @inheritdoc ITAO20Settlement
    function claim(bytes32 coldkey, uint16[] calldata netuids) external onlyDelegated nonReentrant {
        uint64 minStake = cfg.minStakeRao;
        bool any;
        for (uint256 i; i < netuids.length; ++i) {
            uint16 netuid = netuids[i];
            uint256 amount = claims[coldkey][netuid];
            if (amount == 0) continue;
            Retirement storage r = retirements[netuid];
            if (r.claimsAlpha != 0 && !_isFundNetuid(netuid)) {
                if (!_claimRetired(r, coldkey, netuid, amount)) continue;
            } else {
                // A claim below the runtime minimum waits (later bookings add to it), and so does one
                // the runtime refuses (transfers disabled): claim it later.
                if (_isDust(netuid, amount, minStake)) continue;
                if (!StakingLib.tryTransfer(coldkey, _fundHotkey(netuid), netuid, amount)) continue;
                // forge-lint: disable-next-line(unsafe-typecast)
                _unreserve(netuid, uint64(amount)); // each claim is part of the reservation, a u64
            }
            claims[coldkey][netuid] = 0;
            any = true;
            emit EventsLib.Claimed(coldkey, netuid, amount);
        }
        if (!any) revert ErrorsLib.NothingToClaim();
    }

    /// @dev Pays a claim on a retired netuid in the TAO the runtime paid for it; the last claim takes
    ///      the pot's rounding dust to the fund.
    function _claimRetired(Retirement storage r, bytes32 coldkey, uint16 netuid, uint256 amount)
        internal
        returns (bool)
    {
        uint256 rao = _retiredRao(r, amount);
        if (!_payRetired(coldkey, netuid, amount, rao)) return false;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 alphaLeft = r.claimsAlpha - uint128(amount); // each claim is part of it
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 raoLeft = r.claimsRao - uint128(rao); // floor(a * pot / total) summed stays below
        if (alphaLeft == 0 && raoLeft != 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            lockedNative -= uint96(raoLeft * RAO);
            // forge-lint: disable-next-line(unsafe-typecast)
            fundNative += uint96(raoLeft * RAO);
            raoLeft = 0;
        }
        r.claimsAlpha = alphaLeft;
        r.claimsRao = raoLeft;
        return true;
    }

    /// @inheritdoc ITAO20Settlement
    function retireNetuid(uint16 netuid, uint128 potRao, uint128 totalAlpha, uint128 vaultAlpha, uint128 deliveryAlpha)
        external
        onlyDelegated
        onlyOwner
        nonReentrant
    {
        bytes32 hk = _fundHotkey(netuid);
        if (hk == bytes32(0)) revert ErrorsLib.UnknownNetuid(netuid);
        uint256 stake = StakingLib.stakeOf(hk, VAULT, netuid);
        if (stake != 0) revert ErrorsLib.NotDissolved(netuid, stake);
        NetuidState memory s = netuidState[netuid];
        // The vault's alpha covered the reservations (claims and held deliveries) and other deliveries.
        uint256 needed = uint256(s.reserved) + deliveryAlpha;
        if (totalAlpha == 0 || vaultAlpha > totalAlpha || needed > vaultAlpha) {
            revert ErrorsLib.DissolutionAlphaMismatch(totalAlpha, vaultAlpha, needed);
        }
        Retirement storage r = retirements[netuid];
        if (r.claimsAlpha != 0) revert ErrorsLib.RetiredClaimsOutstanding(netuid, r.claimsAlpha);
        r.potRao = potRao;
        r.totalAlpha = totalAlpha;
        uint256 proceeds = _retiredRao(r, vaultAlpha);
        uint256 accounted = uint256(lockedNative) + fundNative;
        uint256 unaccounted = address(this).balance > accounted ? address(this).balance - accounted : 0;
        if (proceeds * RAO > unaccounted) revert ErrorsLib.ProceedsExceedUnaccounted(proceeds * RAO, unaccounted);
        uint256 claimsAlpha = s.reserved - s.held;
        uint256 claimsRao = _retiredRao(r, claimsAlpha);
        // Deliveries held on the fund hotkey and those on other hotkeys: each refund takes its own.
        uint256 deliveryRao = _retiredRao(r, uint256(s.held) + deliveryAlpha);
        uint256 locked = claimsRao + deliveryRao;
        // forge-lint: disable-next-line(unsafe-typecast)
        r.claimsAlpha = uint128(claimsAlpha);
        // forge-lint: disable-next-line(unsafe-typecast)
        r.claimsRao = uint128(claimsRao);
        // An earlier retirement's deliveries not yet refunded stay owed.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.deliveryRao += uint128(deliveryRao);
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative += uint96(locked * RAO); // proceeds fit the contract's balance
        // forge-lint: disable-next-line(unsafe-typecast)
        fundNative += uint96((proceeds - locked) * RAO); // floor sums: locked <= proceeds
        emit EventsLib.NetuidRetired(netuid, potRao, totalAlpha, proceeds, claimsRao, deliveryRao);
        _removeFundNetuid(netuid, hk);
    }

    /// @dev Drops `netuid` from the fund: its bits, hotkey and reservations go; the last listed netuid
    ///      takes its place in the redemption order.
    function _removeFundNetuid(uint16 netuid, bytes32 hotkey) internal {
        netuidBits[netuid >> 6] &= ~(uint256(0xf) << ((netuid & 0x3f) << 2));
        delete hotkeyOverride[netuid];
        delete netuidState[netuid];
        uint256 n = netuidList.length;
        for (uint256 i; i < n; ++i) {
            if (netuidList[i] != netuid) continue;
            netuidList[i] = netuidList[n - 1];
            netuidList.pop();
            break;
        }
        emit EventsLib.FundHotkeyUpdated(netuid, hotkey, bytes32(0));
    }

    /// @inheritdoc ITAO20Settlement
    function retirement(uint16 netuid)
        external
        view
        onlyDelegated
        returns (uint256 potRao, uint256 totalAlpha, uint256 claimsAlpha, uint256 deliveryRao)
    {
        Retirement storage r = retirements[netuid];
        return (r.potRao, r.totalAlpha, r.claimsAlpha, r.deliveryRao);
    }

    /// @inheritdoc ITAO20Settlement
    function claimNative(address account) external onlyDelegated nonReentrant {
        uint256 amount = nativeClaims[account];
        if (amount == 0) revert ErrorsLib.NothingToClaim();
        nativeClaims[account] = 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative -= uint96(amount); // part of lockedNative since it was booked
        emit EventsLib.NativeClaimed(account, amount);
        _sendNative(account, amount);
    }
}
