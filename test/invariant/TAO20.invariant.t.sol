// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "../BaseTest.sol";
import {TAO20Handler} from "./TAO20Handler.sol";

/// @notice Invariants of TAO20 under random creations, failed deliveries, redemptions, transfers
///         and time (fixed seed in foundry.toml; heavier in the `ci` profile).
contract TAO20InvariantTest is BaseTest {
    TAO20Handler internal handler;

    function setUp() public override {
        super.setUp();
        uint256[] memory keys = new uint256[](5);
        for (uint256 i; i < 5; ++i) {
            keys[i] = signerKeys[i];
        }
        _govern(abi.encodeCall(t.setCreationBond, (0)));
        handler = new TAO20Handler(t, staking, hasher, keys, THRESHOLD, feeRecipient);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = TAO20Handler.create.selector;
        selectors[1] = TAO20Handler.failDelivery.selector;
        selectors[2] = TAO20Handler.redeem.selector;
        selectors[3] = TAO20Handler.transfer.selector;
        selectors[4] = TAO20Handler.advance.selector;
        selectors[5] = TAO20Handler.claim.selector;
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

    /// @notice Value per share never falls through other people's mints or redemptions.
    function invariant_ValuePerShareNeverFallsThroughMintsOrRedemptions() public view {
        assertEq(handler.ghostNavDrops(), 0);
    }

    /// @notice Every delivered position ends minted into the fund or refunded, never both, and the
    ///         fund holds exactly what was minted less what was redeemed.
    function invariant_EveryDeliveryMintedOrRefundedNeverBoth() public view {
        assertEq(handler.ghostDoubleSettled(), 0, "settled twice");
        assertEq(handler.ghostDelivered(), handler.ghostMinted() + handler.ghostRefunded(), "stranded delivery");
        assertEq(_fundStake(1), handler.ghostMinted() - handler.ghostRedeemedOut(), "fund stake");
    }

    /// @notice What redemptions booked instead of paying is exactly what the fund holds back for the
    ///         claimants, and nothing booked is ever lost: claimed or still reserved.
    function invariant_BookedClaimsAreExactlyReserved() public view {
        uint256 owed;
        for (uint256 i; i < handler.actorCount(); ++i) {
            owed += t.claimOf(keccak256(abi.encode(handler.actors(i))), 1);
        }
        assertEq(t.reserved(1), owed, "reserved vs claims");
        assertEq(handler.ghostBooked(), owed + handler.ghostClaimed(), "booked vs claimed + owed");
        assertGe(_fundStake(1), owed, "the fund hotkey holds every claim");
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
