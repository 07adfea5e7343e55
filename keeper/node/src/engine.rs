//! The block loop: sense, decide, commit, act.
//!
//! For each finalized substrate block `b` (the keeper's own cursor decides which block comes
//! next; the chain is only asked for its finalized head):
//! - **sense** ([`inputs`]): one async step reads everything the block's decisions need into a
//!   plain value, [`BlockInputs`]: the block's extrinsics, the contract's events of block `b`
//!   (through the reorg-aware BEVM cursor), the spot price of every fund and creation-file
//!   netuid, the valuations and creation files the state says are due (concurrently), the
//!   contract's `expireableAt` of requests past their grace;
//! - **decide** ([`decide`]): a pure function of the state before the block and its inputs gives
//!   the new state, the reports to sign, the settled subjects, the expiries with their
//!   transmission order, and the block's mints. A pass that finds an input missing names it; the
//!   engine reads it and decides again from the same state;
//! - the mechanisms' step ([`crate::mechanisms`]), sensed and decided the same way: its
//!   inputs are gathered into a [`MechInputs`](crate::mechanisms::MechInputs), the pure
//!   [`crate::mechanisms::decide`] names what else it needs;
//! - **commit**: one SQLite transaction writes the state, its history, the prices, the inputs
//!   (for `tao20 validator replay`), the journal entries of the reports to sign, the outbox
//!   actions and the cursor. Only then do the executors act on it ([`crate::executor`]). A crash
//!   before the commit redoes the block; after it, the restart re-drives the outbox.

pub mod decide;
pub mod inputs;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};
use tao20_bevm::cursor::Cursor;
use tao20_bevm::reader::SignerSet;
use tao20_bevm::{Bevm, Deployment};
use tao20_chain::Subtensor;
use tao20_creation::lifecycle::{CreationMachine, FundHotkey, MachineConfig};

use crate::config::{Fault, KeeperConfig};
use crate::exchange::Exchange;
use crate::journal::{self, Checked};
use crate::mechanisms::{MechDecisions, MechRecord, MechState, Mechanisms, MintRow, PriceCache};
use crate::metrics::Metrics;
use crate::store::mechanisms as mech_store;
use crate::store::outbox::{self, BevmAction};
use crate::store::reports;
use crate::store::state::{self as tables, BlockWrite};
use crate::store::{from_json, to_json as json, Store};
use crate::{Error, Result};

pub use decide::{Decision, Outcome, Params};
pub use inputs::BlockInputs;

/// Passes of `decide` one block may take: the first reads what the state foresees, later ones
/// what the block itself revealed (a valuation of a request the block created and delivered).
const MAX_PASSES: usize = 8;

/// The creation strategy's persisted state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationState {
    /// The lifecycle machine.
    pub machine: CreationMachine,
    /// Epochs whose creation file this keeper computed (so it is computed once).
    pub filed_epochs: BTreeSet<u64>,
    /// Requests whose `expire` was scheduled.
    pub expiring: BTreeSet<alloy_primitives::B256>,
}

/// A block's record: its inputs and the parameters it was decided with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// The decision parameters.
    pub params: Params,
    /// The inputs.
    pub inputs: BlockInputs,
    /// The mechanisms' inputs and parameters; `None` when they are off or failed at the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanisms: Option<MechRecord>,
}

/// What the engine shares with the executors and the exchange.
#[derive(Debug)]
pub struct Shared {
    /// The last block processed and committed (0 before the first).
    pub processed: AtomicU64,
    /// The finalized head last seen.
    pub finalized: AtomicU64,
    /// The current signer set.
    pub signers: Arc<RwLock<SignerSet>>,
    /// Woken after each commit.
    pub wake: Arc<tokio::sync::Notify>,
}

