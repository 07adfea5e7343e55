//! Plain data types of subtensor access: accounts, neurons, commitments, and the calls and events
//! of an extrinsic. They carry no subxt or simulator types, so other crates (the creation core's
//! delivery recogniser) can convert them with a plain `match`. Amounts are integers in rao (1e-9
//! TAO or alpha); JSON writes byte strings as `0x` hex.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Block heights, as the chain counts them.
pub type BlockNumber = u64;

/// A subnet id.
pub type NetUid = u16;

/// 32 bytes: an sr25519 public key (coldkey, hotkey) or a block hash. JSON: `0x` + 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes32(pub [u8; 32]);

/// A substrate account (an sr25519 public key, or an EVM contract's mirror account).
pub type AccountId = Bytes32;

/// A block hash.
pub type BlockHash = Bytes32;

impl std::fmt::Debug for Bytes32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::fmt::Display for Bytes32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::str::FromStr for Bytes32 {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(digits)
            .map_err(|e| crate::Error::invalid(format!("32-byte hex {s:?}"), e.to_string()))?;
        let array: [u8; 32] = bytes.try_into().map_err(|v: Vec<u8>| {
            crate::Error::invalid(
                format!("32-byte hex {s:?}"),
                format!("{} bytes, expected 32", v.len()),
            )
        })?;
        Ok(Bytes32(array))
    }
}

impl Serialize for Bytes32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Bytes32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde helpers writing `Vec<u8>` as `0x` hex.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `0x` + hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(bytes)))
    }

    /// Reads `0x` + hex (the prefix is optional).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text.strip_prefix("0x").unwrap_or(&text)).map_err(serde::de::Error::custom)
    }
}

/// Serde helpers writing `u128` as a decimal string: serde cannot buffer 128-bit integers inside
/// tagged enums, and JSON readers in other languages lose precision above 2^53.
pub mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the decimal digits as a string.
    pub fn serialize<S: Serializer>(value: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    /// Reads decimal digits from a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A block: its height and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Height.
    pub number: BlockNumber,
    /// Hash.
    pub hash: BlockHash,
}

/// A neuron's served axon (`SubtensorModule::Axons`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonInfo {
    /// Block at which it was served.
    pub block: BlockNumber,
    /// Software version.
    pub version: u32,
    /// IPv4 or IPv6 address as an integer (a decimal string in JSON).
    #[serde(with = "u128_string")]
    pub ip: u128,
    /// Port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
    /// Protocol tag.
    pub protocol: u8,
}

/// A registered neuron of a subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neuron {
    /// Its uid on the subnet.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: AccountId,
    /// The coldkey owning the hotkey.
    pub coldkey: AccountId,
    /// Alpha (rao) staked to the hotkey on this subnet, all coldkeys together.
    pub stake: u64,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
    /// Block at which it registered (`BlockAtRegistration`), the burn uid's tie-break.
    pub registered_at: BlockNumber,
    /// Its axon, if served.
    pub axon: Option<AxonInfo>,
}

/// A hotkey's commitment on a subnet (`Commitments::CommitmentOf`), its raw fields concatenated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// The committing hotkey.
    pub hotkey: AccountId,
    /// Block at which it was set.
    pub block: BlockNumber,
    /// The committed bytes.
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
}

/// A subnet pool's reserves: `SubnetTAO`, `SubnetAlphaIn`, `SubnetAlphaOut` (rao).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolReserves {
    /// TAO in the pool (`SubnetTAO`).
    pub tao_in: u64,
    /// Alpha in the pool (`SubnetAlphaIn`).
    pub alpha_in: u64,
    /// Alpha outstanding, held as stake (`SubnetAlphaOut`).
    pub alpha_out: u64,
}

/// A subnet pool as the swap pallet swaps through it: its reserves, its weights
/// (`Swap::SwapBalancer`, the TAO weight in parts of 1e18) and its fee (`Swap::FeeRate`, parts of
/// 65 535). [`SwapPool::balancer`] prices swaps exactly as the runtime does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapPool {
    /// The reserves.
    pub reserves: PoolReserves,
    /// The TAO (quote) weight, parts of [`crate::balancer::ACCURACY`].
    pub quote_weight: u64,
    /// The swap fee, parts of 65 535.
    pub fee_rate: u16,
}

impl SwapPool {
    /// The pool's weights; `None` for a stored weight the swap pallet would refuse.
    pub fn balancer(&self) -> Option<crate::balancer::Balancer> {
        crate::balancer::Balancer::new(self.quote_weight)
    }
}

