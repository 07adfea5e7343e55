//! The simulator's request set, its transports (in-process, and a devnet node's `dev_simulator`
//! JSON-RPC method), and [`SimClient`], the [`Subtensor`] implementation over either.
//!
//! `dev_simulator` takes `[signer | null, {"method": "stake", "params": {...}}]` and answers the
//! request's result, or a JSON-RPC error whose `data` is the typed [`Error`]. Both transports go
//! through [`Simulator::execute`], so in-process and devnet runs behave alike. The processes under
//! test never use it: they are on [`crate::client::SubxtClient`], as on finney.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{SimConfig, Simulator, SubnetSpec};
use crate::api::Subtensor;
use crate::types::{
    AccountId, BeaconInfo, BlockNumber, BlockRef, Call, Commitment, CommitmentSpace, EpochSchedule,
    Extrinsic, Inclusion, NetUid, Neuron, PoolReserves, StakeAvailability, SwapPool,
    WeightsSettings,
};
use crate::{Error, Result};

/// Everything the simulator answers: the trait's reads and writes, and administration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Op {
    /// [`Subtensor::finalized_head`].
    FinalizedHead,
    /// [`Subtensor::stake`].
    Stake {
        /// Block.
        at: BlockNumber,
        /// Coldkey.
        coldkey: AccountId,
        /// Hotkey.
        hotkey: AccountId,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::free_balance`].
    FreeBalance {
        /// Block.
        at: BlockNumber,
        /// Account.
        account: AccountId,
    },
    /// [`Subtensor::commitment_space`].
    CommitmentSpace {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
        /// Committing account.
        who: AccountId,
    },
    /// [`Subtensor::commitments`].
    Commitments {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::mechanism_emission_split`].
    MechanismEmissionSplit {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::current_alpha_price`].
    CurrentAlphaPrice {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::pool_reserves`].
    PoolReserves {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::stake_availability`].
    StakeAvailability {
        /// Block.
        at: BlockNumber,
        /// Coldkey.
        coldkey: AccountId,
    },
    /// [`Subtensor::swap_pool`].
    SwapPool {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::tempo`].
    Tempo {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::epoch_schedule`].
    EpochSchedule {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::neurons`].
    Neurons {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::subnet_owner`].
    SubnetOwner {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::transfers_enabled`].
    TransfersEnabled {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::weights_settings`].
    WeightsSettings {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
    },
    /// [`Subtensor::weights`].
    Weights {
        /// Block.
        at: BlockNumber,
        /// Subnet.
        netuid: NetUid,
        /// Mechanism.
        mecid: u8,
        /// Uid.
        uid: u16,
    },
    /// [`Subtensor::chain_time`].
    ChainTime {
        /// Block.
        at: BlockNumber,
    },
    /// [`Subtensor::beacon`].
    Beacon,
    /// [`Subtensor::block_extrinsics`].
    BlockExtrinsics {
        /// Block.
        number: BlockNumber,
    },
    /// [`Subtensor::submit`] (signed by the request's signer).
    Submit {
        /// The call.
        call: Call,
    },
    /// Produce `n` empty blocks.
    Advance {
        /// How many.
        n: u64,
    },
    /// Create a subnet.
    RegisterSubnet(SubnetSpec),
    /// Register a neuron; answers its uid.
    RegisterNeuron {
        /// Subnet.
        netuid: NetUid,
        /// Hotkey.
        hotkey: AccountId,
        /// Coldkey.
        coldkey: AccountId,
    },
    /// `lock_stake` (signed by the coldkey: the request's signer): lock `amount` more of its
    /// alpha on `netuid` to `hotkey` ([`Simulator::lock_stake`]).
    LockStake {
        /// Hotkey the lock is to.
        hotkey: AccountId,
        /// Subnet.
        netuid: NetUid,
        /// Alpha (rao).
        amount: u64,
    },
    /// The devnet faucet: credit free TAO to an account.
    Faucet {
        /// Account.
        account: AccountId,
        /// TAO (rao).
        tao: u64,
    },
    /// Stake TAO the faucet pays for (signed by the coldkey: the request's signer): the coldkey's
    /// free balance is credited and staked in one extrinsic, so it ends where it was. A real
    /// `add_stake` from the free balance is [`Subtensor::submit`] of [`Call::AddStake`].
    AddStake {
        /// Hotkey.
        hotkey: AccountId,
        /// Subnet.
        netuid: NetUid,
        /// TAO (rao).
        tao: u64,
    },
    /// Unstake alpha to the free balance (signed by the coldkey: the request's signer); the same
    /// as submitting [`Call::RemoveStake`].
    RemoveStake {
        /// Hotkey.
        hotkey: AccountId,
        /// Subnet.
        netuid: NetUid,
        /// Alpha (rao).
        alpha: u64,
    },
    /// Set the transfer toggle.
    SetTransfersEnabled {
        /// Subnet.
        netuid: NetUid,
        /// On or off.
        enabled: bool,
    },
    /// Set mechanisms and split.
    SetMechanisms {
        /// Subnet.
        netuid: NetUid,
        /// Mechanism count.
        count: u8,
        /// Split, one u16 per mechanism.
        split: Option<Vec<u16>>,
    },
    /// Set commit-reveal.
    SetCommitReveal {
        /// Subnet.
        netuid: NetUid,
        /// On or off.
        enabled: bool,
        /// Reveal period in epochs.
        reveal_period_epochs: u64,
    },
    /// Root's `StakeThreshold` and the subnet's `WeightsSetRateLimit` and `WeightsVersionKey`.
    SetWeightsRules {
        /// Subnet.
        netuid: NetUid,
        /// The rules.
        rules: super::WeightsRules,
    },
    /// The owner's `set_tempo`.
    SetTempo {
        /// Subnet.
        netuid: NetUid,
        /// New tempo (360..=50400).
        tempo: u16,
    },
    /// Root's `sudo_set_tempo`.
    SudoSetTempo {
        /// Subnet.
        netuid: NetUid,
        /// New tempo (any).
        tempo: u16,
    },
    /// The owner's `trigger_epoch`.
    TriggerEpoch {
        /// Subnet.
        netuid: NetUid,
    },
    /// The simulator's configuration.
    Config,
}

fn to_value<T: Serialize>(value: T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::decode("simulator answer", e))
}

impl Simulator {
    /// Answers one request; `signer` signs writes.
    pub fn execute(&mut self, signer: Option<AccountId>, op: Op) -> Result<serde_json::Value> {
        match op {
            Op::FinalizedHead => to_value(self.finalized_head()),
            Op::Stake {
                at,
                coldkey,
                hotkey,
                netuid,
            } => to_value(self.stake(at, coldkey, hotkey, netuid)?),
            Op::FreeBalance { at, account } => to_value(self.free_balance(at, account)?),
            Op::CommitmentSpace { at, netuid, who } => {
                to_value(self.commitment_space(at, netuid, who)?)
            }
            Op::Commitments { at, netuid } => to_value(self.commitments(at, netuid)?),
            Op::MechanismEmissionSplit { at, netuid } => {
                to_value(self.mechanism_emission_split(at, netuid)?)
            }
            Op::CurrentAlphaPrice { at, netuid } => to_value(self.current_alpha_price(at, netuid)?),
            Op::PoolReserves { at, netuid } => to_value(self.pool_reserves(at, netuid)?),
            Op::SwapPool { at, netuid } => to_value(self.swap_pool(at, netuid)?),
            Op::StakeAvailability { at, coldkey } => {
                to_value(Some(self.stake_availability(at, coldkey)?))
            }
            Op::LockStake {
                hotkey,
                netuid,
                amount,
            } => {
                let coldkey =
                    signer.ok_or_else(|| Error::invalid("signer", "lock_stake needs one"))?;
                to_value(self.lock_stake(coldkey, hotkey, netuid, amount)?)
            }
            Op::Tempo { at, netuid } => to_value(self.tempo(at, netuid)?),
            Op::EpochSchedule { at, netuid } => to_value(self.epoch_schedule(at, netuid)?),
            Op::Neurons { at, netuid } => to_value(self.neurons(at, netuid)?),
            Op::SubnetOwner { at, netuid } => to_value(self.subnet_owner(at, netuid)?),
            Op::TransfersEnabled { at, netuid } => to_value(self.transfers_enabled(at, netuid)?),
            Op::WeightsSettings { at, netuid } => to_value(self.weights_settings(at, netuid)?),
            Op::Weights {
                at,
                netuid,
                mecid,
                uid,
            } => to_value(self.weights(at, netuid, mecid, uid)?),
            Op::ChainTime { at } => to_value(self.chain_time(at)?),
            Op::Beacon => to_value(self.beacon()),
            Op::BlockExtrinsics { number } => to_value(self.block_extrinsics(number)?),
            Op::Submit { call } => to_value(self.submit(signer, call)?),
            Op::Advance { n } => to_value(self.advance(n)?),
            Op::RegisterSubnet(spec) => to_value(self.register_subnet(spec)?),
            Op::RegisterNeuron {
                netuid,
                hotkey,
                coldkey,
            } => to_value(self.register_neuron(netuid, hotkey, coldkey)?),
            Op::Faucet { account, tao } => to_value(self.faucet(account, tao)?),
            Op::AddStake {
                hotkey,
                netuid,
                tao,
            } => {
                let coldkey =
                    signer.ok_or_else(|| Error::invalid("signer", "add_stake needs one"))?;
                to_value(self.add_stake(coldkey, hotkey, netuid, tao)?)
            }
            Op::RemoveStake {
                hotkey,
                netuid,
                alpha,
            } => {
                let coldkey =
                    signer.ok_or_else(|| Error::invalid("signer", "remove_stake needs one"))?;
                to_value(self.remove_stake(coldkey, hotkey, netuid, alpha)?)
            }
            Op::SetTransfersEnabled { netuid, enabled } => {
                to_value(self.set_transfers_enabled(netuid, enabled)?)
            }
            Op::SetMechanisms {
                netuid,
                count,
                split,
            } => to_value(self.set_mechanisms(netuid, count, split)?),
            Op::SetCommitReveal {
                netuid,
                enabled,
                reveal_period_epochs,
            } => to_value(self.set_commit_reveal(netuid, enabled, reveal_period_epochs)?),
            Op::SetWeightsRules { netuid, rules } => {
                to_value(self.set_weights_rules(netuid, rules)?)
            }
            Op::SetTempo { netuid, tempo } => to_value(self.set_tempo(netuid, tempo)?),
            Op::SudoSetTempo { netuid, tempo } => to_value(self.sudo_set_tempo(netuid, tempo)?),
            Op::TriggerEpoch { netuid } => to_value(self.trigger_epoch(netuid)?),
            Op::Config => to_value(self.config().clone()),
        }
    }
}

/// How a [`SimClient`] reaches the simulator.
pub trait Transport: Send + Sync {
    /// Sends one request and returns the answer.
    fn call(
        &self,
        signer: Option<AccountId>,
        op: Op,
    ) -> impl std::future::Future<Output = Result<serde_json::Value>> + Send;
}

/// The simulator in this process.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    sim: Arc<Mutex<Simulator>>,
}

impl LocalTransport {
    /// Wraps a shared simulator.
    pub fn new(sim: Arc<Mutex<Simulator>>) -> Self {
        LocalTransport { sim }
    }

    /// The shared simulator.
    pub fn simulator(&self) -> &Arc<Mutex<Simulator>> {
        &self.sim
    }
}

pub(crate) fn lock(sim: &Mutex<Simulator>) -> Result<std::sync::MutexGuard<'_, Simulator>> {
    sim.lock().map_err(|_| Error::Request {
        what: "simulator".into(),
        reason: "state lock poisoned by an earlier panic".into(),
    })
}

impl Transport for LocalTransport {
    async fn call(&self, signer: Option<AccountId>, op: Op) -> Result<serde_json::Value> {
        lock(&self.sim)?.execute(signer, op)
    }
}

/// A devnet node's simulator, through its `dev_simulator` JSON-RPC method (see
/// [`super::node`]): the harness's administration of a chain it drives. Connects on first use
/// over the same reconnecting, timed WebSocket client as [`crate::client::SubxtClient`]; clones
/// share the connection.
#[derive(Clone)]
pub struct DevTransport {
    endpoint: String,
    timeout: std::time::Duration,
    client: Arc<tokio::sync::OnceCell<crate::client::transport::Bounded>>,
}

/// How long one request may wait for its answer: an `advance` of many blocks runs them all
/// before it answers.
pub const DEFAULT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl std::fmt::Debug for DevTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTransport")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl DevTransport {
    /// A transport to a devnet node's `ws://` URL (connects lazily).
    pub fn new(endpoint: impl Into<String>) -> Self {
        DevTransport {
            endpoint: endpoint.into(),
            timeout: DEFAULT_CALL_TIMEOUT,
            client: Arc::default(),
        }
    }

    /// The same with another answer timeout.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn connection_error(&self, e: impl std::fmt::Display) -> Error {
        Error::Connection {
            endpoint: self.endpoint.clone(),
            reason: e.to_string(),
        }
    }
}

