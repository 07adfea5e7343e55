//! The subtensor access surface: one async trait, implemented by the real subxt client
//! ([`crate::client::SubxtClient`]) and by the simulator ([`crate::sim::SimClient`]).
//!
//! Reads take the block to read at (state at the end of that block); writes sign with the
//! implementation's configured key and return once the extrinsic is included, or fail with
//! [`crate::Error::Dispatch`] naming the runtime's error.

use std::collections::BTreeMap;
use std::future::Future;

use crate::types::{
    AccountId, BeaconInfo, BlockNumber, BlockRef, Call, Commitment, CommitmentSpace, EpochSchedule,
    Extrinsic, Inclusion, NetUid, Neuron, PoolReserves, StakeAvailability, SwapPool, TransferStake,
    WeightsSettings,
};
use crate::{drand, epochs};
use crate::{Error, Result};

/// The commit-reveal version the chain expects for drand-timelocked commits.
pub const COMMIT_REVEAL_VERSION: u16 = 4;

/// How many blocks after `finalized head + 1` a commit may land (finality lag plus mempool delay)
/// before [`Subtensor::commit_weights_timelocked`] warns that an epoch in between would move its
/// reveal.
pub const COMMIT_SLACK_BLOCKS: u64 = 8;

/// Subtensor reads and writes.
pub trait Subtensor: Send + Sync {
    /// The latest finalized block (GRANDPA on the real chain).
    fn finalized_head(&self) -> impl Future<Output = Result<BlockRef>> + Send;

