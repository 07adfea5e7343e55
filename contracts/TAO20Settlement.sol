// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
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
contract TAO20Settlement is TAO20Base, ITAO20Settlement {
    using HashLib for RefundReport;
    using HashLib for Sweep;

    address private immutable SELF;

    constructor(InitParams memory p, bytes32 vault_) TAO20Base(p, vault_) {
        SELF = address(this);
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

        // Settled per position: one refunded before is skipped, dust waits until it is transferable
        // (the same signed report, relayed again, refunds it then); the rest must be held.
        uint256 mask;
        for (uint256 i; i < count; ++i) {
            Position calldata p = report.positions[i];
            bytes32 key = keccak256(abi.encode(deliveryId, p.netuid, p.hotkey));
            if (refundedPositions[key]) continue;
            _checkHeld(p);
            if (_isDust(p.netuid, p.amount, c.minStakeRao)) continue;
            refundedPositions[key] = true;
            // forge-lint: disable-next-line(incorrect-shift)
            mask |= 1 << i; // bit i: position i
        }
        bool closesRequest = report.requestId != bytes32(0) && status == RequestStatus.Pending;
        if (mask == 0 && state == DeliveryState.Refunding && !closesRequest) {
            revert ErrorsLib.NothingToRefund(report.deliveryBlock, report.deliveryIndex);
        }
        if (state == DeliveryState.Open) settled[deliveryId] = DeliveryState.Refunding;
        if (closesRequest) {
            rq.status = RequestStatus.Refunded;
            // forge-lint: disable-next-line(unsafe-typecast)
            lockedNative -= uint96(rq.bond); // bonds are below 2^96 (requestCreation)
            emit EventsLib.BondForfeited(report.requestId, rq.bond);
        }
        emit EventsLib.Refunded(report.requestId, report.coldkey, report.deliveryBlock, report.deliveryIndex, mask);
        for (uint256 i; i < count; ++i) {
            // forge-lint: disable-next-line(incorrect-shift)
            if (mask & (1 << i) == 0) continue; // bit i: position i
            Position calldata p = report.positions[i];
            emit EventsLib.StakeMoved(p.netuid, p.hotkey, p.hotkey, report.coldkey, p.amount);
            StakingLib.transfer(report.coldkey, p.hotkey, p.netuid, p.amount);
        }
    }

    /// @inheritdoc ITAO20Settlement
    function expire(bytes32 requestId) external onlyDelegated {
        Request storage rq = requests[requestId];
        _requirePending(requestId, rq.status);
        PauseClock memory pc = clock;
        // Time spent paused never counts against a miner: no expiry while paused.
        if (pc.pausedSince != 0) revert ErrorsLib.Paused();
        uint256 lastBlock = ExpiryLib.expireAfter(rq.requestBlock, WINDOW, GRACE, rq.pausedAtRequest, pc);
        if (block.number <= lastBlock) revert ErrorsLib.ExpiryNotReached(requestId, lastBlock);
        rq.status = RequestStatus.Expired;
        // forge-lint: disable-next-line(unsafe-typecast)
        lockedNative -= uint96(rq.bond); // bonds are below 2^96 (requestCreation)
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
            if (!_isDust(p.netuid, p.amount, c.minStakeRao)) mask |= 1 << i; // bit i: position i
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
        uint256 len = netuids.length;
        uint256[] memory paid = new uint256[](len);
        bool any;
        for (uint256 i; i < len; ++i) {
            uint16 netuid = netuids[i];
            uint256 amount = claims[coldkey][netuid];
            // A claim below the runtime minimum waits; later bookings add to it.
            if (amount == 0 || _isDust(netuid, amount, minStake)) continue;
            claims[coldkey][netuid] = 0;
            NetuidState storage s = netuidState[netuid];
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 left = s.reserved - uint64(amount); // each claim is part of the reservation
            s.reserved = left;
            if (left == 0) netuidBits[netuid >> 6] &= ~(HAS_CLAIMS << ((netuid & 0x3f) << 2));
            paid[i] = amount;
            any = true;
            emit EventsLib.Claimed(coldkey, netuid, amount);
        }
        if (!any) revert ErrorsLib.NothingToClaim();
        for (uint256 i; i < len; ++i) {
            if (paid[i] != 0) StakingLib.transfer(coldkey, _fundHotkey(netuids[i]), netuids[i], paid[i]);
        }
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