impl DevTransport {
    /// One JSON-RPC request to the node (`dev_stats`, `dev_upgradeRuntime`, ...).
    pub async fn request(&self, method: &str, params: impl Serialize) -> Result<serde_json::Value> {
        use subxt::rpcs::client::RpcClientT;
        let client = self
            .client
            .get_or_try_init(|| {
                crate::client::transport::Bounded::connect(&self.endpoint, self.timeout)
            })
            .await?;
        let params = serde_json::value::to_raw_value(&params)
            .map_err(|e| Error::invalid("request", e.to_string()))?;
        let answer = client
            .request_raw(method, Some(params))
            .await
            .map_err(|e| match e {
                subxt::rpcs::Error::User(u) => u
                    .data
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<Error>(d.get()).ok())
                    .unwrap_or_else(|| Error::Request {
                        what: method.to_string(),
                        reason: format!("{} ({})", u.message, u.code),
                    }),
                other => self.connection_error(other),
            })?;
        serde_json::from_str(answer.get()).map_err(|e| Error::decode(method.to_string(), e))
    }
}

impl Transport for DevTransport {
    async fn call(&self, signer: Option<AccountId>, op: Op) -> Result<serde_json::Value> {
        self.request("dev_simulator", (signer, op)).await
    }
}

/// The simulator behind the [`Subtensor`] trait, in-process or remote, signing as `signer`.
#[derive(Debug, Clone)]
pub struct SimClient<T> {
    transport: T,
    signer: Option<AccountId>,
}

