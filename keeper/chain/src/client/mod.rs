//! The real subtensor client (subxt over JSON-RPC), with code generated at build time from the
//! checked-in finney runtime metadata (`keeper/finney/metadata/finney.scale`, from the crates.io
//! package `bittensor-rs` 0.1.1); nothing is fetched during a build.
//!
//! Calls are built as the generated `RuntimeCall` type and encoded against the metadata's type
//! registry ([`encode_call`]); the same bytes are decoded against the node's own metadata (so no
//! static validation hash is involved), checked to name the same pallets and calls, signed and
//! submitted. The offline tests decode them with an independent implementation (PyPI
//! `scalecodec`).
//!
//! The checked-in metadata is spec 365; the stateful epoch schedule (spec 423) is read by raw
//! storage key ([`raw`]), and [`SubxtClient::connect`] warns when the node runs a newer runtime.

mod config;
pub(crate) mod data;
pub mod keys;
pub mod raw;
pub mod surface;
pub(crate) mod transport;

use subxt::ext::scale_decode::DecodeAsType;
use subxt::ext::scale_encode::EncodeAsType;
use subxt::OnlineClient;

pub use config::SubtensorConfig;
pub use keys::Signer;
pub use transport::DEFAULT_REQUEST_TIMEOUT;

use crate::api::Subtensor;
use crate::error::{DispatchError, Invalidity};
use crate::types::{
    AccountId, AxonInfo, BeaconInfo, BlockNumber, BlockRef, Bytes32, Call, Commitment,
    CommitmentSpace, EpochSchedule, Event, Extrinsic, Inclusion, NetUid, Neuron, PoolReserves,
    StakeAvailability, StakeEvent, SwapPool, TransferStake, WeightsSettings,
};
use crate::{Error, Result};

/// Code generated from the checked-in metadata by subxt's macro (in `tao20-finney`).
pub use tao20_finney::finney;

use finney::runtime_types as rt;
use rt::node_subtensor_runtime::RuntimeCall;

/// The checked-in runtime metadata.
pub use tao20_finney::METADATA;

/// The `spec_version` of the checked-in metadata (its `System::Version`; a test asserts it).
pub const METADATA_SPEC_VERSION: u32 = 365;

/// The newest runtime whose source the client was checked against (subtensor `main` 14bc6f9f):
/// the storage items, hashers and call indices it uses are unchanged or read by raw key there.
pub const CHECKED_SPEC_VERSION: u32 = 425;

/// The chain's configuration.
pub type ChainConfig = SubtensorConfig;

/// Decodes the checked-in metadata.
pub fn metadata() -> Result<subxt::Metadata> {
    subxt::Metadata::decode_from(METADATA).map_err(|e| Error::decode("metadata/finney.scale", e))
}

fn acc(a: &AccountId) -> subxt::utils::AccountId32 {
    subxt::utils::AccountId32(a.0)
}

fn ours(a: &subxt::utils::AccountId32) -> AccountId {
    Bytes32(a.0)
}

/// Builds the generated `RuntimeCall` for one of our calls.
pub fn runtime_call(call: &Call) -> Result<RuntimeCall> {
    use rt::bounded_collections::bounded_vec::BoundedVec;
    use rt::pallet_subtensor::pallet::Call as St;
    Ok(match call {
        Call::Remark { data } => RuntimeCall::System(rt::frame_system::pallet::Call::remark {
            remark: data.clone(),
        }),
        Call::TransferStake(t) => RuntimeCall::SubtensorModule(St::transfer_stake {
            destination_coldkey: acc(&t.destination_coldkey),
            hotkey: acc(&t.hotkey),
            origin_netuid: t.origin_netuid,
            destination_netuid: t.destination_netuid,
            alpha_amount: t.alpha_amount,
        }),
        Call::BatchAll { calls } => {
            RuntimeCall::Utility(rt::pallet_subtensor_utility::pallet::Call::batch_all {
                calls: calls.iter().map(runtime_call).collect::<Result<_>>()?,
            })
        }
        Call::SetCommitment { netuid, data } => {
            let fields = data
                .chunks(128)
                .map(data::to_data)
                .collect::<Result<Vec<_>>>()?;
            RuntimeCall::Commitments(rt::pallet_commitments::pallet::Call::set_commitment {
                netuid: *netuid,
                info: Box::new(rt::pallet_commitments::types::CommitmentInfo {
                    fields: BoundedVec(fields),
                }),
            })
        }
        Call::SetMechanismWeights {
            netuid,
            mecid,
            dests,
            weights,
            version_key,
        } => RuntimeCall::SubtensorModule(St::set_mechanism_weights {
            netuid: *netuid,
            mecid: *mecid,
            dests: dests.clone(),
            weights: weights.clone(),
            version_key: *version_key,
        }),
        Call::CommitTimelockedMechanismWeights {
            netuid,
            mecid,
            commit,
            reveal_round,
            commit_reveal_version,
        } => RuntimeCall::SubtensorModule(St::commit_timelocked_mechanism_weights {
            netuid: *netuid,
            mecid: *mecid,
            commit: BoundedVec(commit.clone()),
            reveal_round: *reveal_round,
            commit_reveal_version: *commit_reveal_version,
        }),
        Call::AddStake {
            hotkey,
            netuid,
            amount_staked,
        } => RuntimeCall::SubtensorModule(St::add_stake {
            hotkey: acc(hotkey),
            netuid: *netuid,
            amount_staked: *amount_staked,
        }),
        Call::RemoveStake {
            hotkey,
            netuid,
            amount_unstaked,
        } => RuntimeCall::SubtensorModule(St::remove_stake {
            hotkey: acc(hotkey),
            netuid: *netuid,
            amount_unstaked: *amount_unstaked,
        }),
        Call::ServeAxon {
            netuid,
            version,
            ip,
            port,
            ip_type,
            protocol,
        } => RuntimeCall::SubtensorModule(St::serve_axon {
            netuid: *netuid,
            version: *version,
            ip: *ip,
            port: *port,
            ip_type: *ip_type,
            protocol: *protocol,
            placeholder1: 0,
            placeholder2: 0,
        }),
        Call::Other { pallet, call } => {
            return Err(Error::invalid(
                "call",
                format!("{pallet}::{call} cannot be built by name"),
            ))
        }
    })
}

fn other_call(rc: &RuntimeCall) -> Call {
    // The Debug form starts with `Pallet(call_name ...`: enough to name calls we do not model.
    let text = format!("{rc:?}");
    let (pallet, rest) = text.split_once('(').unwrap_or((text.as_str(), ""));
    let call: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    Call::Other {
        pallet: pallet.to_string(),
        call,
    }
}

