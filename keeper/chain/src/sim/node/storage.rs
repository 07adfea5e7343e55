//! Storage at the runtime's keys and runtime API answers, SCALE-encoded as the metadata lays
//! them out (`twox128(pallet) ++ twox128(item) ++` each key's hasher and encoding).
//!
//! Every item a TAO20 process reads is served; a key the node does not model reads as absent,
//! as an unset item does on a real node, so a client falls back to the metadata's default.

use codec::{Compact, Decode, Encode};

use super::super::{Simulator, Subnet};
use super::pool::Pool;
use crate::client::raw::{self, item_prefix};
use crate::types::{AccountId, BlockNumber, Bytes32, NetUid};
use crate::{Error, Result};

/// A storage item the node serves, by its pallet and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    SystemAccount,
    SystemEvents,
    SystemNumber,
    TimestampNow,
    CommitmentOf,
    UsedSpaceOf,
    MaxSpace,
    Tempo,
    SubnetOwner,
    TransferToggle,
    SubnetTao,
    SubnetAlphaIn,
    SubnetAlphaOut,
    MechanismEmissionSplit,
    MechanismCountCurrent,
    CommitRevealWeightsEnabled,
    RevealPeriodEpochs,
    CommitRevealWeightsVersion,
    WeightsVersionKey,
    MinAllowedWeights,
    Weights,
    BlockAtRegistration,
    LastEpochBlock,
    PendingEpochAt,
    SubnetEpochIndex,
    BlocksSinceLastStep,
    NetworksAdded,
    BeaconConfig,
    SwapBalancer,
    FeeRate,
}

/// Every served item: pallet, storage name.
pub(super) const ITEMS: &[(Item, &str, &str)] = &[
    (Item::SystemAccount, "System", "Account"),
    (Item::SystemEvents, "System", "Events"),
    (Item::SystemNumber, "System", "Number"),
    (Item::TimestampNow, "Timestamp", "Now"),
    (Item::CommitmentOf, "Commitments", "CommitmentOf"),
    (Item::UsedSpaceOf, "Commitments", "UsedSpaceOf"),
    (Item::MaxSpace, "Commitments", "MaxSpace"),
    (Item::Tempo, "SubtensorModule", "Tempo"),
    (Item::SubnetOwner, "SubtensorModule", "SubnetOwner"),
    (Item::TransferToggle, "SubtensorModule", "TransferToggle"),
    (Item::SubnetTao, "SubtensorModule", "SubnetTAO"),
    (Item::SubnetAlphaIn, "SubtensorModule", "SubnetAlphaIn"),
    (Item::SubnetAlphaOut, "SubtensorModule", "SubnetAlphaOut"),
    (
        Item::MechanismEmissionSplit,
        "SubtensorModule",
        "MechanismEmissionSplit",
    ),
    (
        Item::MechanismCountCurrent,
        "SubtensorModule",
        "MechanismCountCurrent",
    ),
    (
        Item::CommitRevealWeightsEnabled,
        "SubtensorModule",
        "CommitRevealWeightsEnabled",
    ),
    (
        Item::RevealPeriodEpochs,
        "SubtensorModule",
        "RevealPeriodEpochs",
    ),
    (
        Item::CommitRevealWeightsVersion,
        "SubtensorModule",
        "CommitRevealWeightsVersion",
    ),
    (
        Item::WeightsVersionKey,
        "SubtensorModule",
        "WeightsVersionKey",
    ),
    (
        Item::MinAllowedWeights,
        "SubtensorModule",
        "MinAllowedWeights",
    ),
    (Item::Weights, "SubtensorModule", "Weights"),
    (
        Item::BlockAtRegistration,
        "SubtensorModule",
        "BlockAtRegistration",
    ),
    (Item::LastEpochBlock, "SubtensorModule", "LastEpochBlock"),
    (Item::PendingEpochAt, "SubtensorModule", "PendingEpochAt"),
    (
        Item::SubnetEpochIndex,
        "SubtensorModule",
        "SubnetEpochIndex",
    ),
    (
        Item::BlocksSinceLastStep,
        "SubtensorModule",
        "BlocksSinceLastStep",
    ),
    (Item::NetworksAdded, "SubtensorModule", "NetworksAdded"),
    (Item::BeaconConfig, "Drand", "BeaconConfig"),
    (Item::SwapBalancer, raw::SWAP_PALLET, "SwapBalancer"),
    (Item::FeeRate, raw::SWAP_PALLET, "FeeRate"),
];