impl SimClient<LocalTransport> {
    /// A fresh in-process simulator.
    pub fn in_process(config: SimConfig) -> Result<Self> {
        let sim = Simulator::new(config)?;
        Ok(SimClient::new(LocalTransport::new(Arc::new(Mutex::new(
            sim,
        )))))
    }
}

impl SimClient<DevTransport> {
    /// The simulator of the devnet node at `endpoint` (`ws://host:port`), administered
    /// through its `dev_simulator` method.
    pub fn connect(endpoint: impl Into<String>) -> Self {
        SimClient::new(DevTransport::new(endpoint))
    }

    /// JSON-RPC requests the node has served so far (every client's), and its head.
    pub async fn node_requests(&self) -> Result<(u64, BlockNumber)> {
        let v = self.transport.request("dev_stats", ()).await?;
        match (v["requests"].as_u64(), v["head"].as_u64()) {
            (Some(r), Some(h)) => Ok((r, h)),
            _ => Err(Error::decode("dev_stats", v.to_string())),
        }
    }

    /// Enacts a runtime upgrade to `spec_version` from the next block on.
    pub async fn upgrade_runtime(&self, spec_version: u32) -> Result<BlockNumber> {
        let v = self
            .transport
            .request("dev_upgradeRuntime", (spec_version,))
            .await?;
        v["from"]
            .as_u64()
            .ok_or_else(|| Error::decode("dev_upgradeRuntime", v.to_string()))
    }
}