/// A coldkey's stake on one subnet as the runtime counts it for unstaking and moving
/// (`StakeInfoRuntimeApi::get_stake_availability_for_coldkeys`, `staking/lock.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeAvailability {
    /// All the coldkey's alpha on the subnet, over its hotkeys.
    pub total: u64,
    /// The locked mass now (it counts against all of the coldkey's stake on the subnet).
    pub locked: u64,
    /// `total - locked`: what can be unstaked, or moved to another coldkey without its lock.
    pub available: u64,
}

/// A subnet's weight-setting parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsSettings {
    /// `CommitRevealWeightsEnabled`: weights must be committed (timelocked), not set.
    pub commit_reveal_enabled: bool,
    /// `RevealPeriodEpochs`: how many epochs after the commit the chain reveals it.
    pub reveal_period_epochs: u64,
    /// `CommitRevealWeightsVersion` (4 for drand-timelocked commits).
    pub commit_reveal_version: u16,
    /// `WeightsVersionKey`: weights whose version key is below it are refused when set and
    /// dropped without an event when revealed (0: any key).
    #[serde(default)]
    pub version_key: u64,
    /// `MinAllowedWeights`: weights (zeros included) must name at least this many uids, or all
    /// of the subnet's if it has fewer, unless they are a self-weight (`check_length`). The
    /// runtime's default for a new subnet is 1024.
    #[serde(default)]
    pub min_allowed_weights: u16,
}

/// A subnet's epoch schedule state at one block (the end of it): what the stateful tempo model
/// (subtensor spec 423 and later) decides the subnet's next epoch from. Every field is a
/// `SubtensorModule` storage item of the subnet, read at the same block. [`crate::epochs`] holds
/// the chain's rules over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EpochSchedule {
    /// `Tempo`: blocks from one automatic epoch to the next (0: the subnet runs no epochs).
    pub tempo: u16,
    /// `LastEpochBlock`: the block the last epoch ran at, or the block a `set_tempo` re-anchored
    /// the cycle at (which runs no epoch).
    pub last_epoch_block: u64,
    /// `PendingEpochAt`: the block an owner-triggered or deferred epoch is due at; 0 for none.
    pub pending_epoch_at: u64,
    /// `SubnetEpochIndex`: epochs run so far; commits are filed under it.
    pub subnet_epoch_index: u64,
    /// `BlocksSinceLastStep`: blocks since the last epoch that ran (the safety net's counter).
    pub blocks_since_last_step: u64,
    /// `RevealPeriodEpochs`: how many epochs after its commit epoch a timelocked commit is
    /// revealed.
    pub reveal_period_epochs: u64,
}

/// The commitments pallet's rate limit for one (subnet, account): what `set_commitment` checks.
/// A commitment costs `max(100, total field bytes)` of space; the space used resets when the
/// subnet's epoch index (`SubnetEpochIndex` since spec 423) moves past `last_epoch`; a commitment
/// that would take the used space above `max_space` fails with `SpaceLimitExceeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentSpace {
    /// `UsedSpaceOf.last_epoch`: the epoch index the usage belongs to.
    pub last_epoch: u64,
    /// `UsedSpaceOf.used_space`: bytes used in that epoch.
    pub used_space: u64,
    /// `MaxSpace`: bytes allowed per epoch (3100 by default).
    pub max_space: u64,
}

/// The smallest space one commitment is charged (`pallets/commitments/src/lib.rs`).
pub const COMMITMENT_MIN_SPACE: u64 = 100;

/// The commitments pallet's default `MaxSpace`: bytes per (subnet, account) per epoch.
pub const DEFAULT_COMMITMENT_MAX_SPACE: u64 = 3_100;

impl CommitmentSpace {
    /// The space a commitment of `data_len` raw bytes is charged.
    pub fn cost(data_len: usize) -> u64 {
        u64::try_from(data_len)
            .unwrap_or(u64::MAX)
            .max(COMMITMENT_MIN_SPACE)
    }

    /// The space still free in epoch `epoch` (all of it once the usage belongs to an older one).
    pub fn free_in(&self, epoch: u64) -> u64 {
        let used = if self.last_epoch == epoch {
            self.used_space
        } else {
            0
        };
        self.max_space.saturating_sub(used)
    }
}