/// The block loop.
#[derive(Debug)]
pub struct Engine<S, B> {
    cfg: KeeperConfig,
    params: Params,
    subtensor: S,
    bevm: B,
    store: Arc<Mutex<Store>>,
    exchange: Arc<Exchange>,
    metrics: Metrics,
    shared: Arc<Shared>,
    next_block: u64,
    /// Landed reports are checked for this keeper's signatures from this block on
    /// ([`crate::store::state::live_from`]).
    live_from: u64,
    cursor: Cursor,
    state: CreationState,
    mech: Option<Mechanisms>,
    mech_state: MechState,
    prices: PriceCache,
}

pub(crate) fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The decision parameters of a keeper's configuration and deployment.
pub fn params(cfg: &KeeperConfig, deployment: &Deployment, me: Address) -> Params {
    Params {
        chain_id: deployment.chain_id,
        contract: deployment.tao20,
        genesis_block: deployment.genesis_block,
        epoch_length: deployment.epoch_length,
        expiry_grace: deployment.expiry_grace,
        price_window: cfg.creation.price_window,
        index: cfg.creation.index.clone(),
        stage_blocks: cfg.transmit.stage_blocks,
        me,
        state_history_blocks: cfg.engine.state_history_blocks,
        wrong_nav: cfg.testing.fault == Some(Fault::WrongNav),
    }
}

/// Decides one block from its inputs, reading what a pass names as missing until none is.
pub async fn decide_block<S: Subtensor, B: Bevm>(
    src: &inputs::Sources<'_, S, B>,
    state: &CreationState,
    inputs: &mut BlockInputs,
    params: &Params,
) -> Result<Decision> {
    for _ in 0..MAX_PASSES {
        match decide::decide(state, inputs, params)? {
            Outcome::Decided(d) => return Ok(d),
            Outcome::Needs(needs) => inputs::fetch(src, inputs, needs, params).await?,
        }
    }
    Err(Error::Decode {
        what: format!("block {}", inputs.block),
        reason: format!("its inputs were still incomplete after {MAX_PASSES} reads"),
    })
}