impl<T: Transport + Clone> SimClient<T> {
    /// The same simulator, signing as another account.
    pub fn as_signer(&self, signer: AccountId) -> Self {
        SimClient {
            transport: self.transport.clone(),
            signer: Some(signer),
        }
    }
}

impl<T: Transport> SimClient<T> {
    /// A client over a transport, without a signer.
    pub fn new(transport: T) -> Self {
        SimClient {
            transport,
            signer: None,
        }
    }

    /// Sets the signer.
    pub fn with_signer(mut self, signer: AccountId) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    async fn ask<R: DeserializeOwned>(&self, op: Op) -> Result<R> {
        let value = self.transport.call(self.signer, op).await?;
        serde_json::from_value(value).map_err(|e| Error::decode("simulator answer", e))
    }

    /// Produces `n` empty blocks; returns the new head.
    pub async fn advance(&self, n: u64) -> Result<BlockRef> {
        self.ask(Op::Advance { n }).await
    }

    /// Creates a subnet.
    pub async fn register_subnet(&self, spec: SubnetSpec) -> Result<()> {
        self.ask(Op::RegisterSubnet(spec)).await
    }

    /// Registers a neuron; returns its uid.
    pub async fn register_neuron(
        &self,
        netuid: NetUid,
        hotkey: AccountId,
        coldkey: AccountId,
    ) -> Result<u16> {
        self.ask(Op::RegisterNeuron {
            netuid,
            hotkey,
            coldkey,
        })
        .await
    }

