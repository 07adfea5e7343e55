// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {CreationReport, Position, RefundReport, Sweep} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";

/// @notice One test per finding of the review of the contract against the live runtime (issue 9).
///         Each failed on the contract before the fix, for the reason its first assertion names.
contract RegressionTest is BaseTest {
    function _one(uint16 netuid) internal pure returns (uint16[] memory list) {
        list = new uint16[](1);
        list[0] = netuid;
    }

    /// @dev Finding 1: `getAlphaPrice` answers wei per alpha and a refused dispatch burns the gas
    ///      forwarded to it, so dust must be decided from the price before any call.
    function test_Regression_RedeemDustWeiPrice() public {
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(2, 10e9);
        CreationReport memory r = _report(id, ps, 20e9, 1e9);
        t.mint(r, _reportSigs(r));
        vm.prank(miner);
        t.transfer(holder, 1e18);
        // Both subnets fall to 1e-4 TAO per alpha: a tenth of a share's part of each is dust.
        staking.setSubnet(1, 1e5, false);
        staking.setSubnet(2, 1e5, false);

        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        uint256 gasBefore = gasleft();
        vm.prank(holder);
        (bool ok,) = address(t).call{gas: 30_000_000}(abi.encodeCall(t.redeem, (1e17, holderColdkey, mins, skip)));
        uint256 used = gasBefore - gasleft();
        assertTrue(ok, "a redemption whose positions are dust reverted");
        assertLt(used, 1_000_000, "a refused dispatch burned the gas forwarded to it");
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), 0, "dust is never sent to the runtime");
        assertEq(staking.stakeOf(fundHk(2), holderColdkey, 2), 0, "dust is never sent to the runtime");
    }

    /// @dev Finding 2: a subnet owner holding TAO20 disables transfers so other holders must skip
    ///      its subnet, then re-enables and redeems what they left behind.
    function test_Regression_TransferToggleConfiscation() public {
        (uint256 minted,) = _createShares(10e9, 10e9, 1e9);
        vm.prank(miner);
        t.transfer(holder, minted / 2);
        staking.setSubnet(1, 0, true); // the subnet owner (the miner, a TAO20 holder) disables transfers

        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 shares = t.balanceOf(holder);
        uint256 burned = shares - (shares * REDEEM_FEE + 9999) / 10_000;
        uint256 owed = 10e9 * burned / supply;
        vm.prank(holder);
        t.redeem(shares, holderColdkey, mins, skip);

        staking.setSubnet(1, 0, false);
        (mins, skip) = _noSkip();
        uint256 rest = t.balanceOf(miner);
        vm.prank(miner);
        t.redeem(rest, minerColdkey, mins, skip);
        assertGe(_fundStake(1), owed, "the skipping holder's alpha went to the subnet owner");

        (bool ok,) = address(t).call(abi.encodeWithSignature("claim(bytes32,uint16[])", holderColdkey, _one(1)));
        assertTrue(ok, "the holder's coldkey cannot claim what it was owed");
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), owed, "claimed in full");
    }

    /// @dev Finding 3: a permissionless fund hotkey change, applied by whoever chooses the moment,
    ///      left a valid delivery under the new hotkey neither mintable nor refundable.
    function test_Regression_FundHotkeyChangeStrandsDelivery() public {
        bytes32 validator = keccak256("tao20.validator");
        _queueFundHotkey(1, validator);
        _publish(1);
        bytes32 valid = _request(1, 0);
        bytes32 invalid = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        // Both miners stake with that validator and deliver under its hotkey.
        staking.setStake(validator, minerColdkey, 1, 1e9 + 5e8);
        staking.transferStakeFrom(minerColdkey, vault, validator, 1, 1e9);
        staking.transferStakeFrom(minerColdkey, vault, validator, 1, 5e8);

        vm.prank(makeAddr("griefer"));
        assertTrue(_applyFundHotkey(1, validator), "the change applies");

        Position[] memory ps = new Position[](1);
        ps[0] = Position({netuid: 1, hotkey: validator, amount: 1e9});
        CreationReport memory r = _report(valid, ps, 1e9, 1e9);
        uint256 out = t.mint(r, _reportSigs(r));
        assertGt(out, 0, "the valid delivery mints");
        assertEq(staking.stakeOf(validator, vault, 1), 1e9 + 5e8, "it is already on the fund hotkey");

        vm.roll(block.number + WINDOW);
        ps[0].amount = 5e8;
        RefundReport memory rr = _refundReport(invalid, minerColdkey, ps, deliveredAt);
        t.refund(rr, _refundSigs(rr));
        assertEq(staking.stakeOf(validator, minerColdkey, 1), 5e8, "the invalid delivery is refunded");
        assertEq(_fundStake(1) + staking.stakeOf(validator, vault, 1), 1e9, "the fund keeps the minted one");
    }

    /// @dev Finding 4: after a pause longer than window + grace anyone could expire a validly
    ///      delivered request and take the honest miner's bond.
    function test_Regression_PauseExpiresHonestMiner() public {
        _publish(1);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, 1e9);
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + WINDOW + GRACE + 10);

        (bool ok,) = address(t).call(abi.encodeCall(t.expire, (id)));
        assertFalse(ok, "an honest miner's request expired while the fund was paused");
        vm.prank(guardian);
        t.setPaused(false);
        (ok,) = address(t).call(abi.encodeCall(t.expire, (id)));
        assertFalse(ok, "it expired the moment the fund resumed");

        CreationReport memory r = _report(id, ps, 1e9, 1e9);
        assertGt(t.mint(r, _reportSigs(r)), 0, "the delivery still mints");
    }

    /// @dev Finding 5: a queued change stayed applicable forever, by anyone, with no fresh notice.
    function test_Regression_QueuedChangeLapses() public {
        _queueCreationBond(2 ether);
        vm.roll(block.number + 30 * 7200); // a month later
        assertFalse(_applyCreationBond(2 ether), "a change queued a month ago still applies");
        assertEq(t.creationBond(), BOND, "the bond is unchanged");
    }

    /// @dev Finding 6: with two deliveries under one hotkey, a refund of an already minted delivery
    ///      was accepted and paid from the other miner's pending stake.
    function test_Regression_MintDoesNotRecordDelivery() public {
        _publish(1);
        address miner2 = makeAddr("miner2");
        bytes32 coldkey2 = keccak256("tao20.coldkey.miner2");
        vm.deal(miner2, 10 ether);
        bytes32 first = _request(1, 0);
        vm.prank(miner2);
        t.requestCreation{value: BOND}(1, coldkey2, miner2, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, 1e9);
        staking.setStake(minerHk(1), coldkey2, 1, 1e9);
        staking.transferStakeFrom(coldkey2, vault, minerHk(1), 1, 1e9); // the second miner's, same hotkey
        CreationReport memory r = _report(first, ps, 1e9, 1e9);
        t.mint(r, _reportSigs(r));

        RefundReport memory rr = _refundReport(bytes32(0), minerColdkey, ps, r.deliveryBlock);
        rr.deliveryIndex = r.deliveryIndex; // the minted delivery, refunded as an orphan
        bytes[] memory sigs = _refundSigs(rr);
        (bool ok,) = address(t).call(abi.encodeCall(t.refund, (rr, sigs)));
        assertFalse(ok, "a minted delivery was refunded from another miner's pending stake");
        assertEq(staking.stakeOf(minerHk(1), vault, 1), 1e9, "the second delivery is untouched");
    }

    /// @dev Finding 7: the runtime moves whole rao, so booking a bond's sub-rao wei made
    ///      `fundNativeBalance` underflow and froze every redemption that takes native TAO.
    function test_Regression_SubRaoBondFreezesRedemptions() public {
        (uint256 minted,) = _createShares(10e9, 10e9, 1e9);
        vm.prank(miner);
        t.transfer(holder, minted / 2);
        vm.prank(miner);
        try t.requestCreation{value: uint256(BOND) + 1}(1, minerColdkey, miner, 0) {
            // On chain the contract's balance grew by floor(wei / 1e9) rao: model the runtime.
            vm.deal(address(t), address(t).balance - 1);
        } catch {}

        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        (bool ok,) = address(t).call(abi.encodeCall(t.redeem, (1e18, holderColdkey, mins, skip)));
        assertTrue(ok, "a sub-rao bond froze every redemption that takes native TAO");
    }

    /// @dev Finding 8: dust could be neither refunded nor swept (the runtime refuses both below
    ///      the minimum), and a partial refund spent the whole delivery id for good.
    function test_Regression_DustDeliveryStranded() public {
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        Position[] memory ps = _deliver(2, 3e9);
        vm.roll(block.number + WINDOW);
        staking.setSubnet(2, 1e5, false); // netuid 2 falls: 3e9 of it is worth 3e5 rao, below the minimum

        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveredAt);
        bytes[] memory sigs = _refundSigs(r);
        (bool ok,) = address(t).call{gas: 5_000_000}(abi.encodeCall(t.refund, (r, sigs)));
        assertTrue(ok, "one dust position blocked the whole refund");
        assertEq(staking.stakeOf(minerHk(1), minerColdkey, 1), 3e9, "the transferable position is refunded");
        assertEq(staking.stakeOf(minerHk(2), vault, 2), 3e9, "the dust position waits in the vault");

        staking.setSubnet(2, 0, false); // worth the minimum again: the same signed report refunds the rest
        t.refund(r, sigs);
        assertEq(staking.stakeOf(minerHk(2), minerColdkey, 2), 3e9, "nothing delivered is stranded");

        bytes32 stray = keccak256("emissions");
        staking.setStake(stray, vault, 3, 5e7);
        staking.setStake(stray, vault, 4, 1e3); // 1e3 rao of TAO: dust
        Sweep memory s;
        s.positions = new Position[](2);
        s.positions[0] = Position({netuid: 3, hotkey: stray, amount: 5e7});
        s.positions[1] = Position({netuid: 4, hotkey: stray, amount: 1e3});
        s.signerSetVersion = t.signerSetVersion();
        bytes[] memory ssigs = _sweepSigs(s);
        (ok,) = address(t).call{gas: 5_000_000}(abi.encodeCall(t.sweep, (s, ssigs)));
        assertTrue(ok, "one dust position blocked the sweep");
        assertEq(_fundStake(3), 5e7, "the rest is swept");
        assertEq(staking.stakeOf(stray, vault, 4), 1e3, "the dust waits for a later sweep");
    }
}