impl<S: Subtensor, B: Bevm> Engine<S, B> {
    /// Loads the engine's state from the store, or starts it at the deployment block.
    #[allow(clippy::too_many_arguments)]
    pub async fn load(
        cfg: KeeperConfig,
        deployment: Deployment,
        subtensor: S,
        bevm: B,
        store: Arc<Mutex<Store>>,
        exchange: Arc<Exchange>,
        metrics: Metrics,
        me: Address,
        shared: Arc<Shared>,
        prices: PriceCache,
    ) -> Result<Self> {
        let (mech_saved, saved) = {
            let s = lock(&store);
            (
                tables::strategy(s.conn(), "mechanisms")?,
                tables::saved(s.conn())?,
            )
        };
        let mech_state: MechState = match mech_saved {
            Some(text) => from_json("mechanisms state", &text)?,
            None => MechState::default(),
        };
        let mech = match (cfg.mechanisms.enabled, subtensor.signer()) {
            (true, Some(hotkey)) => Some(Mechanisms::new(
                cfg.subtensor.netuid,
                cfg.mechanisms.clone(),
                hotkey,
            )),
            (true, None) => {
                return Err(Error::Config {
                    what: "mechanisms.enabled".into(),
                    reason: "the mechanisms need the keeper's hotkey to sign with".into(),
                })
            }
            (false, _) => None,
        };
        let (next_block, cursor, state) = match saved {
            Some((next, bevm_cursor, state)) => {
                let mut state = from_json::<CreationState>("creation state", &state)?;
                // One source for the price window: the configuration (bound to the peers' by
                // the config digest), never a copy frozen at the first start, so a report and
                // a creation file of this keeper never use two windows.
                let saved_window = state.machine.config.price_window;
                if saved_window != cfg.creation.price_window {
                    tracing::warn!(target: "keeper::engine", saved = saved_window, configured = cfg.creation.price_window,
                        "creation.price_window differs from the one this database was started with; the configured one applies from here");
                    state.machine.config.price_window = cfg.creation.price_window;
                }
                (
                    next,
                    from_json::<Cursor>("BEVM cursor", &bevm_cursor)?,
                    state,
                )
            }
            None => {
                let start = cfg
                    .engine
                    .start_block
                    .unwrap_or(deployment.deploy_block)
                    .max(deployment.deploy_block);
                let fund = bevm.fund(start).await?;
                let machine = CreationMachine::new(
                    MachineConfig {
                        chain_id: deployment.chain_id,
                        contract: deployment.tao20,
                        vault: deployment.vault_coldkey,
                        fund_hotkeys: fund
                            .positions
                            .iter()
                            .map(|p| FundHotkey {
                                netuid: p.netuid,
                                hotkey: p.hotkey,
                            })
                            .collect(),
                        price_window: cfg.creation.price_window,
                    },
                    fund.signer_set.version,
                );
                let state = CreationState {
                    machine,
                    filed_epochs: BTreeSet::new(),
                    expiring: BTreeSet::new(),
                };
                // The first block is replayed from the state it started with.
                let text = json("creation state", &state)?;
                let mech_text = json("mechanisms state", &mech_state)?;
                // What landed before the database existed may carry this key's signatures
                // from before its journal (a lost database, signatures made at deployment):
                // history the journal cannot speak for, so the doppelganger check starts past
                // today's head.
                let live_from = subtensor.finalized_head().await?.number + 1;
                lock(&store)
                    .write(|tx| tables::write_start(tx, start, live_from, &text, &mech_text))?;
                (start, Cursor::starting_at(start), state)
            }
        };
        // A database from before the record re-reads nothing older than its next block.
        let live_from = tables::live_from(lock(&store).conn())?.unwrap_or(next_block);
        let set = bevm
            .signer_set(next_block.saturating_sub(1).max(deployment.deploy_block))
            .await?;
        *shared
            .signers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = set;
        shared
            .processed
            .store(next_block.saturating_sub(1), Ordering::SeqCst);
        Ok(Self {
            params: params(&cfg, &deployment, me),
            cfg,
            subtensor,
            bevm,
            store,
            exchange,
            metrics,
            shared,
            next_block,
            live_from,
            cursor,
            state,
            mech,
            mech_state,
            prices,
        })
    }

    /// The mechanisms' state.
    pub fn mech_state(&self) -> &MechState {
        &self.mech_state
    }

    /// The next block to process.
    pub fn next_block(&self) -> u64 {
        self.next_block
    }

    /// The creation strategy's state.
    pub fn state(&self) -> &CreationState {
        &self.state
    }