    /// `lock_stake` by this client's signer (the coldkey): see [`Op::LockStake`].
    pub async fn lock_stake(&self, hotkey: AccountId, netuid: NetUid, amount: u64) -> Result<()> {
        self.ask(Op::LockStake {
            hotkey,
            netuid,
            amount,
        })
        .await
    }

    /// The faucet: credits `tao` rao of free balance to `account`.
    pub async fn faucet(&self, account: AccountId, tao: u64) -> Result<()> {
        self.ask(Op::Faucet { account, tao }).await
    }

    /// Stakes TAO the faucet pays for, as the signer (coldkey); the signer's free balance is
    /// unchanged. (A stake paid from the free balance is `submit(Call::AddStake { .. })`.)
    pub async fn add_stake(
        &self,
        hotkey: AccountId,
        netuid: NetUid,
        tao: u64,
    ) -> Result<Inclusion> {
        self.ask(Op::AddStake {
            hotkey,
            netuid,
            tao,
        })
        .await
    }

    /// Unstakes alpha as the signer (coldkey), crediting its free balance.
    pub async fn remove_stake(
        &self,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    ) -> Result<Inclusion> {
        self.ask(Op::RemoveStake {
            hotkey,
            netuid,
            alpha,
        })
        .await
    }

    /// Sets the transfer toggle.
    pub async fn set_transfers_enabled(&self, netuid: NetUid, enabled: bool) -> Result<()> {
        self.ask(Op::SetTransfersEnabled { netuid, enabled }).await
    }

    /// Sets mechanisms and split.
    pub async fn set_mechanisms(
        &self,
        netuid: NetUid,
        count: u8,
        split: Option<Vec<u16>>,
    ) -> Result<()> {
        self.ask(Op::SetMechanisms {
            netuid,
            count,
            split,
        })
        .await
    }

    /// Sets commit-reveal.
    pub async fn set_commit_reveal(
        &self,
        netuid: NetUid,
        enabled: bool,
        reveal_period_epochs: u64,
    ) -> Result<()> {
        self.ask(Op::SetCommitReveal {
            netuid,
            enabled,
            reveal_period_epochs,
        })
        .await
    }

    /// Root's `StakeThreshold` and `netuid`'s `WeightsSetRateLimit` and `WeightsVersionKey`, in
    /// a new block.
    pub async fn set_weights_rules(
        &self,
        netuid: NetUid,
        rules: super::WeightsRules,
    ) -> Result<()> {
        self.ask(Op::SetWeightsRules { netuid, rules }).await
    }

    /// The owner's `set_tempo` (re-anchors the cycle at the new block).
    pub async fn set_tempo(&self, netuid: NetUid, tempo: u16) -> Result<()> {
        self.ask(Op::SetTempo { netuid, tempo }).await
    }