/// Maps a decoded `RuntimeCall` back to our plain call (unmodelled calls become [`Call::Other`]).
pub fn from_runtime_call(rc: &RuntimeCall) -> Call {
    use rt::pallet_subtensor::pallet::Call as St;
    match rc {
        RuntimeCall::System(rt::frame_system::pallet::Call::remark { remark }) => Call::Remark {
            data: remark.clone(),
        },
        RuntimeCall::SubtensorModule(St::transfer_stake {
            destination_coldkey,
            hotkey,
            origin_netuid,
            destination_netuid,
            alpha_amount,
        }) => Call::TransferStake(TransferStake {
            destination_coldkey: ours(destination_coldkey),
            hotkey: ours(hotkey),
            origin_netuid: *origin_netuid,
            destination_netuid: *destination_netuid,
            alpha_amount: *alpha_amount,
        }),
        RuntimeCall::Utility(rt::pallet_subtensor_utility::pallet::Call::batch_all { calls }) => {
            Call::BatchAll {
                calls: calls.iter().map(from_runtime_call).collect(),
            }
        }
        RuntimeCall::Commitments(rt::pallet_commitments::pallet::Call::set_commitment {
            netuid,
            info,
        }) => Call::SetCommitment {
            netuid: *netuid,
            data: data::fields_bytes(&info.fields.0),
        },
        RuntimeCall::SubtensorModule(St::set_mechanism_weights {
            netuid,
            mecid,
            dests,
            weights,
            version_key,
        }) => Call::SetMechanismWeights {
            netuid: *netuid,
            mecid: *mecid,
            dests: dests.clone(),
            weights: weights.clone(),
            version_key: *version_key,
        },
        RuntimeCall::SubtensorModule(St::commit_timelocked_mechanism_weights {
            netuid,
            mecid,
            commit,
            reveal_round,
            commit_reveal_version,
        }) => Call::CommitTimelockedMechanismWeights {
            netuid: *netuid,
            mecid: *mecid,
            commit: commit.0.clone(),
            reveal_round: *reveal_round,
            commit_reveal_version: *commit_reveal_version,
        },
        RuntimeCall::SubtensorModule(St::add_stake {
            hotkey,
            netuid,
            amount_staked,
        }) => Call::AddStake {
            hotkey: ours(hotkey),
            netuid: *netuid,
            amount_staked: *amount_staked,
        },
        RuntimeCall::SubtensorModule(St::remove_stake {
            hotkey,
            netuid,
            amount_unstaked,
        }) => Call::RemoveStake {
            hotkey: ours(hotkey),
            netuid: *netuid,
            amount_unstaked: *amount_unstaked,
        },
        RuntimeCall::SubtensorModule(St::serve_axon {
            netuid,
            version,
            ip,
            port,
            ip_type,
            protocol,
            ..
        }) => Call::ServeAxon {
            netuid: *netuid,
            version: *version,
            ip: *ip,
            port: *port,
            ip_type: *ip_type,
            protocol: *protocol,
        },
        other => other_call(other),
    }
}

/// Encodes a call as call data (pallet index, call index, arguments) against the metadata's
/// type registry.
pub fn encode_call(metadata: &subxt::Metadata, call: &Call) -> Result<Vec<u8>> {
    let rc = runtime_call(call)?;
    rc.encode_as_type(metadata.outer_enums().call_enum_ty(), metadata.types())
        .map_err(|e| Error::invalid(format!("call {}", call.name()), e.to_string()))
}

/// Decodes call data against the metadata into our plain call.
pub fn decode_call(metadata: &subxt::Metadata, bytes: &[u8]) -> Result<Call> {
    let mut cursor = bytes;
    let rc = RuntimeCall::decode_as_type(
        &mut cursor,
        metadata.outer_enums().call_enum_ty(),
        metadata.types(),
    )
    .map_err(|e| Error::decode("call data", e))?;
    if !cursor.is_empty() {
        return Err(Error::decode(
            "call data",
            format!("{} bytes left over", cursor.len()),
        ));
    }
    Ok(from_runtime_call(&rc))
}

fn dispatch_error(metadata: &subxt::Metadata, e: &rt::sp_runtime::DispatchError) -> DispatchError {
    match e {
        rt::sp_runtime::DispatchError::Module(m) => {
            let pallet = metadata.pallet_by_error_index(m.index);
            let error = pallet
                .as_ref()
                .and_then(|p| p.error_variant_by_index(m.error[0]))
                .map(|v| v.name.clone())
                .unwrap_or_else(|| format!("error #{}", m.error[0]));
            DispatchError {
                pallet: pallet
                    .map(|p| p.name().to_string())
                    .unwrap_or_else(|| format!("pallet #{}", m.index)),
                error,
            }
        }
        other => {
            let text = format!("{other:?}");
            DispatchError {
                pallet: String::new(),
                error: text,
            }
        }
    }
}

fn stake_event(
    f: (
        &subxt::utils::AccountId32,
        &subxt::utils::AccountId32,
        u64,
        u64,
        u16,
        u64,
    ),
) -> StakeEvent {
    StakeEvent {
        coldkey: ours(f.0),
        hotkey: ours(f.1),
        tao: f.2,
        alpha: f.3,
        netuid: f.4,
        fee: f.5,
    }
}

fn convert_event(
    metadata: &subxt::Metadata,
    ev: &subxt::events::Event<'_, ChainConfig>,
) -> Result<Event> {
    use finney::{commitments::events as ce, subtensor_module::events as se, system::events as sy};
    fn get<E: subxt::events::DecodeAsEvent>(
        ev: &subxt::events::Event<'_, ChainConfig>,
    ) -> Result<E> {
        match ev.decode_fields_as::<E>() {
            Some(r) => r.map_err(|e| Error::decode(format!("event {}", ev.event_name()), e)),
            None => Err(Error::decode(
                format!("event {}", ev.event_name()),
                "does not match the checked-in metadata",
            )),
        }
    }
    Ok(match (ev.pallet_name(), ev.event_name()) {
        ("SubtensorModule", "StakeAdded") => {
            let e: se::StakeAdded = get(ev)?;
            Event::StakeAdded(stake_event((&e.0, &e.1, e.2, e.3, e.4, e.5)))
        }
        ("SubtensorModule", "StakeRemoved") => {
            let e: se::StakeRemoved = get(ev)?;
            Event::StakeRemoved(stake_event((&e.0, &e.1, e.2, e.3, e.4, e.5)))
        }
        ("SubtensorModule", "StakeTransferred") => {
            let e: se::StakeTransferred = get(ev)?;
            Event::StakeTransferred {
                origin_coldkey: ours(&e.0),
                destination_coldkey: ours(&e.1),
                hotkey: ours(&e.2),
                origin_netuid: e.3,
                destination_netuid: e.4,
                tao: e.5,
            }
        }
        ("SubtensorModule", "WeightsSet") => {
            let e: se::WeightsSet = get(ev)?;
            Event::WeightsSet {
                netuid_index: e.0,
                uid: e.1,
            }
        }
        ("SubtensorModule", "TimelockedWeightsCommitted") => {
            let e: se::TimelockedWeightsCommitted = get(ev)?;
            Event::TimelockedWeightsCommitted {
                who: ours(&e.0),
                netuid_index: e.1,
                commit_hash: Bytes32(e.2 .0),
                reveal_round: e.3,
            }
        }
        ("SubtensorModule", "AxonServed") => {
            let e: se::AxonServed = get(ev)?;
            Event::AxonServed {
                netuid: e.0,
                hotkey: ours(&e.1),
            }
        }
        ("System", "Remarked") => {
            let e: sy::Remarked = get(ev)?;
            Event::Remarked {
                sender: ours(&e.sender),
                hash: Bytes32(e.hash.0),
            }
        }
        ("Commitments", "Commitment") => {
            let e: ce::Commitment = get(ev)?;
            Event::Commitment {
                netuid: e.netuid,
                who: ours(&e.who),
            }
        }
        ("Utility", "ItemCompleted") => Event::ItemCompleted,
        ("Utility", "BatchCompleted") => Event::BatchCompleted,
        ("System", "ExtrinsicSuccess") => Event::ExtrinsicSuccess,
        ("System", "ExtrinsicFailed") => {
            let e: sy::ExtrinsicFailed = get(ev)?;
            Event::ExtrinsicFailed {
                error: dispatch_error(metadata, &e.dispatch_error),
            }
        }
        (pallet, name) => Event::Other {
            pallet: pallet.to_string(),
            name: name.to_string(),
        },
    })
}

