// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

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

/// @notice A creation request as stored (three slots read by `mint`).
struct Request {
    address miner;
    uint32 units;
    uint64 epochId;
    address receiver;
    uint40 requestBlock;
    RequestStatus status;
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

/// @notice Deployment parameters of the TAO20 contract.
/// @param vaultColdkey the contract's mirror account; zero to ask the AddressMapping precompile.
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
    uint256 minStakeRao;
    bytes32 vaultColdkey;
    bytes32 defaultFundHotkey;
    uint16[] fundNetuids;
    bytes32[] fundHotkeys;
}

/// @title ITAO20
/// @notice TAO20, an index fund of Bittensor subnet alpha on BEVM: an ERC-20 share token whose vault
///         (the contract's substrate mirror account) holds alpha stake under one fund hotkey per
///         subnet. Miners create shares by delivering a basket of alpha; a quorum of validator keepers
///         signs EIP-712 reports; holders redeem in kind. See PROTOCOL.md for the full rules.
/// @dev Units: alpha and TAO values in rao (1e-9), shares with 18 decimals, `navPerShare` in rao per
///      whole share, fees in basis points, every deadline in blocks. Ownership is OpenZeppelin's
///      `Ownable2Step` (`owner`, `pendingOwner`, `transferOwnership`, `acceptOwnership`);
///      `renounceOwnership` always reverts, since timelocked changes need an owner.
interface ITAO20 is IERC20 {
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
    /// @dev The whole `msg.value` (at least `creationBond`) is the bond: it returns to the miner
    ///      with the mint, and goes to the fund on a refund or an expiry.
    /// @dev Warning: the delivery must be one `utility.batch_all` from `coldkey` in blocks
    ///      `(requestBlock, requestBlock + deliveryWindow]` carrying the remark `deliveryRemark`.
    /// @return requestId keccak256(abi.encode(chainid, address(this), miner, nonce)).
    function requestCreation(uint32 units, bytes32 coldkey, address receiver, uint256 minSharesOut)
        external
        payable
        returns (bytes32 requestId);

    /// @notice Mints the shares of a delivered request from a quorum-signed `CreationReport`, returns
    ///         the bond to the miner and moves every position onto the fund hotkey of its netuid.
    /// @dev Anyone may relay. `signatures` are 65-byte `r||s||v`, strictly ascending by recovered
    ///      signer, at least `threshold` of the current set. The report must match the stored
    ///      request (receiver, units, epoch, creation file), the delivery block must lie in the
    ///      request's window, and the vault must hold each position. Then
    ///      `gross = floor(valueRao * 1e18 / navPerShare)`, `fee = ceil(gross * mintFeeBps / 1e4)`,
    ///      `sharesOut = gross - fee`; the first mint ever also locks 1e15 of the gross as dead shares.
    /// @dev Warning: value and NAV are the quorum's; the contract checks only that the vault holds
    ///      the positions and that the shares meet the miner's own `minSharesOut`.
    function mint(CreationReport calldata report, bytes[] calldata signatures) external returns (uint256 sharesOut);

    /// @notice Returns a delivery to its coldkey on a quorum-signed `RefundReport`.
    /// @dev With a `requestId`, the request must be Pending and expired (it becomes Refunded, its
    ///      bond goes to the fund) or already Expired, the coldkey the request's and the delivery in its
    ///      window. With a zero `requestId` it refunds an orphan. Each delivery id
    ///      `(deliveryBlock, deliveryIndex)` is refunded at most once; fund hotkeys are never touched.
    /// @dev Warning: a position below the runtime's minimum stake cannot be transferred and makes
    ///      the refund revert; the quorum leaves such dust to `sweep`.
    function refund(RefundReport calldata report, bytes[] calldata signatures) external;

    /// @notice Closes a request still Pending `expiryGrace` blocks after its expiry; its bond goes to
    ///         the fund. Anyone may call. Its delivery, if any, becomes an orphan.
    function expire(bytes32 requestId) external;

    /// @notice Moves stray stake under non-fund hotkeys onto the fund hotkeys, on a quorum-signed
    ///         `Sweep` whose nonce is `sweepNonce`.
    function sweep(Sweep calldata order, bytes[] calldata signatures) external;

    /// @notice Claims native TAO owed to the caller when a bond could not be pushed back at mint.
    function claimBond() external;

    // ------------------------------------------------------------------ redemption

