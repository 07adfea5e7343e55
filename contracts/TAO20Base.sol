// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {
    Asset,
    Position,
    Request,
    RequestStatus,
    DeliveryState,
    Epoch,
    PauseClock,
    InitParams
} from "./interfaces/ITAO20.sol";
import {ErrorsLib} from "./libraries/ErrorsLib.sol";
import {EventsLib} from "./libraries/EventsLib.sol";
import {SharesMathLib} from "./libraries/SharesMathLib.sol";
import {SignatureLib} from "./libraries/SignatureLib.sol";
import {StakingLib} from "./libraries/StakingLib.sol";

/// @title TAO20Base
/// @notice The state of the TAO20 contract and the checks its core and its settlement module share.
/// @dev The core (`TAO20`) and the settlement module (`TAO20Settlement`) both derive from this
///      contract and declare no state of their own, so their storage layouts are one: the core
///      `delegatecall`s the module, which then reads and writes the core's storage and calls the
///      precompiles as the vault. Both are built with the same immutables (the core deploys the
///      module in its constructor).
abstract contract TAO20Base is ERC20, EIP712, Ownable2Step, ReentrancyGuardTransient {
    // ------------------------------------------------------------------ constants

    /// @dev Positions one refund or sweep may name (their outcome is a 256-bit mask).
    uint256 internal constant MAX_REPORT_POSITIONS = 256;
    /// @dev One rao of TAO in wei: the runtime moves whole rao only.
    uint256 internal constant RAO = 1e9;

    /// @dev `mintedAt`: set by a block's first request, so that its mints update the slot rather than
    ///      open it; the low byte counts the entries; five 48-bit entries follow it.
    uint256 internal constant MINTS_OPENED = 1 << 255;
    uint256 internal constant MINTS_PER_SLOT = 5;

    /// @dev The nibble of each netuid in `netuidBits`.
    uint256 internal constant FUND_NETUID = 1;
    uint256 internal constant OWN_HOTKEY = 2;
    uint256 internal constant HAS_CLAIMS = 4;

    /// @dev Most netuids in the fund (`MAX_FUND_POSITIONS`).
    uint256 internal constant MAX_NETUIDS = 128;

    /// @dev Longest pause the guardian alone may impose (7 days of 12 s blocks); it may not pause
    ///      again for as long after one ends. The owner's pauses (48 h notice) have no limit.
    uint64 internal constant GUARDIAN_PAUSE_BLOCKS = 50_400;

    // ------------------------------------------------------------------ immutables

    /// @dev The vault: this contract's substrate mirror account.
    bytes32 internal immutable VAULT;
    /// @dev The hotkey the fund stakes every netuid under unless governance set another for it.
    bytes32 internal immutable DEFAULT_HOTKEY;
    /// @dev First block of epoch 0, and blocks per epoch.
    uint64 internal immutable GENESIS;
    uint64 internal immutable EPOCH_BLOCKS;
    /// @dev Blocks after the request in which its delivery may be included (L).
    uint32 internal immutable WINDOW;
    /// @dev Unpaused blocks after the delivery window before `expire` may close a request.
    uint32 internal immutable GRACE;

    // ------------------------------------------------------------------ storage

    /// @dev Everything `mint` and `redeem` need besides the request, in one slot.
    struct Config {
        uint32 signerSetVersion;
        uint8 threshold;
        bool paused;
        uint16 mintFeeBps;
        uint16 redeemFeeBps;
        uint16 managementFeeBps;
        uint40 lastAccrual;
        uint32 sweepNonce;
        uint64 minStakeRao;
        uint16 priceBandBps;
    }

    /// @dev Per fund netuid: alpha under its fund hotkey that is not the fund's (`reserved`: booked
    ///      to redeemers plus `held`), the block its fund hotkey took over (deliveries on that hotkey
    ///      from before it stay settleable), and `held`: the vault's stake found under the new
    ///      hotkey when it took over, kept out of the fund for the deliveries made there before.
    struct NetuidState {
        uint64 reserved;
        uint64 hotkeySince;
        uint64 held;
    }

    /// @dev A retired (dissolved) netuid: the runtime paid each staker `alpha * potRao / totalAlpha`
    ///      rao; what the claims and deliveries on it were owed, still unpaid.
    struct Retirement {
        uint128 potRao;
        uint128 totalAlpha;
        uint128 claimsAlpha;
        uint128 claimsRao;
        uint128 deliveryRao;
    }

    Config internal cfg;
    /// @dev Receives fee shares.
    address internal feeTo;
    /// @dev Bonds of open and minted-unclaimed requests plus native claims: TAO that is not the fund's.
    uint96 internal lockedNative;
    /// @dev May pause requests and mints.
    address internal pauser;
    /// @dev Native TAO (wei, whole rao) `requestCreation` requires at least.
    uint96 internal bondRequired;
    PauseClock internal clock;

    mapping(address signer => uint64 version) internal signerVersionOf;
    address[] internal signerList;

    mapping(uint64 epochId => Epoch) internal epochs;
    mapping(uint64 epochId => Asset[]) internal assetsOf;

    mapping(bytes32 requestId => Request) internal requests;
    /// @dev Requests opened by each miner so far.
    mapping(address miner => uint256) internal requestCount;
    /// @dev Deliveries `(block << 32) | extrinsicIndex` with a refunded position (Refunding).
    mapping(uint256 deliveryId => DeliveryState) internal settled;
    /// @dev The deliveries minted for the requests made in each block: entries
    ///      `(deliveryBlock - requestBlock) << 32 | deliveryIndex`. A mint names a delivery in its
    ///      request's window, so a refund of delivery `(b, i)` finds any mint of it among the request
    ///      blocks `[b - WINDOW, b - 1]`. A block with more than five mints continues at key
    ///      `block | k << 64`, k = 1, 2, ...
    mapping(uint256 key => uint256) internal mintedAt;
    /// @dev Bit `b % 256` of word `b / 256`: a request was made in block `b` (the refund's search).
    mapping(uint256 word => uint256) internal requestBlocks;
    /// @dev keccak256(deliveryId, netuid, hotkey) of every refunded position.
    mapping(bytes32 positionKey => bool) internal refundedPositions;

    /// @dev Four bits per netuid, 64 netuids a word (word `n / 64`, bits `4 * (n % 64)`): a fund
    ///      netuid, one with its own hotkey, one with booked claims. One warm slot answers for a
    ///      whole basket, where per-netuid slots would cost a cold read per asset in every mint and
    ///      redemption.
    mapping(uint256 word => uint256) internal netuidBits;
    mapping(uint16 netuid => bytes32) internal hotkeyOverride;
    mapping(uint16 netuid => NetuidState) internal netuidState;
    uint16[] internal netuidList;

    /// @dev Alpha booked to a coldkey per netuid by redemptions, claimable with `claim`.
    mapping(bytes32 coldkey => mapping(uint16 netuid => uint256)) internal claims;
    /// @dev Native TAO booked to an account by redemptions, claimable with `claimNative`.
    mapping(address account => uint256) internal nativeClaims;

    /// @dev The fund's native TAO (wei, whole rao): forfeited bonds and retired netuids' proceeds,
    ///      less what redemptions took. TAO that reaches the vault otherwise (a dissolved subnet's
    ///      payout before its retirement, a donation) is not the fund's until accounted.
    uint96 internal fundNative;
    /// @dev The block the current pause ends by itself (the guardian's); max for the owner's.
    uint64 internal pauseEnds;
    /// @dev The guardian may not pause before this block (as long after a pause as it lasted).
    uint64 internal pauseCooldownUntil;
    mapping(uint16 netuid => Retirement) internal retirements;

    // ------------------------------------------------------------------ construction

    /// @dev Sets the immutables only; the core initialises the state.
    constructor(InitParams memory p, bytes32 vault_)
        ERC20("TAO20 Subnet Index", "TAO20")
        EIP712("TAO20", "1")
        Ownable(p.owner)
    {
        if (p.epochLength == 0) revert ErrorsLib.InvalidParameter("epochLength");
        // A mint record holds the delivery's offset into its request's window in 16 bits.
        if (p.deliveryWindow == 0 || p.deliveryWindow > type(uint16).max) {
            revert ErrorsLib.InvalidParameter("deliveryWindow");
        }
        if (p.defaultFundHotkey == bytes32(0)) revert ErrorsLib.InvalidParameter("defaultFundHotkey");
        VAULT = vault_;
        DEFAULT_HOTKEY = p.defaultFundHotkey;
        GENESIS = p.genesisBlock;
        EPOCH_BLOCKS = p.epochLength;
        WINDOW = p.deliveryWindow;
        GRACE = p.expiryGrace;
    }

    /// @notice Disabled: governance changes and the guardian need an owner.
    function renounceOwnership() public view override onlyOwner {
        revert ErrorsLib.RenounceDisabled();
    }

    // ------------------------------------------------------------------ shared checks

    /// @dev The hotkey the fund stakes `netuid` under (zero: not a fund netuid).
    function _fundHotkey(uint16 netuid) internal view returns (bytes32) {
        uint256 nibble = netuidBits[netuid >> 6] >> ((netuid & 0x3f) << 2);
        if (nibble & FUND_NETUID == 0) return bytes32(0);
        return nibble & OWN_HOTKEY == 0 ? DEFAULT_HOTKEY : hotkeyOverride[netuid];
    }

    function _isFundNetuid(uint16 netuid) internal view returns (bool) {
        return (netuidBits[netuid >> 6] >> ((netuid & 0x3f) << 2)) & FUND_NETUID != 0;
    }

    function _setHotkey(uint16 netuid, bytes32 hotkey) internal {
        uint256 ownBit = OWN_HOTKEY << ((netuid & 0x3f) << 2);
        if (hotkey == DEFAULT_HOTKEY) {
            netuidBits[netuid >> 6] &= ~ownBit;
            delete hotkeyOverride[netuid];
        } else {
            netuidBits[netuid >> 6] |= ownBit;
            hotkeyOverride[netuid] = hotkey;
        }
    }

    function _addFundNetuid(uint16 netuid, bytes32 hotkey) internal {
        netuidBits[netuid >> 6] |= FUND_NETUID << ((netuid & 0x3f) << 2);
        _setHotkey(netuid, hotkey);
        netuidList.push(netuid);
        emit EventsLib.FundHotkeyUpdated(netuid, bytes32(0), hotkey);
    }

    function _checkVersion(uint64 version, Config memory c) internal pure {
        if (version != c.signerSetVersion) revert ErrorsLib.StaleSignerSet(version, c.signerSetVersion);
    }

    function _deliveryId(uint64 deliveryBlock, uint32 deliveryIndex) internal pure returns (uint256) {
        return (uint256(deliveryBlock) << 32) | deliveryIndex;
    }

    function _requirePending(bytes32 requestId, RequestStatus status) internal pure {
        if (status == RequestStatus.None) revert ErrorsLib.UnknownRequest(requestId);
        if (status != RequestStatus.Pending) revert ErrorsLib.RequestNotPending(requestId, status);
    }

    /// @dev The delivery must be included in `(requestBlock, requestBlock + WINDOW]`.
    function _checkWindow(uint64 deliveryBlock, uint40 requestBlock) internal view {
        uint256 end = uint256(requestBlock) + WINDOW;
        if (deliveryBlock <= requestBlock || deliveryBlock > end) {
            revert ErrorsLib.DeliveryOutsideWindow(deliveryBlock, uint256(requestBlock) + 1, end);
        }
    }

    /// @dev Whether the runtime would refuse to move `amount` of `netuid`: its value at the Alpha
    ///      precompile's price (wei per alpha), `floor(amount * price / 1e18)`, is below the minimum
    ///      stake, i.e. `amount * price < minStake * 1e18`. The precompile floors the price to whole
    ///      rao, so this never calls an amount the runtime refuses transferable. Amounts are alpha
    ///      (a u64 in the runtime) and prices whole-rao u64 values times 1e9: no overflow.
    function _isDust(uint16 netuid, uint256 amount, uint64 minStake) internal view returns (bool) {
        return SharesMathLib.isDust(amount, StakingLib.alphaPrice(netuid), minStake);
    }

    /// @dev `SharesMathLib.isDust` with the minimum already scaled (`minStake * 1e18`), for the
    ///      redemption's per-position loop.
    function _isBelow(uint16 netuid, uint256 amount, uint256 minValue) internal view returns (bool) {
        return amount * StakingLib.alphaPrice(netuid) < minValue;
    }

    /// @dev The pause clock as of this block, with a guardian's pause that has run out counted as
    ///      ended at its last block; and whether requests and mints are paused now.
    function _clockNow() internal view returns (PauseClock memory pc, bool pausedNow) {
        pc = clock;
        if (pc.pausedSince == 0) return (pc, false);
        uint64 ends = pauseEnds;
        if (block.number < ends) return (pc, true);
        pc.pausedTotal += ends - pc.pausedSince;
        pc.pausedSince = 0;
        pc.lastUnpause = ends;
    }

    /// @dev Reverts while requests and mints are paused; `flag` is `cfg.paused`, so the unpaused
    ///      path reads nothing more.
    function _requireUnpaused(bool flag) internal view {
        if (!flag) return;
        (, bool pausedNow) = _clockNow();
        if (pausedNow) revert ErrorsLib.Paused();
    }

    /// @dev `alpha` of retired netuid `r` in rao, as the runtime paid it (rounded down).
    function _retiredRao(Retirement storage r, uint256 alpha) internal view returns (uint256) {
        return (alpha * r.potRao) / r.totalAlpha;
    }

    /// @dev Returns up to `amount` of the stake held back on `netuid`'s fund hotkey to the fund:
    ///      a delivery made there before the hotkey took over was minted or refunded.
    function _releaseHeld(uint16 netuid, uint256 amount) internal {
        NetuidState storage s = netuidState[netuid];
        uint64 held = s.held;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 released = amount < held ? uint64(amount) : held;
        if (released == 0) return;
        s.held = held - released;
        _unreserve(netuid, released); // held is part of the reservation
    }

    /// @dev Takes `amount` off `netuid`'s reservation (a claim paid, a held delivery settled); the
    ///      bitmap stops marking the netuid once nothing is reserved.
    function _unreserve(uint16 netuid, uint64 amount) internal {
        NetuidState storage s = netuidState[netuid];
        uint64 left = s.reserved - amount;
        s.reserved = left;
        if (left == 0) netuidBits[netuid >> 6] &= ~(HAS_CLAIMS << ((netuid & 0x3f) << 2));
    }

    /// @dev Whether delivery `(deliveryBlock, deliveryIndex)` was minted for some request.
    function _isMinted(uint64 deliveryBlock, uint32 deliveryIndex) internal view returns (bool) {
        if (deliveryBlock == 0) return false;
        uint256 first = deliveryBlock > WINDOW ? deliveryBlock - WINDOW : 0;
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        for (uint256 r = first; r < deliveryBlock; ++r) {
            if (r >> 8 != wordIndex) {
                wordIndex = r >> 8;
                word = requestBlocks[wordIndex];
            }
            // forge-lint: disable-next-line(incorrect-shift)
            if (word & (1 << (r & 0xff)) == 0) continue; // bit r % 256: a request in block r
            uint256 entry = ((deliveryBlock - r) << 32) | deliveryIndex;
            for (uint256 k;; ++k) {
                uint256 slot = mintedAt[r | (k << 64)];
                uint256 count = slot & 0xff;
                for (uint256 j; j < count; ++j) {
                    if ((slot >> (8 + 48 * j)) & 0xffffffffffff == entry) return true;
                }
                if (count < MINTS_PER_SLOT) break;
            }
        }
        return false;
    }

    /// @dev Positions strictly ascending by (netuid, hotkey), non-zero, and (with `checkHeld`) held by
    ///      the vault. None may lie on its netuid's fund hotkey unless delivered no later than the
    ///      block that hotkey took over (`deliveryBlock <= hotkeySince`; a delivery in that very block
    ///      may have preceded the change): such a position gets a zero target. With `toFund`, each
    ///      netuid must have a fund hotkey; returns the fund hotkey each position moves to.
    function _checkPositions(Position[] calldata positions, bool toFund, uint64 deliveryBlock, bool checkHeld)
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
            bytes32 fundHk = _fundHotkey(p.netuid);
            if (toFund && fundHk == bytes32(0)) revert ErrorsLib.UnknownNetuid(p.netuid);
            if (p.hotkey == fundHk) {
                if (deliveryBlock > netuidState[p.netuid].hotkeySince) {
                    revert ErrorsLib.FundHotkeyPosition(p.netuid, p.hotkey);
                }
            } else {
                toHotkeys[i] = fundHk;
            }
            if (checkHeld) _checkHeld(p, p.hotkey == fundHk);
        }
    }

    /// @dev The vault holds the position, allowing the share pool's one rao of rounding: a delivery of
    ///      `a` may read `a - 1` (`primitives/share-pool` truncates shares and values). A position on
    ///      its fund hotkey must be covered by the stake held back there when the hotkey took over:
    ///      the rest of that hotkey's stake is the fund's.
    function _checkHeld(Position calldata p, bool onFundHotkey) internal view {
        uint256 held = onFundHotkey ? netuidState[p.netuid].held : StakingLib.stakeOf(p.hotkey, VAULT, p.netuid);
        if (held + 1 < p.amount) revert ErrorsLib.PositionNotHeld(p.netuid, p.hotkey, held, p.amount);
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

    function _sendNative(address to, uint256 amount) internal {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ErrorsLib.NativeTransferFailed(to, amount);
    }
}
