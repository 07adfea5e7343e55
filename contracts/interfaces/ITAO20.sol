// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

/// @notice One asset of a creation file: `qtyPerUnit` rao of alpha of `netuid` per creation unit.
struct Asset {
    uint16 netuid;
    uint64 qtyPerUnit;
    uint16 weightBps;
}

/// @notice The quorum-signed basket of an epoch (EIP-712 type `CreationFile`).
struct CreationFile {
    uint64 epochId;
    uint64 validFromBlock;
    uint64 validUntilBlock;
    uint256 sharesPerUnit;
    uint16 toleranceBps;
    uint32 minUnits;
    Asset[] assets;
    uint64 signerSetVersion;
}

/// @notice Alpha the vault holds under a non-fund `hotkey` on `netuid` (EIP-712 type `Position`).
struct Position {
    uint16 netuid;
    bytes32 hotkey;
    uint64 amount;
}

/// @notice The quorum's account of a valid delivery and its value (EIP-712 type `CreationReport`).
struct CreationReport {
    bytes32 requestId;
    uint64 epochId;
    bytes32 creationFileHash;
    address receiver;
    uint32 units;
    Position[] positions;
    uint64 deliveryBlock;
    uint32 deliveryIndex;
    uint256 valueRao;
    uint256 navPerShare;
    uint64 signerSetVersion;
}

/// @notice The quorum's order to return a delivery to `coldkey` (EIP-712 type `RefundReport`).
///         `requestId` is zero for an orphan that belongs to no request.
struct RefundReport {
    bytes32 requestId;
    bytes32 coldkey;
    Position[] positions;
    uint64 deliveryBlock;
    uint32 deliveryIndex;
    uint64 signerSetVersion;
}

/// @notice The quorum's order to move stray vault stake onto the fund hotkeys (EIP-712 type `Sweep`).
struct Sweep {
    Position[] positions;
    uint64 nonce;
    uint64 signerSetVersion;
}

/// @notice Life of a creation request: None -> Pending -> Minted | Refunded | Expired.
enum RequestStatus {
    None,
    Pending,
    Minted,
    Refunded,
    Expired
}

/// @notice What the contract has settled of one delivery `(block << 32) | extrinsicIndex`.
enum DeliveryState {
    /// Nothing yet: it may be minted, or refunded position by position.
    Open,
    /// Minted: it can never be refunded.
    Minted,
    /// At least one position refunded: it can never be minted; the rest stays refundable.
    Refunding
}

/// @notice A creation request as stored (three slots read by `mint`).
/// @param pausedAtRequest the contract's cumulative paused blocks when the request was made.
struct Request {
    address miner;
    uint32 units;
    uint64 epochId;
    address receiver;
    uint40 requestBlock;
    RequestStatus status;
    uint48 pausedAtRequest;
    bytes32 coldkey;
    uint128 minSharesOut;
    uint128 bond;
}

/// @notice What the contract keeps of a published creation file (assets are kept alongside).
struct Epoch {
    bytes32 fileHash;
    uint64 validFromBlock;
    uint64 validUntilBlock;
    uint32 minUnits;
    uint16 toleranceBps;
    uint256 sharesPerUnit;
}

/// @notice The pause clock: blocks spent paused do not count against a miner's expiry.
/// @param pausedSince block the current pause began (0 while not paused).
/// @param pausedTotal blocks spent paused in every pause that has ended.
/// @param lastUnpause block of the last unpause (0 if never paused).
struct PauseClock {
    uint64 pausedSince;
    uint64 pausedTotal;
    uint64 lastUnpause;
}

/// @notice Deployment parameters of the TAO20 contract.
/// @param owner the governance: in production a `TAO20Timelock` (48 h delay, lapsing changes).
/// @param vaultColdkey the contract's mirror account; zero to ask the AddressMapping precompile,
///        and where that precompile answers, it must agree with it.
/// @param minStakeRao the runtime's `DefaultMinStake` in rao (governance may update it).
/// @param defaultFundHotkey the hotkey every fund netuid stakes under unless it has its own.
/// @param fundHotkeys per fund netuid: its own hotkey, or zero for the default one.
struct InitParams {
    address owner;
    address guardian;
    address[] signers;
    uint8 threshold;
    uint16 mintFeeBps;
    uint16 redeemFeeBps;
    uint16 managementFeeBps;
    address feeRecipient;
    uint96 creationBond;
    uint64 genesisBlock;
    uint64 epochLength;
    uint32 deliveryWindow;
    uint32 expiryGrace;
    uint64 minStakeRao;
    bytes32 vaultColdkey;
    bytes32 defaultFundHotkey;
    uint16[] fundNetuids;
    bytes32[] fundHotkeys;
}