    /// Alpha (rao) staked by `coldkey` on `hotkey` in subnet `netuid`.
    fn stake(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Every commitment on a subnet, sorted by hotkey.
    fn commitments(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<Vec<Commitment>>> + Send;

    /// The emission split the runtime applies to the subnet's mechanisms (parts of 65 535, one per
    /// mechanism of `MechanismCountCurrent`): the stored `MechanismEmissionSplit`, or an even
    /// split when it is unset ([`crate::types::effective_split`]).
    fn mechanism_emission_split(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<Vec<u16>>> + Send;

    /// The swap runtime API `current_alpha_price(netuid)`: TAO per alpha x 1e9.
    fn current_alpha_price(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// `current_alpha_price` of each of `netuids` that has a subnet at `at`, in `netuids`' order;
    /// a netuid without a subnet is left out. One runtime call where the runtime has
    /// `SwapRuntimeApi::current_alpha_price_all`, so a block's prices cost the same whatever the
    /// number of fund subnets; one call per netuid otherwise.
    fn alpha_prices(
        &self,
        at: BlockNumber,
        netuids: &[NetUid],
    ) -> impl Future<Output = Result<Vec<(NetUid, u64)>>> + Send {
        async move {
            let mut out = Vec::with_capacity(netuids.len());
            for &n in netuids {
                match self.current_alpha_price(at, n).await {
                    Ok(p) => out.push((n, p)),
                    Err(Error::NotFound { later: false, .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
    }

    /// `SubnetTAO`, `SubnetAlphaIn`, `SubnetAlphaOut`.
    fn pool_reserves(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<PoolReserves>> + Send;

    /// `coldkey`'s stake per subnet as the runtime counts it for unstaking and moving: total,
    /// locked and available, for every subnet where it has stake or a lock
    /// (`get_stake_availability_for_coldkeys`). `None` from a runtime without stake locks, where
    /// all stake is available.
    fn stake_availability(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
    ) -> impl Future<Output = Result<Option<BTreeMap<NetUid, StakeAvailability>>>> + Send;

    /// The pool as swaps price it: reserves, balancer weights and fee, at block `at`.
    fn swap_pool(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<SwapPool>> + Send;

    /// The subnet's tempo (`Tempo`: blocks from one automatic epoch to the next).
    fn tempo(&self, at: BlockNumber, netuid: NetUid) -> impl Future<Output = Result<u16>> + Send;

    /// The subnet's epoch schedule state at the end of block `at`: `Tempo`, `LastEpochBlock`,
    /// `PendingEpochAt`, `SubnetEpochIndex`, `BlocksSinceLastStep` and `RevealPeriodEpochs`, all
    /// read at that one block. [`crate::epochs`] decides from it when epochs run and reveals
    /// happen.
    fn epoch_schedule(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<EpochSchedule>> + Send;

    /// Registered neurons, sorted by uid.
    fn neurons(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<Vec<Neuron>>> + Send;

    /// The subnet owner's coldkey (`SubnetOwner`).
    fn subnet_owner(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<AccountId>> + Send;

    /// Whether stake transfers are enabled on the subnet (`TransferToggle`).
    fn transfers_enabled(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Commit-reveal parameters of the subnet.
    fn weights_settings(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<WeightsSettings>> + Send;

    /// The weights row of `uid` on (netuid, mecid): `(target uid, u16 weight)` pairs.
    fn weights(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        mecid: u8,
        uid: u16,
    ) -> impl Future<Output = Result<Vec<(u16, u16)>>> + Send;

    /// The chain's clock at a block (`Timestamp::Now`), in unix seconds.
    fn chain_time(&self, at: BlockNumber) -> impl Future<Output = Result<u64>> + Send;

    /// The beacon whose rounds the chain reveals timelocked commits with.
    fn beacon(&self) -> impl Future<Output = Result<BeaconInfo>> + Send;

    /// The extrinsics of a block, each with its signer, call and events.
    fn block_extrinsics(
        &self,
        number: BlockNumber,
    ) -> impl Future<Output = Result<Vec<Extrinsic>>> + Send;

    /// The free TAO balance (rao) of `account` at the end of block `at`
    /// (`System::Account(account).data.free`): what `add_stake` can spend.
    ///
    /// The default answers an error, for clients that cannot read balances.
    fn free_balance(
        &self,
        at: BlockNumber,
        account: AccountId,
    ) -> impl Future<Output = Result<u64>> + Send {
        let _ = (at, account);
        async {
            Err(Error::invalid(
                "free_balance",
                "this client does not read balances",
            ))
        }
    }

    /// The commitments pallet's rate-limit state of `who` on `netuid` at the end of block `at`
    /// (`Commitments::UsedSpaceOf`, `Commitments::MaxSpace`); an account that never committed
    /// has used nothing.
    ///
    /// The default answers an error, for clients that cannot read it.
    fn commitment_space(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        who: AccountId,
    ) -> impl Future<Output = Result<CommitmentSpace>> + Send {
        let _ = (at, netuid, who);
        async {
            Err(Error::invalid(
                "commitment_space",
                "this client does not read the commitments rate limit",
            ))
        }
    }

    /// The account that signs this implementation's writes, if any.
    fn signer(&self) -> Option<AccountId>;

    /// Signs and submits one call, waiting for its inclusion.
    fn submit(&self, call: Call) -> impl Future<Output = Result<Inclusion>> + Send;

    /// `Commitments::set_commitment` of raw bytes (split into 128-byte raw fields).
    fn set_commitment(
        &self,
        netuid: NetUid,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<Inclusion>> + Send {
        self.submit(Call::SetCommitment { netuid, data })
    }

    /// A miner's delivery: `utility.batch_all([system.remark(remark), transfer_stake...])`.
    fn deliver(
        &self,
        remark: Vec<u8>,
        transfers: Vec<TransferStake>,
    ) -> impl Future<Output = Result<Inclusion>> + Send {
        let mut calls = Vec::with_capacity(transfers.len().saturating_add(1));
        calls.push(Call::Remark { data: remark });
        calls.extend(transfers.into_iter().map(Call::TransferStake));
        self.submit(Call::BatchAll { calls })
    }

    /// `SubtensorModule::set_mechanism_weights` (where commit-reveal is off).
    fn set_mechanism_weights(
        &self,
        netuid: NetUid,
        mecid: u8,
        dests: Vec<u16>,
        weights: Vec<u16>,
        version_key: u64,
    ) -> impl Future<Output = Result<Inclusion>> + Send {
        self.submit(Call::SetMechanismWeights {
            netuid,
            mecid,
            dests,
            weights,
            version_key,
        })
    }

    /// `SubtensorModule::commit_timelocked_mechanism_weights` of a ready ciphertext.
    fn commit_timelocked_mechanism_weights(
        &self,
        netuid: NetUid,
        mecid: u8,
        commit: Vec<u8>,
        reveal_round: u64,
    ) -> impl Future<Output = Result<Inclusion>> + Send {
        self.submit(Call::CommitTimelockedMechanismWeights {
            netuid,
            mecid,
            commit,
            reveal_round,
            commit_reveal_version: COMMIT_REVEAL_VERSION,
        })
    }

    /// Commit-reveal v4 as `bittensor-drand` 2.0 does it: SCALE-encodes (hotkey, uids, values,
    /// version key), timelock-encrypts it to the beacon round at which the chain will reveal it,
    /// and commits it. The round comes from the subnet's epoch schedule at the finalized head
    /// ([`epochs::commit_reveal_target`]: the first block whose look-ahead epoch is the commit's
    /// epoch plus the reveal period, plus 3 blocks, in time from the chain's clock at the head).
    /// Returns the inclusion and the reveal round.
    fn commit_weights_timelocked(
        &self,
        netuid: NetUid,
        mecid: u8,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    ) -> impl Future<Output = Result<(Inclusion, u64)>> + Send {
        async move {
            let hotkey = self
                .signer()
                .ok_or_else(|| Error::invalid("signer", "no signing key configured"))?;
            if uids.len() != values.len() {
                return Err(Error::invalid(
                    "weights",
                    format!("{} uids but {} values", uids.len(), values.len()),
                ));
            }
            let head = self.finalized_head().await?;
            let schedule = self.epoch_schedule(head.number, netuid).await?;
            let now = self.chain_time(head.number).await?;
            let beacon = self.beacon().await?;
            let clock = epochs::RoundClock {
                now_unix: now,
                block_time_secs: drand::BLOCK_TIME_SECS,
                beacon_genesis: beacon.genesis_time,
                beacon_period: beacon.period,
            };
            let (reveal_block, round) =
                epochs::commit_reveal_target(&schedule, head.number, &clock)?;
            if let Some(block) =
                epochs::commit_epoch_changes_within(&schedule, head.number, COMMIT_SLACK_BLOCKS)
            {
                tracing::warn!(target: "tao20::chain", netuid, head = head.number, epoch_due = block,
                    "commit close to an epoch: if it lands at or after the epoch's block the chain reveals it an epoch after its round");
            }
            tracing::debug!(target: "tao20::chain", netuid, head = head.number, reveal_block, round, "timelocked commit");
            let payload = drand::WeightsTlockPayload {
                hotkey: hotkey.0.to_vec(),
                uids,
                values,
                version_key,
            };
            let commit = drand::encrypt_payload(&beacon.public_key, round, &payload)?;
            let inclusion = self
                .commit_timelocked_mechanism_weights(netuid, mecid, commit, round)
                .await?;
            Ok((inclusion, round))
        }
    }

    /// `SubtensorModule::serve_axon`.
    fn serve_axon(
        &self,
        netuid: NetUid,
        version: u32,
        ip: u128,
        port: u16,
        ip_type: u8,
        protocol: u8,
    ) -> impl Future<Output = Result<Inclusion>> + Send {
        self.submit(Call::ServeAxon {
            netuid,
            version,
            ip,
            port,
            ip_type,
            protocol,
        })
    }

    /// JSON-RPC requests this client (and its clones) sent to the node so far; `None` for a
    /// client that sends none (the in-process simulator).
    fn requests_sent(&self) -> Option<u64> {
        None
    }

    /// The runtime this client saw at the highest block it read, and the upgrades it saw while
    /// running; `None` for a client that does not read the node's runtime (the simulator's).
    fn runtime(&self) -> Option<crate::client::RuntimeSeen> {
        None
    }

    /// The burn uid: the earliest-registered neuron on the subnet owner's coldkey (ties by uid).
    fn burn_uid(
        &self,
        at: BlockNumber,
        netuid: NetUid,
    ) -> impl Future<Output = Result<Option<u16>>> + Send {
        async move {
            let owner = self.subnet_owner(at, netuid).await?;
            let neurons = self.neurons(at, netuid).await?;
            Ok(neurons
                .iter()
                .filter(|n| n.coldkey == owner)
                .min_by_key(|n| (n.registered_at, n.uid))
                .map(|n| n.uid))
        }
    }
}
