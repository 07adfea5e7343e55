//! The runtime surface the keeper and its miners use: every call the client submits, every
//! storage item and runtime API method it reads, every constant it reads, and the dispatch errors
//! the keeper acts on by name. A runtime upgrade that renames, removes, reshapes or renumbers one
//! of these breaks the keeper, so the list is kept by hand next to the client and checked by
//! `tests/runtime_surface.rs` in both directions: against the checked-in metadata (spec
//! [`super::METADATA_SPEC_VERSION`]) and the client's own source, and against the tables `bittensor`
//! [`NEWER_TABLES_VERSION`] generates from a newer runtime (`bittensor/_generated/`), whose
//! differences from the checked-in metadata must be exactly [`KNOWN_DIFFERENCES`].

/// The `bittensor` release (PyPI) whose generated runtime tables stand for the newer runtime.
pub const NEWER_TABLES_VERSION: &str = "11.3.0";

/// A call the client builds and submits ([`crate::types::Call`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceCall {
    /// The pallet's name in `construct_runtime!`.
    pub pallet: &'static str,
    /// The call's name.
    pub call: &'static str,
    /// The argument names, in encoding order.
    pub args: &'static [&'static str],
}

/// How the client reads a storage item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Through subxt's generated address (validated against the node's metadata by hash).
    Typed,
    /// By raw key ([`super::raw`]), checked against the node's metadata before decoding.
    RawKey,
    /// Both: typed by one trait method, by raw key as part of the epoch schedule.
    TypedAndRawKey,
}

/// A storage item the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceStorage {
    /// The pallet's storage prefix.
    pub pallet: &'static str,
    /// The item's name.
    pub item: &'static str,
    /// How it is read.
    pub read: Read,
}

/// Who calls a runtime API method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The client, through the generated `finney::runtime_apis()`.
    Client,
    /// The client, by name (`call_raw`), decoding the answer by its declared layout: for methods
    /// the checked-in metadata may lack.
    ClientByName,
    /// subxt itself: the runtime version and metadata of every block read, and the nonce of every
    /// submitted extrinsic.
    Subxt,
}

/// A runtime API method the client relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceApi {
    /// The runtime API trait.
    pub api: &'static str,
    /// The method.
    pub method: &'static str,
    /// Who calls it.
    pub caller: Caller,
}

/// A pallet constant the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceConstant {
    /// The pallet.
    pub pallet: &'static str,
    /// The constant.
    pub name: &'static str,
}

/// The calls of [`crate::types::Call`], as `client::runtime_call` builds them.
pub const CALLS: &[SurfaceCall] = &[
    SurfaceCall {
        pallet: "System",
        call: "remark",
        args: &["remark"],
    },
    SurfaceCall {
        pallet: "Utility",
        call: "batch_all",
        args: &["calls"],
    },
    SurfaceCall {
        pallet: "Commitments",
        call: "set_commitment",
        args: &["netuid", "info"],
    },
    SurfaceCall {
        pallet: "SubtensorModule",
        call: "transfer_stake",
        args: &[
            "destination_coldkey",
            "hotkey",
            "origin_netuid",
            "destination_netuid",
            "alpha_amount",
        ],
    },
    SurfaceCall {
        pallet: "SubtensorModule",
        call: "set_mechanism_weights",
        args: &["netuid", "mecid", "dests", "weights", "version_key"],
    },
    SurfaceCall {
        pallet: "SubtensorModule",
        call: "commit_timelocked_mechanism_weights",
        args: &[
            "netuid",
            "mecid",
            "commit",
            "reveal_round",
            "commit_reveal_version",
        ],
    },
    SurfaceCall {
        pallet: "SubtensorModule",
        call: "add_stake",
        args: &["hotkey", "netuid", "amount_staked"],
    },
    SurfaceCall {
        pallet: "SubtensorModule",
        call: "remove_stake",
        args: &["hotkey", "netuid", "amount_unstaked"],
    },
    SurfaceCall {
        pallet: "SubtensorModule",
        call: "serve_axon",
        args: &[
            "netuid",
            "version",
            "ip",
            "port",
            "ip_type",
            "protocol",
            "placeholder1",
            "placeholder2",
        ],
    },
];