    /// @notice Redeems `shares` in kind. Accrues the management fee, takes
    ///         `ceil(shares * redeemFeeBps / 1e4)` as fee shares, burns the rest and pays
    ///         `floor(stake_i * burned / S)` of each fund position to `coldkey` (`transferStake`) and
    ///         the same share of the fund's native TAO to the caller. Never paused.
    /// @dev `minAmounts` and `skip` have `positionCount()` entries: the fund netuids in `fundNetuids()`
    ///      order, then native TAO (wei). A skipped position, a zero amount, or an amount worth less
    ///      than the runtime minimum stake is left in the fund; any other failure reverts.
    /// @dev Warning: a position left in the fund is forgone by the holder, not owed later.
    function redeem(uint256 shares, bytes32 coldkey, uint256[] calldata minAmounts, bool[] calldata skip)
        external
        returns (uint256[] memory amounts);

    // ------------------------------------------------------------------ fees

    /// @notice Mints the management fee accrued since the last accrual to the fee recipient.
    function accrueManagementFee() external returns (uint256 fee);

    // ------------------------------------------------------------------ governance (timelocked)

    /// @notice Queues a new signer set (sorted, unique, non-zero; threshold >= floor(2n/3) + 1).
    function setSigners(address[] calldata newSigners, uint8 newThreshold) external;
    /// @notice Applies the queued signer set once its delay has passed; bumps `signerSetVersion`.
    function applySigners() external;
    /// @notice Queues the fund hotkey of `netuid` (a new netuid joins the fund's positions).
    function setFundHotkey(uint16 netuid, bytes32 hotkey) external;
    /// @notice Applies a queued fund hotkey; the vault's stake under the old one moves to the new one.
    function applyFundHotkey(uint16 netuid) external;
    /// @notice Queues new fees and fee recipient (mint, redeem <= 100 bps; management <= 200 bps a year).
    function setFees(uint16 mintFeeBps, uint16 redeemFeeBps, uint16 managementFeeBps, address recipient) external;
    /// @notice Applies the queued fees once their delay has passed (accruing at the old rate first).
    function applyFees() external;
    /// @notice Queues a new creation bond.
    function setCreationBond(uint96 bond) external;
    /// @notice Applies the queued creation bond once its delay has passed.
    function applyCreationBond() external;
    /// @notice Cancels a queued change (`kind` 0 signers, 1 fees, 2 bond, 3 fund hotkey of `netuid`).
    function cancelChange(uint8 kind, uint16 netuid) external;

    /// @notice Sets the guardian, who may pause. Owner only, immediate.
    function setGuardian(address guardian) external;
    /// @notice Pauses or resumes `requestCreation` and `mint` (guardian or owner). Refunds,
    ///         expiries, sweeps and redemptions never pause.
    function setPaused(bool paused) external;

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
    /// @notice The current signers and threshold.
    function signers() external view returns (address[] memory, uint8 threshold);
    /// @notice The fund's netuids, in redemption position order.
    function fundNetuids() external view returns (uint16[] memory);
    /// @notice The number of redemption positions: fund netuids plus native TAO.
    function positionCount() external view returns (uint256);
    /// @notice Native TAO (wei) the fund owns: the balance less bonds held for open requests or owed.
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
    /// @notice Receives fee shares.
    function feeRecipient() external view returns (address);
    /// @notice Native TAO (wei) `requestCreation` requires at least.
    function creationBond() external view returns (uint96);
    /// @notice May pause requests and mints.
    function guardian() external view returns (address);
    /// @notice Requests opened by `miner` so far (the next request's nonce).
    function nonces(address miner) external view returns (uint256);
    /// @notice Whether delivery `(block << 32) | extrinsicIndex` was refunded.
    function deliveryRefunded(uint256 deliveryId) external view returns (bool);
    /// @notice Native TAO owed to `miner` whose bond could not be pushed at mint.
    function bondOwed(address miner) external view returns (uint256);
    /// @notice The hotkey the fund stakes `netuid` under (zero: not a fund netuid).
    function fundHotkey(uint16 netuid) external view returns (bytes32);
    /// @notice The hotkey of every fund netuid without one of its own (immutable).
    function DEFAULT_FUND_HOTKEY() external view returns (bytes32);
    /// @notice Blocks between queueing a governance change and applying it (48 hours).
    function TIMELOCK_BLOCKS() external view returns (uint256);
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
    /// @notice Blocks after expiry before `expire` may close a request.
    function EXPIRY_GRACE() external view returns (uint32);
    /// @notice The runtime's minimum stake value, in rao.
    function MIN_STAKE_RAO() external view returns (uint256);
    /// @notice The EIP-712 domain separator (rebuilt if the chain id changes).
    function domainSeparator() external view returns (bytes32);
}