    /// Root's `sudo_set_tempo`.
    pub async fn sudo_set_tempo(&self, netuid: NetUid, tempo: u16) -> Result<()> {
        self.ask(Op::SudoSetTempo { netuid, tempo }).await
    }

    /// The owner's `trigger_epoch`.
    pub async fn trigger_epoch(&self, netuid: NetUid) -> Result<()> {
        self.ask(Op::TriggerEpoch { netuid }).await
    }

    /// The simulator's configuration.
    pub async fn config(&self) -> Result<SimConfig> {
        self.ask(Op::Config).await
    }
}

impl<T: Transport> Subtensor for SimClient<T> {
    async fn finalized_head(&self) -> Result<BlockRef> {
        self.ask(Op::FinalizedHead).await
    }

    async fn stake(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
    ) -> Result<u64> {
        self.ask(Op::Stake {
            at,
            coldkey,
            hotkey,
            netuid,
        })
        .await
    }

    async fn commitments(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<Commitment>> {
        self.ask(Op::Commitments { at, netuid }).await
    }

    async fn free_balance(&self, at: BlockNumber, account: AccountId) -> Result<u64> {
        self.ask(Op::FreeBalance { at, account }).await
    }

    async fn commitment_space(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        who: AccountId,
    ) -> Result<CommitmentSpace> {
        self.ask(Op::CommitmentSpace { at, netuid, who }).await
    }

    async fn mechanism_emission_split(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<u16>> {
        self.ask(Op::MechanismEmissionSplit { at, netuid }).await
    }

    async fn current_alpha_price(&self, at: BlockNumber, netuid: NetUid) -> Result<u64> {
        self.ask(Op::CurrentAlphaPrice { at, netuid }).await
    }

    async fn pool_reserves(&self, at: BlockNumber, netuid: NetUid) -> Result<PoolReserves> {
        self.ask(Op::PoolReserves { at, netuid }).await
    }

    async fn stake_availability(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
    ) -> Result<Option<BTreeMap<NetUid, StakeAvailability>>> {
        self.ask(Op::StakeAvailability { at, coldkey }).await
    }

    async fn swap_pool(&self, at: BlockNumber, netuid: NetUid) -> Result<SwapPool> {
        self.ask(Op::SwapPool { at, netuid }).await
    }

    async fn tempo(&self, at: BlockNumber, netuid: NetUid) -> Result<u16> {
        self.ask(Op::Tempo { at, netuid }).await
    }

    async fn epoch_schedule(&self, at: BlockNumber, netuid: NetUid) -> Result<EpochSchedule> {
        self.ask(Op::EpochSchedule { at, netuid }).await
    }

    async fn neurons(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<Neuron>> {
        self.ask(Op::Neurons { at, netuid }).await
    }

    async fn subnet_owner(&self, at: BlockNumber, netuid: NetUid) -> Result<AccountId> {
        self.ask(Op::SubnetOwner { at, netuid }).await
    }

    async fn transfers_enabled(&self, at: BlockNumber, netuid: NetUid) -> Result<bool> {
        self.ask(Op::TransfersEnabled { at, netuid }).await
    }

    async fn weights_settings(&self, at: BlockNumber, netuid: NetUid) -> Result<WeightsSettings> {
        self.ask(Op::WeightsSettings { at, netuid }).await
    }

    async fn weights(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        mecid: u8,
        uid: u16,
    ) -> Result<Vec<(u16, u16)>> {
        self.ask(Op::Weights {
            at,
            netuid,
            mecid,
            uid,
        })
        .await
    }

    async fn chain_time(&self, at: BlockNumber) -> Result<u64> {
        self.ask(Op::ChainTime { at }).await
    }

    async fn beacon(&self) -> Result<BeaconInfo> {
        self.ask(Op::Beacon).await
    }

    async fn block_extrinsics(&self, number: BlockNumber) -> Result<Vec<Extrinsic>> {
        self.ask(Op::BlockExtrinsics { number }).await
    }

    fn signer(&self) -> Option<AccountId> {
        self.signer
    }

    async fn submit(&self, call: Call) -> Result<Inclusion> {
        self.ask(Op::Submit { call }).await
    }
}