const fn storage(pallet: &'static str, item: &'static str, read: Read) -> SurfaceStorage {
    SurfaceStorage { pallet, item, read }
}

/// The storage items of the `Subtensor` implementation, by trait method.
pub const STORAGE: &[SurfaceStorage] = &[
    // free_balance, chain_time, beacon
    storage("System", "Account", Read::Typed),
    storage("Timestamp", "Now", Read::Typed),
    storage("Drand", "BeaconConfig", Read::Typed),
    // commitments, commitment_space
    storage("Commitments", "CommitmentOf", Read::Typed),
    storage("Commitments", "UsedSpaceOf", Read::Typed),
    storage("Commitments", "MaxSpace", Read::Typed),
    // emission_split
    storage("SubtensorModule", "MechanismEmissionSplit", Read::Typed),
    storage("SubtensorModule", "MechanismCountCurrent", Read::Typed),
    // pool_reserves; swap_pool (raw::SWAP_POOL_ITEMS)
    storage("SubtensorModule", "SubnetTAO", Read::TypedAndRawKey),
    storage("SubtensorModule", "SubnetAlphaIn", Read::TypedAndRawKey),
    storage("SubtensorModule", "SubnetAlphaOut", Read::TypedAndRawKey),
    storage("Swap", "SwapBalancer", Read::RawKey),
    storage("Swap", "FeeRate", Read::RawKey),
    // tempo; epoch_schedule (raw::SCHEDULE_ITEMS)
    storage("SubtensorModule", "Tempo", Read::TypedAndRawKey),
    storage("SubtensorModule", "LastEpochBlock", Read::RawKey),
    storage("SubtensorModule", "PendingEpochAt", Read::RawKey),
    storage("SubtensorModule", "SubnetEpochIndex", Read::RawKey),
    storage("SubtensorModule", "BlocksSinceLastStep", Read::RawKey),
    storage(
        "SubtensorModule",
        "RevealPeriodEpochs",
        Read::TypedAndRawKey,
    ),
    // neurons, subnet_owner, transfers_enabled
    storage("SubtensorModule", "BlockAtRegistration", Read::Typed),
    storage("SubtensorModule", "SubnetOwner", Read::Typed),
    storage("SubtensorModule", "TransferToggle", Read::Typed),
    // weights_settings, weights
    storage("SubtensorModule", "CommitRevealWeightsEnabled", Read::Typed),
    storage("SubtensorModule", "CommitRevealWeightsVersion", Read::Typed),
    storage("SubtensorModule", "WeightsVersionKey", Read::Typed),
    storage("SubtensorModule", "MinAllowedWeights", Read::Typed),
    storage("SubtensorModule", "Weights", Read::Typed),
];

const fn api(api: &'static str, method: &'static str, caller: Caller) -> SurfaceApi {
    SurfaceApi {
        api,
        method,
        caller,
    }
}

/// The runtime API methods the client calls, and those subxt calls on its behalf
/// (`OnlineClient::at_block`, `sign_and_submit_then_watch_default`).
pub const RUNTIME_APIS: &[SurfaceApi] = &[
    api(
        "StakeInfoRuntimeApi",
        "get_stake_info_for_hotkey_coldkey_netuid",
        Caller::Client,
    ),
    api("SwapRuntimeApi", "current_alpha_price", Caller::Client),
    api(
        "SwapRuntimeApi",
        "current_alpha_price_all",
        Caller::ClientByName,
    ),
    api(
        "StakeInfoRuntimeApi",
        "get_stake_availability_for_coldkeys",
        Caller::ClientByName,
    ),
    api("NeuronInfoRuntimeApi", "get_neurons_lite", Caller::Client),
    api("Core", "version", Caller::Subxt),
    api("Metadata", "metadata_versions", Caller::Subxt),
    api("Metadata", "metadata_at_version", Caller::Subxt),
    api("AccountNonceApi", "account_nonce", Caller::Subxt),
];