/// A `0x`-prefixed 32-byte hash as the node writes it.
fn hex32(s: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(s.strip_prefix("0x")?).ok()?;
    <[u8; 32]>::try_from(bytes).ok()
}

fn request_error(what: impl Into<String>, e: impl std::fmt::Display) -> Error {
    let reason = e.to_string();
    // Substrate's answer for a block whose state a pruning node dropped (sc-client-api's
    // `StateDiscarded`, "State already discarded for ..."): a fact, not an outage.
    if reason.contains("State already discarded") {
        return Error::Pruned {
            what: what.into(),
            reason,
        };
    }
    Error::Request {
        what: what.into(),
        reason,
    }
}

#[cfg(test)]
mod pruned_tests {
    use super::*;

    #[test]
    fn a_pruned_nodes_answer_is_final_and_names_the_archive_node() {
        let e = request_error(
            "storage SubtensorModule::SubnetTAO at 0x01",
            "RPC error: State already discarded for 0x0102",
        );
        assert!(matches!(e, Error::Pruned { .. }), "{e:?}");
        assert_eq!(e.retry(), crate::Retry::Never);
        assert!(e.to_string().contains("archive node"), "{e}");
        let busy = request_error("storage X", "request timed out");
        assert_eq!(busy.retry(), crate::Retry::Later);
    }
}

/// A failed submission: the node's pool refusal, named, when it is one (JSON-RPC 1010).
fn submit_error(call: &str, e: &subxt::error::ExtrinsicError) -> Error {
    match pool_refusal(e) {
        Some(validity) => Error::Refused {
            call: call.to_string(),
            validity,
        },
        None => request_error(format!("submit {call}"), e),
    }
}

/// The `InvalidTransaction` of a node's 1010 answer: its data says which (`"Custom error: 6"`),
/// and only the structured error keeps it (its text is "Invalid Transaction (1010)").
fn pool_refusal(e: &subxt::error::ExtrinsicError) -> Option<Invalidity> {
    use subxt::error::{BackendError, ExtrinsicError, RpcError};
    let ExtrinsicError::ErrorSubmittingTransaction(BackendError::Rpc(RpcError::ClientError(
        subxt::rpcs::Error::User(user),
    ))) = e
    else {
        return None;
    };
    if user.code != POOL_INVALID_TX {
        return None;
    }
    let data = user.data.as_ref().map_or("", |d| d.get());
    let text = serde_json::from_str::<String>(data).unwrap_or_else(|_| data.to_string());
    Some(Invalidity::from_node_message(&text))
}

/// `sc_rpc_api::author::error`'s code for a transaction the pool refuses as invalid.
const POOL_INVALID_TX: i32 = 1010;

/// A storage failure: the node's runtime disagreeing with the generated code is a decode error
/// (retrying cannot help), anything else a failed request.
fn storage_error(what: impl Into<String>, e: subxt::error::StorageError) -> Error {
    use subxt::error::StorageError as E;
    match e {
        E::IncompatibleCodegen
        | E::PalletNameNotFound(_)
        | E::StorageEntryNotFound { .. }
        | E::StorageInfoError(_)
        | E::StorageKeyEncodeError(_) => Error::decode(
            what,
            format!("{e} (the node's runtime differs from the checked-in metadata)"),
        ),
        other => request_error(what, other),
    }
}

/// The pallet and call names of a call, with those of a batch's inner calls.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CallShape {
    pallet: String,
    call: String,
    inner: Vec<CallShape>,
}

fn expected_shape(call: &Call) -> CallShape {
    let name = call.name();
    let (pallet, name) = name.split_once("::").unwrap_or((name.as_str(), ""));
    CallShape {
        pallet: pallet.to_string(),
        call: name.to_string(),
        inner: match call {
            Call::BatchAll { calls } => calls.iter().map(expected_shape).collect(),
            _ => Vec::new(),
        },
    }
}

/// The shape of a call decoded by the node's metadata: `RuntimeCall` values are
/// `Pallet(call { .. })` variants; a batch's `calls` field holds a sequence of them.
fn decoded_shape(
    pallet: &str,
    call: &str,
    args: &subxt::ext::scale_value::Composite<()>,
) -> CallShape {
    use subxt::ext::scale_value::{Composite, ValueDef};
    let mut inner = Vec::new();
    if (pallet, call) == ("Utility", "batch_all") {
        let calls = match args {
            Composite::Named(fields) => fields.iter().find(|(n, _)| n == "calls").map(|(_, v)| v),
            Composite::Unnamed(values) => values.first(),
        };
        if let Some(ValueDef::Composite(list)) = calls.map(|v| &v.value) {
            for value in list.values() {
                let ValueDef::Variant(p) = &value.value else {
                    continue;
                };
                if let Some(ValueDef::Variant(c)) = p.values.values().next().map(|v| &v.value) {
                    inner.push(decoded_shape(&p.name, &c.name, &c.values));
                }
            }
        }
    }
    CallShape {
        pallet: pallet.to_string(),
        call: call.to_string(),
        inner,
    }
}

/// What a node's runtime version means for this client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeAdvice {
    /// The checked-in metadata's runtime (365), or one up to the checked source (425) that is not
    /// newer than the metadata.
    Checked,
    /// Newer than the metadata but not than the checked source: supported (raw-key reads).
    NewerThanMetadata,
    /// Newer than the checked source: calls and storage may have moved.
    Unchecked,
    /// Older than the metadata.
    Older,
}