/// @title ITAO20Core
/// @notice TAO20, an index fund of Bittensor subnet alpha on BEVM: an ERC-20 share token whose vault
///         (the contract's substrate mirror account) holds alpha stake under one fund hotkey per
///         subnet. Miners create shares by delivering a basket of alpha; a quorum of validator keepers
///         signs EIP-712 reports; holders redeem in kind. See PROTOCOL.md for the full rules.
/// @dev Units: alpha and TAO values in rao (1e-9), shares with 18 decimals, `navPerShare` in rao per
///      whole share, fees in basis points, every deadline in blocks. Native TAO is booked in wei that
///      are whole rao (multiples of 1e9): the runtime moves nothing finer. Ownership is
///      OpenZeppelin's `Ownable2Step`; the owner is meant to be a `TAO20Timelock`, which gives every
///      governance change 48 hours' notice and lets a change lapse if it is not applied in time;
///      `renounceOwnership` always reverts.
/// @dev Warning: a refused StakingV2 call is an error exit that consumes all the gas forwarded to it.
///      The contract forwards 100 000 gas to each (`StakingLib.DISPATCH_GAS`, about three times the
///      runtime's weight of a stake transfer) and needs that much left before each call
///      (`GasTooLow`). It decides dust from the Alpha precompile's price before calling; a transfer
///      the runtime refuses anyway (transfers disabled by the subnet owner, which no precompile
///      reports) is booked or left for later where the entry point says so; a refused move fails
///      its transaction. Callers should simulate (`eth_estimateGas`) before sending.
interface ITAO20Core is IERC20Metadata {
    // ------------------------------------------------------------------ epochs

    /// @notice Stores the quorum-signed creation file of the current epoch.
    /// @dev `file.epochId` must be the epoch current at this block, its bounds must be exactly the
    ///      epoch's first and last block, assets strictly sorted by netuid (1..64 of them, netuid 0
    ///      excluded, each with a fund hotkey, `qtyPerUnit > 0`), weights summing to 10 000 bps, and
    ///      `file.signerSetVersion` the current one. An epoch is published once.
    /// @dev Warning: until the current epoch is published, `requestCreation` reverts.
    function publishEpoch(CreationFile calldata file, bytes[] calldata signatures) external;

    // ------------------------------------------------------------------ creation

    /// @notice Opens a creation request for `units` creation units of the current epoch, delivered
    ///         from substrate `coldkey`; shares go to `receiver`. Pays the bond in native TAO.
    /// @dev The whole `msg.value` (at least `creationBond`, whole rao) is the bond: after the mint the
    ///      miner claims it back (`claimBond`); on a refund or an expiry it goes to the fund.
    /// @dev Warning: the delivery must be one `utility.batch_all` from `coldkey` in blocks
    ///      `(requestBlock, requestBlock + deliveryWindow]` carrying the remark `deliveryRemark`.
    /// @return requestId keccak256(abi.encode(chainid, address(this), miner, nonce)).
    function requestCreation(uint32 units, bytes32 coldkey, address receiver, uint256 minSharesOut)
        external
        payable
        returns (bytes32 requestId);

    /// @notice Mints the shares of a delivered request from a quorum-signed `CreationReport` and moves
    ///         every position onto the fund hotkey of its netuid. The bond becomes claimable.
    /// @dev Anyone may relay. `signatures` are 65-byte `r||s||v`, strictly ascending by recovered
    ///      signer, at least `threshold` of the current set. The report must match the stored
    ///      request (receiver, units, epoch, creation file), the delivery block must lie in the
    ///      request's window, its delivery id must be unsettled (never minted, no position
    ///      refunded), and the vault must hold each position (`getStake + 1 >= amount`: the share
    ///      pool may read one rao short of a delivered amount). A position on the netuid's current
    ///      fund hotkey is accepted when it was delivered before that hotkey became the fund's
    ///      (`fundHotkeySince`); it stays where it is. Then
    ///      `gross = floor(valueRao * 1e18 / navPerShare)`, `fee = ceil(gross * mintFeeBps / 1e4)`,
    ///      `sharesOut = gross - fee`; the first mint ever also locks 1e15 of the gross as dead shares.
    /// @dev Value and NAV are the quorum's, bounded by the price band (`priceBand()`): the value at
    ///      most `(1e4 + band) / 1e4` times the positions' value at the Alpha precompile's prices,
    ///      the NAV per share at least `1e4 / (1e4 + band)` of the fund's at those prices
    ///      (`ValueOutOfBand`, `NavOutOfBand`; no NAV bound on the first mint). A position on the fund
    ///      hotkey (delivered before it took over) must be covered by `heldForDeliveries`.
    /// @dev Warning: a position worth less than the runtime minimum makes its move, and so the mint,
    ///      fail (relayers should check first); such a delivery is refunded after expiry.
    function mint(CreationReport calldata report, bytes[] calldata signatures) external returns (uint256 sharesOut);