/// The constants the client reads: only the checked-in metadata's own runtime version
/// (`raw::metadata_spec_version`); the node's version comes from `Core::version`.
pub const CONSTANTS: &[SurfaceConstant] = &[SurfaceConstant {
    pallet: "System",
    name: "Version",
}];

/// A dispatch error the keeper acts on by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceError {
    /// The pallet.
    pub pallet: &'static str,
    /// The error variant.
    pub name: &'static str,
}

/// The dispatch errors the keeper tells apart by name (`Error::final_refusal`): the node's
/// weights executor switches between direct and timelocked weights on the first two, and waits
/// out the rate limits named by the last two.
pub const ERRORS: &[SurfaceError] = &[
    SurfaceError {
        pallet: "SubtensorModule",
        name: "CommitRevealEnabled",
    },
    SurfaceError {
        pallet: "SubtensorModule",
        name: "CommitRevealDisabled",
    },
    SurfaceError {
        pallet: "SubtensorModule",
        name: "CommittingWeightsTooFast",
    },
    SurfaceError {
        pallet: "SubtensorModule",
        name: "SettingWeightsTooFast",
    },
];

/// The kind of a surface entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A call.
    Call,
    /// A storage item.
    Storage,
    /// A runtime API method (container: the API trait).
    RuntimeApi,
    /// A pallet constant.
    Constant,
    /// A dispatch error.
    Error,
}

impl Kind {
    /// The name the cross-check script uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Storage => "storage",
            Kind::RuntimeApi => "runtime_api",
            Kind::Constant => "constant",
            Kind::Error => "error",
        }
    }
}

/// How an entry differs between the checked-in metadata and the newer runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// Declared by the newer runtime, not by the checked-in metadata.
    OnlyInNewer,
    /// Declared by the checked-in metadata, gone from the newer runtime.
    OnlyInMetadata,
    /// A call on both sides whose argument names differ.
    ArgumentsDiffer,
    /// On both sides, with the same argument names, but other type identities (the last path
    /// segment of a registry type, or a primitive or structural name) for a call's arguments or a
    /// storage item's value.
    TypesDiffer,
    /// A dispatch error on both sides at another (pallet, error) index.
    IndexDiffers,
}

impl Difference {
    /// The name the cross-check uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Difference::OnlyInNewer => "only_in_newer",
            Difference::OnlyInMetadata => "only_in_metadata",
            Difference::ArgumentsDiffer => "arguments_differ",
            Difference::TypesDiffer => "types_differ",
            Difference::IndexDiffers => "index_differs",
        }
    }
}

/// A difference in the surface between the checked-in metadata and the newer runtime, with why it
/// matters to the keeper and how the keeper copes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownDifference {
    /// What kind of entry.
    pub kind: Kind,
    /// Pallet, or runtime API trait.
    pub container: &'static str,
    /// Call, item, method or constant.
    pub name: &'static str,
    /// How it differs.
    pub difference: Difference,
    /// Why it matters and how the keeper copes.
    pub why: &'static str,
}

const NEWTYPE_CALL: &str = "NetUid, MechId, TaoBalance and AlphaBalance are path-bearing newtypes \
    in the newer runtime, bare integers in spec 365: the same SCALE bytes, and the client has the \
    node's own metadata decode its bytes into a dynamic payload (no validation hash), so the call \
    is submitted unchanged";
const NEWTYPE_STORAGE: &str = "a newtype value in the newer runtime, a bare integer in spec 365: \
    the same bytes, but a one-field struct hashes differently in subxt's static validation, so \
    every read is made unvalidated and decoded against the node's own type at the block";
const EPOCH_SCHEDULE: &str = "the stateful epoch schedule (spec 423) postdates the metadata: read \
    by raw key (client::raw) after checking that the node's metadata declares it as read there";
