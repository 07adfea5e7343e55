// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title EventsLib
/// @notice Every event of TAO20: one for each change of state, so an indexer can rebuild it.
library EventsLib {
    /// @notice A creation file was stored for `epochId`.
    event EpochPublished(
        uint64 indexed epochId,
        bytes32 fileHash,
        uint64 validFromBlock,
        uint64 validUntilBlock,
        uint256 sharesPerUnit,
        uint16 toleranceBps,
        uint32 minUnits,
        uint256 assetCount
    );
    /// @notice A miner opened a creation request.
    event CreationRequested(
        bytes32 indexed requestId,
        address indexed miner,
        address receiver,
        bytes32 coldkey,
        uint64 indexed epochId,
        uint32 units,
        uint64 requestBlock,
        uint64 expiryBlock,
        uint256 minSharesOut,
        uint256 bond
    );
    /// @notice A request was minted; the record mechanism-0 weights are computed from.
    event CreationMinted(
        bytes32 indexed requestId,
        address indexed miner,
        uint64 indexed epochId,
        uint32 units,
        uint256 valueRao,
        uint256 sharesOut
    );
    /// @notice Positions of a delivery were returned to `coldkey` (`requestId` zero for an orphan):
    ///         bit `i` of `refundedMask` set when the report's position `i` moved now.
    event Refunded(
        bytes32 indexed requestId,
        bytes32 indexed coldkey,
        uint64 deliveryBlock,
        uint32 deliveryIndex,
        uint256 refundedMask
    );
    /// @notice A request closed without a mint; `bond` went to the fund.
    event CreationExpired(bytes32 indexed requestId, uint256 bond);
    /// @notice A request's bond went to the fund with its refund.
    event BondForfeited(bytes32 indexed requestId, uint256 bond);
    /// @notice A minted request's bond was paid back to its miner.
    event BondClaimed(bytes32 indexed requestId, address indexed miner, uint256 amount);
    /// @notice One position moved (mint, sweep, refund, redemption or fund hotkey change).
    event StakeMoved(uint16 indexed netuid, bytes32 fromHotkey, bytes32 toHotkey, bytes32 toColdkey, uint256 amount);
    /// @notice Stray stake was swept onto the fund hotkeys: bit `i` of `movedMask` set when the
    ///         order's position `i` moved (dust stays for a later sweep).
    event Swept(uint64 indexed nonce, uint256 movedMask);
    /// @notice A redemption booked `amount` of `netuid` to `coldkey` instead of transferring it.
    event ClaimBooked(bytes32 indexed coldkey, uint16 indexed netuid, uint256 amount);
    /// @notice A booked claim was paid to `coldkey`.
    event Claimed(bytes32 indexed coldkey, uint16 indexed netuid, uint256 amount);
    /// @notice A redemption booked native TAO (wei) to `account` instead of paying it.
    event NativeClaimBooked(address indexed account, uint256 amount);
    /// @notice A booked native claim was paid to `account`.
    event NativeClaimed(address indexed account, uint256 amount);
    /// @notice Shares were redeemed in kind; `amounts` per position, paid or booked (native TAO last,
    ///         in wei).
    event Redeemed(
        address indexed holder, bytes32 indexed coldkey, uint256 shares, uint256 fee, uint256 burned, uint256[] amounts
    );
    /// @notice The management fee accrued over `blocks` blocks.
    event ManagementFeeAccrued(uint256 fee, uint256 blocks);
    /// @notice The signer set changed.
    event SignersUpdated(uint64 indexed version, address[] signers, uint8 threshold);
    /// @notice A fund hotkey changed (`oldHotkey` zero when the netuid joins the fund).
    event FundHotkeyUpdated(uint16 indexed netuid, bytes32 oldHotkey, bytes32 newHotkey);
    /// @notice Fees changed.
    event FeesUpdated(uint16 mintFeeBps, uint16 redeemFeeBps, uint16 managementFeeBps, address recipient);
    /// @notice The creation bond changed.
    event CreationBondUpdated(uint256 bond);
    /// @notice The minimum stake value assumed of the runtime changed.
    event MinStakeUpdated(uint64 minStakeRao);
    /// @notice The guardian changed.
    event GuardianUpdated(address guardian);
    /// @notice Pause switched (a guardian's pause also ends by itself at `GUARDIAN_PAUSE_BLOCKS`).
    event PausedSet(bool paused);
    /// @notice The price band of `mint`'s value and NAV checks changed.
    event PriceBandUpdated(uint16 priceBandBps);
    /// @notice When `hotkey` became `netuid`'s fund hotkey the vault already held `amount` under it
    ///         (deliveries made there before): held out of the fund until minted or refunded.
    event DeliveryStakeHeld(uint16 indexed netuid, bytes32 hotkey, uint256 amount);
    /// @notice A dissolved netuid left the fund. The runtime paid `alpha * potRao / totalAlpha`;
    ///         the vault's `proceedsRao` went to the claims on it (`claimsRao`), the deliveries on it
    ///         (`deliveryRao`, paid by refunds) and the fund (the rest).
    event NetuidRetired(
        uint16 indexed netuid,
        uint256 potRao,
        uint256 totalAlpha,
        uint256 proceedsRao,
        uint256 claimsRao,
        uint256 deliveryRao
    );
    /// @notice Native TAO (wei) paid to substrate account `coldkey` for alpha on a retired netuid.
    event RetiredPaid(bytes32 indexed coldkey, uint16 indexed netuid, uint256 alpha, uint256 amount);
}