    // ------------------------------------------------------------------ redemption

    /// @notice Redeems `shares` in kind. Accrues the management fee, takes
    ///         `ceil(shares * redeemFeeBps / 1e4)` as fee shares, burns the rest and, for each fund
    ///         position, pays `floor((getStake_i - reserved_i) * burned / S)` to `coldkey`
    ///         (`transferStake`) and the same share of the fund's native TAO (rounded down to whole
    ///         rao) to the caller. Never paused.
    /// @dev `minAmounts` and `skip` have `positionCount()` entries: the fund netuids in `fundNetuids()`
    ///      order, then native TAO (wei). A position marked in `skip`, or whose amount is worth less
    ///      than `minStakeRao` at the Alpha precompile's price (decided before any call), is not
    ///      transferred but booked to `coldkey` (native: to the caller): claimable later with `claim`
    ///      / `claimNative`, and no longer part of the fund. `minAmounts` counts booked amounts as
    ///      received. Reverts if the redemption would pay and book nothing at all.
    /// @dev Warning: skip every subnet whose owner disabled transfers (the runtime's
    ///      `TransferToggle`, which no precompile reports): a transfer there is refused, costs the
    ///      100 000 gas forwarded to it, and its amount is booked to `coldkey` as if skipped. A
    ///      position whose
    ///      fund hotkey was swapped away (`swap_hotkey`) reads zero until governance follows it:
    ///      state `minAmounts` to be safe.
    function redeem(uint256 shares, bytes32 coldkey, uint256[] calldata minAmounts, bool[] calldata skip)
        external
        returns (uint256[] memory amounts);

    // ------------------------------------------------------------------ fees

    /// @notice Mints the management fee accrued since the last accrual to the fee recipient.
    function accrueManagementFee() external returns (uint256 fee);

    // ------------------------------------------------------------------ governance (owner: the timelock)

    /// @notice Installs a new signer set (sorted, unique, non-zero; threshold >= floor(2n/3) + 1) and
    ///         bumps `signerSetVersion`.
    /// @dev Warning: anyone may execute a ready timelock operation, and so choose the block at which
    ///      every report and file signed under the old version stops verifying (`StaleSignerSet`).
    ///      Keepers re-sign what is still unsettled under the new version; relayers re-fetch
    ///      signatures after a `SignersUpdated` event.
    function setSigners(address[] calldata newSigners, uint8 newThreshold) external;
    /// @notice Sets fees and fee recipient (mint, redeem <= 100 bps; management <= 200 bps a year),
    ///         accruing at the old rate first.
    function setFees(uint16 mintFeeBps, uint16 redeemFeeBps, uint16 managementFeeBps, address recipient) external;
    /// @notice Sets the creation bond (whole rao).
    function setCreationBond(uint96 bond) external;
    /// @notice Sets the runtime's minimum stake value (`DefaultMinStake`, rao) after a runtime upgrade;
    ///         at most `MAX_MIN_STAKE_RAO` (1 TAO).
    function setMinStake(uint64 minStakeRao) external;
    /// @notice Sets the price band of `mint` (bps above 1x; at least `MIN_PRICE_BAND_BPS`).
    function setPriceBand(uint16 priceBandBps) external;
    /// @notice Sets the guardian, who may pause.
    function setGuardian(address guardian) external;

    // ------------------------------------------------------------------ views