/// The randomness beacon the chain reveals timelocked commits with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconInfo {
    /// Compressed G2 public key (96 bytes).
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    /// Unix time of round 0... the beacon's genesis.
    pub genesis_time: u64,
    /// Seconds between rounds.
    pub period: u64,
}

/// One `SubtensorModule::transfer_stake` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferStake {
    /// The coldkey receiving the stake.
    pub destination_coldkey: AccountId,
    /// The hotkey the stake stays on.
    pub hotkey: AccountId,
    /// Subnet the alpha comes from.
    pub origin_netuid: NetUid,
    /// Subnet the alpha goes to (the same for a delivery).
    pub destination_netuid: NetUid,
    /// Alpha (rao) requested; the runtime clamps it to what is available.
    pub alpha_amount: u64,
}

/// A call of an extrinsic, as far as TAO20 needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Call {
    /// `System::remark`.
    Remark {
        /// The remark bytes.
        #[serde(with = "hex_bytes")]
        data: Vec<u8>,
    },
    /// `SubtensorModule::transfer_stake`.
    TransferStake(TransferStake),
    /// `Utility::batch_all`: all calls or none.
    BatchAll {
        /// The inner calls, in order.
        calls: Vec<Call>,
    },
    /// `Commitments::set_commitment`, its raw fields concatenated.
    SetCommitment {
        /// Subnet.
        netuid: NetUid,
        /// The committed bytes.
        #[serde(with = "hex_bytes")]
        data: Vec<u8>,
    },
    /// `SubtensorModule::set_mechanism_weights`.
    SetMechanismWeights {
        /// Subnet.
        netuid: NetUid,
        /// Mechanism (0 = main, 1 = the auction).
        mecid: u8,
        /// Target uids.
        dests: Vec<u16>,
        /// u16 weights, one per uid.
        weights: Vec<u16>,
        /// The subnet's weights version key.
        version_key: u64,
    },
    /// `SubtensorModule::commit_timelocked_mechanism_weights`.
    CommitTimelockedMechanismWeights {
        /// Subnet.
        netuid: NetUid,
        /// Mechanism.
        mecid: u8,
        /// The timelock ciphertext of the SCALE-encoded weights payload.
        #[serde(with = "hex_bytes")]
        commit: Vec<u8>,
        /// The drand round it decrypts at.
        reveal_round: u64,
        /// Commit-reveal version (4).
        commit_reveal_version: u16,
    },
    /// `SubtensorModule::add_stake`: swaps `amount_staked` rao of the signer's free TAO into the
    /// subnet's pool and stakes the alpha bought on `hotkey` (the runtime takes its swap fee from
    /// the TAO, and refuses less than the minimum stake plus that fee).
    AddStake {
        /// The hotkey the alpha is staked on (any existing hotkey).
        hotkey: AccountId,
        /// Subnet.
        netuid: NetUid,
        /// TAO (rao) taken from the signer's free balance.
        amount_staked: u64,
    },
    /// `SubtensorModule::remove_stake`: unstakes `amount_unstaked` rao of alpha (clamped to what
    /// the signer holds on `hotkey`), swaps it through the pool and credits the TAO to the signer.
    RemoveStake {
        /// The hotkey the alpha is staked on.
        hotkey: AccountId,
        /// Subnet.
        netuid: NetUid,
        /// Alpha (rao) to unstake.
        amount_unstaked: u64,
    },
    /// `SubtensorModule::serve_axon`.
    ServeAxon {
        /// Subnet.
        netuid: NetUid,
        /// Software version.
        version: u32,
        /// Address as an integer (a decimal string in JSON).
        #[serde(with = "u128_string")]
        ip: u128,
        /// Port.
        port: u16,
        /// 4 or 6.
        ip_type: u8,
        /// Protocol tag.
        protocol: u8,
    },
    /// Any other call, by name only.
    Other {
        /// Pallet name.
        pallet: String,
        /// Call name.
        call: String,
    },
}

impl Call {
    /// `Pallet::call` as the runtime names it.
    pub fn name(&self) -> String {
        match self {
            Call::Remark { .. } => "System::remark".into(),
            Call::TransferStake(_) => "SubtensorModule::transfer_stake".into(),
            Call::BatchAll { .. } => "Utility::batch_all".into(),
            Call::SetCommitment { .. } => "Commitments::set_commitment".into(),
            Call::SetMechanismWeights { .. } => "SubtensorModule::set_mechanism_weights".into(),
            Call::CommitTimelockedMechanismWeights { .. } => {
                "SubtensorModule::commit_timelocked_mechanism_weights".into()
            }
            Call::AddStake { .. } => "SubtensorModule::add_stake".into(),
            Call::RemoveStake { .. } => "SubtensorModule::remove_stake".into(),
            Call::ServeAxon { .. } => "SubtensorModule::serve_axon".into(),
            Call::Other { pallet, call } => format!("{pallet}::{call}"),
        }
    }
}

