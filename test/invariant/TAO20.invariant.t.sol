// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "../BaseTest.sol";
import {DeliveryState, PauseClock, Request, RequestStatus} from "../../contracts/interfaces/ITAO20.sol";
import {TAO20Handler} from "./TAO20Handler.sol";

/// @notice Invariants of TAO20 under random creations, deliveries in flight, fund hotkey changes,
///         refunds, expiries, redemptions, claims, sweeps, guardian pauses, the transfer toggle,
///         stray TAO and time (fixed seed in foundry.toml; deeper in the `ci` profile). The handler
///         makes legal calls only, so any revert fails the run (`fail_on_revert`).
contract TAO20InvariantTest is BaseTest {
    TAO20Handler internal handler;

    /// @dev A bond of 0.01 TAO: forfeited bonds give the fund native TAO of its own, so the native
    ///      accounts (`fundNativeBalance`, bonds and native claims locked) are exercised too.
    uint96 internal constant INVARIANT_BOND = 0.01 ether;

    function setUp() public override {
        super.setUp();
        uint256[] memory keys = new uint256[](5);
        for (uint256 i; i < 5; ++i) {
            keys[i] = signerKeys[i];
        }
        _govern(abi.encodeCall(t.setCreationBond, (INVARIANT_BOND)));
        handler = new TAO20Handler(t, staking, hasher, keys, THRESHOLD, feeRecipient);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](22);
        selectors[0] = TAO20Handler.create.selector;
        selectors[1] = TAO20Handler.failDelivery.selector;
        selectors[2] = TAO20Handler.deliver.selector;
        selectors[3] = TAO20Handler.deliverPair.selector;
        selectors[4] = TAO20Handler.deliverThenChangeHotkey.selector;
        selectors[5] = TAO20Handler.mintDelivery.selector;
        selectors[6] = TAO20Handler.refundDelivery.selector;
        selectors[7] = TAO20Handler.expireRequest.selector;
        selectors[8] = TAO20Handler.claimBond.selector;
        selectors[9] = TAO20Handler.setFundHotkey.selector;
        selectors[10] = TAO20Handler.guardianPause.selector;
        selectors[11] = TAO20Handler.setTransfers.selector;
        selectors[12] = TAO20Handler.redeem.selector;
        selectors[13] = TAO20Handler.claim.selector;
        selectors[14] = TAO20Handler.claimNative.selector;
        selectors[15] = TAO20Handler.transfer.selector;
        selectors[16] = TAO20Handler.accrueStray.selector;
        selectors[17] = TAO20Handler.sweep.selector;
        selectors[18] = TAO20Handler.donateNative.selector;
        selectors[19] = TAO20Handler.advance.selector;
        selectors[20] = TAO20Handler.advanceLong.selector;
        // Weighted twice: hotkey changes are what the held-delivery invariants are about.
        selectors[21] = TAO20Handler.setFundHotkey.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice The supply is exactly the sum of every holder's balance.
    function invariant_TotalSupplyEqualsSumOfBalances() public view {
        uint256 sum = t.balanceOf(feeRecipient) + t.balanceOf(t.DEAD_ADDRESS());
        for (uint256 i; i < handler.actorCount(); ++i) {
            sum += t.balanceOf(handler.actors(i));
        }
        assertEq(t.totalSupply(), sum);
    }

    /// @notice The fund's value per share never falls through another participant's mint,
    ///         redemption, refund, expiry, claim, sweep or fund hotkey change (measured within the
    ///         block, so the management fee of elapsed blocks is not counted), and a hotkey change or
    ///         sweep moves no value but the swept stake.
    function invariant_ValuePerShareNeverFalls() public view {
        assertEq(handler.ghostNavDrops(), 0, "value per share fell");
        assertEq(handler.ghostValueShifts(), 0, "a hotkey change or sweep moved value");
    }

    /// @notice Every delivered position ends minted into the fund or refunded to its miner, never
    ///         both, or is still settleable: not minted, not refunded, and not lying on the fund
    ///         hotkey with a delivery block after that hotkey took over (where it could be neither).
    ///         None is absorbed into the fund, and every refund and payout is paid in full.
    function invariant_EveryDeliveryMintedRefundedOrSettleable() public view {
        assertEq(handler.ghostDoubleSettled(), 0, "settled twice");
        assertEq(handler.ghostShortPaid(), 0, "a refund, redemption or claim paid short");
        bytes32 fundHk = t.fundHotkey(1);
        uint64 since = t.fundHotkeySince(1);
        uint256 pending;
        for (uint256 i; i < handler.deliveryCount(); ++i) {
            TAO20Handler.Delivery memory d = handler.delivery(i);
            uint256 id = (uint256(d.deliveredAt) << 32) | d.index;
            DeliveryState state = t.deliveryState(id);
            bool refunded = t.positionRefunded(id, 1, d.hotkey);
            RequestStatus rs = t.request(d.requestId).status;
            if (d.status == TAO20Handler.Status.Minted) {
                assertEq(uint8(state), uint8(DeliveryState.Minted), "minted delivery not recorded");
                assertEq(uint8(rs), uint8(RequestStatus.Minted), "minted request");
                assertFalse(refunded, "minted and refunded");
                continue;
            }
            assertTrue(state != DeliveryState.Minted, "a delivery minted behind the handler's back");
            if (d.status == TAO20Handler.Status.Refunded) {
                assertTrue(refunded, "refunded delivery not recorded");
                continue;
            }
            assertFalse(refunded, "an unsettled delivery marked refunded");
            if (d.status == TAO20Handler.Status.Open) assertEq(uint8(rs), uint8(RequestStatus.Pending), "open");
            if (d.status == TAO20Handler.Status.Expired) assertEq(uint8(rs), uint8(RequestStatus.Expired), "expired");
            if (d.status == TAO20Handler.Status.Refunding) {
                // Its request closed by that refund, or expired before it.
                assertTrue(rs == RequestStatus.Refunded || rs == RequestStatus.Expired, "refunding");
                assertEq(uint8(state), uint8(DeliveryState.Refunding), "refunding state");
            }
            if (d.hotkey == fundHk) assertLe(d.deliveredAt, since, "a delivery absorbed by the fund hotkey");
            pending += d.amount;
        }
        assertEq(
            handler.ghostDelivered(),
            handler.ghostMinted() + handler.ghostRefunded() + pending,
            "delivered = minted + refunded + unsettled"
        );
    }

    /// @notice The stake held back on the fund hotkey is exactly the unsettled deliveries lying there
    ///         (delivered before it took over), and under every other hotkey the vault holds exactly
    ///         its unsettled deliveries plus its unswept stray stake: each stays mintable and
    ///         refundable, none is taken into the fund or paid out of it.
    function invariant_HeldIsExactlyTheDeliveriesOnTheFundHotkey() public view {
        bytes32 fundHk = t.fundHotkey(1);
        assertEq(t.heldForDeliveries(1), handler.unsettledOn(fundHk), "held vs deliveries on the fund hotkey");
        for (uint256 i; i < handler.hotkeyCount(); ++i) {
            bytes32 hk = handler.hotkeys(i);
            if (hk == fundHk) continue;
            assertEq(
                staking.stakeOf(hk, vault, 1), handler.unsettledOn(hk) + handler.strayOn(hk), "vault stake off the fund"
            );
        }
    }

    /// @notice What the fund holds out of its position is exactly the claims booked by redemptions
    ///         and the stake held for deliveries; nothing booked is ever lost: claimed or still owed.
    function invariant_ReservedIsClaimsPlusHeld() public view {
        uint256 owed;
        for (uint256 i; i < handler.actorCount(); ++i) {
            owed += t.claimOf(handler.coldkeyOf(handler.actors(i)), 1);
        }
        assertEq(t.reserved(1), owed + t.heldForDeliveries(1), "reserved vs claims + held");
        assertEq(handler.ghostBooked(), owed + handler.ghostClaimed(), "booked vs claimed + owed");
    }

    /// @notice The fund hotkey holds every reservation, and the fund's own alpha is exactly what was
    ///         minted and swept in less what redemptions paid out or booked.
    function invariant_FundHotkeyCoversReservedAndFundIsConserved() public view {
        uint256 stake = staking.stakeOf(t.fundHotkey(1), vault, 1);
        uint256 reserved = t.reserved(1);
        assertGe(stake, reserved, "the fund hotkey holds every claim and held delivery");
        assertEq(
            stake - reserved,
            handler.ghostMinted() + handler.ghostSwept() - handler.ghostPaidOut() - handler.ghostBooked(),
            "fund alpha"
        );
    }

    /// @notice The fund's native TAO is only its own (forfeited bonds less native redemptions): never
    ///         bonds, native claims or TAO that reached the contract otherwise, and always covered by
    ///         the balance left after what is locked.
    function invariant_FundNativeIsOnlyTheFundsOwn() public view {
        uint256 locked;
        for (uint256 i; i < handler.deliveryCount(); ++i) {
            Request memory rq = t.request(handler.delivery(i).requestId);
            // A refunded or expired request's bond went to the fund; a minted one's waits for its miner.
            if (rq.status == RequestStatus.Pending || rq.status == RequestStatus.Minted) locked += rq.bond;
        }
        for (uint256 i; i < handler.actorCount(); ++i) {
            locked += t.nativeClaimOf(handler.actors(i));
        }
        assertEq(handler.ghostLocked(), locked, "locked = open bonds + native claims");
        uint256 balance = address(t).balance;
        assertGe(balance, locked, "bonds and native claims covered");
        assertLe(t.fundNativeBalance(), balance - locked, "fundNativeBalance <= balance - locked");
        assertEq(t.fundNativeBalance(), handler.ghostFundNative(), "the fund's own TAO");
        assertEq(balance, locked + handler.ghostFundNative() + handler.ghostDonated(), "every wei accounted");
    }

    /// @notice The guardian's pause follows its rules: it lapses after 50 400 blocks by itself, and the
    ///         pause clock counts exactly the blocks paused (a lapsed pause up to its end).
    function invariant_PauseFollowsTheGuardianRules() public view {
        (bool paused, uint64 pausedTotal) = handler.expectedPause();
        assertEq(t.paused(), paused, "paused");
        PauseClock memory pc = t.pauseClock();
        assertEq(pc.pausedTotal, pausedTotal, "blocks paused");
        assertEq(pc.pausedSince != 0, paused, "pause clock running");
    }

    /// @notice Fees never exceed their caps (mint and redeem 100 bps, management 200 bps a year).
    function invariant_FeesNeverExceedTheirCaps() public view {
        assertEq(handler.ghostFeeViolations(), 0);
        (uint16 mintBps, uint16 redeemBps, uint16 managementBps) = t.fees();
        assertLe(mintBps, 100);
        assertLe(redeemBps, 100);
        assertLe(managementBps, 200);
    }
}