    /// @notice The vault: the contract's substrate mirror account, which holds all stake.
    function vault() external view returns (bytes32);
    /// @notice The epoch current at `blockNumber` (reverts before the genesis block).
    function epochAt(uint256 blockNumber) external view returns (uint64);
    /// @notice The stored creation file summary of `epochId`.
    function epoch(uint64 epochId) external view returns (Epoch memory);
    /// @notice The stored assets of `epochId`'s creation file.
    function epochAssets(uint64 epochId) external view returns (Asset[] memory);
    /// @notice A creation request.
    function request(bytes32 requestId) external view returns (Request memory);
    /// @notice The remark a delivery of `requestId` must carry:
    ///         keccak256(abi.encodePacked("TAO20", chainid, vault, requestId)).
    function deliveryRemark(bytes32 requestId) external view returns (bytes32);
    /// @notice Alpha of `netuid` booked to `coldkey` by redemptions, not yet claimed (rao).
    function claimOf(bytes32 coldkey, uint16 netuid) external view returns (uint256);
    /// @notice Native TAO (wei) booked to `account` by redemptions, not yet claimed.
    function nativeClaimOf(address account) external view returns (uint256);
    /// @notice Alpha of `netuid` under its fund hotkey that is booked to redeemers, not the fund's:
    ///         the fund's position is `getStake(fundHotkey, vault, netuid) - reserved(netuid)`.
    function reserved(uint16 netuid) external view returns (uint256);
    /// @notice The current signers and threshold.
    function signers() external view returns (address[] memory, uint8 threshold);
    /// @notice The fund's netuids, in redemption position order.
    function fundNetuids() external view returns (uint16[] memory);
    /// @notice The number of redemption positions: fund netuids plus native TAO.
    function positionCount() external view returns (uint256);
    /// @notice Native TAO (wei, whole rao) the fund owns: forfeited bonds and retired netuids'
    ///         proceeds less what redemptions paid (never more than the balance less bonds and
    ///         claims). TAO reaching the vault otherwise (a dissolution before `retireNetuid`, a
    ///         donation) is not counted.
    function fundNativeBalance() external view returns (uint256);
    /// @notice Shares the management fee would mint if accrued now.
    function pendingManagementFee() external view returns (uint256);
    /// @notice The current signer set version; every report carries it.
    function signerSetVersion() external view returns (uint64);
    /// @notice Whether requests and mints are paused.
    function paused() external view returns (bool);
    /// @notice Current fees in basis points (management: per year).
    function fees() external view returns (uint16 mintFeeBps, uint16 redeemFeeBps, uint16 managementFeeBps);
    /// @notice The nonce the next `Sweep` must carry.
    function sweepNonce() external view returns (uint64);
    /// @notice Block of the last management fee accrual.
    function lastAccrual() external view returns (uint64);
    /// @notice The runtime's minimum stake value the contract assumes (`DefaultMinStake`), rao.
    function minStakeRao() external view returns (uint64);
    /// @notice Receives fee shares.
    function feeRecipient() external view returns (address);
    /// @notice Native TAO (wei) `requestCreation` requires at least.
    function creationBond() external view returns (uint96);
    /// @notice May pause requests and mints.
    function guardian() external view returns (address);
    /// @notice Requests opened by `miner` so far (the next request's nonce).
    function nonces(address miner) external view returns (uint256);
    /// @notice The hotkey the fund stakes `netuid` under (zero: not a fund netuid).
    function fundHotkey(uint16 netuid) external view returns (bytes32);
    /// @notice The block from which `fundHotkey(netuid)` is the fund's (0: since deployment).
    function fundHotkeySince(uint16 netuid) external view returns (uint64);
    /// @notice The hotkey of every fund netuid without one of its own (immutable).
    function DEFAULT_FUND_HOTKEY() external view returns (bytes32);
    /// @notice Shares the first mint locks forever.
    function DEAD_SHARES() external view returns (uint256);
    /// @notice Holder of the dead shares.
    function DEAD_ADDRESS() external view returns (address);
    /// @notice First block of epoch 0.
    function GENESIS_BLOCK() external view returns (uint64);
    /// @notice Blocks per epoch.
    function EPOCH_LENGTH() external view returns (uint64);
    /// @notice Blocks after a request in which its delivery may be included.
    function DELIVERY_WINDOW() external view returns (uint32);
    /// @notice Unpaused blocks after the delivery window before `expire` may close a request.
    function EXPIRY_GRACE() external view returns (uint32);
    /// @notice The EIP-712 domain separator (rebuilt if the chain id changes).
    function domainSeparator() external view returns (bytes32);
    /// @notice The settlement module the core delegates to (its code only: call the core).
    function SETTLEMENT() external view returns (address);