/// A stake movement event's fields (`StakeAdded` / `StakeRemoved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeEvent {
    /// Coldkey whose stake changed.
    pub coldkey: AccountId,
    /// Hotkey the stake is on.
    pub hotkey: AccountId,
    /// TAO value (rao) of the movement.
    pub tao: u64,
    /// Alpha (rao) added or removed: the amount a delivery counts.
    pub alpha: u64,
    /// Subnet.
    pub netuid: NetUid,
    /// Fee charged (rao).
    pub fee: u64,
}

/// An event emitted while applying an extrinsic, as far as TAO20 needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// `SubtensorModule::StakeAdded`.
    StakeAdded(StakeEvent),
    /// `SubtensorModule::StakeRemoved`.
    StakeRemoved(StakeEvent),
    /// `SubtensorModule::StakeTransferred`; its amount is TAO-valued, never a delivery amount.
    StakeTransferred {
        /// Sender.
        origin_coldkey: AccountId,
        /// Receiver.
        destination_coldkey: AccountId,
        /// Hotkey.
        hotkey: AccountId,
        /// Subnet the alpha came from.
        origin_netuid: NetUid,
        /// Subnet it went to.
        destination_netuid: NetUid,
        /// TAO value (rao).
        tao: u64,
    },
    /// `System::Remarked`.
    Remarked {
        /// Signer.
        sender: AccountId,
        /// blake2-256 of the remark.
        hash: Bytes32,
    },
    /// `Commitments::Commitment`.
    Commitment {
        /// Subnet.
        netuid: NetUid,
        /// Committing hotkey.
        who: AccountId,
    },
    /// `SubtensorModule::WeightsSet` (netuid index = mecid x 4096 + netuid).
    WeightsSet {
        /// Subnet and mechanism as the storage index.
        netuid_index: u16,
        /// Uid that set weights.
        uid: u16,
    },
    /// `SubtensorModule::TimelockedWeightsCommitted`.
    TimelockedWeightsCommitted {
        /// Committing hotkey.
        who: AccountId,
        /// Subnet and mechanism as the storage index.
        netuid_index: u16,
        /// blake2-256 of the commit.
        commit_hash: Bytes32,
        /// Drand round of the reveal.
        reveal_round: u64,
    },
    /// `SubtensorModule::AxonServed`.
    AxonServed {
        /// Subnet.
        netuid: NetUid,
        /// Hotkey.
        hotkey: AccountId,
    },
    /// `Utility::ItemCompleted`.
    ItemCompleted,
    /// `Utility::BatchCompleted`.
    BatchCompleted,
    /// `System::ExtrinsicSuccess`.
    ExtrinsicSuccess,
    /// `System::ExtrinsicFailed`.
    ExtrinsicFailed {
        /// The dispatch error.
        error: crate::DispatchError,
    },
    /// Any other event, by name only.
    Other {
        /// Pallet name.
        pallet: String,
        /// Event name.
        name: String,
    },
}

/// An extrinsic of a block with its signer, call and events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extrinsic {
    /// Index in the block (0 is the timestamp inherent).
    pub index: u32,
    /// The signing account (a coldkey for a delivery); `None` for inherents.
    pub signer: Option<AccountId>,
    /// The call.
    pub call: Call,
    /// Events in emission order (ending with `ExtrinsicSuccess` or `ExtrinsicFailed`).
    pub events: Vec<Event>,
    /// Whether the dispatch succeeded.
    pub success: bool,
}

/// Where a submitted extrinsic landed and what it emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inclusion {
    /// The including block.
    pub block: BlockRef,
    /// Index in that block.
    pub index: u32,
    /// Its events.
    pub events: Vec<Event>,
}

/// The storage index of a (subnet, mechanism) pair: `mecid x 4096 + netuid`, as the runtime
/// keys weights of sub-mechanisms (`GLOBAL_MAX_SUBNET_COUNT` = 4096).
pub fn netuid_index(netuid: NetUid, mecid: u8) -> u16 {
    u16::from(mecid).saturating_mul(4096).saturating_add(netuid)
}

