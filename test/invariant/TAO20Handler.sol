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
    RequestStatus,
    DeliveryState
} from "../../contracts/interfaces/ITAO20.sol";
import {SharesMathLib} from "../../contracts/libraries/SharesMathLib.sol";
import {StakingMock} from "../mocks/StakingMock.sol";
import {Hasher} from "../utils/Hasher.sol";

/// @notice Drives TAO20 on netuid 1 the way its users, keepers, guardian and governance do: fair
///         creations, deliveries left in flight (under fresh, shared and would-be fund hotkeys) that
///         are minted, expired or refunded later, fund hotkey changes between three hotkeys,
///         redemptions, claims, sweeps of stray stake, guardian pauses, the subnet's transfer toggle,
///         stray TAO reaching the contract, and time. Every call it makes is legal in the state it
///         makes it in (the suite runs with `fail_on_revert`): an action whose call would be refused
///         returns early instead, and calls expected to be refused are probes inside `try`. Ghost
///         accounts kept here are what the invariants compare the contract against.
contract TAO20Handler is Test {
    /// @notice What became of a delivery, as the handler (the keepers) sees it.
    /// @dev Open: its request is Pending, mintable or refundable. Expired: its request expired, it is
    ///      refundable only. Refunding: a refund was relayed but the runtime refused its transfer
    ///      (transfers disabled; the request is closed, Refunded or Expired); the same report,
    ///      relayed later, refunds it.
    enum Status {
        Open,
        Expired,
        Refunding,
        Minted,
        Refunded
    }

    /// @notice One single-position delivery of netuid 1 alpha into the vault.
    struct Delivery {
        bytes32 requestId;
        address actor;
        bytes32 hotkey;
        uint64 amount;
        uint64 deliveredAt;
        uint32 index;
        Status status;
    }

    /// @dev What an actor must hold for an action to pick it.
    enum Holding {
        Shares,
        Claim,
        NativeClaim
    }

    /// @dev What a redemption's checks compare against, taken just before it.
    struct Snapshot {
        bytes32 hotkey;
        bytes32 coldkey;
        uint256 nav;
        uint256 fundStake;
        uint256 received;
        uint256 reserved;
        uint256 claim;
        uint256 eth;
        uint256 nativeClaim;
        uint256 fees;
        uint256 mgmt;
    }

    uint16 internal constant NETUID = 1;
    /// @dev `GUARDIAN_PAUSE_BLOCKS` of the contract: a guardian's pause ends by itself after it.
    uint64 internal constant GUARDIAN_PAUSE = 50_400;

    ITAO20 internal immutable t;
    StakingMock internal immutable staking;
    Hasher internal immutable hasher;
    uint256[] internal keys; // signer keys, ascending by address
    uint256 internal immutable threshold;
    bytes32 internal immutable vault;

    /// @dev The hotkeys netuid 1's fund position moves between: the deployment default and two
    ///      validators. A miner may deliver under either one that is not the fund's at the time.
    bytes32[3] internal fundHks;
    /// @dev A delivery hotkey two miners share (so the quorum tells deliveries apart by id only).
    bytes32 public constant SHARED_HK = keccak256("tao20.invariant.shared-delivery");
    /// @dev A vault hotkey that only ever holds stray stake (emissions), for sweeps.
    bytes32 public constant STRAY_HK = keccak256("tao20.invariant.emissions");

    address[] public actors;
    address public feeRecipient;

    Delivery[] internal deliveries;
    /// @notice Every hotkey a delivery or stray stake ever used, for the per-hotkey invariants.
    bytes32[] public hotkeys;
    mapping(bytes32 hotkey => bool) internal knownHotkey;
    /// @notice Alpha of deliveries still unsettled (Open, Expired, Refunding) per hotkey.
    mapping(bytes32 hotkey => uint256) public unsettledOn;
    /// @notice Stray vault stake (emissions) per hotkey, not yet swept.
    mapping(bytes32 hotkey => uint256) public strayOn;

    // ghosts: alpha (rao)
    uint256 public ghostDelivered;
    uint256 public ghostMinted;
    uint256 public ghostRefunded;
    uint256 public ghostPaidOut; // redemptions' transfers out of the fund
    uint256 public ghostBooked; // redemptions' bookings (claims)
    uint256 public ghostClaimed;
    uint256 public ghostSwept;
    // ghosts: native TAO (wei)
    uint256 public ghostLocked; // bonds of Pending and Minted-unclaimed requests plus native claims
    uint256 public ghostFundNative; // forfeited bonds less native redemptions
    uint256 public ghostDonated; // TAO that reached the contract otherwise
    // ghosts: violations, each must stay zero
    uint256 public ghostDoubleSettled;
    uint256 public ghostNavDrops;
    uint256 public ghostValueShifts;
    uint256 public ghostFeeViolations;
    uint256 public ghostShortPaid;
    // ghosts: the guardian's pause, modelled
    uint64 internal ghostPauseStart; // 0: no guardian pause running (as of the last guardian call)
    uint64 internal ghostPausedTotal;
    uint64 internal ghostCooldownUntil;
    bool public transfersDisabled;

    uint32 internal deliveryIndex;
    uint256 public calls;

    constructor(ITAO20 t_, StakingMock s_, Hasher h_, uint256[] memory keys_, uint256 threshold_, address fee_) {
        t = t_;
        staking = s_;
        hasher = h_;
        keys = keys_;
        threshold = threshold_;
        feeRecipient = fee_;
        vault = t_.vault();
        fundHks =
            [t_.fundHotkey(NETUID), keccak256("tao20.invariant.validator1"), keccak256("tao20.invariant.validator2")];
        for (uint256 i; i < 3; ++i) {
            _know(fundHks[i]);
        }
        _know(SHARED_HK);
        _know(STRAY_HK);
        for (uint256 i; i < 3; ++i) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(a);
            vm.deal(a, 1000 ether);
        }
    }

    // ------------------------------------------------------------------ views for invariants

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function hotkeyCount() external view returns (uint256) {
        return hotkeys.length;
    }

    function deliveryCount() external view returns (uint256) {
        return deliveries.length;
    }

    function delivery(uint256 i) external view returns (Delivery memory) {
        return deliveries[i];
    }

    function coldkeyOf(address a) public pure returns (bytes32) {
        return keccak256(abi.encode(a));
    }

    /// @notice Whether the guardian's pause is running at this block and the blocks paused so far,
    ///         as the handler's model of the pause rules has them (a pause lapses after 50 400
    ///         blocks, counting up to its end).
    function expectedPause() public view returns (bool pausedNow, uint64 pausedTotal) {
        (pausedNow, pausedTotal,) = _pauseModel();
    }

    /// @notice The fund's value in rao: the alpha under the fund hotkey that is not reserved (claims
    ///         and deliveries held there), at 1 TAO per alpha, plus the fund's own native TAO.
    /// @dev Alpha stays at the mock's default price of 1 TAO, so values are exact; the native part
    ///      is whole rao (`fundNativeBalance`), so no wei-to-rao floor blurs the comparisons.
    function fundValue() public view returns (uint256) {
        uint256 stake = staking.stakeOf(t.fundHotkey(NETUID), vault, NETUID);
        uint256 reserved = t.reserved(NETUID);
        return (stake > reserved ? stake - reserved : 0) + t.fundNativeBalance() / 1e9;
    }

    function nav() public view returns (uint256) {
        return SharesMathLib.navPerShare(fundValue(), t.totalSupply() + t.pendingManagementFee());
    }

    // ------------------------------------------------------------------ creation actions

    /// @notice A fair creation minted in the block after its delivery.
    function create(uint256 actorSeed, uint256 amountSeed, uint256 kindSeed) external {
        calls++;
        if (!_canDeliver()) return;
        uint256 i = _open(_actor(actorSeed), _amount(amountSeed), _deliveryHotkey(kindSeed));
        _mint(i);
    }

    /// @notice A delivery the quorum finds invalid: refunded after the window; it can never mint.
    function failDelivery(uint256 actorSeed, uint256 amountSeed, uint256 kindSeed) external {
        calls++;
        if (!_canDeliver()) return;
        uint256 i = _open(_actor(actorSeed), _amount(amountSeed), _deliveryHotkey(kindSeed));
        _refund(i);
    }

    /// @notice A delivery left in flight, to be minted, expired or refunded by later actions, across
    ///         whatever hotkey changes, pauses and transfer toggles come in between.
    function deliver(uint256 actorSeed, uint256 amountSeed, uint256 kindSeed) external {
        calls++;
        if (!_canDeliver()) return;
        _open(_actor(actorSeed), _amount(amountSeed), _deliveryHotkey(kindSeed));
    }

    /// @notice Two miners deliver in one block under one hotkey (a shared delivery hotkey or a
    ///         validator's that may become the fund's): only the delivery ids tell them apart.
    function deliverPair(uint256 aSeed, uint256 bSeed, uint256 amountSeed, uint256 kindSeed) external {
        calls++;
        if (!_canDeliver()) return;
        bytes32 hk = kindSeed % 3 == 0 ? SHARED_HK : _candidate(kindSeed % 3 - 1);
        address a = _actor(aSeed);
        address b = _actor(bSeed);
        bytes32 idA = _request(a);
        bytes32 idB = _request(b);
        vm.roll(block.number + 1);
        _deliverAt(a, idA, _amount(amountSeed), hk);
        _deliverAt(b, idB, _amount(uint256(keccak256(abi.encode(amountSeed)))), hk);
    }

    /// @notice A miner delivers under a validator's hotkey and governance makes it netuid 1's fund
    ///         hotkey in the same block: the delivery block equals `fundHotkeySince`, the edge of
    ///         what stays settleable.
    function deliverThenChangeHotkey(uint256 actorSeed, uint256 amountSeed, uint256 which) external {
        calls++;
        if (!_canDeliver()) return;
        bytes32 hk = _candidate(which % 2);
        if (_strandsDust(hk)) return;
        _open(_actor(actorSeed), _amount(amountSeed), hk);
        _changeFundHotkey(hk);
    }

    /// @notice Mints an in-flight delivery (its request still Pending), wherever its stake lies now.
    function mintDelivery(uint256 seed) external {
        calls++;
        if (_pausedNow()) return;
        (bool found, uint256 i) = _pick(seed, 1 << uint8(Status.Open));
        if (!found) return;
        _mint(i);
    }

    /// @notice Refunds an unsettled delivery after its window (Open: the request's expiry block is
    ///         waited out first), or relays the refund of one whose transfer was refused before.
    function refundDelivery(uint256 seed) external {
        calls++;
        uint256 mask = (1 << uint8(Status.Open)) | (1 << uint8(Status.Expired));
        bool found;
        uint256 i;
        // A refund relayed again while the runtime still refuses the transfer refunds nothing: refused.
        // Once transfers are back, a keeper relays the refunds that wait first.
        if (!transfersDisabled) (found, i) = _pick(seed, 1 << uint8(Status.Refunding));
        if (!found) (found, i) = _pick(seed, mask);
        if (!found) return;
        _refund(i);
    }

    /// @notice Expires a Pending request once `expireableAt` is reached (never while paused); its
    ///         bond goes to the fund, its delivery stays refundable.
    function expireRequest(uint256 seed) external {
        calls++;
        (bool found, uint256 i) = _pick(seed, 1 << uint8(Status.Open));
        if (!found) return;
        Delivery storage d = deliveries[i];
        if (block.number < t.expireableAt(d.requestId)) return;
        uint256 navBefore = nav();
        uint256 bond = t.request(d.requestId).bond;
        t.expire(d.requestId);
        d.status = Status.Expired;
        ghostLocked -= bond;
        ghostFundNative += bond;
        if (nav() < navBefore) ghostNavDrops++;
    }

    /// @notice The miner of a minted request takes its bond back.
    function claimBond(uint256 seed) external {
        calls++;
        (bool found, uint256 i) = _pick(seed, 1 << uint8(Status.Minted));
        if (!found) return;
        Delivery storage d = deliveries[i];
        uint256 bond = t.request(d.requestId).bond;
        if (bond == 0) return;
        uint256 before = d.actor.balance;
        t.claimBond(d.requestId);
        ghostLocked -= bond;
        if (d.actor.balance - before != bond) ghostShortPaid++;
    }

    // ------------------------------------------------------------------ governance and guardian

    /// @notice Governance (the timelock) points netuid 1 at one of its three hotkeys.
    function setFundHotkey(uint256 hkSeed) external {
        calls++;
        bytes32 hk = fundHks[hkSeed % 3];
        if (hk == t.fundHotkey(NETUID) || _strandsDust(hk)) return;
        _changeFundHotkey(hk);
    }

    /// @notice The guardian pauses (when its cooldown allows) or unpauses.
    function guardianPause(bool on) external {
        calls++;
        (bool pausedNow, uint64 total, uint64 cooldown) = _pauseModel();
        // A lapsed pause is over: the contract books it the same way at its next pause call.
        if (ghostPauseStart != 0 && !pausedNow) {
            ghostPauseStart = 0;
            ghostPausedTotal = total;
            ghostCooldownUntil = cooldown;
        }
        if (on && !pausedNow && block.number < cooldown) return; // the guardian must wait
        vm.prank(t.guardian());
        t.setPaused(on);
        if (on && !pausedNow) {
            ghostPauseStart = uint64(block.number);
        } else if (!on && pausedNow) {
            uint64 lasted = uint64(block.number) - ghostPauseStart;
            ghostPausedTotal += lasted;
            ghostCooldownUntil = uint64(block.number) + lasted;
            ghostPauseStart = 0;
        }
    }

    /// @notice The subnet owner toggles netuid 1's transfers (disabled about a third of the time).
    function setTransfers(uint256 seed) external {
        calls++;
        // Hashed: the fuzzer favours small and edge seeds, which would leave transfers off too often.
        transfersDisabled = uint256(keccak256(abi.encode(seed))) % 3 == 0;
        staking.setSubnet(NETUID, 0, transfersDisabled);
    }

    // ------------------------------------------------------------------ holders

    /// @notice A holder redeems some or all of its shares in kind, skipping (booking) the alpha or
    ///         the native part or not; while transfers are disabled an unskipped alpha part is booked
    ///         too. What it gets, paid or booked, must be exactly what the fund owed it.
    function redeem(uint256 actorSeed, uint256 fractionSeed, bool skipAlpha, bool skipNative) external {
        calls++;
        (bool found, address a) = _actorWith(actorSeed, Holding.Shares);
        if (!found) return;
        uint256 shares = bound(fractionSeed, 1, t.balanceOf(a));
        (uint256 alphaOwed, uint256 nativeOwed, bool legal) = _redemptionOf(shares);
        if (!legal) return;
        Snapshot memory b = _snapshot(a);
        uint256 n = t.positionCount();
        bool[] memory skip = new bool[](n);
        skip[0] = skipAlpha; // a holder skipping the position (say, transfers disabled) books it instead
        skip[n - 1] = skipNative;
        vm.prank(a);
        t.redeem(shares, b.coldkey, new uint256[](n), skip);
        uint256 paid = b.fundStake - staking.stakeOf(b.hotkey, vault, NETUID);
        uint256 booked = t.reserved(NETUID) - b.reserved;
        ghostPaidOut += paid;
        ghostBooked += booked;
        ghostFundNative -= nativeOwed;
        if (skipNative) ghostLocked += nativeOwed;
        // Every rao owed is paid or booked, to the redeemer: nothing lost, nothing extra.
        if (paid + booked != alphaOwed || staking.stakeOf(b.hotkey, b.coldkey, NETUID) - b.received != paid) {
            ghostShortPaid++;
        }
        if (t.claimOf(b.coldkey, NETUID) - b.claim != booked) ghostShortPaid++;
        uint256 nativeGot = skipNative ? t.nativeClaimOf(a) - b.nativeClaim : a.balance - b.eth;
        if (nativeGot != nativeOwed) ghostShortPaid++;
        uint256 redeemFee = t.balanceOf(feeRecipient) - b.fees - b.mgmt;
        if (redeemFee * 10_000 > shares * 100 + 10_000) ghostFeeViolations++;
        if (nav() < b.nav) ghostNavDrops++;
    }

    /// @dev What a redemption by `a` is checked against, read just before it.
    function _snapshot(address a) internal view returns (Snapshot memory b) {
        b.hotkey = t.fundHotkey(NETUID);
        b.coldkey = coldkeyOf(a);
        b.nav = nav();
        b.fundStake = staking.stakeOf(b.hotkey, vault, NETUID);
        b.received = staking.stakeOf(b.hotkey, b.coldkey, NETUID);
        b.reserved = t.reserved(NETUID);
        b.claim = t.claimOf(b.coldkey, NETUID);
        b.eth = a.balance;
        b.nativeClaim = t.nativeClaimOf(a);
        b.fees = t.balanceOf(feeRecipient);
        b.mgmt = t.pendingManagementFee();
    }

    /// @notice A coldkey claims what redemptions booked to it. While transfers are disabled, or while
    ///         the claim is dust, the call is refused and the claim must stay owed in full.
    function claim(uint256 actorSeed) external {
        calls++;
        (bool found, address a) = _actorWith(actorSeed, Holding.Claim);
        if (!found) return;
        bytes32 coldkey = coldkeyOf(a);
        uint256 owed = t.claimOf(coldkey, NETUID);
        bytes32 hk = t.fundHotkey(NETUID);
        uint256 stakeBefore = staking.stakeOf(hk, vault, NETUID);
        uint256 gotBefore = staking.stakeOf(hk, coldkey, NETUID);
        uint256 navBefore = nav();
        uint16[] memory netuids = new uint16[](1);
        netuids[0] = NETUID;
        if (transfersDisabled || _isDust(owed)) {
            // The netuid is skipped, so nothing at all is paid: a refusal, the claim intact.
            try t.claim(coldkey, netuids) {
                ghostShortPaid++;
            } catch {}
            if (t.claimOf(coldkey, NETUID) != owed) ghostShortPaid++;
            return;
        }
        t.claim(coldkey, netuids);
        ghostClaimed += owed;
        if (stakeBefore - staking.stakeOf(hk, vault, NETUID) != owed) ghostShortPaid++;
        if (staking.stakeOf(hk, coldkey, NETUID) - gotBefore != owed) ghostShortPaid++;
        if (nav() < navBefore) ghostNavDrops++;
    }

    /// @notice An account takes the native TAO a redemption booked to it.
    function claimNative(uint256 actorSeed) external {
        calls++;
        (bool found, address a) = _actorWith(actorSeed, Holding.NativeClaim);
        if (!found) return;
        uint256 owed = t.nativeClaimOf(a);
        uint256 before = a.balance;
        uint256 navBefore = nav();
        t.claimNative(a);
        ghostLocked -= owed;
        if (a.balance - before != owed) ghostShortPaid++;
        if (nav() < navBefore) ghostNavDrops++;
    }

    /// @notice Shares change hands between actors.
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amountSeed) external {
        calls++;
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        uint256 amount = bound(amountSeed, 0, t.balanceOf(from));
        vm.prank(from);
        t.transfer(to, amount);
    }

    // ------------------------------------------------------------------ stray value

    /// @notice Emissions accrue to the vault under a hotkey that is no fund hotkey: the stray-stake
    ///         hotkey or the shared delivery hotkey (where deliveries wait), in amounts down to dust.
    function accrueStray(uint256 amountSeed, bool onShared) external {
        calls++;
        bytes32 hk = onShared ? SHARED_HK : STRAY_HK;
        uint256 amount = bound(amountSeed, 1, 1e12);
        staking.setStake(hk, vault, NETUID, staking.stakeOf(hk, vault, NETUID) + amount);
        strayOn[hk] += amount;
    }

    /// @notice The quorum sweeps the stray stake (and only it: never a waiting delivery's) onto the
    ///         fund hotkey. Dust stays for a later sweep; the nonce is spent all the same.
    function sweep() external {
        calls++;
        uint256 count = (strayOn[STRAY_HK] != 0 ? 1 : 0) + (strayOn[SHARED_HK] != 0 ? 1 : 0);
        if (count == 0) return;
        Sweep memory s;
        s.positions = new Position[](count);
        uint256 k;
        // Positions strictly ascending by (netuid, hotkey).
        (bytes32 lo, bytes32 hi) = STRAY_HK < SHARED_HK ? (STRAY_HK, SHARED_HK) : (SHARED_HK, STRAY_HK);
        if (strayOn[lo] != 0) s.positions[k++] = Position({netuid: NETUID, hotkey: lo, amount: uint64(strayOn[lo])});
        if (strayOn[hi] != 0) s.positions[k++] = Position({netuid: NETUID, hotkey: hi, amount: uint64(strayOn[hi])});
        s.nonce = t.sweepNonce();
        s.signerSetVersion = t.signerSetVersion();
        uint256 navBefore = nav();
        uint256 valueBefore = fundValue();
        t.sweep(s, _sign(hasher.sweep(s)));
        uint256 moved;
        for (uint256 j; j < count; ++j) {
            Position memory p = s.positions[j];
            if (_isDust(p.amount)) continue; // dust waits
            strayOn[p.hotkey] -= p.amount;
            moved += p.amount;
        }
        ghostSwept += moved;
        if (fundValue() != valueBefore + moved) ghostValueShifts++;
        if (nav() < navBefore) ghostNavDrops++;
    }

    /// @notice TAO reaches the contract other than as a bond or the fund's (a dissolved subnet's
    ///         payout before its retirement, a donation): it is nobody's until governance accounts it.
    function donateNative(uint256 amountSeed) external {
        calls++;
        uint256 amount = bound(amountSeed, 1, 100 ether);
        vm.deal(address(t), address(t).balance + amount);
        ghostDonated += amount;
    }

    // ------------------------------------------------------------------ time

    /// @notice Time passes (a request's window and grace are 300 and 600 blocks).
    function advance(uint256 blocksSeed) external {
        calls++;
        vm.roll(block.number + bound(blocksSeed, 1, 2000));
    }

    /// @notice A long stretch (a week and more): guardian pauses lapse, requests become expirable.
    function advanceLong(uint256 blocksSeed) external {
        calls++;
        vm.roll(block.number + bound(blocksSeed, 10_000, 60_000));
    }

    // ------------------------------------------------------------------ internals: deliveries

    /// @dev Whether a miner can request and deliver now.
    function _canDeliver() internal view returns (bool) {
        // Requests are refused while paused; a miner's transfer_stake is refused while disabled.
        return !_pausedNow() && !transfersDisabled;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    /// @dev An actor holding something of `what`, searching from `seed` (most actors hold nothing
    ///      much of the time: searching keeps redemptions and claims frequent).
    function _actorWith(uint256 seed, Holding what) internal view returns (bool found, address a) {
        for (uint256 k; k < actors.length; ++k) {
            a = actors[(seed % actors.length + k) % actors.length];
            uint256 amount = what == Holding.Shares
                ? t.balanceOf(a)
                : what == Holding.Claim ? t.claimOf(coldkeyOf(a), NETUID) : t.nativeClaimOf(a);
            if (amount != 0) return (true, a);
        }
    }

    function _amount(uint256 seed) internal pure returns (uint64) {
        return uint64(bound(seed, 1e7, 1e15));
    }

    /// @dev Fresh (one delivery), the shared delivery hotkey, or one of the two hotkeys that are not
    ///      netuid 1's fund hotkey now (a later change may make it the fund's).
    function _deliveryHotkey(uint256 kindSeed) internal returns (bytes32 hk) {
        uint256 k = kindSeed % 4;
        if (k == 0) {
            hk = keccak256(abi.encode("tao20.invariant.delivery", deliveryIndex + 1));
            _know(hk);
        } else if (k == 1) {
            hk = SHARED_HK;
        } else {
            hk = _candidate(k - 2);
        }
    }

    /// @dev The `j`-th (0 or 1) of the fund's hotkeys that is not netuid 1's fund hotkey now.
    function _candidate(uint256 j) internal view returns (bytes32) {
        bytes32 current = t.fundHotkey(NETUID);
        uint256 n;
        for (uint256 i; i < 3; ++i) {
            if (fundHks[i] == current) continue;
            if (n++ == j) return fundHks[i];
        }
        revert("unreachable");
    }

    function _know(bytes32 hk) internal {
        if (knownHotkey[hk]) return;
        knownHotkey[hk] = true;
        hotkeys.push(hk);
    }

    /// @dev A request by `a` and its delivery of `amount` under `hk` in the next block.
    function _open(address a, uint64 amount, bytes32 hk) internal returns (uint256 i) {
        bytes32 id = _request(a);
        vm.roll(block.number + 1);
        i = _deliverAt(a, id, amount, hk);
    }

    function _request(address a) internal returns (bytes32 id) {
        _ensureEpoch();
        uint256 bond = t.creationBond();
        vm.prank(a);
        id = t.requestCreation{value: bond}(1, coldkeyOf(a), a, 0);
        ghostLocked += bond;
    }

    /// @dev The miner's substrate `transfer_stake` of `amount` under `hk` to the vault coldkey.
    function _deliverAt(address a, bytes32 id, uint64 amount, bytes32 hk) internal returns (uint256) {
        bytes32 coldkey = coldkeyOf(a);
        staking.setStake(hk, coldkey, NETUID, staking.stakeOf(hk, coldkey, NETUID) + amount);
        staking.transferStakeFrom(coldkey, vault, hk, NETUID, amount);
        ghostDelivered += amount;
        unsettledOn[hk] += amount;
        deliveries.push(
            Delivery({
                requestId: id,
                actor: a,
                hotkey: hk,
                amount: amount,
                deliveredAt: uint64(block.number),
                index: ++deliveryIndex,
                status: Status.Open
            })
        );
        return deliveries.length - 1;
    }

    /// @dev A delivery whose status is in `mask`, searching from `seed`.
    function _pick(uint256 seed, uint256 mask) internal view returns (bool found, uint256 i) {
        uint256 n = deliveries.length;
        if (n == 0) return (false, 0);
        for (uint256 k; k < n; ++k) {
            i = (seed % n + k) % n;
            if (mask & (1 << uint8(deliveries[i].status)) != 0) return (true, i);
        }
        return (false, 0);
    }

    function _deliveryId(Delivery storage d) internal view returns (uint256) {
        return (uint256(d.deliveredAt) << 32) | d.index;
    }

    /// @dev Mints delivery `i` at the fund's NAV of this block, checking fees and NAV; then probes
    ///      that the minted delivery can no longer be refunded.
    function _mint(uint256 i) internal {
        // Measured at the mint's own block: the management fee of the blocks before is not a mint's.
        uint256 navBefore = nav();
        if (navBefore == 0) return; // an empty fund with shares out: no quorum would sign a NAV of 0
        Delivery storage d = deliveries[i];
        uint256 supplyBefore = t.totalSupply();
        uint256 mgmt = t.pendingManagementFee();
        uint256 blocks = block.number - t.lastAccrual();
        uint256 feeBefore = t.balanceOf(feeRecipient);
        CreationReport memory r = _creationReport(d, navBefore);
        uint256 out = t.mint(r, _sign(hasher.creationReport(r)));
        d.status = Status.Minted;
        unsettledOn[d.hotkey] -= d.amount;
        ghostMinted += d.amount;
        uint256 gross = t.totalSupply() - supplyBefore - mgmt;
        uint256 fees = t.balanceOf(feeRecipient) - feeBefore;
        if ((fees - mgmt) * 10_000 > gross * 100 + 10_000) ghostFeeViolations++;
        if (mgmt * 10_000 * 2_629_800 > supplyBefore * 200 * blocks) ghostFeeViolations++;
        if (out == 0) ghostFeeViolations++;
        if (nav() < navBefore) ghostNavDrops++;
        // The minted delivery is the fund's now: refunding it, even as an orphan, must be impossible.
        RefundReport memory rr = _refundReport(d);
        rr.requestId = bytes32(0);
        bytes[] memory rsigs = _sign(hasher.refundReport(rr));
        try t.refund(rr, rsigs) {
            ghostDoubleSettled++;
        } catch {}
    }

    /// @dev Refunds delivery `i` (waiting out its request's window first if it is still Pending);
    ///      the position moves only if the runtime accepts the transfer. Then probes that the
    ///      request can no longer mint.
    function _refund(uint256 i) internal {
        Delivery storage d = deliveries[i];
        RequestStatus rs = t.request(d.requestId).status;
        uint256 expiry = uint256(t.request(d.requestId).requestBlock) + t.DELIVERY_WINDOW();
        if (rs == RequestStatus.Pending && block.number <= expiry) vm.roll(expiry + 1);
        uint256 navBefore = nav();
        bytes32 coldkey = coldkeyOf(d.actor);
        uint256 before = staking.stakeOf(d.hotkey, coldkey, NETUID);
        RefundReport memory rr = _refundReport(d);
        t.refund(rr, _sign(hasher.refundReport(rr)));
        if (rs == RequestStatus.Pending) {
            // The refund closed the request: its bond is forfeited to the fund.
            uint256 bond = t.request(d.requestId).bond;
            ghostLocked -= bond;
            ghostFundNative += bond;
        }
        uint256 got = staking.stakeOf(d.hotkey, coldkey, NETUID) - before;
        if (t.positionRefunded(_deliveryId(d), NETUID, d.hotkey)) {
            if (got != d.amount) ghostShortPaid++;
            d.status = Status.Refunded;
            unsettledOn[d.hotkey] -= d.amount;
            ghostRefunded += d.amount;
        } else {
            // Refused by the runtime (transfers disabled): nothing moved, still refundable.
            if (got != 0 || !transfersDisabled) ghostShortPaid++;
            d.status = Status.Refunding;
        }
        if (nav() < navBefore) ghostNavDrops++;
        // A refunded (or refunding) request can never mint.
        CreationReport memory r = _creationReport(d, 1e9);
        bytes[] memory sigs = _sign(hasher.creationReport(r));
        try t.mint(r, sigs) {
            ghostDoubleSettled++;
        } catch {}
    }

    function _creationReport(Delivery storage d, uint256 navPerShare) internal view returns (CreationReport memory r) {
        r.requestId = d.requestId;
        r.epochId = t.request(d.requestId).epochId;
        r.creationFileHash = t.epoch(r.epochId).fileHash;
        r.receiver = d.actor;
        r.units = 1;
        r.positions = new Position[](1);
        r.positions[0] = Position({netuid: NETUID, hotkey: d.hotkey, amount: d.amount});
        r.deliveryBlock = d.deliveredAt;
        r.deliveryIndex = d.index;
        r.valueRao = d.amount;
        r.navPerShare = navPerShare;
        r.signerSetVersion = t.signerSetVersion();
    }

    function _refundReport(Delivery storage d) internal view returns (RefundReport memory rr) {
        rr.requestId = d.requestId;
        rr.coldkey = coldkeyOf(d.actor);
        rr.positions = new Position[](1);
        rr.positions[0] = Position({netuid: NETUID, hotkey: d.hotkey, amount: d.amount});
        rr.deliveryBlock = d.deliveredAt;
        rr.deliveryIndex = d.index;
        rr.signerSetVersion = t.signerSetVersion();
    }

    // ------------------------------------------------------------------ internals: the rest

    /// @dev Applies a fund hotkey change as the timelock does, and checks that it moves no value:
    ///      the fund is worth exactly what it was (deliveries found under the new hotkey are held out
    ///      of it), so neither the value per share nor the fund's value changes.
    function _changeFundHotkey(bytes32 hk) internal {
        uint256 navBefore = nav();
        uint256 valueBefore = fundValue();
        vm.prank(t.owner());
        t.setFundHotkey(NETUID, hk);
        if (nav() < navBefore) ghostNavDrops++;
        if (fundValue() != valueBefore) ghostValueShifts++;
    }

    /// @dev Whether changing netuid 1's fund hotkey to `hk` now would leave the fund's own stake and
    ///      the claims on it behind under the old hotkey: non-zero but below the runtime minimum, so
    ///      the contract does not move it, and no sweep can while it stays dust. The claims'
    ///      reservation moves to the new hotkey all the same: `reserved` would exceed the fund
    ///      hotkey's stake and the fund would read as worth 0 (a dust-level edge of a near-empty
    ///      fund, reported with this suite, not the bug class it checks). Governance changes a
    ///      hotkey while the fund is worth more than the minimum; the handler does too.
    function _strandsDust(bytes32 hk) internal view returns (bool) {
        bytes32 old = t.fundHotkey(NETUID);
        if (hk == old) return false;
        uint256 stake = staking.stakeOf(old, vault, NETUID);
        uint256 held = t.heldForDeliveries(NETUID);
        uint256 moving = stake > held ? stake - held : 0;
        return moving != 0 && _isDust(moving);
    }

    /// @dev What a redemption of `shares` owes now (alpha of netuid 1, native wei) and whether the
    ///      contract accepts it: some shares are burned after the fee and something is owed.
    function _redemptionOf(uint256 shares) internal view returns (uint256 alpha, uint256 native, bool legal) {
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        (, uint16 redeemBps,) = t.fees();
        uint256 burned = shares - SharesMathLib.feeUp(shares, redeemBps);
        if (burned == 0) return (0, 0, false);
        uint256 stake = staking.stakeOf(t.fundHotkey(NETUID), vault, NETUID);
        uint256 reserved = t.reserved(NETUID);
        alpha = SharesMathLib.redeemAmount(stake > reserved ? stake - reserved : 0, burned, supply);
        native = SharesMathLib.wholeRao(SharesMathLib.redeemAmount(t.fundNativeBalance(), burned, supply));
        legal = alpha != 0 || native != 0;
    }

    /// @dev The handler's model of the guardian's pause at this block: running, blocks paused so far,
    ///      and the block before which the guardian may not pause again.
    function _pauseModel() internal view returns (bool pausedNow, uint64 pausedTotal, uint64 cooldownUntil) {
        pausedTotal = ghostPausedTotal;
        cooldownUntil = ghostCooldownUntil;
        if (ghostPauseStart == 0) return (false, pausedTotal, cooldownUntil);
        uint64 ends = ghostPauseStart + GUARDIAN_PAUSE;
        if (block.number < ends) return (true, pausedTotal, cooldownUntil);
        // Lapsed: it ended at its last block, and bars the next one as long.
        return (false, pausedTotal + GUARDIAN_PAUSE, ends + GUARDIAN_PAUSE);
    }

    /// @dev Whether the runtime refuses to move `amount` of netuid 1 alpha: worth less than the
    ///      minimum stake at the suite's price of 1 TAO per alpha.
    function _isDust(uint256 amount) internal view returns (bool) {
        return amount < t.minStakeRao();
    }

    function _pausedNow() internal view returns (bool pausedNow) {
        (pausedNow,,) = _pauseModel();
    }

    function _ensureEpoch() internal {
        uint64 e = t.epochAt(block.number);
        if (t.epoch(e).fileHash != bytes32(0)) return;
        CreationFile memory f;
        f.epochId = e;
        f.validFromBlock = t.GENESIS_BLOCK() + e * t.EPOCH_LENGTH();
        f.validUntilBlock = f.validFromBlock + t.EPOCH_LENGTH() - 1;
        f.sharesPerUnit = 1000e18;
        f.toleranceBps = 5;
        f.minUnits = 1;
        f.signerSetVersion = t.signerSetVersion();
        f.assets = new Asset[](1);
        f.assets[0] = Asset({netuid: NETUID, qtyPerUnit: 1e9, weightBps: 10_000});
        t.publishEpoch(f, _sign(hasher.creationFile(f)));
    }

    function _sign(bytes32 structHash) internal view returns (bytes[] memory sigs) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", t.domainSeparator(), structHash));
        sigs = new bytes[](threshold);
        for (uint256 i; i < threshold; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }
}