    // ------------------------------------------------------------------ ownership (OpenZeppelin Ownable2Step)

    /// @notice The governance: a `TAO20Timelock` in production.
    function owner() external view returns (address);
    /// @notice The owner-elect, until it calls `acceptOwnership`.
    function pendingOwner() external view returns (address);
    /// @notice Names the next owner (owner only); it takes over with `acceptOwnership`.
    function transferOwnership(address newOwner) external;
    /// @notice Completes a transfer of ownership (the pending owner only).
    function acceptOwnership() external;
}

/// @title ITAO20Settlement
/// @notice What becomes of everything that is not minted or redeemed: refunds of deliveries,
///         expiries, sweeps of stray stake, and the payout of bonds and booked claims. These entry
///         points are served by the settlement module, which the core contract reaches from its
///         fallback by `delegatecall`: call them at the core contract's address, where they act as
///         the vault.
interface ITAO20Settlement {
    /// @notice Returns a delivery to its coldkey on a quorum-signed `RefundReport`, position by
    ///         position.
    /// @dev With a `requestId`, the request must be Pending after its expiry block (it becomes
    ///      Refunded and its bond goes to the fund), Expired, or Refunded already (a later relay of
    ///      the same delivery), the coldkey must be the request's and the delivery in its window. With
    ///      a zero `requestId` it refunds an orphan. The delivery id must never have been minted.
    ///      Each named position is refunded at most once (a position refunded before is skipped);
    ///      a position whose value at the Alpha precompile's price is below `minStakeRao` is skipped
    ///      too and stays refundable: relaying the same signed report again once it is worth the
    ///      minimum refunds it, and so does a position whose transfer the runtime refuses (transfers
    ///      disabled: it costs the 100 000 gas forwarded). `Refunded.refundedMask` says which
    ///      positions moved. Fund hotkeys are never touched, except a position delivered before its
    ///      hotkey became the fund's (taken from `heldForDeliveries`). On a retired netuid the
    ///      position is paid in the TAO its dissolution paid for it (`retireNetuid`).
    function refund(RefundReport calldata report, bytes[] calldata signatures) external;

    /// @notice Closes a request still Pending once `expireableAt(requestId)` is reached; its bond goes
    ///         to the fund. Anyone may call. Its delivery, if any, becomes an orphan.
    /// @dev Blocks spent paused do not count: the deadline is `requestBlock + deliveryWindow +
    ///      expiryGrace` plus the blocks paused since the request, and at least `expiryGrace` after
    ///      the last unpause; never while paused.
    function expire(bytes32 requestId) external;

    /// @notice Moves stray stake under non-fund hotkeys onto the fund hotkeys, on a quorum-signed
    ///         `Sweep` whose nonce is `sweepNonce`.
    /// @dev A position worth less than `minStakeRao` is not moved (the runtime would refuse it) and
    ///      stays for a later sweep; `Swept.movedMask` says which moved.
    function sweep(Sweep calldata order, bytes[] calldata signatures) external;

    /// @notice Pays a minted request's bond back to its miner. Anyone may call.
    function claimBond(bytes32 requestId) external;

    /// @notice Pays `coldkey` the alpha booked to it on each of `netuids` (`transferStake` from the
    ///         fund hotkey). Anyone may call; a claim worth less than `minStakeRao` waits (it grows
    ///         with later bookings), and reverts if nothing could be paid.
    /// @dev A netuid whose transfers the runtime refuses (disabled) is skipped and stays owed. On a
    ///      retired netuid the claim is paid in the TAO its dissolution paid for it
    ///      (`alpha * potRao / totalAlpha`, BalanceTransfer precompile to `coldkey`).
    function claim(bytes32 coldkey, uint16[] calldata netuids) external;