/// The denominator of `MechanismEmissionSplit` parts (`u16::MAX`).
pub const SPLIT_PARTS: u16 = u16::MAX;

/// The emission split the runtime applies to a subnet's mechanisms, in parts of 65 535, from the
/// stored `MechanismEmissionSplit` (`None`: unset) and `MechanismCountCurrent`; one entry per
/// mechanism.
///
/// As `split_emissions` (`pallets/subtensor/src/subnets/mechanism.rs`): an unset split is even,
/// each mechanism `floor(65 535 / count)`; a stored one is padded with zeros or trimmed to
/// `count`; mechanism 0 takes whatever the others leave (the runtime credits its rounding there).
/// An even part is rounded down (for two mechanisms 32 767 of 65 535 where the runtime pays half),
/// so a budget computed from it is never above what the chain pays.
pub fn effective_split(stored: Option<&[u16]>, count: u8) -> Vec<u16> {
    let n = usize::from(count);
    if n == 0 {
        return Vec::new();
    }
    let mut parts: Vec<u16> = match stored {
        Some(s) => s
            .iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(n)
            .collect(),
        None => vec![SPLIT_PARTS / u16::from(count); n],
    };
    let others: u32 = parts.iter().skip(1).map(|p| u32::from(*p)).sum();
    // Parts above the whole (a malformed stored split) leave mechanism 0 nothing.
    parts[0] = u16::try_from(u32::from(SPLIT_PARTS).saturating_sub(others)).unwrap_or(0);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_split_follows_the_runtimes_split_emissions() {
        // Unset: even over the mechanism count, mechanism 0 taking the rounding.
        assert_eq!(effective_split(None, 1), vec![65_535]);
        assert_eq!(effective_split(None, 2), vec![32_768, 32_767]);
        assert_eq!(effective_split(None, 3), vec![21_845; 3]);
        assert_eq!(effective_split(None, 0), Vec::<u16>::new());
        // Stored: padded with zeros, or trimmed, to the count; mechanism 0 takes what is left.
        assert_eq!(
            effective_split(Some(&[40_000, 25_535]), 2),
            vec![40_000, 25_535]
        );
        assert_eq!(effective_split(Some(&[65_535]), 2), vec![65_535, 0]);
        assert_eq!(
            effective_split(Some(&[30_000, 20_000, 15_535]), 2),
            vec![45_535, 20_000]
        );
        assert_eq!(effective_split(Some(&[0, 30_000]), 2), vec![35_535, 30_000]);
        assert_eq!(
            effective_split(Some(&[0, 65_535, 65_535]), 3),
            vec![0, 65_535, 65_535]
        );
        // An unset split is not "mechanism 1 gets nothing" (the bug this rule replaced).
        assert!(effective_split(None, 2)[1] > 0);
    }

    #[test]
    fn bytes32_hex_round_trip_and_rejects_bad_lengths() {
        let a = Bytes32([7u8; 32]);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"0x{}\"", "07".repeat(32)));
        assert_eq!(serde_json::from_str::<Bytes32>(&json).unwrap(), a);
        assert!("0x0102".parse::<Bytes32>().is_err());
        assert!("zz".parse::<Bytes32>().is_err());
    }

    #[test]
    fn calls_serialize_with_their_tag() {
        let call = Call::BatchAll {
            calls: vec![Call::Remark { data: vec![1, 2] }],
        };
        let json = serde_json::to_value(&call).unwrap();
        assert_eq!(json["type"], "batch_all");
        assert_eq!(json["calls"][0]["data"], "0x0102");
        assert_eq!(serde_json::from_value::<Call>(json).unwrap(), call);
        assert_eq!(netuid_index(3, 1), 4099);
    }
}

/// Which subtensor network a keeper or a miner follows (`[subtensor] network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Mainnet.
    Finney,
    /// Testnet.
    Test,
    /// A local node (ws://127.0.0.1:9944): a subtensor `--dev` node, `tao20 sim serve`, or a
    /// devnet's Substrate endpoint.
    Local,
}

impl Network {
    /// The network's default entry point.
    pub fn default_endpoint(self) -> Option<&'static str> {
        match self {
            Self::Finney => Some("wss://entrypoint-finney.opentensor.ai:443"),
            Self::Test => Some("wss://test.finney.opentensor.ai:443"),
            Self::Local => Some("ws://127.0.0.1:9944"),
        }
    }
}