/// @notice One test per finding of the second review (issue 21). Each fails on the contract before
///         the fix for the reason its first assertion names, and takes fuzzed amounts where the
///         exploit does not depend on exact figures.
contract RegressionReview2Test is BaseTest {
    bytes32 internal constant VALIDATOR = keccak256("tao20.validator");

    function _one(uint16 netuid) internal pure returns (uint16[] memory list) {
        list = new uint16[](1);
        list[0] = netuid;
    }

    /// @dev Shares for `holder` (most of them) against `fundAmount` alpha of netuid 1 at 1 TAO.
    function _fundWithHolder(uint64 fundAmount) internal returns (uint256 holderShares) {
        (uint256 minted,) = _createShares(fundAmount, fundAmount, 1e9);
        holderShares = (minted * 9) / 10;
        vm.prank(miner);
        t.transfer(holder, holderShares);
    }

    /// @dev Medium: a fund-hotkey change mixed the deliveries already made under the new hotkey into
    ///      the fund's position. A large holder applied the change and redeemed the miner's delivery
    ///      along with its own share; the honest mint and its refund then reverted `PositionNotHeld`.
    function testFuzz_Regression_FundHotkeyChangeLeaksInFlightDelivery(uint64 fundAmount, uint64 delivered) public {
        fundAmount = uint64(bound(fundAmount, 10e9, 1e15));
        delivered = uint64(bound(delivered, 1e9, 1e15));
        uint256 holderShares = _fundWithHolder(fundAmount);
        _queueFundHotkey(1, VALIDATOR);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        // The miner stakes with the validator and delivers under its hotkey, as the queued change invites.
        staking.setStake(VALIDATOR, minerColdkey, 1, delivered);
        staking.transferStakeFrom(minerColdkey, vault, VALIDATOR, 1, delivered);

        vm.prank(holder);
        assertTrue(_applyFundHotkey(1, VALIDATOR), "anyone applies the ready change");
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 burned = holderShares - (holderShares * REDEEM_FEE + 9999) / 10_000;
        uint256 fair = uint256(fundAmount) * burned / supply;
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        uint256[] memory paid = t.redeem(holderShares, holderColdkey, mins, skip);
        assertLe(paid[0], fair, "the redeemer was paid part of another miner's delivery");

        Position[] memory ps = new Position[](1);
        ps[0] = Position({netuid: 1, hotkey: VALIDATOR, amount: delivered});
        CreationReport memory r = _report(id, ps, delivered, _navAfter());
        assertGt(t.mint(r, _reportSigs(r)), 0, "the honest delivery no longer mints");
        assertEq(t.heldForDeliveries(1), 0, "the mint released what was held for it");
        assertEq(t.reserved(1), 0);
    }

    /// @dev The same change, with the delivery refunded instead: the miner gets its alpha back from
    ///      the fund hotkey, and the fund keeps exactly its own stake.
    function test_Regression_FundHotkeyChangeRefundsHeldDelivery() public {
        _fundWithHolder(10e9);
        _queueFundHotkey(1, VALIDATOR);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        staking.setStake(VALIDATOR, minerColdkey, 1, 4e9);
        staking.transferStakeFrom(minerColdkey, vault, VALIDATOR, 1, 4e9);
        assertTrue(_applyFundHotkey(1, VALIDATOR));
        assertEq(t.heldForDeliveries(1), 4e9, "the delivery's stake is held out of the fund");

        vm.roll(block.number + WINDOW + 1);
        Position[] memory ps = new Position[](1);
        // A report claiming more than was held for the delivery may not take the fund's stake there.
        ps[0] = Position({netuid: 1, hotkey: VALIDATOR, amount: 6e9});
        RefundReport memory rr = _refundReport(id, minerColdkey, ps, deliveredAt);
        bytes[] memory sigs = _refundSigs(rr);
        vm.expectPartialRevert(ErrorsLib.PositionNotHeld.selector);
        t.refund(rr, sigs);
        ps[0].amount = 4e9;
        rr = _refundReport(id, minerColdkey, ps, deliveredAt);
        t.refund(rr, _refundSigs(rr));
        assertEq(staking.stakeOf(VALIDATOR, minerColdkey, 1), 4e9, "the delivery went back to its miner");
        assertEq(staking.stakeOf(VALIDATOR, vault, 1), 10e9, "the fund kept exactly its own stake");
        assertEq(t.heldForDeliveries(1), 0);
    }

    function _navAfter() internal view returns (uint256) {
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 value = _fundStake(1) + staking.stakeOf(VALIDATOR, vault, 1) - t.reserved(1);
        return supply == 0 ? 1e9 : value * 1e18 / supply;
    }

    /// @dev Low: with all gas forwarded, a transfer the runtime refuses (the subnet owner disabled
    ///      transfers just before) burned the redemption's whole gas limit and reverted it.
    function test_Regression_TransferToggleBurnsWholeGasLimit() public {
        uint256 shares = _fundWithHolder(10e9);
        staking.setSubnet(1, 0, true); // transfers disabled; no precompile reports it
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        uint256 gasBefore = gasleft();
        vm.prank(holder);
        (bool ok,) = address(t).call{gas: 30_000_000}(abi.encodeCall(t.redeem, (shares / 2, holderColdkey, mins, skip)));
        uint256 used = gasBefore - gasleft();
        assertTrue(ok, "a toggled subnet reverted the redemption");
        assertLt(used, 1_000_000, "the refusal burned the gas limit");
        assertGt(t.claimOf(holderColdkey, 1), 0, "the refused transfer was booked to the redeemer");

        staking.setSubnet(1, 0, false);
        t.claim(holderColdkey, _one(1));
        assertEq(t.claimOf(holderColdkey, 1), 0, "claimed once transfers are back");
    }

    /// @dev Low: one toggled subnet held a whole multi-netuid refund hostage (the signed report can
    ///      only be relayed whole). Now the other positions move, and the same signatures later
    ///      refund the rest.
    function test_Regression_TransferToggleHoldsRefundHostage() public {
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        Position[] memory ps = _deliver(2, 3e9);
        vm.roll(block.number + WINDOW + 1);
        staking.setSubnet(2, 0, true);

        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveredAt);
        bytes[] memory sigs = _refundSigs(r);
        (bool ok,) = address(t).call{gas: 5_000_000}(abi.encodeCall(t.refund, (r, sigs)));
        assertTrue(ok, "one toggled subnet blocked the whole refund");
        assertEq(staking.stakeOf(minerHk(1), minerColdkey, 1), 3e9, "the movable position is refunded");
        assertEq(staking.stakeOf(minerHk(2), vault, 2), 3e9, "the toggled one waits in the vault");

        staking.setSubnet(2, 0, false);
        t.refund(r, sigs);
        assertEq(staking.stakeOf(minerHk(2), minerColdkey, 2), 3e9, "the same signatures refund the rest");
    }

    /// @dev Low: a dissolved subnet's TAO payout was counted as the fund's: the next redeemer took it,
    ///      redeemers' booked alpha on it became unclaimable. Now it is nobody's until governance
    ///      retires the netuid, which pays the claims their part.
    function testFuzz_Regression_DissolutionProceedsGoToNextRedeemer(uint64 amount, uint64 potPerAlpha) public {
        amount = uint64(bound(amount, 10e9, 1e14));
        potPerAlpha = uint64(bound(potPerAlpha, 1e8, 4e9)); // rao of TAO per alpha paid at dissolution
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(2, amount);
        CreationReport memory r = _report(id, ps, 2 * uint256(amount), 1e9);
        uint256 minted = t.mint(r, _reportSigs(r));
        vm.prank(miner);
        t.transfer(holder, minted / 2);
        // The holder skips netuid 2: its part is booked, a claim on the fund hotkey.
        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[1] = true;
        uint256 holderShares = t.balanceOf(holder);
        vm.prank(holder);
        uint256[] memory paid = t.redeem(holderShares, holderColdkey, mins, skip);
        uint256 booked = paid[1];
        assertEq(t.claimOf(holderColdkey, 2), booked);

        // Subnet 2 dissolves: the runtime pays the vault TAO for all its alpha there, at one rate.
        uint256 vaultAlpha = _fundStake(2);
        staking.setStake(fundHk(2), vault, 2, 0);
        uint256 totalAlpha = vaultAlpha * 3; // other stakers held the rest
        uint256 pot = totalAlpha * potPerAlpha / 1e9;
        uint256 proceeds = vaultAlpha * pot / totalAlpha;
        vm.deal(address(t), address(t).balance + proceeds * 1e9);

        (mins, skip) = _noSkip();
        skip[1] = true;
        uint256 minerShares = t.balanceOf(miner);
        vm.prank(miner);
        uint256[] memory minerPaid = t.redeem(minerShares, minerColdkey, mins, skip);
        // The fund owns no native TAO (the bond is the miner's, locked until claimed).
        assertEq(minerPaid[minerPaid.length - 1], 0, "the next redeemer took the dissolution's TAO");

        // Governance retires netuid 2 with the runtime's figures; the claim is paid in TAO.
        _govern(abi.encodeCall(t.retireNetuid, (2, uint128(pot), uint128(totalAlpha), uint128(vaultAlpha), uint128(0))));
        assertEq(t.fundNetuids().length, N_FUND - 1, "netuid 2 left the fund");
        t.claim(holderColdkey, _one(2));
        assertEq(balances.credited(holderColdkey), booked * pot / totalAlpha * 1e9, "the claim's TAO was paid");
        assertEq(t.claimOf(holderColdkey, 2), 0);
        assertEq(t.fundNativeBalance(), (proceeds - booked * pot / totalAlpha) * 1e9, "the rest is the fund's");
    }

    /// @dev A delivery caught by the dissolution is refunded in the TAO the runtime paid for it.
    function test_Regression_DissolutionRefundsDeliveryInTao() public {
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        Position[] memory ps = _deliver(2, 3e9);
        // Subnet 2 dissolves at 0.5 TAO per alpha before the delivery is minted.
        staking.setStake(minerHk(2), vault, 2, 0);
        vm.deal(address(t), address(t).balance + 1.5e9 * 1e9);
        _govern(abi.encodeCall(t.retireNetuid, (2, uint128(5e9), uint128(10e9), uint128(3e9), uint128(3e9))));

        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveredAt);
        t.refund(r, _refundSigs(r));
        assertEq(staking.stakeOf(minerHk(1), minerColdkey, 1), 3e9, "the live position is refunded in alpha");
        assertEq(balances.credited(minerColdkey), 1.5e9 * 1e9, "the dissolved one in the TAO paid for it");
        assertEq(t.fundNativeBalance(), BOND, "the fund gets the forfeited bond, nothing of the delivery");
    }

    function test_RevertWhen_RetireNetuid_StillStaked() public {
        _createShares(10e9, 10e9, 1e9);
        bytes memory call = abi.encodeCall(t.retireNetuid, (1, uint128(1), uint128(1), uint128(1), uint128(0)));
        bytes32 salt = _schedule(call);
        vm.roll(block.number + TIMELOCK_BLOCKS);
        vm.expectPartialRevert(ErrorsLib.NotDissolved.selector);
        timelock.execute(address(t), 0, call, bytes32(0), salt);
    }

    function test_RevertWhen_RetireNetuid_ClaimsMoreThanArrived() public {
        _createShares(10e9, 10e9, 1e9);
        staking.setStake(fundHk(1), vault, 1, 0);
        vm.deal(address(t), address(t).balance + 1e18);
        bytes memory call = abi.encodeCall(t.retireNetuid, (1, uint128(20e9), uint128(10e9), uint128(10e9), uint128(0)));
        bytes32 salt = _schedule(call);
        vm.roll(block.number + TIMELOCK_BLOCKS);
        vm.expectPartialRevert(ErrorsLib.ProceedsExceedUnaccounted.selector);
        timelock.execute(address(t), 0, call, bytes32(0), salt);
    }

    /// @dev Bound on trust: a very high minimum stake booked every redemption as dust and stopped
    ///      refunds and sweeps.
    function testFuzz_Regression_MinStakeUnbounded(uint64 minStake) public {
        minStake = uint64(bound(minStake, 1e9 + 1, type(uint64).max)); // above MAX_MIN_STAKE_RAO
        bytes memory call = abi.encodeCall(t.setMinStake, (minStake));
        bytes32 salt = _schedule(call);
        vm.roll(block.number + TIMELOCK_BLOCKS);
        assertFalse(_execute(call, salt), "governance set a minimum that books every redemption as dust");
        assertEq(t.minStakeRao(), MIN_STAKE);
    }

    /// @dev Bound on trust: a quorum-signed value far above what the delivery is worth at the Alpha
    ///      precompile's prices minted shares for it.
    function testFuzz_Regression_InflatedValueMints(uint64 amount, uint256 factor) public {
        amount = uint64(bound(amount, 1e9, 1e15));
        factor = bound(factor, 7, 1e6); // the band allows up to 6x
        _publish(1);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, amount);
        CreationReport memory r = _report(id, ps, uint256(amount) * factor, 1e9);
        bytes[] memory sigs = _reportSigs(r);
        vm.expectPartialRevert(ErrorsLib.ValueOutOfBand.selector);
        t.mint(r, sigs);
    }

    /// @dev Bound on trust: a quorum-signed NAV per share far below the fund's minted unlimited shares.
    function testFuzz_Regression_DeflatedNavMints(uint256 divisor) public {
        divisor = bound(divisor, 7, 1e9);
        _createShares(10e9, 10e9, 1e9);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, 1e9);
        CreationReport memory r = _report(id, ps, 1e9, uint256(1e9) / divisor);
        bytes[] memory sigs = _reportSigs(r);
        vm.expectPartialRevert(ErrorsLib.NavOutOfBand.selector);
        t.mint(r, sigs);
    }

    /// @dev Bound on trust: the guardian (one key, no timelock) paused indefinitely, freezing valid
    ///      deliveries. Its pause now ends by itself, and it may not pause again at once.
    function test_Regression_GuardianPausesForever() public {
        _publish(1);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, 1e9);
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + 50_400);
        assertFalse(t.paused(), "the guardian's pause did not end");
        CreationReport memory r = _report(id, ps, 1e9, 1e9);
        assertGt(t.mint(r, _reportSigs(r)), 0, "a valid delivery stayed frozen");

        vm.prank(guardian);
        vm.expectPartialRevert(ErrorsLib.PauseCooldown.selector);
        t.setPaused(true);
        vm.roll(block.number + 50_400);
        vm.prank(guardian);
        t.setPaused(true);
        assertTrue(t.paused(), "after the cooldown it may pause again");
    }

    /// @dev The owner's pause (a timelocked change) has no limit, and the clock counts a lapsed
    ///      guardian pause exactly: expiry waits for every paused block, no more.
    function test_GuardianPauseLapseCountsOnTheClock() public {
        _publish(1);
        bytes32 id = _request(1, 0);
        uint256 first = t.expireableAt(id);
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + 60_000);
        assertEq(t.pauseClock().pausedTotal, 50_400, "the lapsed pause counts its 50 400 blocks");
        assertEq(t.expireableAt(id), first + 50_400, "expiry waits exactly the paused blocks");
        _govern(abi.encodeCall(t.setPaused, (true)));
        vm.roll(block.number + 200_000);
        assertTrue(t.paused(), "the owner's pause does not lapse");
    }

    /// @dev Found by fuzzing the sweep: a position named at exactly the minimum whose stake reads
    ///      one rao short (the share pool's rounding, which `_checkHeld` allows) passed the dust check
    ///      on the named amount, and the runtime then refused the move it clamps to the stake: the
    ///      whole sweep reverted instead of leaving the dust for later.
    function test_Regression_SweepAtTheMinimumOneRaoShort() public {
        bytes32 stray = keccak256("emissions");
        staking.setStake(stray, vault, 3, MIN_STAKE - 1);
        staking.setStake(stray, vault, 4, 5e7);
        Sweep memory order;
        order.positions = new Position[](2);
        order.positions[0] = Position({netuid: 3, hotkey: stray, amount: MIN_STAKE});
        order.positions[1] = Position({netuid: 4, hotkey: stray, amount: 5e7});
        order.signerSetVersion = t.signerSetVersion();
        bytes[] memory sigs = _sweepSigs(order);
        (bool ok,) = address(t).call{gas: 5_000_000}(abi.encodeCall(t.sweep, (order, sigs)));
        assertTrue(ok, "a position the runtime would clamp below the minimum reverted the sweep");
        assertEq(_fundStake(4), 5e7, "the rest is swept");
        assertEq(staking.stakeOf(stray, vault, 3), MIN_STAKE - 1, "the dust waits");
    }
}
