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
    }

    /// @dev Per fund netuid: alpha booked to redeemers under its fund hotkey, and the block its
    ///      fund hotkey took over (deliveries on that hotkey from before it stay settleable).
    struct NetuidState {
        uint64 reserved;
        uint64 hotkeySince;
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
            if (checkHeld) _checkHeld(p);
        }
    }

    /// @dev The vault holds the position, allowing the share pool's one rao of rounding: a delivery of
    ///      `a` may read `a - 1` (`primitives/share-pool` truncates shares and values).
    function _checkHeld(Position calldata p) internal view {
        uint256 held = StakingLib.stakeOf(p.hotkey, VAULT, p.netuid);
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
