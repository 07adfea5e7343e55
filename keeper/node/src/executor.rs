//! Carrying out the outbox, after the block transaction that decided it committed.
//!
//! - `Sign`: the signature of the committed journal digest (signed once, then the stored one),
//!   stored as this keeper's own, then a `Push`.
//! - `Push`: the signature to every peer; retried with a backoff for peers that fail, dropped
//!   after a bounded number of attempts (pulls and the peers' own pushes cover the rest).
//! - Quorum: when a digest this keeper computed has `threshold` verified signatures of the current
//!   set, its transmission is scheduled in OCR2's order (`reports::transmission_rank`): the i-th
//!   signer sends after `i x stage` blocks if the subject is still unsettled then.
//! - `Transmit` / `Expire`: the transaction, its hash recorded before waiting for the receipt; a
//!   subject another keeper settled first is an outcome, not a failure.
//! - Pulls: reports without a quorum ask the peers for their signatures now and then.
//!
//! Every step is idempotent: a restart re-drives whatever was not marked done.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alloy_primitives::{Address, Bytes, B256};
use tao20_bevm::txman::{AttemptStatus, Prepared};
use tao20_bevm::writer::{Call, Confirmed};
use tao20_bevm::Writer;
use tao20_creation::eip712::Eip712Message;
use tao20_creation::signing::{recover, ReportSigner};

use crate::consensus::PeerDigests;
use crate::engine::Shared;
use crate::exchange::{PeerClient, SignedMessage, VouchedDigest};
use crate::journal;
use crate::metrics::Metrics;
use crate::reports::{transmission_rank, turn_start};
use crate::safety::Doppelganger;
use crate::store::journal::has_digest;
use crate::store::outbox::{self, Action as _, BevmAction, OutboxItem};
use crate::store::{reports, retention, txs, Store};
use crate::Result;

/// Pushes to one peer are attempted this many times.
pub const MAX_PUSH_ATTEMPTS: u64 = 8;
/// A report without a quorum pulls from its peers every this many blocks.
pub const PULL_EVERY_BLOCKS: u64 = 3;
/// A refund or sweep that left dust is relayed again after this many blocks.
pub const RELAY_AGAIN_BLOCKS: u64 = 20;

/// The executors.
#[derive(Debug)]
pub struct Executor {
    /// Chain id and contract of the EIP-712 domain.
    pub chain_id: u64,
    /// The contract.
    pub contract: Address,
    /// The store.
    pub store: Arc<Mutex<Store>>,
    /// The report-signing key.
    pub signer: ReportSigner,
    /// Sends transactions; `None` in dry-run mode.
    pub writer: Option<Writer>,
    /// Peers' base URLs.
    pub peers: Arc<RwLock<Vec<String>>>,
    /// The peer client.
    pub client: PeerClient,
    /// Shared with the engine.
    pub shared: Arc<Shared>,
    /// Metrics.
    pub metrics: Metrics,
    /// OCR2's stage, blocks.
    pub stage_blocks: u64,
    /// A transaction unmined this many blocks after its broadcast is replaced.
    pub replace_after: u64,
    /// History older than this many blocks is pruned (0: never).
    pub retention: u64,
    /// Dry run: the outbox is left as the engine fills it, nothing signed, pushed or sent, so
    /// the same database goes live later without losing work.
    pub dry_run: bool,
    /// Tripped by another process signing with this keeper's key: nothing more is signed.
    pub doppelganger: Arc<Doppelganger>,
    /// The peers' config digests: in the minority, nothing is signed.
    pub digests: Arc<PeerDigests>,
    /// This keeper's config digest and its vouch (as `/v1/config` serves them), sent with every
    /// pushed signature.
    pub vouch: VouchedDigest,
}

/// A Sign held back (doppelganger, or a config digest in the minority) is looked at again this
/// many blocks later.
const DOPPELGANGER_WAIT_BLOCKS: u64 = 20;

fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Executor {
    /// The chain's head as this keeper last saw it (at least the block it processed last): the
    /// clock of the outbox and of transmission turns, so a keeper whose engine lags still takes
    /// its turn when the chain, not its backlog, reaches it.
    fn block(&self) -> u64 {
        self.shared
            .finalized
            .load(Ordering::SeqCst)
            .max(self.shared.processed.load(Ordering::SeqCst))
    }

    fn peers(&self) -> Vec<String> {
        self.peers.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// Runs until `stop` turns true.
    pub async fn run(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        if self.dry_run {
            tracing::info!(target: "keeper::executor", "dry run: the outbox is kept for a live run, nothing is signed, pushed or sent");
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
            return Ok(());
        }
        let mut last_pull = 0u64;
        let mut last_prune = 0u64;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let b = self.block();
            if self.retention > 0
                && b > self.retention
                && b >= last_prune.saturating_add(retention::PRUNE_EVERY_BLOCKS)
            {
                last_prune = b;
                let mut store = lock(&self.store);
                let pruned = retention::prune(&mut store, b - self.retention)?;
                tracing::info!(target: "keeper::executor", pruned, before = b - self.retention, "history pruned");
            }
            if let Err(e) = self.drain().await {
                tracing::warn!(target: "keeper::executor", error = %e, "outbox round failed; retrying");
            }
            let b = self.block();
            if b >= last_pull.saturating_add(PULL_EVERY_BLOCKS) {
                last_pull = b;
                if let Err(e) = self.pull_missing().await {
                    tracing::debug!(target: "keeper::executor", error = %e, "pull round failed");
                }
            }
            tokio::select! {
                _ = self.shared.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Carries out every due outbox item once.
    pub async fn drain(&self) -> Result<()> {
        let b = self.block();
        let items = outbox::due::<BevmAction>(lock(&self.store).conn(), b, 256)?;
        for item in items {
            let outcome = self.carry_out(&item, b).await;
            let store = lock(&self.store);
            match outcome {
                Ok(Step::Done) => outbox::complete(store.conn(), item.id)?,
                Ok(Step::Again(after)) => {
                    outbox::retry_later(store.conn(), item.id, "not yet", b.saturating_add(after))?
                }
                Err(e) => {
                    let dead = outbox::fail_with_backoff(store.conn(), &item, &e.to_string(), b)?;
                    if dead {
                        tracing::error!(target: "keeper::executor", action = item.action.kind(), attempts = item.attempts, error = %e,
                            "action failed too often: set aside as a dead letter (tao20 validator status lists it)");
                    } else {
                        tracing::warn!(target: "keeper::executor", action = item.action.kind(), attempts = item.attempts, error = %e,
                            "action failed; retrying later");
                    }
                }
            }
        }
        self.check_quorums()?;
        let (depth, dead) = {
            let store = lock(&self.store);
            (
                outbox::depth(store.conn())?,
                outbox::dead_letters(store.conn())?,
            )
        };
        self.metrics
            .outbox_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.metrics
            .dead_letters
            .set(i64::try_from(dead).unwrap_or(i64::MAX));
        Ok(())
    }

    async fn carry_out(&self, item: &OutboxItem<BevmAction>, b: u64) -> Result<Step> {
        match &item.action {
            BevmAction::Sign { subject, digest } => {
                // Another process signs with this key: wait (the latch holds until a restart),
                // neither signing nor counting a failure that would set the item aside.
                if self.doppelganger.tripped() || self.digests.refusing() {
                    return Ok(Step::Again(DOPPELGANGER_WAIT_BLOCKS));
                }
                let sig = {
                    let mut store = lock(&self.store);
                    let sig = journal::signature_for(&mut store, &self.signer, subject, *digest)?;
                    crate::failpoint::hit(crate::failpoint::AFTER_SIGN_COMMIT);
                    reports::add_signature(
                        store.conn(),
                        digest,
                        &self.signer.address(),
                        &sig,
                        "own",
                    )?;
                    outbox::enqueue(store.conn(), &BevmAction::Push { digest: *digest }, b, 0)?;
                    sig
                };
                crate::failpoint::hit(crate::failpoint::AFTER_SIGN);
                let kind = reports::report(lock(&self.store).conn(), digest)?
                    .map(|r| r.message.type_name())
                    .unwrap_or("unknown");
                self.metrics.reports_signed.with_label_values(&[kind]).inc();
                tracing::info!(target: "keeper::executor", kind, %digest, signature = %Bytes::from(sig), "signed");
                Ok(Step::Done)
            }
            BevmAction::Push { digest } => self.push(digest, item.attempts).await,
            BevmAction::Transmit { digest } => self.transmit(digest).await,
            BevmAction::Expire { request_id } => {
                let Some(writer) = &self.writer else {
                    return Ok(Step::Done);
                };
                let call = Call::Expire {
                    request_id: *request_id,
                };
                let subject = format!("request:{request_id}");
                if let Some(step) = self.follow_up(writer, &call, &subject).await? {
                    return Ok(step);
                }
                self.send(writer, &call, &subject).await
            }
        }
    }

    async fn push(&self, digest: &B256, attempts: u64) -> Result<Step> {
        let (message, sig) = {
            let store = lock(&self.store);
            let Some(r) = reports::report(store.conn(), digest)? else {
                return Ok(Step::Done);
            };
            if r.settled_block.is_some() {
                return Ok(Step::Done);
            }
            let own = reports::signatures(store.conn(), digest)?
                .into_iter()
                .find(|(a, _)| *a == self.signer.address());
            match own {
                Some((_, s)) => (r.message, s),
                None => return Ok(Step::Done),
            }
        };
        let signed = SignedMessage {
            message,
            signature: sig.into(),
            config: Some(self.vouch.clone()),
        };
        let fanout = self.client.push_all(self.peers(), &signed).await;
        self.metrics
            .peer_errors
            .with_label_values(&["push"])
            .inc_by(u64::try_from(fanout.failed).unwrap_or(u64::MAX));
        crate::failpoint::hit(crate::failpoint::AFTER_PUSH);
        let missed = fanout.failed + fanout.skipped;
        if missed == 0 || attempts + 1 >= MAX_PUSH_ATTEMPTS {
            Ok(Step::Done)
        } else {
            Ok(Step::Again(1u64 << attempts.min(4)))
        }
    }

    /// Asks the peers for signatures of reports that have no quorum yet.
    pub async fn pull_missing(&self) -> Result<()> {
        let since = self.block().saturating_sub(256);
        let open = reports::open_reports(lock(&self.store).conn(), since)?;
        let (signers, version) = {
            let set = self
                .shared
                .signers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (set.signers.clone(), set.version)
        };
        for r in open
            .into_iter()
            .filter(|r| r.quorum_block.is_none() && r.signer_set_version == version)
        {
            let (answers, failed) = self.client.pull_all(self.peers(), r.digest).await;
            self.metrics
                .peer_errors
                .with_label_values(&["pull"])
                .inc_by(u64::try_from(failed).unwrap_or(u64::MAX));
            for (peer, answer) in answers {
                let store = lock(&self.store);
                let mut have = u64::try_from(reports::signatures(store.conn(), &r.digest)?.len())
                    .unwrap_or(u64::MAX);
                for s in answer.signatures {
                    if s.signer == self.signer.address() {
                        // Its own signature, pulled back: another process's where the journal
                        // never held the digest. Never stored from a peer either way.
                        if !has_digest(store.conn(), &r.digest)? {
                            self.doppelganger
                                .detected(&r.digest, &format!("pull {peer}"));
                        }
                        continue;
                    }
                    let ok = recover(&r.digest, &s.signature).ok() == Some(s.signer)
                        && signers.contains(&s.signer);
                    if ok {
                        let now = reports::add_signature(
                            store.conn(),
                            &r.digest,
                            &s.signer,
                            &s.signature,
                            &format!("pull {peer}"),
                        )?;
                        // Pulled signatures count as peer signatures too; ones already held
                        // (this keeper's own among them) do not.
                        if now > have {
                            self.metrics.peer_signatures.inc_by(now - have);
                            have = now;
                        }
                    } else {
                        self.metrics
                            .peer_errors
                            .with_label_values(&["bad_pulled_signature"])
                            .inc();
                    }
                }
            }
        }
        Ok(())
    }

    /// This keeper's place in a report's transmission turns: its rank and the number of turns
    /// (a keeper outside the set gets a turn after every signer's).
    fn turn(&self, digest: &B256, signers: &[Address]) -> (usize, usize) {
        match transmission_rank(digest, signers, &self.signer.address()) {
            Some(rank) => (rank, signers.len()),
            None => (signers.len(), signers.len() + 1),
        }
    }

    /// Schedules the transmission of every report that reached its quorum.
    fn check_quorums(&self) -> Result<()> {
        let b = self.block();
        let (signers, threshold, version) = {
            let set = self
                .shared
                .signers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (set.signers.clone(), usize::from(set.threshold), set.version)
        };
        let store = lock(&self.store);
        for r in reports::open_reports(store.conn(), b.saturating_sub(1024))? {
            if r.quorum_block.is_some() || r.signer_set_version != version {
                continue;
            }
            let valid = reports::signatures(store.conn(), &r.digest)?
                .into_iter()
                .filter(|(a, _)| signers.contains(a))
                .count();
            if valid < threshold || threshold == 0 {
                continue;
            }
            if reports::set_quorum(store.conn(), &r.digest, b)? {
                let latency = b.saturating_sub(r.created_block);
                #[allow(clippy::cast_precision_loss)]
                // a histogram observation, not a consensus value
                self.metrics.quorum_latency_blocks.observe(latency as f64);
                let (rank, slots) = self.turn(&r.digest, &signers);
                let not_before = turn_start(r.created_block, rank, slots, self.stage_blocks, b);
                outbox::enqueue(
                    store.conn(),
                    &BevmAction::Transmit { digest: r.digest },
                    b,
                    not_before,
                )?;
                tracing::info!(target: "keeper::executor", digest = %r.digest, kind = r.message.type_name(), rank, not_before,
                    "quorum reached; transmission scheduled");
            }
        }
        Ok(())
    }

    async fn transmit(&self, digest: &B256) -> Result<Step> {
        let Some(writer) = &self.writer else {
            return Ok(Step::Done);
        };
        let (report, sigs, threshold) = {
            let store = lock(&self.store);
            let Some(r) = reports::report(store.conn(), digest)? else {
                return Ok(Step::Done);
            };
            if r.settled_block.is_some() {
                return Ok(Step::Done);
            }
            let set = self
                .shared
                .signers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let sigs: Vec<Bytes> = reports::signatures(store.conn(), digest)?
                .into_iter()
                .filter(|(a, _)| set.contains(a))
                .take(usize::from(set.threshold))
                .map(|(_, s)| s.into())
                .collect();
            (r, sigs, usize::from(set.threshold))
        };
        if sigs.len() < threshold {
            return Ok(Step::Done);
        }
        // Only inside this keeper's own turn, also when retrying: turns are counted from the
        // block the report was decided at, which every keeper shares, so two keepers never
        // transmit one report in the same turn however differently they saw the quorum.
        let signers = self
            .shared
            .signers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .signers
            .clone();
        let call = match report.message {
            Eip712Message::CreationFile(file) => Call::PublishEpoch {
                file,
                signatures: sigs,
            },
            Eip712Message::CreationReport(report) => Call::Mint {
                report,
                signatures: sigs,
            },
            Eip712Message::RefundReport(report) => Call::Refund {
                report,
                signatures: sigs,
            },
            Eip712Message::Sweep(order) => Call::Sweep {
                order,
                signatures: sigs,
            },
            Eip712Message::Asset(_) | Eip712Message::Position(_) => return Ok(Step::Done),
        };
        // A transaction of ours already on its way is followed whatever the turn.
        if let Some(step) = self.follow_up(writer, &call, &report.subject).await? {
            return Ok(step);
        }
        let (rank, slots) = self.turn(digest, &signers);
        let now = self.block();
        let start = turn_start(report.created_block, rank, slots, self.stage_blocks, now);
        if start > now {
            return Ok(Step::Again(start - now));
        }
        self.send(writer, &call, &report.subject).await
    }

    /// Sends a call: simulated on the pending block, built and signed here, written to
    /// `tx_attempts` and only then broadcast; [`Self::follow_up`] reads its receipt on the next
    /// rounds, so the lane never waits on a receipt.
    async fn send(&self, writer: &Writer, call: &Call, subject: &str) -> Result<Step> {
        let name = call.name();
        let b = self.block();
        // Called by path: as a method call it would read as rusqlite's to the check that keeps
        // SQL in the store (tests/store.rs).
        match Writer::prepare(writer, call, None).await {
            Ok(Prepared::AlreadySettled { reason }) => {
                self.metrics
                    .reports_submitted
                    .with_label_values(&[name, "already_settled"])
                    .inc();
                tracing::info!(target: "keeper::executor", call = name, subject, reason = %reason,
                    "already settled (another keeper was first, or a transaction is pending)");
                // Settled for sure only once the chain says so: check again in a few blocks.
                let settled = self.settled_in_store(subject)?;
                Ok(if settled {
                    Step::Done
                } else if matches!(call, Call::Refund { .. } | Call::Sweep { .. }) {
                    Step::Again(RELAY_AGAIN_BLOCKS)
                } else {
                    Step::Again(self.stage_blocks.max(2))
                })
            }
            Ok(Prepared::Attempt(attempt)) => {
                txs::save_attempt(&lock(&self.store), subject, call, &attempt, b)?;
                writer.broadcast(&attempt).await?;
                crate::failpoint::hit(crate::failpoint::AFTER_SUBMIT);
                tracing::info!(target: "keeper::executor", call = name, subject, tx = %attempt.hash,
                    nonce = attempt.nonce, "broadcast");
                Ok(Step::Again(1))
            }
            Err(e) => {
                self.metrics
                    .reports_submitted
                    .with_label_values(&[name, "error"])
                    .inc();
                if let tao20_bevm::Error::Reverted { error, .. } = &e {
                    if error.name == "ExpiryNotReached" || error.name == "RefundBeforeExpiry" {
                        return Ok(Step::Again(self.stage_blocks.max(2)));
                    }
                }
                Err(e.into())
            }
        }
    }

    /// Follows this keeper's pending transactions of `subject`, if it has any: a mined one
    /// decides the item; one stuck for `replace_after` blocks is replaced at its nonce with
    /// higher fees; one whose nonce another transaction took is set aside and the subject sent
    /// afresh. `None`: nothing pending.
    async fn follow_up(&self, writer: &Writer, call: &Call, subject: &str) -> Result<Option<Step>> {
        let open = txs::pending(&lock(&self.store), subject)?;
        let Some(last) = open.last().cloned() else {
            return Ok(None);
        };
        let name = call.name();
        let b = self.block();
        let mut nonce_used = false;
        for p in &open {
            match writer.status(call, &p.attempt).await? {
                AttemptStatus::Mined(confirmed) => {
                    let store = lock(&self.store);
                    txs::settle(&store, subject, p.id)?;
                    return self.mined(&store, call, subject, confirmed).map(Some);
                }
                AttemptStatus::Confirming => return Ok(Some(Step::Again(1))),
                AttemptStatus::NonceUsed => nonce_used = true,
                AttemptStatus::Pending => {}
            }
        }
        if nonce_used {
            // None of ours was mined and the nonce is gone: sent afresh (simulated first, so a
            // subject settled meanwhile is recognised).
            txs::supersede_all(&lock(&self.store), subject)?;
            tracing::warn!(target: "keeper::executor", call = name, subject, nonce = last.attempt.nonce,
                "another transaction took this nonce; sending again");
            return Ok(None);
        }
        if b >= last.sent_block.saturating_add(self.replace_after) {
            match Writer::prepare(writer, call, Some(&last.attempt)).await? {
                Prepared::Attempt(next) => {
                    txs::save_attempt(&lock(&self.store), subject, call, &next, b)?;
                    writer.broadcast(&next).await?;
                    self.metrics.tx_replaced.with_label_values(&[name]).inc();
                    tracing::warn!(target: "keeper::executor", call = name, subject, nonce = next.nonce,
                        replaced = %last.attempt.hash, tx = %next.hash, max_fee = next.max_fee_per_gas,
                        "unmined after {} blocks: replaced with higher fees", self.replace_after);
                }
                // Settled by another transaction meanwhile: ours reverts or is superseded, and
                // its receipt says which.
                Prepared::AlreadySettled { .. } => {}
            }
            return Ok(Some(Step::Again(1)));
        }
        // Still waiting: a node that restarted or lost it gets it again (a no-op otherwise).
        writer.broadcast(&last.attempt).await?;
        Ok(Some(Step::Again(1)))
    }

    /// The outcome of a mined transaction, recorded and counted.
    fn mined(
        &self,
        store: &Store,
        call: &Call,
        subject: &str,
        confirmed: Confirmed,
    ) -> Result<Step> {
        let name = call.name();
        match confirmed {
            Confirmed::Included(inc) => {
                txs::record(
                    store,
                    subject,
                    call,
                    inc.tx,
                    "included",
                    Some(inc.block),
                    Some(inc.gas_used),
                    None,
                )?;
                self.metrics
                    .reports_submitted
                    .with_label_values(&[name, "included"])
                    .inc();
                tracing::info!(target: "keeper::executor", call = name, subject, tx = %inc.tx, block = inc.block, gas = inc.gas_used, "included");
                // A refund or sweep may leave dust positions for a later relay of the same
                // report: look again once the engine has seen the outcome.
                Ok(
                    if matches!(call, Call::Refund { .. } | Call::Sweep { .. }) {
                        Step::Again(RELAY_AGAIN_BLOCKS)
                    } else {
                        Step::Done
                    },
                )
            }
            Confirmed::AlreadySettled { tx, block, reason } => {
                txs::record(
                    store,
                    subject,
                    call,
                    tx,
                    "already_settled",
                    Some(block),
                    None,
                    Some(&reason.to_string()),
                )?;
                self.metrics
                    .reports_submitted
                    .with_label_values(&[name, "lost_race"])
                    .inc();
                Ok(Step::Done)
            }
        }
    }

    fn settled_in_store(&self, subject: &str) -> Result<bool> {
        reports::subject_settled(lock(&self.store).conn(), subject)
    }
}

/// What became of an outbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Finished.
    Done,
    /// Try again after this many blocks.
    Again(u64),
}