/// A key split into its item and the bytes after the item's prefix.
pub(super) fn item_of(key: &[u8]) -> Option<(Item, &[u8])> {
    let (prefix, rest) = key.split_at_checked(32)?;
    ITEMS
        .iter()
        .find(|(_, p, i)| item_prefix(p, i) == prefix)
        .map(|(item, _, _)| (*item, rest))
}

/// Reads the key material of one map key from `rest`.
struct Keys<'a>(&'a [u8]);

impl Keys<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    fn identity_u16(&mut self) -> Option<u16> {
        self.take(2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_le_bytes)
    }
    fn twox64_u16(&mut self) -> Option<u16> {
        let hash = self.take(8)?.to_vec();
        let v = self.identity_u16()?;
        (hash == sp_crypto_hashing::twox_64(&v.to_le_bytes())).then_some(v)
    }
    fn account(&mut self) -> Option<AccountId> {
        self.take(32)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Bytes32)
    }
    fn twox64_account(&mut self) -> Option<AccountId> {
        let hash = self.take(8)?.to_vec();
        let a = self.account()?;
        (hash == sp_crypto_hashing::twox_64(&a.0)).then_some(a)
    }
    fn blake2_128_account(&mut self) -> Option<AccountId> {
        let hash = self.take(16)?.to_vec();
        let a = self.account()?;
        (hash == sp_crypto_hashing::blake2_128(&a.0)).then_some(a)
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

fn subnet(sim: &Simulator, at: BlockNumber, netuid: NetUid) -> Option<&Subnet> {
    sim.history.get(&at).and_then(|s| s.get(&netuid))
}

/// The value at `key` at block `at`, encoded; `None` when nothing is stored there. The caller
/// has checked that the state of `at` is still held.
pub(super) fn read(
    sim: &Simulator,
    metadata: &subxt::Metadata,
    pool: &Pool,
    at: BlockNumber,
    key: &[u8],
) -> Result<Option<Vec<u8>>> {
    let Some((item, rest)) = item_of(key) else {
        return Ok(None);
    };
    let mut k = Keys(rest);
    let value = match item {
        Item::SystemAccount => {
            let Some(who) = k.blake2_128_account() else {
                return Ok(None);
            };
            if at < sim.first_block {
                return Ok(None);
            }
            let free = sim.free_balance(at, who)?;
            let nonce = pool.nonce_at(&who, at);
            (free > 0 || nonce > 0).then(|| account_info(nonce, free))
        }
        Item::SystemEvents => Some(super::blocks::events(metadata, &sim.block_extrinsics(at)?)),
        Item::SystemNumber => Some(super::blocks::number_u32(at)?.encode()),
        Item::TimestampNow => Some(sim.chain_time(at)?.saturating_mul(1000).encode()),
        Item::MaxSpace => Some(
            u32::try_from(sim.config.commitment_max_space)
                .unwrap_or(u32::MAX)
                .encode(),
        ),
        Item::CommitRevealWeightsVersion => Some(crate::api::COMMIT_REVEAL_VERSION.encode()),
        Item::BeaconConfig => Some(beacon_config(metadata, &sim.beacon())?),
        Item::NetworksAdded => {
            let Some(netuid) = k.identity_u16() else {
                return Ok(None);
            };
            subnet(sim, at, netuid).map(|_| true.encode())
        }
        Item::CommitmentOf | Item::UsedSpaceOf => {
            let (Some(netuid), Some(who)) = (k.identity_u16(), k.twox64_account()) else {
                return Ok(None);
            };
            let Some(sn) = subnet(sim, at, netuid) else {
                return Ok(None);
            };
            if item == Item::CommitmentOf {
                match sn.commitments.get(&who) {
                    Some(c) => Some(registration(metadata, c.block, &c.data)?),
                    None => None,
                }
            } else {
                sn.commitment_usage
                    .get(&who)
                    .map(|(epoch, used)| (*epoch, *used).encode())
            }
        }
        Item::SwapBalancer | Item::FeeRate => {
            let Some(netuid) = k.twox64_u16() else {
                return Ok(None);
            };
            let Some(sn) = subnet(sim, at, netuid) else {
                return Ok(None);
            };
            Some(match item {
                // `Balancer { quote: Perquintill }`: the TAO weight's parts of 1e18.
                Item::SwapBalancer => sn.pool.weight_tao.encode(),
                _ => sim.config.swap_fee_rate.encode(),
            })
        }
        Item::RevealPeriodEpochs | Item::MechanismEmissionSplit | Item::MechanismCountCurrent => {
            let Some(netuid) = k.twox64_u16() else {
                return Ok(None);
            };
            let Some(sn) = subnet(sim, at, netuid) else {
                return Ok(None);
            };
            match item {
                Item::RevealPeriodEpochs => Some(sn.schedule.reveal_period_epochs.encode()),
                Item::MechanismEmissionSplit => sn.split.as_ref().map(Encode::encode),
                _ => Some(sn.mechanism_count.encode()),
            }
        }
        Item::Weights | Item::BlockAtRegistration => {
            let (Some(index), Some(uid)) = (k.identity_u16(), k.identity_u16()) else {
                return Ok(None);
            };
            let (netuid, mecid) = (index % 4096, u8::try_from(index / 4096).unwrap_or(u8::MAX));
            let Some(sn) = subnet(sim, at, netuid) else {
                return Ok(None);
            };
            if item == Item::Weights {
                sn.weights.get(&(mecid, uid)).map(Encode::encode)
            } else if mecid == 0 {
                sn.neurons
                    .iter()
                    .find(|n| n.uid == uid)
                    .map(|n| n.registered_at.encode())
            } else {
                None
            }
        }
        _ => {
            let Some(netuid) = k.identity_u16() else {
                return Ok(None);
            };
            let Some(sn) = subnet(sim, at, netuid) else {
                return Ok(None);
            };
            let s = &sn.schedule;
            Some(match item {
                Item::Tempo => s.tempo.encode(),
                Item::SubnetOwner => sn.owner.0.encode(),
                Item::TransferToggle => sn.transfers_enabled.encode(),
                Item::SubnetTao => sn.pool.reserves().tao_in.encode(),
                Item::SubnetAlphaIn => sn.pool.reserves().alpha_in.encode(),
                Item::SubnetAlphaOut => sn.pool.reserves().alpha_out.encode(),
                Item::CommitRevealWeightsEnabled => sn.commit_reveal_enabled.encode(),
                Item::WeightsVersionKey => sn.weights_version_key.encode(),
                Item::MinAllowedWeights => sn.min_allowed_weights.encode(),
                Item::LastEpochBlock => s.last_epoch_block.encode(),
                Item::PendingEpochAt => s.pending_epoch_at.encode(),
                Item::SubnetEpochIndex => s.subnet_epoch_index.encode(),
                Item::BlocksSinceLastStep => s.blocks_since_last_step.encode(),
                _ => return Ok(None),
            })
        }
    };
    if !k.done() {
        // Extra bytes after a complete key name no entry of this item.
        return Ok(None);
    }
    Ok(value)
}

/// Keys under `prefix` at block `at`, sorted as the trie orders them: the iterable maps the
/// processes walk (`CommitmentOf`, `UsedSpaceOf`, `BlockAtRegistration`, `Weights` by netuid).
pub(super) fn keys(sim: &Simulator, at: BlockNumber, prefix: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(state) = sim.history.get(&at) else {
        return out;
    };
    for (netuid, sn) in state.iter() {
        let n = netuid.to_le_bytes();
        let mut push = |item: &str, pallet: &str, tail: &[u8]| {
            let mut key = item_prefix(pallet, item).to_vec();
            key.extend_from_slice(&n);
            key.extend_from_slice(tail);
            if key.starts_with(prefix) {
                out.push(key);
            }
        };
        for who in sn.commitments.keys() {
            let tail = [&sp_crypto_hashing::twox_64(&who.0)[..], &who.0[..]].concat();
            push("CommitmentOf", "Commitments", &tail);
        }
        for who in sn.commitment_usage.keys() {
            let tail = [&sp_crypto_hashing::twox_64(&who.0)[..], &who.0[..]].concat();
            push("UsedSpaceOf", "Commitments", &tail);
        }
        for rec in sn.neurons.iter() {
            push(
                "BlockAtRegistration",
                raw::SUBTENSOR_PALLET,
                &rec.uid.to_le_bytes(),
            );
        }
        for (mecid, uid) in sn.weights.keys() {
            let index = crate::types::netuid_index(*netuid, *mecid);
            let mut key = item_prefix(raw::SUBTENSOR_PALLET, "Weights").to_vec();
            key.extend_from_slice(&index.to_le_bytes());
            key.extend_from_slice(&uid.to_le_bytes());
            if key.starts_with(prefix) {
                out.push(key);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `Drand::BeaconConfig`: the simulator's own beacon (it cannot reach drand), which the
/// simulator's reveals verify against, as the runtime's verify against quicknet's.
fn beacon_config(metadata: &subxt::Metadata, b: &crate::types::BeaconInfo) -> Result<Vec<u8>> {
    use crate::client::finney::runtime_types as rt;
    use rt::bounded_collections::bounded_vec::BoundedVec;
    let value = rt::pallet_drand::types::BeaconConfiguration {
        public_key: BoundedVec(b.public_key.clone()),
        period: u32::try_from(b.period).unwrap_or(u32::MAX),
        genesis_time: u32::try_from(b.genesis_time).unwrap_or(u32::MAX),
        hash: BoundedVec(Vec::new()),
        group_hash: BoundedVec(Vec::new()),
        scheme_id: BoundedVec(b"bls-unchained-g1-rfc9380".to_vec()),
        metadata: rt::pallet_drand::types::Metadata {
            beacon_id: BoundedVec(b"tao20-devnet".to_vec()),
        },
    };
    encode_value(metadata, "Drand", "BeaconConfig", &value)
}

/// `value` encoded as the metadata lays out storage item `pallet::item`'s value.
fn encode_value(
    metadata: &subxt::Metadata,
    pallet: &str,
    item: &str,
    value: &impl subxt::ext::scale_encode::EncodeAsType,
) -> Result<Vec<u8>> {
    let ty = metadata
        .pallet_by_name(pallet)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name(item))
        .map(|e| e.value_ty())
        .ok_or_else(|| Error::decode("metadata", format!("no {pallet}::{item}")))?;
    value
        .encode_as_type(ty, metadata.types())
        .map_err(|e| Error::decode(format!("{pallet}::{item} value"), e))
}

/// `frame_system::AccountInfo` with `pallet_balances::AccountData` (flags: the new-logic bit).
fn account_info(nonce: u32, free: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    nonce.encode_to(&mut out);
    0u32.encode_to(&mut out); // consumers
    1u32.encode_to(&mut out); // providers
    0u32.encode_to(&mut out); // sufficients
    free.encode_to(&mut out);
    0u64.encode_to(&mut out); // reserved
    0u64.encode_to(&mut out); // frozen
    (1u128 << 127).encode_to(&mut out);
    out
}

/// `pallet_commitments::Registration { deposit, block, info: { fields } }`, the bytes in raw
/// fields of at most 128 bytes each.
fn registration(metadata: &subxt::Metadata, block: BlockNumber, data: &[u8]) -> Result<Vec<u8>> {
    use crate::client::finney::runtime_types as rt;
    let mut fields = Vec::new();
    for chunk in data.chunks(128) {
        fields.push(crate::client::data::to_data(chunk)?);
    }
    let value = rt::pallet_commitments::types::Registration {
        deposit: 0u64,
        block: super::blocks::number_u32(block)?,
        info: rt::pallet_commitments::types::CommitmentInfo {
            fields: rt::bounded_collections::bounded_vec::BoundedVec(fields),
        },
    };
    encode_value(metadata, "Commitments", "CommitmentOf", &value)
}

/// `state_call`: the runtime APIs the processes call. `None`: the runtime has no such API.
pub(super) fn call(
    sim: &Simulator,
    pool: &Pool,
    at: BlockNumber,
    method: &str,
    args: &[u8],
    version: &[u8],
    metadata: &[&[u8]; 2],
) -> Result<Option<Vec<u8>>> {
    let bad = |e: codec::Error| Error::invalid(format!("{method} arguments"), e.to_string());
    let mut input = args;
    Ok(Some(match method {
        "Core_version" => version.to_vec(),
        "Metadata_metadata_versions" => metadata_versions().encode(),
        "Metadata_metadata_at_version" => {
            let v = u32::decode(&mut input).map_err(bad)?;
            let bytes = metadata_versions()
                .iter()
                .position(|x| *x == v)
                .and_then(|i| metadata.get(i))
                .map(|m| m.to_vec());
            bytes.encode()
        }
        "Metadata_metadata" => metadata[0].to_vec().encode(),
        "StakeInfoRuntimeApi_get_stake_info_for_hotkey_coldkey_netuid" => {
            let hotkey = Bytes32(<[u8; 32]>::decode(&mut input).map_err(bad)?);
            let coldkey = Bytes32(<[u8; 32]>::decode(&mut input).map_err(bad)?);
            let netuid = u16::decode(&mut input).map_err(bad)?;
            if subnet(sim, at, netuid).is_none() {
                None::<()>.encode()
            } else {
                let stake = sim.stake(at, coldkey, hotkey, netuid)?;
                let registered =
                    subnet(sim, at, netuid).is_some_and(|sn| sn.uid_of(&hotkey).is_some());
                let mut out = vec![0x01];
                hotkey.0.encode_to(&mut out);
                coldkey.0.encode_to(&mut out);
                Compact(netuid).encode_to(&mut out);
                Compact(stake).encode_to(&mut out);
                for _ in 0..4 {
                    Compact(0u64).encode_to(&mut out); // locked, emission, tao_emission, drain
                }
                registered.encode_to(&mut out);
                out
            }
        }
        "StakeInfoRuntimeApi_get_stake_availability_for_coldkeys" => {
            let coldkeys = Vec::<[u8; 32]>::decode(&mut input).map_err(bad)?;
            let netuids = Option::<Vec<u16>>::decode(&mut input).map_err(bad)?;
            stake_availability(sim, at, coldkeys, netuids)?.encode()
        }
        "AccountNonceApi_account_nonce" => {
            let who = Bytes32(<[u8; 32]>::decode(&mut input).map_err(bad)?);
            pool.nonce_at(&who, at).encode()
        }
        "SwapRuntimeApi_current_alpha_price" => {
            let netuid = u16::decode(&mut input).map_err(bad)?;
            match subnet(sim, at, netuid) {
                Some(sn) => sn.pool.price().encode(),
                None => 0u64.encode(),
            }
        }
        "SwapRuntimeApi_current_alpha_price_all" => {
            // `Vec<SubnetPrice { netuid, price }>` over every subnet, in netuid order.
            let prices: Vec<(u16, u64)> = sim
                .history
                .get(&at)
                .map(|s| s.iter().map(|(n, sn)| (*n, sn.pool.price())).collect())
                .unwrap_or_default();
            prices.encode()
        }
        "NeuronInfoRuntimeApi_get_neurons_lite" => {
            let netuid = u16::decode(&mut input).map_err(bad)?;
            let neurons = match subnet(sim, at, netuid) {
                Some(sn) => sim.neurons_of(sn, at, netuid)?,
                None => Vec::new(),
            };
            let mut out = Compact(u32::try_from(neurons.len()).unwrap_or(u32::MAX)).encode();
            for n in &neurons {
                neuron_lite(&mut out, netuid, n);
            }
            out
        }
        _ => return Ok(None),
    }))
}

/// `get_stake_availability_for_coldkeys` (`rpc_info/stake_info.rs`): per coldkey, per subnet
/// where it has stake or a lock, `StakeAvailability { total, locked, available }` (compact).
/// An empty request answers an empty map; `Some` netuids that are empty or more than the subnets
/// answer each coldkey with nothing; netuids that do not exist are left out.
type Availability = std::collections::BTreeMap<
    [u8; 32],
    std::collections::BTreeMap<u16, (Compact<u64>, Compact<u64>, Compact<u64>)>,
>;

fn stake_availability(
    sim: &Simulator,
    at: BlockNumber,
    coldkeys: Vec<[u8; 32]>,
    netuids: Option<Vec<u16>>,
) -> Result<Availability> {
    let existing = sim.history.get(&at).map_or(0, |s| s.len());
    let mut out = Availability::new();
    for coldkey in coldkeys {
        let all = sim.stake_availability(at, Bytes32(coldkey))?;
        let chosen = match &netuids {
            None => all,
            Some(n) if n.is_empty() || n.len() > existing => Default::default(),
            Some(n) => all.into_iter().filter(|(k, _)| n.contains(k)).collect(),
        };
        out.insert(
            coldkey,
            chosen
                .into_iter()
                .map(|(n, a)| {
                    (
                        n,
                        (Compact(a.total), Compact(a.locked), Compact(a.available)),
                    )
                })
                .collect(),
        );
    }
    Ok(out)
}

/// The metadata versions served, in the order of the `metadata` argument of [`call`].
fn metadata_versions() -> Vec<u32> {
    vec![15, 16]
}

/// `NeuronInfoLite`, the fields the simulator models; the rest zero.
fn neuron_lite(out: &mut Vec<u8>, netuid: NetUid, n: &crate::types::Neuron) {
    n.hotkey.0.encode_to(out);
    n.coldkey.0.encode_to(out);
    Compact(n.uid).encode_to(out);
    Compact(netuid).encode_to(out);
    true.encode_to(out); // active
    match &n.axon {
        Some(a) => {
            a.block.encode_to(out);
            a.version.encode_to(out);
            a.ip.encode_to(out);
            a.port.encode_to(out);
            a.ip_type.encode_to(out);
            a.protocol.encode_to(out);
        }
        None => (0u64, 0u32, 0u128, 0u16, 0u8, 0u8).encode_to(out),
    }
    0u8.encode_to(out); // placeholder1
    0u8.encode_to(out); // placeholder2
                        // prometheus_info: block, version, ip, port, ip_type
    0u64.encode_to(out);
    0u32.encode_to(out);
    0u128.encode_to(out);
    0u16.encode_to(out);
    0u8.encode_to(out);
    // stake: one entry (the hotkey's own coldkey) carrying the total
    let stake: Vec<([u8; 32], Compact<u64>)> = if n.stake > 0 {
        vec![(n.coldkey.0, Compact(n.stake))]
    } else {
        Vec::new()
    };
    stake.encode_to(out);
    // rank, emission, incentive, consensus, trust, validator_trust, dividends, last_update
    Compact(0u16).encode_to(out);
    Compact(0u64).encode_to(out);
    for _ in 0..5 {
        Compact(0u16).encode_to(out);
    }
    Compact(0u64).encode_to(out);
    n.validator_permit.encode_to(out);
    Compact(0u16).encode_to(out); // pruning_score
}
