// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {
    ITAO20,
    Asset,
    CreationFile,
    Position,
    CreationReport,
    RefundReport
} from "../../contracts/interfaces/ITAO20.sol";
import {SharesMathLib} from "../../contracts/libraries/SharesMathLib.sol";
import {StakingMock} from "../mocks/StakingMock.sol";
import {Hasher} from "../utils/Hasher.sol";

/// @notice Drives TAO20 the way its users and keepers do (fair creations, failed deliveries that
///         are refunded, redemptions, transfers, time) and keeps ghost accounts the invariants check.
contract TAO20Handler is Test {
    ITAO20 internal immutable t;
    StakingMock internal immutable staking;
    Hasher internal immutable hasher;
    uint256[] internal keys; // signer keys, ascending by address
    bytes32 internal immutable fundHk;
    uint256 internal immutable threshold;

    address[] public actors;
    address public feeRecipient;

    // ghosts
    uint256 public ghostDelivered;
    uint256 public ghostMinted;
    uint256 public ghostRefunded;
    uint256 public ghostRedeemedOut;
    uint256 public ghostDoubleSettled;
    uint256 public ghostNavDrops;
    uint256 public ghostFeeViolations;
    uint256 public ghostBooked;
    uint256 public ghostClaimed;
    uint256 public calls;

    uint64 internal deliveryIndex;

    constructor(ITAO20 t_, StakingMock s_, Hasher h_, uint256[] memory keys_, uint256 threshold_, address fee_) {
        t = t_;
        staking = s_;
        hasher = h_;
        keys = keys_;
        threshold = threshold_;
        feeRecipient = fee_;
        fundHk = t_.fundHotkey(1);
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

    /// @dev Fund value in rao: alpha at 1 TAO per alpha. The suite runs with a zero bond, so the
    ///      fund holds no native TAO (whose wei-to-rao floor would blur the exact NAV comparison;
    ///      native redemptions are covered by the unit tests).
    function fundValue() public view returns (uint256) {
        // Booked claims sit under the fund hotkey but are the claimants', not the fund's.
        return staking.stakeOf(fundHk, t.vault(), 1) - t.reserved(1) + t.fundNativeBalance() / 1e9;
    }

    function nav() public view returns (uint256) {
        return SharesMathLib.navPerShare(fundValue(), t.totalSupply() + t.pendingManagementFee());
    }

    // ------------------------------------------------------------------ actions

    function create(uint256 actorSeed, uint256 amountSeed) external {
        calls++;
        address a = actors[actorSeed % actors.length];
        uint64 amount = uint64(bound(amountSeed, 1e7, 1e15));
        _ensureEpoch();
        (bytes32 id, Position[] memory ps) = _requestAndDeliver(a, amount);
        // Measured at the mint's own block: the management fee of the blocks before is not a mint's.
        uint256 navBefore = nav();
        uint256 supplyBefore = t.totalSupply();
        uint256 mgmt = t.pendingManagementFee();
        uint256 blocks = block.number - t.lastAccrual();
        uint256 feeBefore = t.balanceOf(feeRecipient);
        CreationReport memory r;
        r.requestId = id;
        r.epochId = t.request(id).epochId;
        r.creationFileHash = t.epoch(r.epochId).fileHash;
        r.receiver = a;
        r.units = 1;
        r.positions = ps;
        r.deliveryBlock = uint64(block.number);
        r.deliveryIndex = uint32(deliveryIndex);
        r.valueRao = amount;
        r.navPerShare = navBefore;
        r.signerSetVersion = t.signerSetVersion();
        bytes[] memory sigs = _sign(hasher.creationReport(r));
        try t.mint(r, sigs) returns (uint256 out) {
            ghostDelivered += amount;
            ghostMinted += amount;
            uint256 gross = t.totalSupply() - supplyBefore - mgmt;
            uint256 fees = t.balanceOf(feeRecipient) - feeBefore;
            if ((fees - mgmt) * 10_000 > gross * 100 + 10_000) ghostFeeViolations++;
            if (mgmt * 10_000 * 2_629_800 > supplyBefore * 200 * blocks) ghostFeeViolations++;
            if (out == 0) ghostFeeViolations++;
        } catch {
            // A too-small first mint (dead shares) or slippage: the delivery is refunded instead.
            _refundAfterExpiry(id, a, ps, r.deliveryBlock);
            ghostDelivered += amount;
            ghostRefunded += amount;
        }
        if (nav() < navBefore) ghostNavDrops++;
        // The minted delivery is on the fund hotkey now: refunding it must be impossible.
        RefundReport memory rr = _refundReport(bytes32(0), a, ps, r.deliveryBlock);
        bytes[] memory rsigs = _sign(hasher.refundReport(rr));
        try t.refund(rr, rsigs) {
            ghostDoubleSettled++;
        } catch {}
    }

    function failDelivery(uint256 actorSeed, uint256 amountSeed) external {
        calls++;
        address a = actors[actorSeed % actors.length];
        uint64 amount = uint64(bound(amountSeed, 1e7, 1e15));
        _ensureEpoch();
        (bytes32 id, Position[] memory ps) = _requestAndDeliver(a, amount);
        uint64 deliveredAt = uint64(block.number);
        vm.roll(block.number + t.DELIVERY_WINDOW());
        uint256 navBefore = nav();
        _refund(id, a, ps, deliveredAt);
        ghostDelivered += amount;
        ghostRefunded += amount;
        if (nav() < navBefore) ghostNavDrops++;
        // A refunded request can never mint.
        CreationReport memory r;
        r.requestId = id;
        r.epochId = t.request(id).epochId;
        r.creationFileHash = t.epoch(r.epochId).fileHash;
        r.receiver = a;
        r.units = 1;
        r.positions = ps;
        r.deliveryBlock = deliveredAt;
        r.valueRao = amount;
        r.navPerShare = 1e9;
        r.signerSetVersion = t.signerSetVersion();
        bytes[] memory sigs = _sign(hasher.creationReport(r));
        try t.mint(r, sigs) {
            ghostDoubleSettled++;
        } catch {}
    }

    function redeem(uint256 actorSeed, uint256 fractionSeed, bool skipAlpha) external {
        calls++;
        address a = actors[actorSeed % actors.length];
        uint256 bal = t.balanceOf(a);
        if (bal == 0) return;
        uint256 shares = bound(fractionSeed, 1, bal);
        uint256 navBefore = nav();
        uint256 stakeBefore = staking.stakeOf(fundHk, t.vault(), 1);
        uint256 feeBefore = t.balanceOf(feeRecipient);
        uint256 mgmt = t.pendingManagementFee();
        uint256 n = t.positionCount();
        uint256 reservedBefore = t.reserved(1);
        bool[] memory skip = new bool[](n);
        skip[0] = skipAlpha; // a holder skipping the position (say, transfers disabled) books it instead
        vm.prank(a);
        try t.redeem(shares, keccak256(abi.encode(a)), new uint256[](n), skip) {
            ghostRedeemedOut += stakeBefore - staking.stakeOf(fundHk, t.vault(), 1);
            ghostBooked += t.reserved(1) - reservedBefore;
            uint256 redeemFee = t.balanceOf(feeRecipient) - feeBefore - mgmt;
            if (redeemFee * 10_000 > shares * 100 + 10_000) ghostFeeViolations++;
        } catch {}
        if (nav() < navBefore) ghostNavDrops++;
    }

    function claim(uint256 actorSeed) external {
        calls++;
        bytes32 coldkey = keccak256(abi.encode(actors[actorSeed % actors.length]));
        uint256 owed = t.claimOf(coldkey, 1);
        uint256 stakeBefore = staking.stakeOf(fundHk, t.vault(), 1);
        uint256 navBefore = nav();
        uint16[] memory netuids = new uint16[](1);
        netuids[0] = 1;
        try t.claim(coldkey, netuids) {
            ghostClaimed += owed;
            ghostRedeemedOut += stakeBefore - staking.stakeOf(fundHk, t.vault(), 1);
        } catch {}
        if (nav() < navBefore) ghostNavDrops++;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amountSeed) external {
        calls++;
        address from = actors[fromSeed % actors.length];
        address to = actors[toSeed % actors.length];
        uint256 amount = bound(amountSeed, 0, t.balanceOf(from));
        vm.prank(from);
        t.transfer(to, amount);
    }

    function advance(uint256 blocksSeed) external {
        calls++;
        vm.roll(block.number + bound(blocksSeed, 1, 2000));
    }

    // ------------------------------------------------------------------ internals

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
        f.assets[0] = Asset({netuid: 1, qtyPerUnit: 1e9, weightBps: 10_000});
        t.publishEpoch(f, _sign(hasher.creationFile(f)));
    }

    function _requestAndDeliver(address a, uint64 amount) internal returns (bytes32 id, Position[] memory ps) {
        uint256 bond = t.creationBond();
        vm.prank(a);
        id = t.requestCreation{value: bond}(1, keccak256(abi.encode(a)), a, 0);
        vm.roll(block.number + 1);
        deliveryIndex++;
        // A fresh delivery hotkey per delivery keeps deliveries apart, as the quorum sees them.
        bytes32 hk = keccak256(abi.encode("delivery", deliveryIndex));
        bytes32 coldkey = keccak256(abi.encode(a));
        staking.setStake(hk, coldkey, 1, amount);
        staking.transferStakeFrom(coldkey, t.vault(), hk, 1, amount);
        ps = new Position[](1);
        ps[0] = Position({netuid: 1, hotkey: hk, amount: amount});
    }

    function _refundAfterExpiry(bytes32 id, address a, Position[] memory ps, uint64 deliveredAt) internal {
        vm.roll(block.number + t.DELIVERY_WINDOW());
        _refund(id, a, ps, deliveredAt);
    }

    function _refund(bytes32 id, address a, Position[] memory ps, uint64 deliveredAt) internal {
        RefundReport memory rr = _refundReport(id, a, ps, deliveredAt);
        t.refund(rr, _sign(hasher.refundReport(rr)));
    }

    function _refundReport(bytes32 id, address a, Position[] memory ps, uint64 deliveredAt)
        internal
        view
        returns (RefundReport memory rr)
    {
        rr.requestId = id;
        rr.coldkey = keccak256(abi.encode(a));
        rr.positions = ps;
        rr.deliveryBlock = deliveredAt;
        rr.deliveryIndex = uint32(deliveryIndex);
        rr.signerSetVersion = t.signerSetVersion();
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