/// Classifies a node's `spec_version` against [`METADATA_SPEC_VERSION`] and
/// [`CHECKED_SPEC_VERSION`].
pub fn runtime_advice(spec_version: u32) -> RuntimeAdvice {
    if spec_version < METADATA_SPEC_VERSION {
        RuntimeAdvice::Older
    } else if spec_version == METADATA_SPEC_VERSION {
        RuntimeAdvice::Checked
    } else if spec_version <= CHECKED_SPEC_VERSION {
        RuntimeAdvice::NewerThanMetadata
    } else {
        RuntimeAdvice::Unchecked
    }
}

/// The real client.
#[derive(Clone)]
pub struct SubxtClient {
    api: OnlineClient<ChainConfig>,
    endpoint: String,
    signer: Option<Signer>,
    metadata: std::sync::Arc<subxt::Metadata>,
    runtime_spec_version: u32,
    /// The runtime of the highest block read so far, and the upgrades seen while running.
    runtime: std::sync::Arc<std::sync::Mutex<RuntimeSeen>>,
    finalized: std::sync::Arc<AtCache>,
    requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The same connection, for the plain reads subxt's block client would pay extra for.
    rpc: subxt::rpcs::RpcClient,
}

/// The runtime a client last saw: `spec_version` of the highest block it read, and how many
/// times that changed from one block read to a later one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuntimeSeen {
    /// The highest block read.
    pub block: BlockNumber,
    /// Its runtime's `spec_version`.
    pub spec_version: u32,
    /// Upgrades seen since the client connected.
    pub upgrades: u64,
}

/// Clients at recent finalized blocks. Building one costs the node a block-hash lookup and a
/// `Core_version` call; a keeper reads a block many times, and a finalized block's hash and
/// runtime never change, so they are kept for the last [`AT_CACHE`] finalized blocks read.
#[derive(Default)]
struct AtCache {
    inner: std::sync::Mutex<AtCacheInner>,
}

#[derive(Default)]
struct AtCacheInner {
    finalized: BlockNumber,
    blocks: std::collections::VecDeque<(BlockNumber, AtBlock)>,
}

/// At least the keeper's read-ahead while catching up, so a block read ahead is not read twice.
const AT_CACHE: usize = 256;

impl AtCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, AtCacheInner> {
        // Every update leaves the cache valid (a finalized block's client never goes stale).
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, number: BlockNumber) -> Option<AtBlock> {
        let inner = self.lock();
        inner
            .blocks
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, at)| at.clone())
    }

    fn finalized(&self, number: BlockNumber) {
        let mut inner = self.lock();
        inner.finalized = inner.finalized.max(number);
    }

    fn put(&self, number: BlockNumber, at: &AtBlock) {
        let mut inner = self.lock();
        // Only below the finalized head: a best block's hash can still change.
        if number > inner.finalized || inner.blocks.iter().any(|(n, _)| *n == number) {
            return;
        }
        if inner.blocks.len() == AT_CACHE {
            inner.blocks.pop_front();
        }
        inner.blocks.push_back((number, at.clone()));
    }
}

impl std::fmt::Debug for SubxtClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubxtClient")
            .field("endpoint", &self.endpoint)
            .field("signer", &self.signer)
            .field("runtime_spec_version", &self.runtime_spec_version)
            .finish_non_exhaustive()
    }
}

type AtBlock =
    subxt::client::ClientAtBlock<ChainConfig, subxt::client::OnlineClientAtBlockImpl<ChainConfig>>;

impl SubxtClient {
    /// Connects to a node (`ws://` or `wss://`); signs with `signer` if given. Reads the node's
    /// runtime version and warns when it is newer than the checked-in metadata (spec
    /// [`METADATA_SPEC_VERSION`]) or than the newest runtime the client was checked against
    /// ([`CHECKED_SPEC_VERSION`]).
    pub async fn connect(endpoint: &str, signer: Option<Signer>) -> Result<Self> {
        Self::connect_with(endpoint, signer, DEFAULT_REQUEST_TIMEOUT).await
    }

    /// As [`Self::connect`], with every request bounded by `timeout`. The connection is
    /// re-established in the background whenever the node drops it; a request that meets the
    /// outage fails after `timeout` (a [`crate::Retry::Later`] error).
    pub async fn connect_with(
        endpoint: &str,
        signer: Option<Signer>,
        timeout: std::time::Duration,
    ) -> Result<Self> {
        let transport = transport::Bounded::connect(endpoint, timeout).await?;
        let requests = transport.counter();
        let rpc = subxt::rpcs::RpcClient::new(transport);
        let api = OnlineClient::<ChainConfig>::from_rpc_client_with_config(
            SubtensorConfig::new(),
            rpc.clone(),
        )
        .await
        .map_err(|e| Error::Connection {
            endpoint: endpoint.into(),
            reason: e.to_string(),
        })?;
        let runtime_spec_version = api
            .at_current_block()
            .await
            .map_err(|e| request_error("runtime version at the finalized head", e))?
            .spec_version();
        match runtime_advice(runtime_spec_version) {
            RuntimeAdvice::Checked => {}
            RuntimeAdvice::NewerThanMetadata => tracing::warn!(target: "tao20::chain", endpoint,
                runtime = runtime_spec_version, metadata = METADATA_SPEC_VERSION, checked = CHECKED_SPEC_VERSION,
                "the node runs a newer runtime than the checked-in metadata; the client reads the new epoch schedule by raw key and was checked against this runtime's source"),
            RuntimeAdvice::Unchecked => tracing::warn!(target: "tao20::chain", endpoint,
                runtime = runtime_spec_version, metadata = METADATA_SPEC_VERSION, checked = CHECKED_SPEC_VERSION,
                "the node runs a runtime newer than any the client was checked against: re-check call indices and storage items (docs/subtensor.md)"),
            RuntimeAdvice::Older => tracing::warn!(target: "tao20::chain", endpoint,
                runtime = runtime_spec_version, metadata = METADATA_SPEC_VERSION,
                "the node runs a runtime older than the checked-in metadata; epoch schedule reads need spec 423 or later"),
        }
        // Named in the log so an operator (and the demo's report) can see which client ran.
        tracing::info!(target: "tao20::chain", endpoint, runtime = runtime_spec_version,
            "subtensor client connected (SubxtClient)");
        Ok(SubxtClient {
            api,
            endpoint: endpoint.into(),
            signer,
            metadata: std::sync::Arc::new(metadata()?),
            runtime_spec_version,
            runtime: std::sync::Arc::new(std::sync::Mutex::new(RuntimeSeen {
                block: 0,
                spec_version: runtime_spec_version,
                upgrades: 0,
            })),
            finalized: std::sync::Arc::default(),
            requests,
            rpc,
        })
    }