    /// The decision parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Runs until `stop` turns true: follows the finalized head, processes every block up to it
    /// in order, and waits out endpoint failures (retrying the same block).
    pub async fn run(&mut self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        let poll = Duration::from_millis(self.cfg.engine.poll_ms);
        let mut backoff = poll;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            match self.round().await {
                Ok(progressed) => {
                    backoff = poll;
                    self.metrics
                        .last_progress
                        .set(i64::try_from(crate::ops::unix_now()).unwrap_or(i64::MAX));
                    if progressed {
                        continue;
                    }
                }
                Err(e) if e.is_transient() => {
                    self.metrics
                        .rpc_failures
                        .with_label_values(&[endpoint_of(&e)])
                        .inc();
                    tracing::warn!(target: "keeper::engine", block = self.next_block, error = %e,
                        "endpoint failure; waiting before trying the same block again");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Processes up to `max_blocks_per_round` finalized blocks; whether any was processed.
    pub async fn round(&mut self) -> Result<bool> {
        while crate::failpoint::on(crate::failpoint::ENGINE_STALL) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if crate::failpoint::on(crate::failpoint::ENGINE_ERROR) {
            return Err(Error::Store {
                what: "engine round".into(),
                reason: "injected fault (TAO20_FAULT_DIR/engine-error)".into(),
            });
        }
        let head = self.subtensor.finalized_head().await?.number;
        // The pool sampler's head follower may be a block ahead of this read.
        self.shared.finalized.fetch_max(head, Ordering::SeqCst);
        let target = head.saturating_sub(self.cfg.bevm.confirmations);
        self.metrics.finality_lag.set(
            i64::try_from(head.saturating_sub(self.next_block.saturating_sub(1)))
                .unwrap_or(i64::MAX),
        );
        let max = self.cfg.engine.max_blocks_per_round.max(1);
        let mut done = 0;
        while self.next_block <= target && done < max {
            let first = self.next_block;
            let last = target
                .min(first + self.cfg.engine.read_ahead_blocks.max(1) - 1)
                .min(first + (max - done) - 1);
            // Behind the head, the next blocks' independent reads go out together: at a real
            // endpoint's latency one block's round trips at a time would cap the catch-up.
            let mut ahead = if last > first {
                self.read_ahead(first, last).await
            } else {
                Vec::new()
            }
            .into_iter();
            for b in first..=last {
                self.step_with(b, ahead.next().unwrap_or_default()).await?;
                done += 1;
                if self.next_block != b + 1 {
                    break; // a reorganisation moved the engine back
                }
            }
        }
        Ok(done > 0)
    }

    async fn read_ahead(&self, first: u64, last: u64) -> Vec<inputs::Ahead> {
        let netuids = inputs::price_netuids(&self.state);
        let mech = self.mech.as_ref();
        futures_util::future::join_all(
            (first..=last).map(|b| inputs::ahead(&self.subtensor, b, &netuids, mech)),
        )
        .await
    }

    fn current_signers(&self) -> SignerSet {
        self.shared
            .signers
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Senses, decides and commits block `b`.
    pub async fn step(&mut self, b: u64) -> Result<()> {
        self.step_with(b, inputs::Ahead::default()).await
    }

    /// [`Engine::step`] with what was read ahead of the block.
    async fn step_with(&mut self, b: u64, ahead: inputs::Ahead) -> Result<()> {
        let src = inputs::Sources {
            subtensor: &self.subtensor,
            bevm: &self.bevm,
            store: &self.store,
        };
        let signers = self.current_signers();
        let minority = self.exchange.digests.refusing();
        let mech_ahead = ahead.mech.clone();
        let sensed = inputs::first(
            &src,
            &self.state,
            &self.cursor,
            &signers,
            minority,
            b,
            &self.params,
            ahead,
        )
        .await?;
        let (mut inputs, next_cursor) = match sensed {
            inputs::Sensed::Undo(from) => return self.undo(from),
            inputs::Sensed::Inputs(inputs, cursor) => (*inputs, cursor),
        };
        let decision = decide_block(&src, &self.state, &mut inputs, &self.params).await?;
        if b >= self.live_from {
            self.check_landed(&inputs.landed)?;
        }

        let fresh: Vec<MintRow> = decision.mints.iter().map(|(_, m)| m.clone()).collect();
        let (ms, mech_decided, mech_record) = match &self.mech {
            None => (self.mech_state.clone(), MechDecisions::default(), None),
            Some(mech) => {
                match mech
                    .step(
                        &self.mech_state,
                        b,
                        &self.subtensor,
                        &self.store,
                        &fresh,
                        &self.prices,
                        mech_ahead,
                    )
                    .await
                {
                    Ok(step) => (step.state, step.decisions, Some(step.record)),
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        // The creation side goes on; the mechanisms try this block's decisions
                        // again at the next one (their state did not move, and the block's
                        // record says they decided nothing).
                        tracing::error!(target: "keeper::mechanisms", block = b, error = %e, "mechanisms failed at this block");
                        (self.mech_state.clone(), MechDecisions::default(), None)
                    }
                }
            }
        };
        self.commit(
            &decision,
            inputs,
            mech_record,
            &next_cursor,
            &ms,
            &mech_decided,
        )?;
        self.mech_state = ms;
        self.state = decision.state;
        self.cursor = next_cursor;
        self.next_block = b + 1;
        self.shared.processed.store(b, Ordering::SeqCst);
        self.metrics
            .block_processed(i64::try_from(b).unwrap_or(i64::MAX));
        if let Some(sent) = self.subtensor.requests_sent() {
            // The client counts for every task of the process; the metric follows it.
            let counted = self.metrics.subtensor_requests.get();
            self.metrics
                .subtensor_requests
                .inc_by(sent.saturating_sub(counted));
        }
        if let Some(seen) = self.subtensor.runtime() {
            let m = &self.metrics;
            m.subtensor_spec_version.set(i64::from(seen.spec_version));
            m.runtime_upgrades
                .inc_by(seen.upgrades.saturating_sub(m.runtime_upgrades.get()));
            m.runtime_unchecked.set(i64::from(
                tao20_chain::client::runtime_advice(seen.spec_version)
                    == tao20_chain::client::RuntimeAdvice::Unchecked,
            ));
        }
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Doppelganger detection on chain: a landed report carrying this keeper's own signature
    /// over a digest its journal never signed was signed by another process with its key.
    fn check_landed(&self, landed: &[inputs::Landed]) -> Result<()> {
        let me = self.params.me;
        for l in landed.iter().filter(|l| l.signers.contains(&me)) {
            if !crate::store::journal::has_digest(lock(&self.store).conn(), &l.digest)? {
                self.exchange
                    .doppelganger
                    .detected(&l.digest, &format!("on chain, transaction {}", l.tx));
            }
        }
        Ok(())
    }

    /// Writes everything block `d.block` decided in one transaction, then hands the executors
    /// what they act on.
    fn commit(
        &self,
        d: &Decision,
        inputs: BlockInputs,
        mechanisms: Option<MechRecord>,
        cursor: &Cursor,
        ms: &MechState,
        mech: &MechDecisions,
    ) -> Result<()> {
        let b = d.block;
        let p = &self.params;
        let (chain_id, contract, me) = (p.chain_id, p.contract, p.me);
        let dry_run = self.cfg.dry_run;
        let creation = json("creation state", &d.state)?;
        let mechanisms_json = json("mechanisms state", ms)?;
        let cursor_json = json("BEVM cursor", cursor)?;
        let recorded = Recorded {
            params: p.clone(),
            inputs,
            mechanisms,
        };
        let record = json("block inputs", &recorded)?;
        let mut new_digests = Vec::new();
        let mut refused = 0u64;
        let weights_enqueued = lock(&self.store).write(|tx| {
            tables::write_block(
                tx,
                &BlockWrite {
                    block: b,
                    creation: &creation,
                    machine: &d.state.machine,
                    mechanisms: &mechanisms_json,
                    spots: &recorded.inputs.spots,
                    backfill: &recorded.inputs.backfill,
                    inputs: &record,
                    cursor: &cursor_json,
                    history_blocks: p.state_history_blocks.max(self.cfg.engine.record_blocks),
                },
            )?;
            for (request_id, m) in &d.mints {
                mech_store::insert_mint(tx, request_id, m)?;
            }
            let weights = mech_store::persist(tx, b, mech, dry_run)?;
            for m in &d.signs {
                // A dry run journals and queues as a live run does (the executor leaves the
                // queue alone), so the database can go live without losing these.
                if dry_run {
                    tracing::info!(target: "keeper::engine", kind = m.type_name(), digest = %m.digest(chain_id, contract),
                        "dry run: would sign");
                }
                match journal::check_and_record(tx, me, m, chain_id, contract, b)? {
                    Checked::Sign { subject, digest } => {
                        reports::insert_report(tx, digest, &subject, m, b)?;
                        outbox::enqueue(tx, &BevmAction::Sign { subject, digest }, b, 0)?;
                        new_digests.push(digest);
                    }
                    Checked::Signed { subject, digest, .. } => {
                        reports::insert_report(tx, digest, &subject, m, b)?;
                    }
                    Checked::Refused { .. } | Checked::BelowWatermark { .. } => refused += 1,
                }
            }
            for (subject, outcome) in &d.settled {
                reports::settle_subject(tx, subject, b, outcome)?;
            }
            for (request_id, not_before) in &d.expire {
                outbox::enqueue(
                    tx,
                    &BevmAction::Expire {
                        request_id: *request_id,
                    },
                    b,
                    *not_before,
                )?;
            }
            Ok(weights)
        })?;
        *self
            .shared
            .signers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = d.signers.clone();
        // Signatures peers pushed before this keeper computed the digest.
        let journaled = !new_digests.is_empty();
        for digest in new_digests {
            let held = self
                .exchange
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(&digest);
            if held.is_empty() {
                continue;
            }
            let store = lock(&self.store);
            for (signer, sig) in held {
                let ok = tao20_creation::signing::recover(&digest, &sig).ok() == Some(signer)
                    && d.signers.contains(&signer);
                if ok {
                    reports::add_signature(store.conn(), &digest, &signer, &sig, "held")?;
                    self.metrics.peer_signatures.inc();
                }
            }
        }
        if journaled {
            crate::failpoint::hit(crate::failpoint::AFTER_JOURNAL_COMMIT);
        }
        self.metrics.reports_refused.inc_by(refused);
        for (mecid, epoch) in &weights_enqueued {
            tracing::info!(target: "keeper::mechanisms", mecid, epoch, "weights decided");
        }
        for w in &mech.windows {
            let outcome = if w.skipped.is_some() {
                "skipped"
            } else {
                "auction"
            };
            self.metrics
                .windows_settled
                .with_label_values(&[outcome])
                .inc();
        }
        self.metrics
            .bans
            .inc_by(u64::try_from(mech.bans.len()).unwrap_or(0));
        Ok(())
    }

    /// Restores the state of the block before `from` (a reorganised BEVM block) and processes
    /// again from there.
    fn undo(&mut self, from: u64) -> Result<()> {
        let before = from.saturating_sub(1);
        let mut store = lock(&self.store);
        let Some(state) = tables::history(store.conn(), "creation", before)? else {
            return Err(Error::Store {
                what: "reorg".into(),
                reason: format!(
                    "BEVM reorganised from block {from}, older than the kept state history \
                     (engine.state_history_blocks): stop and keep this database, its journal is \
                     the record of what this key signed. Never restore an older copy: it would \
                     forget signatures and could sign other content for them. Raise \
                     engine.state_history_blocks and resync with this database's journal \
                     exported into the new one (tao20 validator journal export/import)"
                ),
            });
        };
        let restored: CreationState = from_json("creation state", &state)?;
        let mech_saved = tables::history(store.conn(), "mechanisms", before)?;
        let mech_restored: MechState = match &mech_saved {
            Some(text) => from_json("mechanisms state", text)?,
            None => MechState::default(),
        };
        let mut cursor = self.cursor.clone();
        cursor.next = from;
        cursor.recent.retain(|(n, _)| *n < from);
        let cursor_json = json("BEVM cursor", &cursor)?;
        store.write(|tx| tables::undo(tx, from, &state, mech_saved.as_deref(), &cursor_json))?;
        tracing::warn!(target: "keeper::engine", from, "BEVM blocks reorganised below the cursor: state restored, processing again");
        self.state = restored;
        self.mech_state = mech_restored;
        self.cursor = cursor;
        self.next_block = from;
        Ok(())
    }
}

fn endpoint_of(e: &Error) -> &'static str {
    match e {
        Error::Subtensor(_) => "subtensor",
        Error::Bevm(_) => "bevm",
        _ => "other",
    }
}
