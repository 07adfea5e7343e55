//! The block loop: sense, decide, persist, act.
//!
//! For each finalized substrate block `b` (the keeper's own cursor decides which block comes
//! next; the chain is only asked for its finalized head), the engine reads the block's
//! extrinsics, the contract's events of block `b` (through the reorg-aware BEVM cursor) and the
//! spot price of every fund and creation-file netuid, then applies them to the creation machine:
//! contract events first, then the substrate block. The valuation data a request asks for comes
//! from the keeper's own price history and the fund read at the valuation block; a hole it cannot
//! fill is an error for that request, never a guess. At each creation-epoch boundary it computes
//! the index and the creation file from the state at the boundary block.
//!
//! Everything the block decided — the machine's new state, the prices, the journal entries of
//! the reports to sign, the outbox actions and the cursor — is written in one SQLite transaction;
//! only then do the executors act on it ([`crate::executor`]). A crash before the commit redoes
//! the block; after it, the restart re-drives the outbox.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alloy_primitives::{Address, U256};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use tao20_bevm::cursor::Cursor;
use tao20_bevm::events::{ContractEvent, LoggedEvent};
use tao20_bevm::reader::SignerSet;
use tao20_bevm::{Deployment, Reader};
use tao20_chain::Subtensor;
use tao20_creation::eip712::{creation_file_hash, CreationFile, Eip712Message};
use tao20_creation::index::{self, Epoch, IndexInput, SubnetSnapshot};
use tao20_creation::lifecycle::{
    Action as MachineAction, CreationMachine, Event as MachineEvent, FundHotkey, MachineConfig,
    SpotWindow, Status, Valuation,
};
use tao20_creation::nav::{self, Price};
use tao20_creation::pricing::{official_price, SpotSample};

use crate::config::{Fault, KeeperConfig};
use crate::convert;
use crate::exchange::Exchange;
use crate::journal::{self, Checked};
use crate::mechanisms::{self, MechDecisions, MechState, Mechanisms, MintRow, PriceCache};
use crate::metrics::Metrics;
use crate::reports::{self, Action};
use crate::store::{db, Store};
use crate::{Error, Result};

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
pub struct Engine<S> {
    cfg: KeeperConfig,
    deployment: Deployment,
    subtensor: S,
    reader: Reader,
    store: Arc<Mutex<Store>>,
    exchange: Arc<Exchange>,
    metrics: Metrics,
    me: Address,
    shared: Arc<Shared>,
    next_block: u64,
    cursor: Cursor,
    state: CreationState,
    mech: Option<Mechanisms>,
    mech_state: MechState,
    prices: PriceCache,
}

fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn json<T: Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Decode {
        what: what.into(),
        reason: e.to_string(),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Decode {
        what: what.into(),
        reason: e.to_string(),
    })
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl<S: Subtensor> Engine<S> {
    /// Loads the engine's state from the store, or starts it at the deployment block.
    #[allow(clippy::too_many_arguments)]
    pub async fn load(
        cfg: KeeperConfig,
        deployment: Deployment,
        subtensor: S,
        reader: Reader,
        store: Arc<Mutex<Store>>,
        exchange: Arc<Exchange>,
        metrics: Metrics,
        me: Address,
        shared: Arc<Shared>,
        prices: PriceCache,
    ) -> Result<Self> {
        let mech_state: MechState = {
            let s = lock(&store);
            let saved: Option<String> = s
                .conn()
                .query_row(
                    "SELECT state FROM strategy_state WHERE name = 'mechanisms'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db("strategy state"))?;
            match saved {
                Some(text) => from_json("mechanisms state", &text)?,
                None => MechState::default(),
            }
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
        let saved = {
            let s = lock(&store);
            let cursor: Option<(i64, String)> = s
                .conn()
                .query_row(
                    "SELECT next_block, bevm FROM cursor WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db("cursor"))?;
            let state: Option<String> = s
                .conn()
                .query_row(
                    "SELECT state FROM strategy_state WHERE name = 'creation'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db("strategy state"))?;
            (cursor, state)
        };
        let (next_block, cursor, state) = match saved {
            (Some((next, bevm)), Some(state)) => {
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
                    u64::try_from(next).unwrap_or(0),
                    from_json::<Cursor>("BEVM cursor", &bevm)?,
                    state,
                )
            }
            _ => {
                let start = cfg
                    .engine
                    .start_block
                    .unwrap_or(deployment.deploy_block)
                    .max(deployment.deploy_block);
                let at = start;
                let fund = reader.fund(at).await?;
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
                (
                    start,
                    Cursor::starting_at(start),
                    CreationState {
                        machine,
                        filed_epochs: BTreeSet::new(),
                        expiring: BTreeSet::new(),
                    },
                )
            }
        };
        let set = reader
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
            cfg,
            deployment,
            subtensor,
            reader,
            store,
            exchange,
            metrics,
            me,
            shared,
            next_block,
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
        let mut done = 0;
        while self.next_block <= target && done < self.cfg.engine.max_blocks_per_round {
            self.process_block(self.next_block).await?;
            done += 1;
        }
        Ok(done > 0)
    }

    fn price_netuids(&self) -> Vec<u16> {
        let m = &self.state.machine;
        let mut set: BTreeSet<u16> = m.config.fund_hotkeys.iter().map(|f| f.netuid).collect();
        for f in &m.files {
            set.extend(f.assets.iter().map(|a| a.netuid));
        }
        set.into_iter().collect()
    }

    /// Processes one finalized block and commits everything it decided.
    pub async fn process_block(&mut self, b: u64) -> Result<()> {
        // Sense: everything this block needs is read before anything is decided.
        let extrinsics = self.subtensor.block_extrinsics(b).await?;
        let batch = self.cursor.poll(&self.reader, b).await?;
        if let Some(from) = batch.undo_from {
            return self.undo(from);
        }
        // A fund netuid whose subnet does not exist (yet, or any more) has no price: a valuation
        // that needs it finds the hole and refuses, it never guesses.
        let spots = self
            .subtensor
            .alpha_prices(b, &self.price_netuids())
            .await?;

        // Decide, on a copy: nothing changes unless the block commits.
        let mut st = self.state.clone();
        let mut signs: Vec<Eip712Message> = Vec::new();
        let mut settled: Vec<(String, &'static str)> = Vec::new();
        let mut queue: VecDeque<MachineAction> = VecDeque::new();
        let version_before = st.machine.signer_set_version;
        for e in &batch.events {
            queue.extend(self.apply_contract_event(&mut st, e, &mut settled).await?);
        }
        if st.machine.signer_set_version > version_before {
            signs.extend(self.files_to_resign(&st, &settled)?);
        }
        let block = convert::substrate_block(b, &extrinsics);
        queue.extend(st.machine.apply(&MachineEvent::Block(block))?);
        while let Some(action) = queue.pop_front() {
            match action {
                MachineAction::FetchValuation {
                    request_id,
                    valuation_block,
                    window,
                    netuids,
                } => match self
                    .valuation(valuation_block, window, &netuids, b, &spots)
                    .await
                {
                    Ok(valuation) => queue.extend(st.machine.apply(&MachineEvent::Valuation {
                        request_id,
                        valuation,
                    })?),
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        tracing::error!(target: "keeper::engine", %request_id, error = %e,
                            "cannot value the request; it will not be signed");
                    }
                },
                MachineAction::SignCreationReport(mut r) => {
                    if self.cfg.testing.fault == Some(Fault::WrongNav) {
                        r.nav_per_share = r.nav_per_share * U256::from(101u64) / U256::from(100u64);
                    }
                    signs.push(Eip712Message::CreationReport(r));
                }
                MachineAction::SignRefundReport(r) => signs.push(Eip712Message::RefundReport(r)),
                MachineAction::DeliveryRejected {
                    request_id,
                    id,
                    why,
                } => {
                    tracing::info!(target: "keeper::engine", %request_id, block = id.block, index = id.index, ?why,
                        "an extrinsic carried the request's remark but is not its delivery");
                }
            }
        }
        match self.creation_file_due(&mut st, b).await {
            Ok(Some(file)) => signs.push(Eip712Message::CreationFile(file)),
            Ok(None) => {}
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                // This keeper cannot compute the epoch's file (its boundary predates the price
                // history it can get): the others, or governance, publish it.
                let d = &self.deployment;
                if let Some(epoch) = index::epoch_of(b, d.genesis_block, d.epoch_length) {
                    st.filed_epochs.insert(epoch);
                    tracing::warn!(target: "keeper::engine", epoch, error = %e, "not computing this epoch's creation file");
                }
            }
        }
        let expire = self.expiries_due(&mut st, b).await?;
        st.machine
            .prune(b.saturating_sub(self.cfg.engine.state_history_blocks));

        // Mechanism 0's input: every mint with the coldkey that delivered it.
        let mints: Vec<(alloy_primitives::B256, MintRow)> = batch
            .events
            .iter()
            .filter_map(|e| match &e.event {
                ContractEvent::CreationMinted(m) => st.machine.request(&m.request_id).map(|r| {
                    (
                        m.request_id,
                        MintRow {
                            miner: m.miner,
                            coldkey: r.request.coldkey.0.into(),
                            value_rao: m.value_rao,
                            block: b,
                        },
                    )
                }),
                _ => None,
            })
            .collect();
        let mut ms = self.mech_state.clone();
        let decided = match &self.mech {
            None => MechDecisions::default(),
            Some(mech) => {
                let fresh: Vec<MintRow> = mints.iter().map(|(_, m)| m.clone()).collect();
                match mech
                    .on_block(
                        &mut ms,
                        b,
                        &self.subtensor,
                        &self.store,
                        &fresh,
                        &self.prices,
                    )
                    .await
                {
                    Ok(d) => d,
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        // The creation side goes on; the mechanisms try this block's decisions
                        // again at the next one (their state did not move).
                        tracing::error!(target: "keeper::mechanisms", block = b, error = %e, "mechanisms failed at this block");
                        ms = self.mech_state.clone();
                        MechDecisions::default()
                    }
                }
            }
        };
        let mech_json = json("mechanisms state", &ms)?;
        let mut weights_enqueued = Vec::new();

        // Persist, in one transaction.
        let chain_id = self.deployment.chain_id;
        let contract = self.deployment.tao20;
        let me = self.me;
        let dry_run = self.cfg.dry_run;
        // A keeper whose consensus parameters most peers do not share journals nothing: the
        // content it would commit to is not the quorum's.
        let minority = self.exchange.digests.refusing();
        let history = self.cfg.engine.state_history_blocks;
        let state_json = json("creation state", &st)?;
        let cursor_json = json("BEVM cursor", &batch.next)?;
        let stage = self.cfg.transmit.stage_blocks;
        let signers = self.current_signers();
        let mut new_digests = Vec::new();
        let mut refused = 0u64;
        {
            let mut store = lock(&self.store);
            store.write(|tx| {
                tx.execute(
                    "INSERT INTO strategy_state (name, block, state) VALUES ('creation', ?1, ?2)
                     ON CONFLICT(name) DO UPDATE SET block = excluded.block, state = excluded.state",
                    rusqlite::params![i(b), state_json],
                )
                .map_err(db("strategy state"))?;
                tx.execute(
                    "INSERT OR REPLACE INTO state_history (block, name, state) VALUES (?1, 'creation', ?2)",
                    rusqlite::params![i(b), state_json],
                )
                .map_err(db("state history"))?;
                tx.execute(
                    "DELETE FROM state_history WHERE block < ?1",
                    [i(b.saturating_sub(history))],
                )
                .map_err(db("state history"))?;
                for (n, p) in &spots {
                    tx.execute(
                        "INSERT OR REPLACE INTO prices (netuid, block, price) VALUES (?1, ?2, ?3)",
                        rusqlite::params![n, i(b), p.to_string()],
                    )
                    .map_err(db("prices"))?;
                }
                save_requests(tx, &st.machine, b)?;
                tx.execute(
                    "INSERT INTO strategy_state (name, block, state) VALUES ('mechanisms', ?1, ?2)
                     ON CONFLICT(name) DO UPDATE SET block = excluded.block, state = excluded.state",
                    rusqlite::params![i(b), mech_json],
                )
                .map_err(db("strategy state"))?;
                tx.execute(
                    "INSERT OR REPLACE INTO state_history (block, name, state) VALUES (?1, 'mechanisms', ?2)",
                    rusqlite::params![i(b), mech_json],
                )
                .map_err(db("state history"))?;
                for (request_id, m) in &mints {
                    mechanisms::insert_mint(tx, request_id, m)?;
                }
                weights_enqueued = mechanisms::persist(tx, b, &decided, dry_run)?;
                for m in &signs {
                    if minority {
                        tracing::warn!(target: "keeper::engine", kind = m.type_name(), digest = %m.digest(chain_id, contract),
                            "not signing: most peers' config digests differ from this keeper's");
                        continue;
                    }
                    // A dry run journals and queues as a live run does (the executor leaves the
                    // queue alone), so the database can go live without losing these.
                    if dry_run {
                        tracing::info!(target: "keeper::engine", kind = m.type_name(), digest = %m.digest(chain_id, contract),
                            "dry run: would sign");
                    }
                    match journal::check_and_record(tx, me, m, chain_id, contract, b)? {
                        Checked::Sign { subject, digest } => {
                            reports::insert_report(tx, digest, &subject, m, b)?;
                            reports::enqueue(tx, &Action::Sign { subject, digest }, b, 0)?;
                            new_digests.push(digest);
                        }
                        Checked::Signed { subject, digest, .. } => {
                            reports::insert_report(tx, digest, &subject, m, b)?;
                        }
                        Checked::Refused { .. } => refused += 1,
                    }
                }
                for (subject, outcome) in &settled {
                    reports::settle_subject(tx, subject, b, outcome)?;
                }
                for request_id in &expire {
                    let key = alloy_primitives::keccak256([b"expire".as_slice(), request_id.as_slice()].concat());
                    let rank = reports::transmission_rank(&key, &signers, &me).unwrap_or(signers.len());
                    let not_before = b.saturating_add(stage.saturating_mul(u64::try_from(rank).unwrap_or(u64::MAX)));
                    reports::enqueue(tx, &Action::Expire { request_id: *request_id }, b, not_before)?;
                }
                tx.execute(
                    "INSERT INTO cursor (id, next_block, bevm, updated_at) VALUES (1, ?1, ?2, strftime('%s','now'))
                     ON CONFLICT(id) DO UPDATE SET next_block = excluded.next_block, bevm = excluded.bevm,
                     updated_at = excluded.updated_at",
                    rusqlite::params![i(b + 1), cursor_json],
                )
                .map_err(db("cursor"))?;
                Ok(())
            })?;
        }
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
                    && signers.contains(&signer);
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
        for w in &decided.windows {
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
            .inc_by(u64::try_from(decided.bans.len()).unwrap_or(0));
        self.mech_state = ms;
        self.state = st;
        self.cursor = batch.next;
        self.next_block = b + 1;
        self.shared.processed.store(b, Ordering::SeqCst);
        self.metrics.block_processed(i(b));
        if let Some(sent) = self.subtensor.requests_sent() {
            // The client counts for every task of the process; the metric follows it.
            let counted = self.metrics.subtensor_requests.get();
            self.metrics
                .subtensor_requests
                .inc_by(sent.saturating_sub(counted));
        }
        self.shared.wake.notify_one();
        Ok(())
    }

    fn current_signers(&self) -> Vec<Address> {
        self.shared
            .signers
            .read()
            .map(|s| s.signers.clone())
            .unwrap_or_default()
    }

    /// Restores the state of the block before `from` (a reorganised BEVM block) and processes
    /// again from there.
    fn undo(&mut self, from: u64) -> Result<()> {
        let before = from.saturating_sub(1);
        let mut store = lock(&self.store);
        let state: Option<String> = store
            .conn()
            .query_row(
                "SELECT state FROM state_history WHERE name = 'creation' AND block = ?1",
                [i(before)],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("state history"))?;
        let Some(state) = state else {
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
        let mech_saved: Option<String> = store
            .conn()
            .query_row(
                "SELECT state FROM state_history WHERE name = 'mechanisms' AND block = ?1",
                [i(before)],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("state history"))?;
        let mech_restored: MechState = match &mech_saved {
            Some(text) => from_json("mechanisms state", text)?,
            None => MechState::default(),
        };
        let mut cursor = self.cursor.clone();
        cursor.next = from;
        cursor.recent.retain(|(n, _)| *n < from);
        let cursor_json = json("BEVM cursor", &cursor)?;
        store.write(|tx| {
            tx.execute(
                "UPDATE strategy_state SET block = ?1, state = ?2 WHERE name = 'creation'",
                rusqlite::params![i(before), state],
            )
            .map_err(db("strategy state"))?;
            tx.execute("DELETE FROM state_history WHERE block >= ?1", [i(from)])
                .map_err(db("state history"))?;
            if let Some(text) = &mech_saved {
                tx.execute(
                    "UPDATE strategy_state SET block = ?1, state = ?2 WHERE name = 'mechanisms'",
                    rusqlite::params![i(before), text],
                )
                .map_err(db("strategy state"))?;
            }
            // Mints come from BEVM events: the reorganised blocks' are read again.
            tx.execute("DELETE FROM mints WHERE block >= ?1", [i(from)])
                .map_err(db("mints"))?;
            tx.execute(
                "UPDATE cursor SET next_block = ?1, bevm = ?2 WHERE id = 1",
                rusqlite::params![i(from), cursor_json],
            )
            .map_err(db("cursor"))?;
            Ok(())
        })?;
        tracing::warn!(target: "keeper::engine", from, "BEVM blocks reorganised below the cursor: state restored, processing again");
        self.state = restored;
        self.mech_state = mech_restored;
        self.cursor = cursor;
        self.next_block = from;
        Ok(())
    }

    async fn apply_contract_event(
        &self,
        st: &mut CreationState,
        e: &LoggedEvent,
        settled: &mut Vec<(String, &'static str)>,
    ) -> Result<Vec<MachineAction>> {
        match &e.event {
            ContractEvent::EpochPublished {
                epoch_id,
                file_hash,
                ..
            } => {
                settled.push((format!("epoch:{epoch_id}"), "published"));
                if st.machine.files.iter().any(|f| f.epoch_id == *epoch_id) {
                    return Ok(vec![]);
                }
                let file = self
                    .reader
                    .creation_file(*epoch_id, e.block)
                    .await?
                    .ok_or_else(|| Error::Decode {
                        what: format!("epoch {epoch_id}"),
                        reason: "EpochPublished but no file stored".into(),
                    })?;
                Ok(st.machine.apply(&MachineEvent::CreationFilePublished {
                    file,
                    file_hash: *file_hash,
                })?)
            }
            ContractEvent::CreationRequested(r) => {
                self.ensure_file(st, r.epoch_id, e.block).await?;
                Ok(st
                    .machine
                    .apply(&MachineEvent::CreationRequested(r.clone()))?)
            }
            ContractEvent::FundHotkeyUpdated { netuid, new, .. } => {
                let list = &mut st.machine.config.fund_hotkeys;
                // A zero hotkey: the netuid was retired (its subnet dissolved) and left the fund.
                if new.is_zero() {
                    list.retain(|f| f.netuid != *netuid);
                    return Ok(vec![]);
                }
                match list.iter_mut().find(|f| f.netuid == *netuid) {
                    Some(f) => f.hotkey = *new,
                    None => list.push(FundHotkey {
                        netuid: *netuid,
                        hotkey: *new,
                    }),
                }
                list.sort_by_key(|f| f.netuid);
                Ok(vec![])
            }
            ContractEvent::SignersUpdated {
                version,
                signers,
                threshold,
            } => {
                *self
                    .shared
                    .signers
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = SignerSet {
                    version: *version,
                    signers: signers.clone(),
                    threshold: *threshold,
                };
                // The machine starts at the version current at its first block: the event that
                // installed it (the constructor's) is not a change.
                if *version <= st.machine.signer_set_version {
                    return Ok(vec![]);
                }
                Ok(st
                    .machine
                    .apply(&MachineEvent::SignerSetChanged { version: *version })?)
            }
            other => {
                let actions = match convert::lifecycle_event(other) {
                    Some(ev) => st.machine.apply(&ev)?,
                    None => vec![],
                };
                match other {
                    ContractEvent::CreationMinted(m) => {
                        settled.push((format!("request:{}", m.request_id), "minted"))
                    }
                    // A refund settles its report once every position moved; until then the same
                    // report is relayed again for the positions that were dust.
                    ContractEvent::Refunded {
                        request_id,
                        delivery,
                        ..
                    } => {
                        let m = &st.machine;
                        if request_id.is_zero() {
                            if m.orphans.iter().any(|o| o.id == *delivery && o.refunded) {
                                settled.push((
                                    format!("delivery:{}:{}", delivery.block, delivery.index),
                                    "refunded",
                                ));
                            }
                        } else if m.request(request_id).is_some_and(|r| r.delivery_refunded) {
                            settled.push((format!("request:{request_id}"), "refunded"));
                        }
                    }
                    ContractEvent::CreationExpired { request_id, .. } => {
                        settled.push((format!("request:{request_id}"), "expired"))
                    }
                    ContractEvent::Swept { nonce, .. } => {
                        settled.push((format!("sweep:{nonce}"), "swept"))
                    }
                    _ => {}
                }
                Ok(actions)
            }
        }
    }

    async fn ensure_file(&self, st: &mut CreationState, epoch: u64, block: u64) -> Result<()> {
        if st.machine.files.iter().any(|f| f.epoch_id == epoch) {
            return Ok(());
        }
        if let Some(file) = self.reader.creation_file(epoch, block).await? {
            let file_hash = creation_file_hash(&file);
            st.machine
                .apply(&MachineEvent::CreationFilePublished { file, file_hash })?;
        }
        Ok(())
    }

    /// Spot samples of `netuid` over `[from, to]`: the keeper's history, the current block's
    /// readings, and what the node's state window still has for any hole.
    async fn spot_window(
        &self,
        netuid: u16,
        from: u64,
        to: u64,
        current: u64,
        current_spots: &[(u16, u64)],
    ) -> Result<Vec<SpotSample>> {
        let mut have: std::collections::BTreeMap<u64, u64> = {
            let store = lock(&self.store);
            let mut stmt = store
                .conn()
                .prepare(
                    "SELECT block, price FROM prices WHERE netuid = ?1 AND block BETWEEN ?2 AND ?3",
                )
                .map_err(db("prices"))?;
            let rows = stmt
                .query_map(rusqlite::params![netuid, i(from), i(to)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db("prices"))?;
            let mut m = std::collections::BTreeMap::new();
            for row in rows {
                let (blk, p) = row.map_err(db("prices"))?;
                let p: u64 = p.parse().map_err(|_| Error::Decode {
                    what: "stored price".into(),
                    reason: p.clone(),
                })?;
                m.insert(u64::try_from(blk).unwrap_or(0), p);
            }
            m
        };
        if (from..=to).contains(&current) {
            if let Some((_, p)) = current_spots.iter().find(|(n, _)| *n == netuid) {
                have.insert(current, *p);
            }
        }
        let mut out = Vec::new();
        let mut backfill = Vec::new();
        for blk in from..=to {
            match have.get(&blk) {
                Some(p) => out.push(SpotSample {
                    block: blk,
                    rao_per_alpha: *p,
                }),
                None => {
                    let p = self
                        .subtensor
                        .current_alpha_price(blk, netuid)
                        .await
                        .map_err(|e| {
                            if e.retry() != tao20_chain::Retry::Never {
                                Error::Subtensor(e)
                            } else {
                                Error::Decode {
                                    what: format!("price of netuid {netuid} at block {blk}"),
                                    reason: format!(
                                        "not in the keeper's history and not on the node: {e}"
                                    ),
                                }
                            }
                        })?;
                    backfill.push((blk, p));
                    out.push(SpotSample {
                        block: blk,
                        rao_per_alpha: p,
                    });
                }
            }
        }
        if !backfill.is_empty() {
            let mut store = lock(&self.store);
            store.write(|tx| {
                for (blk, p) in &backfill {
                    tx.execute(
                        "INSERT OR IGNORE INTO prices (netuid, block, price) VALUES (?1, ?2, ?3)",
                        rusqlite::params![netuid, i(*blk), p.to_string()],
                    )
                    .map_err(db("prices"))?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    async fn valuation(
        &self,
        v: u64,
        window: u64,
        netuids: &[u16],
        current: u64,
        spots: &[(u16, u64)],
    ) -> Result<Valuation> {
        let fund = self.reader.fund(v).await?;
        let mut all: BTreeSet<u16> = netuids.iter().copied().collect();
        all.extend(fund.positions.iter().map(|p| p.netuid));
        let from = v.checked_sub(window).ok_or_else(|| Error::Decode {
            what: format!("valuation at block {v}"),
            reason: format!("the price window of {window} blocks starts before block 0"),
        })?;
        let mut spot = Vec::new();
        for n in all {
            spot.push(SpotWindow {
                netuid: n,
                samples: self.spot_window(n, from, v - 1, current, spots).await?,
            });
        }
        Ok(Valuation {
            spot,
            fund: fund.fund_state(),
            mint_fee_bps: fund.fees.mint_bps,
        })
    }

    /// The creation files this keeper signed that are not published yet, under the signer-set
    /// version `st` has now: `publishEpoch` takes only the current version, so without them a
    /// signer-set change between an epoch's boundary and its publication would leave the epoch
    /// without a file. The content is the same (the journal re-signs only that).
    fn files_to_resign(
        &self,
        st: &CreationState,
        settled: &[(String, &'static str)],
    ) -> Result<Vec<Eip712Message>> {
        let version = st.machine.signer_set_version;
        let open = reports::open_reports(lock(&self.store).conn(), 0)?;
        let mut files: BTreeMap<u64, CreationFile> = BTreeMap::new();
        for r in open {
            let Eip712Message::CreationFile(mut f) = r.message else {
                continue;
            };
            let published = st.machine.files.iter().any(|p| p.epoch_id == f.epoch_id)
                || settled
                    .iter()
                    .any(|(s, _)| *s == format!("epoch:{}", f.epoch_id));
            if published || f.signer_set_version >= version {
                continue;
            }
            tracing::info!(target: "keeper::engine", epoch_id = f.epoch_id, from = f.signer_set_version, to = version,
                "signer set changed before the epoch's file was published: signing it again under the new version");
            f.signer_set_version = version;
            files.insert(f.epoch_id, f);
        }
        Ok(files
            .into_values()
            .map(Eip712Message::CreationFile)
            .collect())
    }

    /// The creation file of the epoch current at `b`, when this keeper should sign it: the epoch
    /// has started, the contract has no file for it and this keeper has not computed one.
    async fn creation_file_due(
        &self,
        st: &mut CreationState,
        b: u64,
    ) -> Result<Option<CreationFile>> {
        let d = &self.deployment;
        let Some(epoch_id) = index::epoch_of(b, d.genesis_block, d.epoch_length) else {
            return Ok(None);
        };
        if st.filed_epochs.contains(&epoch_id)
            || st.machine.files.iter().any(|f| f.epoch_id == epoch_id)
        {
            return Ok(None);
        }
        let epoch = Epoch {
            epoch_id,
            genesis_block: d.genesis_block,
            epoch_length: d.epoch_length,
        };
        let boundary = epoch.start()?;
        if self.reader.creation_file(epoch_id, b).await?.is_some() {
            st.filed_epochs.insert(epoch_id);
            return Ok(None);
        }
        let w = self.cfg.creation.price_window;
        let from = boundary.checked_sub(w).ok_or_else(|| Error::Decode {
            what: format!("epoch {epoch_id}"),
            reason: "the price window starts before block 0".into(),
        })?;
        let fund = self.reader.fund(boundary).await?;
        let mut subnets = Vec::new();
        let mut prices = Vec::new();
        for p in &fund.positions {
            let n = p.netuid;
            let samples = match self.spot_window(n, from, boundary - 1, b, &[]).await {
                Ok(s) => s,
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    tracing::error!(target: "keeper::engine", epoch_id, netuid = n, error = %e,
                        "cannot compute the creation file");
                    st.filed_epochs.insert(epoch_id);
                    return Ok(None);
                }
            };
            let price = official_price(n, boundary, w, &samples)?.raw();
            let reserves = self.subtensor.pool_reserves(boundary, n).await?;
            let transfers = self.subtensor.transfers_enabled(boundary, n).await?;
            prices.push(Price { netuid: n, price });
            subnets.push(SubnetSnapshot {
                netuid: n,
                price,
                alpha_outstanding: u128::from(reserves.alpha_out),
                trading: reserves.tao_in > 0 && reserves.alpha_in > 0,
                transfers_enabled: transfers,
            });
        }
        let nav_per_share = nav::nav(&fund.fund_state(), &prices, boundary)?.nav_per_share;
        let out = index::compute(&IndexInput {
            epoch,
            params: self.cfg.creation.index.clone(),
            nav_per_share,
            signer_set_version: fund.signer_set.version,
            subnets,
        });
        st.filed_epochs.insert(epoch_id);
        match out {
            Ok(o) => {
                tracing::info!(target: "keeper::engine", epoch_id, boundary, assets = o.creation_file.assets.len(),
                    hash = %o.creation_file_hash, "computed the epoch's creation file");
                Ok(Some(o.creation_file))
            }
            Err(e) => {
                tracing::error!(target: "keeper::engine", epoch_id, error = %e, "the index has no file this epoch");
                Ok(None)
            }
        }
    }

    /// Pending requests the contract lets anyone `expire` now (paused time does not count against
    /// a miner: the contract's `expireableAt` says when) and whose `expire` is not scheduled.
    async fn expiries_due(
        &self,
        st: &mut CreationState,
        b: u64,
    ) -> Result<Vec<alloy_primitives::B256>> {
        let grace = self.deployment.expiry_grace;
        let mut due = Vec::new();
        for r in &st.machine.requests {
            let id = r.request.request_id;
            // Nothing can expire before its nominal expiry plus grace; only then ask the contract.
            if r.status != Status::Pending
                || b <= r.request.expiry_block.saturating_add(grace)
                || st.expiring.contains(&id)
            {
                continue;
            }
            if self
                .reader
                .expireable_at(id, b)
                .await?
                .is_some_and(|at| at <= b + 1)
            {
                due.push(id);
            }
        }
        st.expiring.extend(due.iter().copied());
        Ok(due)
    }
}

fn endpoint_of(e: &Error) -> &'static str {
    match e {
        Error::Subtensor(_) => "subtensor",
        Error::Bevm(_) => "bevm",
        _ => "other",
    }
}

fn save_requests(tx: &rusqlite::Transaction<'_>, m: &CreationMachine, b: u64) -> Result<()> {
    for r in &m.requests {
        let status = match r.status {
            Status::Pending => "pending",
            Status::Minted => "minted",
            Status::Refunded => "refunded",
            Status::Expired => "expired",
        };
        let (db_block, db_index, valid, detail) = match &r.delivery {
            Some(d) => (
                Some(i(d.id.block)),
                Some(i64::from(d.id.index)),
                Some(i64::from(d.invalid.is_none())),
                d.invalid.as_ref().map(|w| format!("{w:?}")),
            ),
            None => (None, None, None, None),
        };
        tx.execute(
            "INSERT INTO requests (request_id, miner, epoch_id, units, request_block, expiry_block, status,
                delivery_block, delivery_index, valid, detail, updated_block)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT(request_id) DO UPDATE SET status = excluded.status,
                delivery_block = excluded.delivery_block, delivery_index = excluded.delivery_index,
                valid = excluded.valid, detail = excluded.detail, updated_block = excluded.updated_block
             WHERE requests.status != excluded.status OR requests.delivery_block IS NOT excluded.delivery_block",
            rusqlite::params![
                r.request.request_id.to_string(),
                r.request.miner.to_string(),
                i(r.request.epoch_id),
                r.request.units,
                i(r.request.request_block),
                i(r.request.expiry_block),
                status,
                db_block,
                db_index,
                valid,
                detail,
                i(b)
            ],
        )
        .map_err(db("requests"))?;
    }
    Ok(())
}