    /// Per-subnet map items of one subnet at block `at`, by raw key, in one
    /// `state_queryStorageAt`; an item with no stored value reads as its default. The node's
    /// metadata at that block must declare each item as [`raw`] reads it.
    async fn raw_items(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        items: &[raw::ScheduleItem],
        what: String,
    ) -> Result<Vec<u64>> {
        use subxt::rpcs::rpc_params;
        let client = self.at(at).await?;
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            raw::check_entry(client.metadata_ref(), item)?;
            keys.push(format!("0x{}", hex::encode(raw::netuid_key(item, netuid)?)));
        }
        let block = format!("0x{}", hex::encode(client.block_hash().0));
        let sets: Vec<serde_json::Value> = self
            .rpc
            .request("state_queryStorageAt", rpc_params![&keys, &block])
            .await
            .map_err(|e| request_error(what.clone(), e))?;
        let changes = sets
            .first()
            .and_then(|s| s.get("changes"))
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| Error::decode(what.clone(), "no change set in the answer"))?;
        let mut values = Vec::with_capacity(items.len());
        for (item, key) in items.iter().zip(&keys) {
            // A key the node holds no value for is absent or null: the item's default.
            let bytes = changes
                .iter()
                .find(|c| c.get(0).and_then(serde_json::Value::as_str) == Some(key.as_str()))
                .and_then(|c| c.get(1))
                .and_then(serde_json::Value::as_str)
                .map(|v| {
                    hex::decode(v.trim_start_matches("0x")).map_err(|e| {
                        Error::decode(
                            format!("{}::{}({netuid}) at {at}", item.pallet, item.name),
                            e,
                        )
                    })
                })
                .transpose()?;
            values.push(raw::decode_value(item, netuid, bytes.as_deref())?);
        }
        Ok(values)
    }

    /// JSON-RPC requests sent to the node so far (subscriptions included).
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The node's runtime `spec_version` when the client connected.
    pub fn runtime_spec_version(&self) -> u32 {
        self.runtime_spec_version
    }

    /// The runtime of the highest block read so far, and the upgrades seen while running.
    pub fn runtime_seen(&self) -> RuntimeSeen {
        *self
            .runtime
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes the runtime of block `number` as a block client reports it (it read the block's
    /// `Core_version` to build it). A change from the runtime of the highest block read before
    /// is a runtime upgrade seen while running: logged with what it means for this client
    /// (docs/subtensor.md, "Errors and retries": a newer runtime is read by raw key where the
    /// schedule moved, and a runtime newer than the client was checked against may have moved
    /// calls and storage, which then surface as `Decode` errors that stop the keeper).
    fn note_runtime(&self, number: BlockNumber, spec_version: u32) {
        let mut seen = self
            .runtime
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if number <= seen.block {
            return;
        }
        if spec_version != seen.spec_version {
            seen.upgrades += 1;
            let advice = runtime_advice(spec_version);
            tracing::warn!(target: "tao20::chain", endpoint = %self.endpoint, block = number,
                from = seen.spec_version, to = spec_version, ?advice,
                checked = CHECKED_SPEC_VERSION, "the node's runtime changed while running");
        }
        seen.block = number;
        seen.spec_version = spec_version;
    }

    async fn at(&self, number: BlockNumber) -> Result<AtBlock> {
        use subxt::error::OnlineClientAtBlockError as E;
        if let Some(at) = self.finalized.get(number) {
            return Ok(at);
        }
        let at = self.api.at_block(number).await.map_err(|e| match e {
            E::BlockNotFound { .. } => Error::NotFound {
                what: format!("block {number}"),
                later: true,
            },
            other => request_error(format!("block {number}"), other),
        })?;
        self.note_runtime(number, at.spec_version());
        self.finalized.put(number, &at);
        Ok(at)
    }

    async fn extrinsics_at(&self, at: &AtBlock) -> Result<Vec<(Bytes32, Extrinsic)>> {
        let number = at.block_number();
        let exts = at
            .extrinsics()
            .fetch()
            .await
            .map_err(|e| request_error(format!("extrinsics of block {number}"), e))?;
        let mut out = Vec::new();
        for ext in exts.iter() {
            let ext = ext.map_err(|e| Error::decode(format!("extrinsic of block {number}"), e))?;
            let call = match ext.decode_call_data_as::<RuntimeCall>() {
                Ok(rc) => from_runtime_call(&rc),
                Err(_) => Call::Other {
                    pallet: ext.pallet_name().to_string(),
                    call: ext.call_name().to_string(),
                },
            };
            let signer = ext
                .address_bytes()
                .and_then(|b| b.strip_prefix(&[0u8]))
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(Bytes32);
            let events = ext
                .events()
                .await
                .map_err(|e| request_error(format!("events of block {number}"), e))?;
            let mut converted = Vec::new();
            for ev in events.iter() {
                let ev = ev.map_err(|e| Error::decode(format!("event of block {number}"), e))?;
                // Module errors are named by the node's own metadata at that block: indices move
                // between runtimes (spec 365's `CommitRevealDisabled` is a later runtime's
                // `CommitRevealEnabled`).
                converted.push(convert_event(at.metadata_ref(), &ev)?);
            }
            let success = !converted
                .iter()
                .any(|e| matches!(e, Event::ExtrinsicFailed { .. }));
            let index = u32::try_from(ext.index()).unwrap_or(u32::MAX);
            out.push((
                Bytes32(ext.hash().0),
                Extrinsic {
                    index,
                    signer,
                    call,
                    events: converted,
                    success,
                },
            ));
        }
        Ok(out)
    }
}

// Reads are not checked against the codegen's hashes of the checked-in metadata: the live
// runtime renames value types into newtypes (`TaoBalance`, `NetUid`) whose hash differs while the
// bytes do not. Each value is still decoded against the node's own type, so a real change of
// layout is a decode error naming the item.
macro_rules! fetch {
    ($self:ident, $at:expr, $what:expr, $addr:expr, $keys:expr) => {{
        let at = $self.at($at).await?;
        let value = at
            .storage()
            .fetch($addr.unvalidated(), $keys)
            .await
            .map_err(|e| storage_error($what, e))?;
        value.decode().map_err(|e| Error::decode($what, e))?
    }};
}

impl Subtensor for SubxtClient {
    async fn finalized_head(&self) -> Result<BlockRef> {
        // Two plain reads. A block client at the head (`at_current_block`) also calls the
        // runtime's `Core_version`, which a keeper polling the head several times a block would
        // pay at every poll; the block's client is built once, when the block is first read.
        use subxt::rpcs::rpc_params;
        let hash: String = self
            .rpc
            .request("chain_getFinalizedHead", rpc_params![])
            .await
            .map_err(|e| request_error("finalized head", e))?;
        let header: Option<serde_json::Value> = self
            .rpc
            .request("chain_getHeader", rpc_params![&hash])
            .await
            .map_err(|e| request_error(format!("header of the finalized head {hash}"), e))?;
        let number = header
            .as_ref()
            .and_then(|h| h.get("number"))
            .and_then(serde_json::Value::as_str)
            .and_then(|n| n.strip_prefix("0x"))
            .and_then(|n| u64::from_str_radix(n, 16).ok())
            .ok_or_else(|| {
                Error::decode(
                    format!("header of the finalized head {hash}"),
                    format!("no hex block number in {header:?}"),
                )
            })?;
        let hash = hex32(&hash).ok_or_else(|| {
            Error::decode("finalized head", format!("not a 32-byte hex hash: {hash}"))
        })?;
        self.finalized.finalized(number);
        Ok(BlockRef {
            number,
            hash: Bytes32(hash),
        })
    }

    async fn stake(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
    ) -> Result<u64> {
        let client = self.at(at).await?;
        let payload = finney::runtime_apis()
            .stake_info_runtime_api()
            .get_stake_info_for_hotkey_coldkey_netuid(acc(&hotkey), acc(&coldkey), netuid)
            .unvalidated();
        let info = client
            .runtime_apis()
            .call(payload)
            .await
            .map_err(|e| request_error(format!("stake at {at}"), e))?;
        Ok(info.map(|i| i.stake).unwrap_or(0))
    }

    async fn commitments(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<Commitment>> {
        let client = self.at(at).await?;
        let what = format!("Commitments::CommitmentOf({netuid}) at {at}");
        let mut entries = client
            .storage()
            .iter(
                finney::storage()
                    .commitments()
                    .commitment_of()
                    .unvalidated(),
                (netuid,),
            )
            .await
            .map_err(|e| storage_error(what.clone(), e))?;
        let mut out = Vec::new();
        while let Some(entry) = entries.next().await {
            let entry = entry.map_err(|e| request_error(what.clone(), e))?;
            let key = entry.key().map_err(|e| Error::decode(what.clone(), e))?;
            let (_, who) = key.decode().map_err(|e| Error::decode(what.clone(), e))?;
            let reg = entry
                .value()
                .decode()
                .map_err(|e| Error::decode(what.clone(), e))?;
            out.push(Commitment {
                hotkey: ours(&who),
                block: u64::from(reg.block),
                data: data::fields_bytes(&reg.info.fields.0),
            });
        }
        out.sort_by_key(|c| c.hotkey);
        Ok(out)
    }

    async fn free_balance(&self, at: BlockNumber, account: AccountId) -> Result<u64> {
        let info = fetch!(
            self,
            at,
            format!("System::Account({account}) at {at}"),
            finney::storage().system().account(),
            (acc(&account),)
        );
        Ok(info.data.free)
    }

    async fn commitment_space(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        who: AccountId,
    ) -> Result<CommitmentSpace> {
        let client = self.at(at).await?;
        let what = format!("Commitments::UsedSpaceOf({netuid}, {who}) at {at}");
        let usage = client
            .storage()
            .try_fetch(
                finney::storage().commitments().used_space_of(),
                (netuid, acc(&who)),
            )
            .await
            .map_err(|e| storage_error(what.clone(), e))?
            .map(|v| v.decode().map_err(|e| Error::decode(what.clone(), e)))
            .transpose()?;
        let max_space: u32 = fetch!(
            self,
            at,
            format!("Commitments::MaxSpace at {at}"),
            finney::storage().commitments().max_space(),
            ()
        );
        Ok(CommitmentSpace {
            last_epoch: usage.as_ref().map_or(0, |u| u.last_epoch),
            used_space: usage.as_ref().map_or(0, |u| u.used_space),
            max_space: u64::from(max_space),
        })
    }

    async fn mechanism_emission_split(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<u16>> {
        let client = self.at(at).await?;
        let what = format!("MechanismEmissionSplit({netuid}) at {at}");
        let value = client
            .storage()
            .try_fetch(
                finney::storage()
                    .subtensor_module()
                    .mechanism_emission_split(),
                (netuid,),
            )
            .await
            .map_err(|e| storage_error(what.clone(), e))?;
        let stored: Option<Vec<u16>> = value
            .map(|v| v.decode().map_err(|e| Error::decode(what.clone(), e)))
            .transpose()?;
        let count: u8 = fetch!(
            self,
            at,
            format!("MechanismCountCurrent({netuid}) at {at}"),
            finney::storage()
                .subtensor_module()
                .mechanism_count_current(),
            (netuid,)
        );
        Ok(crate::types::effective_split(stored.as_deref(), count))
    }

    async fn current_alpha_price(&self, at: BlockNumber, netuid: NetUid) -> Result<u64> {
        let client = self.at(at).await?;
        client
            .runtime_apis()
            .call(
                finney::runtime_apis()
                    .swap_runtime_api()
                    .current_alpha_price(netuid)
                    .unvalidated(),
            )
            .await
            .map_err(|e| request_error(format!("current_alpha_price({netuid}) at {at}"), e))
    }

    async fn alpha_prices(
        &self,
        at: BlockNumber,
        netuids: &[NetUid],
    ) -> Result<Vec<(NetUid, u64)>> {
        let client = self.at(at).await?;
        // Not in the checked-in metadata (spec 365): called by name, decoded by its declared
        // layout `Vec<SubnetPrice { netuid: u16, price: u64 }>`.
        match client
            .runtime_apis()
            .call_raw("SwapRuntimeApi_current_alpha_price_all", None)
            .await
        {
            Ok(bytes) => {
                let all = <Vec<(u16, u64)> as codec::Decode>::decode(&mut &bytes[..])
                    .map_err(|e| Error::decode(format!("current_alpha_price_all at {at}"), e))?;
                Ok(netuids
                    .iter()
                    .filter_map(|n| all.iter().find(|(m, _)| m == n).copied())
                    .collect())
            }
            // A runtime without it answers as a node does for any missing export ("Exported
            // method ... is not found"): one call per subnet there. Any other failure (an outage)
            // is the caller's to wait out, not a reason to send N more requests.
            Err(e) if !e.to_string().contains("is not found") => {
                Err(request_error(format!("current_alpha_price_all at {at}"), e))
            }
            Err(_) => {
                let mut out = Vec::with_capacity(netuids.len());
                for &n in netuids {
                    out.push((n, self.current_alpha_price(at, n).await?));
                }
                Ok(out)
            }
        }
    }

    async fn pool_reserves(&self, at: BlockNumber, netuid: NetUid) -> Result<PoolReserves> {
        let s = finney::storage().subtensor_module();
        Ok(PoolReserves {
            tao_in: fetch!(
                self,
                at,
                format!("SubnetTAO({netuid})"),
                s.subnet_tao(),
                (netuid,)
            ),
            alpha_in: fetch!(
                self,
                at,
                format!("SubnetAlphaIn({netuid})"),
                s.subnet_alpha_in(),
                (netuid,)
            ),
            alpha_out: fetch!(
                self,
                at,
                format!("SubnetAlphaOut({netuid})"),
                s.subnet_alpha_out(),
                (netuid,)
            ),
        })
    }

    async fn tempo(&self, at: BlockNumber, netuid: NetUid) -> Result<u16> {
        Ok(fetch!(
            self,
            at,
            format!("Tempo({netuid})"),
            finney::storage().subtensor_module().tempo(),
            (netuid,)
        ))
    }

    async fn epoch_schedule(&self, at: BlockNumber, netuid: NetUid) -> Result<EpochSchedule> {
        // One request for the six: the keeper reads the schedule at every block.
        let values = self
            .raw_items(
                at,
                netuid,
                &raw::SCHEDULE_ITEMS,
                format!("epoch schedule of {netuid} at {at}"),
            )
            .await?;
        let Ok::<[u64; 6], _>(values) = values.try_into() else {
            return Err(Error::decode(
                format!("epoch schedule of {netuid} at {at}"),
                "not six values",
            ));
        };
        let [tempo, last_epoch_block, pending_epoch_at, subnet_epoch_index, blocks_since_last_step, reveal_period_epochs] =
            values;
        Ok(EpochSchedule {
            tempo: u16::try_from(tempo)
                .map_err(|e| Error::decode(format!("Tempo({netuid}) at {at}"), e))?,
            last_epoch_block,
            pending_epoch_at,
            subnet_epoch_index,
            blocks_since_last_step,
            reveal_period_epochs,
        })
    }

    async fn stake_availability(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
    ) -> Result<Option<std::collections::BTreeMap<NetUid, StakeAvailability>>> {
        use codec::{Compact, Decode, Encode};
        type Answer = std::collections::BTreeMap<
            [u8; 32],
            std::collections::BTreeMap<u16, (Compact<u64>, Compact<u64>, Compact<u64>)>,
        >;
        let what = format!("stake availability of {coldkey} at {at}");
        let client = self.at(at).await?;
        // Newer than the checked-in metadata: called by name, decoded by its declared layout
        // `BTreeMap<AccountId32, BTreeMap<NetUid, StakeAvailability { total, locked, available }>>`
        // (compact fields).
        let args = (vec![coldkey.0], None::<Vec<u16>>).encode();
        match client
            .runtime_apis()
            .call_raw(
                "StakeInfoRuntimeApi_get_stake_availability_for_coldkeys",
                Some(&args),
            )
            .await
        {
            Ok(bytes) => {
                let answer =
                    Answer::decode(&mut &bytes[..]).map_err(|e| Error::decode(what.clone(), e))?;
                Ok(Some(
                    answer
                        .get(&coldkey.0)
                        .map(|m| {
                            m.iter()
                                .map(|(n, (t, l, a))| {
                                    (
                                        *n,
                                        StakeAvailability {
                                            total: t.0,
                                            locked: l.0,
                                            available: a.0,
                                        },
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                ))
            }
            // A runtime without locks has no such export: all stake is available there.
            Err(e) if e.to_string().contains("is not found") => Ok(None),
            Err(e) => Err(request_error(what, e)),
        }
    }

    async fn swap_pool(&self, at: BlockNumber, netuid: NetUid) -> Result<SwapPool> {
        let what = format!("swap pool of {netuid} at {at}");
        let values = self
            .raw_items(at, netuid, &raw::SWAP_POOL_ITEMS, what.clone())
            .await?;
        let [tao_in, alpha_in, alpha_out, quote_weight, fee_rate] = values[..] else {
            return Err(Error::decode(what, "not five values"));
        };
        Ok(SwapPool {
            reserves: PoolReserves {
                tao_in,
                alpha_in,
                alpha_out,
            },
            quote_weight,
            fee_rate: u16::try_from(fee_rate).map_err(|e| Error::decode(what, e))?,
        })
    }

    async fn neurons(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<Neuron>> {
        let client = self.at(at).await?;
        let what = format!("neurons of {netuid} at {at}");
        let lite = client
            .runtime_apis()
            .call(
                finney::runtime_apis()
                    .neuron_info_runtime_api()
                    .get_neurons_lite(netuid)
                    .unvalidated(),
            )
            .await
            .map_err(|e| request_error(what.clone(), e))?;
        let mut registered = std::collections::BTreeMap::new();
        let mut entries = client
            .storage()
            .iter(
                finney::storage().subtensor_module().block_at_registration(),
                (netuid,),
            )
            .await
            .map_err(|e| storage_error(what.clone(), e))?;
        while let Some(entry) = entries.next().await {
            let entry = entry.map_err(|e| request_error(what.clone(), e))?;
            let key = entry.key().map_err(|e| Error::decode(what.clone(), e))?;
            let (_, uid) = key.decode().map_err(|e| Error::decode(what.clone(), e))?;
            let block: u64 = entry
                .value()
                .decode()
                .map_err(|e| Error::decode(what.clone(), e))?;
            registered.insert(uid, block);
        }
        let mut out: Vec<Neuron> = lite
            .into_iter()
            .map(|n| {
                let a = &n.axon_info;
                Neuron {
                    uid: n.uid,
                    hotkey: ours(&n.hotkey),
                    coldkey: ours(&n.coldkey),
                    stake: n
                        .stake
                        .iter()
                        .map(|(_, s)| s.0)
                        .fold(0u64, u64::saturating_add),
                    validator_permit: n.validator_permit,
                    registered_at: registered.get(&n.uid).copied().unwrap_or(0),
                    axon: (a.ip != 0 || a.block != 0).then_some(AxonInfo {
                        block: a.block,
                        version: a.version,
                        ip: a.ip,
                        port: a.port,
                        ip_type: a.ip_type,
                        protocol: a.protocol,
                    }),
                }
            })
            .collect();
        out.sort_by_key(|n| n.uid);
        Ok(out)
    }

    async fn subnet_owner(&self, at: BlockNumber, netuid: NetUid) -> Result<AccountId> {
        let owner: subxt::utils::AccountId32 = fetch!(
            self,
            at,
            format!("SubnetOwner({netuid})"),
            finney::storage().subtensor_module().subnet_owner(),
            (netuid,)
        );
        Ok(ours(&owner))
    }

    async fn transfers_enabled(&self, at: BlockNumber, netuid: NetUid) -> Result<bool> {
        Ok(fetch!(
            self,
            at,
            format!("TransferToggle({netuid})"),
            finney::storage().subtensor_module().transfer_toggle(),
            (netuid,)
        ))
    }

    async fn weights_settings(&self, at: BlockNumber, netuid: NetUid) -> Result<WeightsSettings> {
        let s = finney::storage().subtensor_module();
        Ok(WeightsSettings {
            commit_reveal_enabled: fetch!(
                self,
                at,
                format!("CommitRevealWeightsEnabled({netuid})"),
                s.commit_reveal_weights_enabled(),
                (netuid,)
            ),
            reveal_period_epochs: fetch!(
                self,
                at,
                format!("RevealPeriodEpochs({netuid})"),
                s.reveal_period_epochs(),
                (netuid,)
            ),
            commit_reveal_version: fetch!(
                self,
                at,
                "CommitRevealWeightsVersion".to_string(),
                s.commit_reveal_weights_version(),
                ()
            ),
            version_key: fetch!(
                self,
                at,
                format!("WeightsVersionKey({netuid})"),
                s.weights_version_key(),
                (netuid,)
            ),
            min_allowed_weights: fetch!(
                self,
                at,
                format!("MinAllowedWeights({netuid})"),
                s.min_allowed_weights(),
                (netuid,)
            ),
        })
    }

    async fn weights(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        mecid: u8,
        uid: u16,
    ) -> Result<Vec<(u16, u16)>> {
        let index = crate::types::netuid_index(netuid, mecid);
        Ok(fetch!(
            self,
            at,
            format!("Weights({index}, {uid})"),
            finney::storage().subtensor_module().weights(),
            (index, uid)
        ))
    }

    async fn chain_time(&self, at: BlockNumber) -> Result<u64> {
        let millis: u64 = fetch!(
            self,
            at,
            "Timestamp::Now".to_string(),
            finney::storage().timestamp().now(),
            ()
        );
        Ok(millis / 1000)
    }

    async fn beacon(&self) -> Result<BeaconInfo> {
        // The beacon the runtime verifies pulses against (`Drand::BeaconConfig`): timelocked
        // weights must be encrypted to it. Finney's is quicknet; a chain without the item
        // (none known) is taken to use quicknet too.
        let at = self
            .api
            .at_current_block()
            .await
            .map_err(|e| request_error("finalized head", e))?;
        let config = at
            .storage()
            .try_fetch(finney::storage().drand().beacon_config().unvalidated(), ())
            .await
            .map_err(|e| storage_error("Drand::BeaconConfig", e))?;
        let Some(config) = config else {
            return Ok(crate::drand::quicknet());
        };
        let c = config
            .decode()
            .map_err(|e| Error::decode("Drand::BeaconConfig", e))?;
        Ok(BeaconInfo {
            public_key: c.public_key.0.clone(),
            genesis_time: u64::from(c.genesis_time),
            period: u64::from(c.period),
        })
    }

    async fn block_extrinsics(&self, number: BlockNumber) -> Result<Vec<Extrinsic>> {
        let at = self.at(number).await?;
        Ok(self
            .extrinsics_at(&at)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    fn signer(&self) -> Option<AccountId> {
        self.signer.as_ref().map(Signer::account)
    }

    fn requests_sent(&self) -> Option<u64> {
        Some(self.requests())
    }

    fn runtime(&self) -> Option<RuntimeSeen> {
        Some(self.runtime_seen())
    }

    async fn submit(&self, call: Call) -> Result<Inclusion> {
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| Error::invalid("signer", "no signing key configured"))?;
        let bytes = encode_call(&self.metadata, &call)?;
        let name = call.name();
        let at = self
            .api
            .at_current_block()
            .await
            .map_err(|e| request_error("finalized head", e))?;
        let mut tx = at.tx();
        // The bytes come from the checked-in metadata; decoding them with the node's metadata
        // gives a dynamic payload (no static validation hash to refuse a newer runtime) and
        // proves the node reads the same arguments. Its names must be ours: a call index that
        // moved to another call would otherwise be signed.
        let payload = tx
            .from_call_data_bytes(&bytes)
            .map_err(|e| Error::decode(format!("{name} against the node's metadata"), e))?;
        {
            let seen = decoded_shape(
                payload.pallet_name(),
                payload.call_name(),
                payload.call_data(),
            );
            let expected = expected_shape(&call);
            if seen != expected {
                return Err(Error::decode(
                    format!("{name} against the node's metadata"),
                    format!("the node reads these call bytes as {seen:?}"),
                ));
            }
        }
        let progress = tx
            .sign_and_submit_then_watch_default(&payload, signer.keypair())
            .await
            .map_err(|e| submit_error(&name, &e))?;
        let in_block = progress
            .wait_for_finalized()
            .await
            .map_err(|e| request_error(format!("finalization of {name}"), e))?;
        let block = in_block
            .at()
            .await
            .map_err(|e| request_error(format!("block of {name}"), e))?;
        let number = block.block_number();
        let hash = Bytes32(in_block.extrinsic_hash().0);
        let ext = self
            .extrinsics_at(&block)
            .await?
            .into_iter()
            .find(|(h, _)| *h == hash)
            .map(|(_, e)| e)
            .ok_or_else(|| Error::not_found(format!("{name} in block {number}")))?;
        if let Some(Event::ExtrinsicFailed { error }) = ext
            .events
            .iter()
            .find(|e| matches!(e, Event::ExtrinsicFailed { .. }))
        {
            return Err(Error::Dispatch {
                call: name,
                block: number,
                error: error.clone(),
            });
        }
        Ok(Inclusion {
            block: BlockRef {
                number,
                hash: Bytes32(block.block_hash().0),
            },
            index: ext.index,
            events: ext.events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer() -> Call {
        Call::TransferStake(TransferStake {
            destination_coldkey: Bytes32([1; 32]),
            hotkey: Bytes32([2; 32]),
            origin_netuid: 3,
            destination_netuid: 3,
            alpha_amount: 5,
        })
    }

    #[test]
    fn submitted_bytes_decode_with_a_node_metadata_to_the_intended_calls() {
        let metadata = metadata().unwrap();
        let offline = subxt::OfflineClient::new_with_config(SubtensorConfig::offline(
            subxt::ArcMetadata::from(super::metadata().unwrap()),
            1,
            1,
            [0; 32],
        ));
        let at = offline.at_block(0u64).unwrap();
        let batch = Call::BatchAll {
            calls: vec![Call::Remark { data: vec![1, 2] }, transfer()],
        };
        let bytes = encode_call(&metadata, &batch).unwrap();
        let payload = at.tx().from_call_data_bytes(&bytes).unwrap();
        let seen = decoded_shape(
            payload.pallet_name(),
            payload.call_name(),
            payload.call_data(),
        );
        assert_eq!(seen, expected_shape(&batch));
        assert_eq!(seen.inner.len(), 2);
        assert_eq!(
            (seen.inner[1].pallet.as_str(), seen.inner[1].call.as_str()),
            ("SubtensorModule", "transfer_stake")
        );
        // Bytes of another call do not pass for this one.
        let other = encode_call(&metadata, &transfer()).unwrap();
        let payload = at.tx().from_call_data_bytes(&other).unwrap();
        let seen = decoded_shape(
            payload.pallet_name(),
            payload.call_name(),
            payload.call_data(),
        );
        assert_ne!(seen, expected_shape(&batch));
    }

    #[test]
    fn runtime_versions_are_classified() {
        assert_eq!(runtime_advice(365), RuntimeAdvice::Checked);
        assert_eq!(runtime_advice(425), RuntimeAdvice::NewerThanMetadata);
        assert_eq!(runtime_advice(426), RuntimeAdvice::Unchecked);
        assert_eq!(runtime_advice(300), RuntimeAdvice::Older);
        assert_eq!(
            raw::metadata_spec_version(&metadata().unwrap()).unwrap(),
            METADATA_SPEC_VERSION
        );
    }
}
