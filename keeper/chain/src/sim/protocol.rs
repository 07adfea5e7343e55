//! The simulator's request set, its transports (in-process and JSON-lines over TCP), and
//! [`SimClient`], the [`Subtensor`] implementation over either.
//!
//! Wire format (one JSON object per line, UTF-8):
//! request `{"id": 1, "signer": "0x..." | null, "request": {"method": "stake", "params": {...}}}`,
//! response `{"id": 1, "result": ...}` or `{"id": 1, "error": {"kind": "not_found", ...}}`.
//! Both transports go through [`Simulator::execute`], so in-process and remote runs behave alike.

use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use super::{SimConfig, Simulator, SubnetSpec};
use crate::api::Subtensor;
use crate::types::{
    AccountId, BeaconInfo, BlockNumber, BlockRef, Call, Commitment, CommitmentSpace, EpochSchedule,
    Extrinsic, Inclusion, NetUid, Neuron, PoolReserves, WeightsSettings,
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

/// Request line.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireRequest {
    pub id: u64,
    #[serde(default)]
    pub signer: Option<AccountId>,
    pub request: Op,
}

/// Response line.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireResponse {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    next_id: u64,
}

/// A `tao20 sim serve` process over TCP; reconnects on the next call after a failure. Clones
/// share one connection (requests are answered in order).
#[derive(Debug, Clone)]
pub struct RemoteTransport {
    endpoint: String,
    conn: Arc<tokio::sync::Mutex<Option<Connection>>>,
    timeout: std::time::Duration,
}

/// How long one request may wait for its answer: a submission waits for its block, which the
/// simulator produces every few seconds at most.
pub const DEFAULT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connection")
    }
}

impl RemoteTransport {
    /// A transport to `host:port` (connects lazily).
    pub fn new(endpoint: impl Into<String>) -> Self {
        RemoteTransport {
            endpoint: endpoint.into(),
            conn: Arc::new(tokio::sync::Mutex::new(None)),
            timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// The same with another answer timeout (a connection that stays open but never answers, a
    /// stalled host, ends in a connection error after it, and is dropped).
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

impl Transport for RemoteTransport {
    async fn call(&self, signer: Option<AccountId>, op: Op) -> Result<serde_json::Value> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            let stream = tokio::time::timeout(self.timeout, TcpStream::connect(&self.endpoint))
                .await
                .map_err(|_| self.connection_error(format!("no connection in {:?}", self.timeout)))?
                .map_err(|e| self.connection_error(e))?;
            let (r, w) = stream.into_split();
            *guard = Some(Connection {
                reader: BufReader::new(r),
                writer: w,
                next_id: 1,
            });
        }
        let result = match guard.as_mut() {
            // A late answer must not be read as the next request's: the connection goes with it.
            Some(conn) => tokio::time::timeout(self.timeout, self.exchange(conn, signer, op))
                .await
                .unwrap_or_else(|_| {
                    Err(self.connection_error(format!("no answer in {:?}", self.timeout)))
                }),
            None => Err(self.connection_error("not connected")),
        };
        if matches!(result, Err(Error::Connection { .. })) {
            // Drop the broken connection; the next call reconnects.
            *guard = None;
        }
        result
    }
}

impl RemoteTransport {
    async fn exchange(
        &self,
        conn: &mut Connection,
        signer: Option<AccountId>,
        op: Op,
    ) -> Result<serde_json::Value> {
        let id = conn.next_id;
        conn.next_id = conn.next_id.wrapping_add(1);
        let mut line = serde_json::to_vec(&WireRequest {
            id,
            signer,
            request: op,
        })
        .map_err(|e| Error::invalid("request", e.to_string()))?;
        line.push(b'\n');
        conn.writer
            .write_all(&line)
            .await
            .map_err(|e| self.connection_error(e))?;
        let mut answer = String::new();
        let n = conn
            .reader
            .read_line(&mut answer)
            .await
            .map_err(|e| self.connection_error(e))?;
        if n == 0 {
            return Err(self.connection_error("server closed the connection"));
        }
        let response: WireResponse =
            serde_json::from_str(&answer).map_err(|e| Error::decode("simulator response", e))?;
        if response.id != id {
            return Err(Error::decode(
                "simulator response",
                format!("id {} answers request {id}", response.id),
            ));
        }
        match (response.result, response.error) {
            (_, Some(error)) => Err(error),
            (Some(value), None) => Ok(value),
            (None, None) => Ok(serde_json::Value::Null),
        }
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

impl SimClient<RemoteTransport> {
    /// A client of `tao20 sim serve` at `host:port`.
    pub fn connect(endpoint: impl Into<String>) -> Self {
        SimClient::new(RemoteTransport::new(endpoint))
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