    /// @notice Retires `netuid`, whose subnet was dissolved: it leaves the fund, and the TAO the
    ///         runtime paid the vault for it (`vaultAlpha * potRao / totalAlpha` rao, at most what
    ///         reached the vault unaccounted) is split between the claims booked on it and the
    ///         deliveries on it (held back on the fund hotkey plus `deliveryAlpha` under other
    ///         hotkeys), paid by `claim` and `refund`, and the fund (the rest). Owner only.
    /// @dev The figures are the runtime's at the dissolution (`destroy_alpha_in_out_stakes`: the
    ///      subnet's `SubnetTAO` pot, the alpha value of every staker plus the protocol's, the
    ///      vault's alpha on the subnet, and the part under non-fund hotkeys), public on chain for
    ///      the timelock's notice. Until the retirement, that TAO belongs to no one: redemptions do
    ///      not pay it out (`fundNativeBalance` counts only the fund's own TAO). Reverts while the
    ///      vault still holds stake under the fund hotkey, or while an earlier retirement of the
    ///      netuid has unpaid claims (pay them first with `claim`; anyone may).
    function retireNetuid(uint16 netuid, uint128 potRao, uint128 totalAlpha, uint128 vaultAlpha, uint128 deliveryAlpha)
        external;

    /// @notice A retired netuid's dissolution rate and what it still owes (alpha of claims, rao of
    ///         deliveries).
    function retirement(uint16 netuid)
        external
        view
        returns (uint256 potRao, uint256 totalAlpha, uint256 claimsAlpha, uint256 deliveryRao);

    // ------------------------------------------------------------------ governance (cold paths)

    /// @notice Sets the fund hotkey of `netuid` (a new netuid joins the fund's positions). The vault's
    ///         stake under the old hotkey moves to the new one (unless it is dust, which stays for a
    ///         sweep); deliveries already made under the new hotkey stay mintable and refundable,
    ///         and the stake the vault already held under it is held out of the fund until they are
    ///         (`heldForDeliveries`, part of `reserved`), so the change moves no value to anyone.
    ///         Stake held back under the old hotkey stays there, for its deliveries' mint or refund.
    /// @dev Warning: a fund hotkey's owner can `swap_hotkey` it away, taking every fund position of
    ///      that hotkey with it to its new hotkey (still the vault's stake); point the netuids at the
    ///      new hotkey here.
    function setFundHotkey(uint16 netuid, bytes32 hotkey) external;
    /// @notice Pauses or resumes `requestCreation` and `mint` (guardian or owner). Refunds,
    ///         expiries, sweeps, claims and redemptions never pause; paused blocks do not count
    ///         towards any request's expiry. The guardian's pause ends by itself after
    ///         `GUARDIAN_PAUSE_BLOCKS` (7 days), and the guardian may pause again only as long after
    ///         a pause ends as it lasted; the owner's pause (a timelocked change) has no limit and
    ///         replaces a guardian's.
    function setPaused(bool paused) external;
    /// @notice What was settled of delivery `(block << 32) | extrinsicIndex`.
    function deliveryState(uint256 deliveryId) external view returns (DeliveryState);
    /// @notice Whether position (`netuid`, `hotkey`) of delivery `deliveryId` was refunded.
    function positionRefunded(uint256 deliveryId, uint16 netuid, bytes32 hotkey) external view returns (bool);
    /// @notice The first block at which `expire(requestId)` succeeds; `type(uint256).max` while the
    ///         contract is paused or when the request is not Pending.
    function expireableAt(bytes32 requestId) external view returns (uint256);
    /// @notice The pause clock (current pause start, blocks paused so far, last unpause).
    function pauseClock() external view returns (PauseClock memory);
    /// @notice The block the current pause ends by itself (max: the owner's); 0 when not paused.
    function pauseEndsAt() external view returns (uint64);
    /// @notice `mint`'s price band, bps above 1x.
    function priceBand() external view returns (uint16);
    /// @notice Alpha under `netuid`'s fund hotkey held out of the fund for deliveries made there before
    ///         it took over (part of `reserved`).
    function heldForDeliveries(uint16 netuid) external view returns (uint256);

    /// @notice Pays `account` the native TAO booked to it by redemptions that skipped it.
    function claimNative(address account) external;
}

/// @title ISettlementModule
/// @notice What the core asks the settlement module at deployment: the immutables it was built with,
///         which must be the core's own (the module runs on the core's storage by `delegatecall`).
interface ISettlementModule {
    function immutables()
        external
        view
        returns (bytes32 vault, bytes32 defaultHotkey, uint64 genesis, uint64 epochBlocks, uint32 window, uint32 grace);
}

/// @title ITAO20
/// @notice Every entry point of the TAO20 contract (its core and its settlement module).
interface ITAO20 is ITAO20Core, ITAO20Settlement {}
