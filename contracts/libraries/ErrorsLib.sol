// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RequestStatus, DeliveryState} from "../interfaces/ITAO20.sol";

/// @title ErrorsLib
/// @notice Every custom error of TAO20; each names the offending input.
library ErrorsLib {
    // signatures and quorum
    /// @notice A signature is not 65 bytes.
    error InvalidSignatureLength(uint256 index, uint256 length);
    /// @notice A signature's `s` is in the upper half of the curve order (malleable).
    error InvalidSignatureS(uint256 index);
    /// @notice A signature's `v` is not 27 or 28.
    error InvalidSignatureV(uint256 index, uint8 v);
    /// @notice A signature recovers to the zero address.
    error ZeroSigner(uint256 index);
    /// @notice A recovered signer is not in the current signer set.
    error NotSigner(uint256 index, address signer);
    /// @notice Signatures are not strictly ascending by recovered signer.
    error UnsortedSignatures(uint256 index, address signer, address previous);
    /// @notice Two signatures recover to the same signer.
    error DuplicateSigner(uint256 index, address signer);
    /// @notice Fewer signatures than the threshold.
    error BelowThreshold(uint256 count, uint256 threshold);
    /// @notice The report was signed for another signer set version.
    error StaleSignerSet(uint64 reportVersion, uint64 currentVersion);

    // epochs
    /// @notice The epoch is not the current one.
    error WrongEpoch(uint64 epochId, uint64 currentEpoch);
    /// @notice The epoch already has a creation file.
    error EpochAlreadyPublished(uint64 epochId);
    /// @notice The current epoch has no creation file yet.
    error EpochNotPublished(uint64 epochId);
    /// @notice The file's validity bounds are not the epoch's.
    error WrongEpochBounds(uint64 validFromBlock, uint64 validUntilBlock);
    /// @notice A creation file with no assets or more than 64.
    error InvalidAssetCount(uint256 count);
    /// @notice Creation file assets not strictly ascending by netuid (or netuid 0).
    error AssetsNotSorted(uint256 index);
    /// @notice A creation file asset with a zero quantity per unit.
    error ZeroQtyPerUnit(uint256 index);
    /// @notice Creation file weights not summing to 10 000 bps.
    error WeightsNotFull(uint256 sum);
    /// @notice A zero `sharesPerUnit` or `minUnits`, or a tolerance above 10 000 bps.
    error InvalidFileParameters();
    /// @notice The block is before the genesis block.
    error BeforeGenesis(uint256 blockNumber);

    // creation
    /// @notice Requests and mints are paused.
    error Paused();
    /// @notice The bond sent is below `creationBond`.
    error BondTooLow(uint256 sent, uint256 required);
    /// @notice A native amount with wei below one rao: the runtime moves whole rao only.
    error NotWholeRao(uint256 weiAmount);
    /// @notice Fewer units than the creation file's minimum.
    error TooFewUnits(uint32 units, uint32 minUnits);
    /// @notice A zero coldkey.
    error ZeroColdkey();
    /// @notice A zero hotkey.
    error ZeroHotkey();
    /// @notice A zero receiver.
    error ZeroReceiver();
    /// @notice A value too large for its storage (above 2^128 - 1).
    error ValueTooLarge();
    /// @notice No such request.
    error UnknownRequest(bytes32 requestId);
    /// @notice The request is not Pending.
    error RequestNotPending(bytes32 requestId, RequestStatus status);
    /// @notice The report's epoch is not the request's.
    error EpochMismatch();
    /// @notice The report's receiver is not the request's.
    error ReceiverMismatch();
    /// @notice The report's units are not the request's.
    error UnitsMismatch();
    /// @notice The report's creation file hash is not the stored one of its epoch.
    error FileHashMismatch();
    /// @notice The refund's coldkey is not the request's.
    error ColdkeyMismatch();
    /// @notice The delivery block lies outside `(requestBlock, requestBlock + deliveryWindow]`.
    error DeliveryOutsideWindow(uint64 deliveryBlock, uint256 windowStart, uint256 windowEnd);
    /// @notice A report with no positions.
    error NoPositions();
    /// @notice Positions are not strictly ascending by (netuid, hotkey).
    error PositionsNotSorted(uint256 index);
    /// @notice A position with a zero amount.
    error ZeroPositionAmount(uint256 index);
    /// @notice A position's netuid has no fund hotkey.
    error UnknownNetuid(uint16 netuid);
    /// @notice A position names the fund hotkey of its netuid.
    error FundHotkeyPosition(uint16 netuid, bytes32 hotkey);
    /// @notice The vault holds less than a position claims.
    error PositionNotHeld(uint16 netuid, bytes32 hotkey, uint256 held, uint256 amount);
    /// @notice A report's NAV per share is zero.
    error ZeroNav();
    /// @notice The delivery is worth no share.
    error ZeroShares();
    /// @notice The shares are fewer than the miner's `minSharesOut`.
    error SlippageExceeded(uint256 sharesOut, uint256 minSharesOut);
    /// @notice Refund of a Pending request before its expiry block has passed.
    error RefundBeforeExpiry(bytes32 requestId, uint256 expiryBlock);
    /// @notice `expire` before `expiryBlock + expiryGrace` has passed.
    error ExpiryNotReached(bytes32 requestId, uint256 expireAfterBlock);
    /// @notice The delivery was minted or has refunded positions, so it cannot be minted.
    error DeliverySettled(uint64 deliveryBlock, uint32 deliveryIndex, DeliveryState state);
    /// @notice The delivery was minted, so it can never be refunded.
    error DeliveryMinted(uint64 deliveryBlock, uint32 deliveryIndex);
    /// @notice Every position of the report was refunded already, or is still dust: nothing to do.
    error NothingToRefund(uint64 deliveryBlock, uint32 deliveryIndex);
    /// @notice More positions than one report may name.
    error TooManyReportPositions(uint256 count);
    /// @notice A sweep nonce other than the next one.
    error WrongSweepNonce(uint64 nonce, uint64 expected);
    /// @notice Nothing owed, or nothing of it payable now.
    error NothingToClaim();
    /// @notice The request's bond is not claimable (not minted, or claimed already).
    error BondNotClaimable(bytes32 requestId);
    /// @notice A native TAO transfer failed.
    error NativeTransferFailed(address to, uint256 amount);

    // redemption
    /// @notice Zero shares, or nothing left to burn after the fee.
    error ZeroRedemption();
    /// @notice `minAmounts` or `skip` does not have `positionCount()` entries.
    error WrongPositionCount(uint256 minAmounts, uint256 skip, uint256 expected);
    /// @notice A position pays less than the holder's minimum.
    error AmountBelowMinimum(uint256 index, uint256 amount, uint256 minAmount);
    /// @notice The redemption would pay and book nothing (e.g. every position swapped away).
    error NothingToRedeem();

    // governance
    /// @notice The caller is neither guardian nor owner.
    error NotGuardian(address caller);
    /// @notice Signer set invalid (unsorted, duplicate, zero, empty or too large).
    error InvalidSigners(uint256 index);
    /// @notice Threshold below floor(2n/3) + 1 or above n.
    error InvalidThreshold(uint256 threshold, uint256 signers);
    /// @notice A fee above its cap, or a zero recipient.
    error InvalidFees();
    /// @notice Too many fund positions.
    error TooManyPositions();
    /// @notice Netuid 0 (root) cannot be a fund position.
    error InvalidNetuid(uint16 netuid);
    /// @notice A deployment parameter is out of range.
    error InvalidParameter(string name);
    /// @notice Ownership cannot be renounced: governance changes and the guardian need an owner.
    error RenounceDisabled();
    /// @notice The settlement module was called directly; it runs only inside the core contract.
    error NotDelegated();
    /// @notice The guardian paused until `until` and may not pause again before it.
    error PauseCooldown(uint256 until);
    /// @notice A report's value is above what the delivery is worth at the Alpha precompile's prices
    ///         times the price band (`priceBand()`).
    error ValueOutOfBand(uint256 valueRao, uint256 spotValueRao);
    /// @notice A report's NAV per share is below the fund's at the Alpha precompile's prices divided
    ///         by the price band.
    error NavOutOfBand(uint256 navPerShare, uint256 spotNavPerShare);

    // retirement of a dissolved netuid
    /// @notice The vault still holds stake under the netuid's fund hotkey: the subnet is not dissolved.
    error NotDissolved(uint16 netuid, uint256 stake);
    /// @notice The dissolution's alpha does not add up: `vaultAlpha` must be part of a non-zero
    ///         `totalAlpha` and cover `neededAlpha` (the reservations plus `deliveryAlpha`).
    error DissolutionAlphaMismatch(uint256 totalAlpha, uint256 vaultAlpha, uint256 neededAlpha);
    /// @notice The vault's proceeds by the dissolution's figures exceed the TAO that reached it
    ///         unaccounted (wei).
    error ProceedsExceedUnaccounted(uint256 proceeds, uint256 unaccounted);
    /// @notice The netuid was retired and claims on it are still unpaid: pay them (`claim`) first.
    error RetiredClaimsOutstanding(uint16 netuid, uint256 claimsAlpha);
}