const ERROR_INDEX: &str = "the weights executor switches between direct and timelocked weights on \
    this name, and the newer runtime moved SubtensorModule's errors from index 23 on (its 53 is \
    spec 365's CommitRevealDisabled): the client names dispatch errors with the node's metadata \
    at the block";

const BY_NAME_API: &str =
    "not in spec 365's metadata: the client calls it by name and decodes its \
    answer by the layout it declares (which bittensor's tables do not show, so unchecked here); a \
    runtime without it falls back to one current_alpha_price per subnet";

const BALANCER: &str = "the balancer pools' weights postdate the metadata: read by raw key \
    (client::raw) after checking that the node's metadata declares a map from a u16 netuid to a \
    u64 (through Balancer { quote: Perquintill }); unset reads as equal weights, the runtime's \
    default";
const LOCKS_API: &str = "stake locks postdate the metadata: the client calls it by name and \
    decodes its declared layout (BTreeMap<AccountId32, BTreeMap<NetUid, StakeAvailability { \
    total, locked, available }>>, compact fields); a runtime without it has no locks, so all \
    stake is available";

const fn known(
    kind: Kind,
    container: &'static str,
    name: &'static str,
    difference: Difference,
    why: &'static str,
) -> KnownDifference {
    KnownDifference {
        kind,
        container,
        name,
        difference,
        why,
    }
}

const ST: &str = "SubtensorModule";

const fn newtype_call(container: &'static str, name: &'static str) -> KnownDifference {
    known(
        Kind::Call,
        container,
        name,
        Difference::TypesDiffer,
        NEWTYPE_CALL,
    )
}

const fn newtype_storage(name: &'static str) -> KnownDifference {
    known(
        Kind::Storage,
        ST,
        name,
        Difference::TypesDiffer,
        NEWTYPE_STORAGE,
    )
}

const fn epoch_schedule(name: &'static str) -> KnownDifference {
    known(
        Kind::Storage,
        ST,
        name,
        Difference::OnlyInNewer,
        EPOCH_SCHEDULE,
    )
}

const fn error_index(name: &'static str) -> KnownDifference {
    known(Kind::Error, ST, name, Difference::IndexDiffers, ERROR_INDEX)
}

/// Every difference in [`CALLS`], [`STORAGE`], [`RUNTIME_APIS`], [`CONSTANTS`] and [`ERRORS`]
/// between the checked-in metadata and `bittensor` [`NEWER_TABLES_VERSION`]'s tables; the test
/// fails on one missing here and on one listed here that is not a difference.
pub const KNOWN_DIFFERENCES: &[KnownDifference] = &[
    newtype_call("Commitments", "set_commitment"),
    newtype_call(ST, "transfer_stake"),
    newtype_call(ST, "set_mechanism_weights"),
    newtype_call(ST, "commit_timelocked_mechanism_weights"),
    newtype_call(ST, "add_stake"),
    newtype_call(ST, "remove_stake"),
    newtype_call(ST, "serve_axon"),
    newtype_storage("SubnetTAO"),
    newtype_storage("SubnetAlphaIn"),
    newtype_storage("SubnetAlphaOut"),
    newtype_storage("MechanismCountCurrent"),
    epoch_schedule("LastEpochBlock"),
    epoch_schedule("PendingEpochAt"),
    epoch_schedule("SubnetEpochIndex"),
    known(
        Kind::RuntimeApi,
        "SwapRuntimeApi",
        "current_alpha_price_all",
        Difference::OnlyInNewer,
        BY_NAME_API,
    ),
    known(
        Kind::Storage,
        "Swap",
        "SwapBalancer",
        Difference::OnlyInNewer,
        BALANCER,
    ),
    known(
        Kind::RuntimeApi,
        "StakeInfoRuntimeApi",
        "get_stake_availability_for_coldkeys",
        Difference::OnlyInNewer,
        LOCKS_API,
    ),
    error_index("CommitRevealEnabled"),
    error_index("CommitRevealDisabled"),
    error_index("CommittingWeightsTooFast"),
    error_index("SettingWeightsTooFast"),
];
