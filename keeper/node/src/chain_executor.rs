//! Carrying out the subtensor lane of the outbox, after the block transaction that decided it:
//! the price commitment and the weights of both mechanisms.
//!
//! - `SetCommitment`: the commitment stored for a block, unless a newer one was decided since. A
//!   refusal by the chain (`SpaceLimitExceeded`, `AccountNotAllowedCommit`) is recorded and not
//!   retried: the next change decides a new commitment.
//! - `SubmitWeights`: timelocked (commit-reveal v4) where the subnet has commit-reveal on, set
//!   directly where it is off; a chain that answers `CommitRevealDisabled` or
//!   `CommitRevealEnabled` (the setting changed after it was read) gets the other method once.
//!   The row is marked `submitting` (with the finalized head) before the extrinsic, so a crash in
//!   between is seen on restart: the blocks since are searched for this keeper's extrinsic, and
//!   one that landed is never sent again.
//! - `CheckWeights`: reads the keeper's weights row back once the chain applied it (at once for a
//!   direct set, after the reveal for a commit) and records whether it equals what was submitted,
//!   both normalised as the chain normalises them (max-upscaled to `u16::MAX`, zeros dropped).
//!   A row that never matches by its deadline is a `mismatch`: logged as an error and counted.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tao20_chain::types::Call;
use tao20_chain::Subtensor;

use crate::engine::Shared;
use crate::metrics::Metrics;
use crate::store::outbox::{self, Action as _, ChainAction, OutboxItem};
use crate::store::subtensor::{self as rows, Update};
use crate::store::Store;
use crate::{Error, Result};

/// A submission found after a restart must be this many blocks below the finalized head.
pub const FINALITY_MARGIN_BLOCKS: u64 = 2;
/// A restart searches at most this many blocks for an earlier submission.
pub const MAX_SEARCH_BLOCKS: u64 = 600;
/// A check that does not match by this many blocks past its expected application is a mismatch.
pub const CHECK_GRACE_BLOCKS: u64 = 10;
/// Weights refused for a rate limit are sent again after this many blocks.
pub const RATE_LIMITED_AGAIN_BLOCKS: u64 = 10;

/// The outcome of the weights preflight.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Preflight {
    /// The chain would refuse or drop the weights: the runtime's error name, and the detail.
    Refused(&'static str, String),
    /// Nothing found: this keeper's uid and the subnet's size at the block.
    Clear {
        own_uid: Option<u16>,
        subnet_n: usize,
    },
}

/// Pads weights with zero entries for the lowest uids they leave out, up to
/// `min(min_allowed, subnet_n)` entries. The chain refuses a shorter vector that is not a
/// self-weight, and drops it when it reveals a commit (`check_length`, with `MinAllowedWeights`
/// 1024 for a new subnet: every uid); zeros change nobody's share, and the read-back comparison
/// leaves them out.
pub fn pad_weights(
    uids: &[u16],
    values: &[u16],
    min_allowed: u16,
    subnet_n: usize,
    own_uid: Option<u16>,
) -> (Vec<u16>, Vec<u16>) {
    let required = usize::from(min_allowed).min(subnet_n);
    let self_weight = uids.len() == 1 && own_uid == uids.first().copied();
    let mut pairs: Vec<(u16, u16)> = uids.iter().copied().zip(values.iter().copied()).collect();
    if !self_weight && pairs.len() < required {
        let named: std::collections::BTreeSet<u16> = uids.iter().copied().collect();
        let missing = required - pairs.len();
        pairs.extend(
            (0..u16::try_from(subnet_n).unwrap_or(u16::MAX))
                .filter(|u| !named.contains(u))
                .take(missing)
                .map(|u| (u, 0)),
        );
        pairs.sort_unstable();
    }
    pairs.into_iter().unzip()
}

/// The subtensor executor.
#[derive(Debug)]
pub struct ChainExecutor<S> {
    /// The client (signing with the keeper's hotkey).
    pub subtensor: S,
    /// The subnet.
    pub netuid: u16,
    /// The store.
    pub store: Arc<Mutex<Store>>,
    /// Shared with the engine.
    pub shared: Arc<Shared>,
    /// Metrics.
    pub metrics: Metrics,
    /// The weights version key.
    pub version_key: u64,
}

fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What became of an item.
enum Step {
    Done,
    Again(u64),
}

/// `(uid, weight)` pairs as the chain keeps them: max-upscaled to `u16::MAX` (rounding half up,
/// as `vec_u16_max_upscale_to_u16`), zeros dropped, by uid.
pub fn normalise(pairs: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let max = pairs.iter().map(|(_, w)| *w).max().unwrap_or(0);
    let mut out: Vec<(u16, u16)> = pairs
        .iter()
        .filter(|(_, w)| *w > 0)
        .map(|(u, w)| {
            let scaled =
                (u64::from(*w) * u64::from(u16::MAX) + u64::from(max) / 2) / u64::from(max);
            (*u, u16::try_from(scaled).unwrap_or(u16::MAX))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Whether two normalised rows are the same weights: the same uids, each weight within one unit
/// (the chain upscales in I32F32 fixed point, which can round the other way).
pub fn same_weights(a: &[(u16, u16)], b: &[(u16, u16)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ua, wa), (ub, wb))| ua == ub && wa.abs_diff(*wb) <= 1)
}

impl<S: Subtensor> ChainExecutor<S> {
    fn block(&self) -> u64 {
        self.shared.processed.load(Ordering::SeqCst)
    }

    /// Runs until `stop` turns true.
    pub async fn run(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            if let Err(e) = self.drain().await {
                tracing::warn!(target: "keeper::chain", error = %e, "subtensor outbox round failed; retrying");
            }
            tokio::select! {
                _ = self.shared.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Carries out every due item of the subtensor lane once.
    pub async fn drain(&self) -> Result<()> {
        let b = self.block();
        let items = outbox::due::<ChainAction>(lock(&self.store).conn(), b, 64)?;
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
                        tracing::error!(target: "keeper::chain", action = item.action.kind(), attempts = item.attempts, error = %e,
                            "action failed too often: set aside as a dead letter (tao20 validator status lists it)");
                    } else {
                        tracing::warn!(target: "keeper::chain", action = item.action.kind(), attempts = item.attempts, error = %e,
                            "subtensor action failed; retrying later");
                    }
                }
            }
        }
        Ok(())
    }

    async fn carry_out(&self, item: &OutboxItem<ChainAction>, b: u64) -> Result<Step> {
        match &item.action {
            ChainAction::SetCommitment { block } => self.commitment(*block).await,
            ChainAction::SubmitWeights { mecid, epoch } => {
                self.submit_weights(*mecid, *epoch, b).await
            }
            ChainAction::CheckWeights { mecid, epoch } => {
                self.check_weights(*mecid, *epoch, b).await
            }
        }
    }

    async fn commitment(&self, block: u64) -> Result<Step> {
        let (row, newer) = {
            let store = lock(&self.store);
            (
                rows::commitment(store.conn(), block)?,
                rows::newer_commitment(store.conn(), block)?,
            )
        };
        let Some(rows::Commitment { payload, state }) = row else {
            return Ok(Step::Done);
        };
        if state != "pending" {
            return Ok(Step::Done);
        }
        if newer {
            self.set_commitment_state(block, "superseded")?;
            self.metrics
                .commitments
                .with_label_values(&["superseded"])
                .inc();
            return Ok(Step::Done);
        }
        let bytes = alloy_primitives::hex::decode(&payload).map_err(|e| Error::Decode {
            what: format!("stored commitment of block {block}"),
            reason: e.to_string(),
        })?;
        let text =
            String::from_utf8_lossy(bytes.split(|b| *b == 0xFF).next().unwrap_or(&[])).into_owned();
        match self.subtensor.set_commitment(self.netuid, bytes).await {
            Ok(inc) => {
                self.set_commitment_state(block, &format!("included {}", inc.block.number))?;
                self.metrics
                    .commitments
                    .with_label_values(&["included"])
                    .inc();
                tracing::info!(target: "keeper::chain", block, included = inc.block.number, commitment = %text, "price commitment published");
                Ok(Step::Done)
            }
            Err(e) => match e.final_refusal() {
                Some(name) => {
                    self.set_commitment_state(block, &format!("refused {name}"))?;
                    self.metrics
                        .commitments
                        .with_label_values(&["refused"])
                        .inc();
                    tracing::warn!(target: "keeper::chain", block, error = %name, "the chain refused the price commitment");
                    Ok(Step::Done)
                }
                None => Err(e.into()),
            },
        }
    }

    fn set_commitment_state(&self, block: u64, state: &str) -> Result<()> {
        rows::set_commitment_state(lock(&self.store).conn(), block, state)
    }

    fn weights_row(&self, mecid: u8, epoch: u64) -> Result<Option<rows::WeightsRow>> {
        rows::weights(lock(&self.store).conn(), mecid, epoch)
    }

    fn update_weights(&self, mecid: u8, epoch: u64, status: &str, u: Update<'_>) -> Result<()> {
        rows::update_weights(lock(&self.store).conn(), mecid, epoch, status, u)
    }

    /// What the chain would refuse, or drop without an event when it reveals a commit, about
    /// weights on `uids` from this keeper at `b`: the runtime's error name and what this keeper
    /// holds against the chain's value. Checked before every submission, from the chain's storage
    /// and not from constants.
    async fn preflight(
        &self,
        settings: &tao20_chain::types::WeightsSettings,
        uids: &[u16],
        b: u64,
    ) -> Result<Preflight> {
        if settings.commit_reveal_enabled
            && settings.commit_reveal_version != tao20_chain::api::COMMIT_REVEAL_VERSION
        {
            return Ok(Preflight::Refused(
                "IncorrectCommitRevealVersion",
                format!(
                    "IncorrectCommitRevealVersion: the chain's CommitRevealWeightsVersion is {}, this keeper commits version {}",
                    settings.commit_reveal_version,
                    tao20_chain::api::COMMIT_REVEAL_VERSION
                ),
            ));
        }
        if settings.version_key != 0 && self.version_key < settings.version_key {
            return Ok(Preflight::Refused(
                "IncorrectWeightVersionKey",
                format!(
                    "IncorrectWeightVersionKey: mechanisms.version_key is {}, the subnet's WeightsVersionKey {}",
                    self.version_key, settings.version_key
                ),
            ));
        }
        let neurons = self.subtensor.neurons(b, self.netuid).await?;
        let Some(me) = self.subtensor.signer() else {
            return Ok(Preflight::Clear {
                own_uid: None,
                subnet_n: neurons.len(),
            });
        };
        let Some(own) = neurons.iter().find(|n| n.hotkey == me) else {
            return Ok(Preflight::Refused(
                "HotKeyNotRegisteredInSubNet",
                format!("HotKeyNotRegisteredInSubNet: {me} has no uid on the subnet at block {b}"),
            ));
        };
        if !own.validator_permit && uids.iter().any(|u| *u != own.uid) {
            return Ok(Preflight::Refused(
                "NeuronNoValidatorPermit",
                format!(
                    "NeuronNoValidatorPermit: uid {} holds no validator permit at block {b}",
                    own.uid
                ),
            ));
        }
        Ok(Preflight::Clear {
            own_uid: Some(own.uid),
            subnet_n: neurons.len(),
        })
    }

    /// Records an epoch's weights as refused, counted by the runtime's name.
    fn record_refusal(&self, mecid: u8, epoch: u64, name: &str, detail: &str) -> Result<()> {
        self.metrics
            .weights_refused
            .with_label_values(&[&mecid.to_string(), name])
            .inc();
        self.update_weights(
            mecid,
            epoch,
            "refused",
            Update {
                detail: Some(detail),
                ..Update::default()
            },
        )
    }

    /// Records an epoch's weights as refused before sending.
    fn refuse_weights(&self, mecid: u8, epoch: u64, name: &str, detail: &str) -> Result<Step> {
        self.record_refusal(mecid, epoch, name, detail)?;
        tracing::error!(target: "keeper::chain", mecid, epoch, error = name, %detail, "weights not sent: the chain would refuse or drop them");
        Ok(Step::Done)
    }

    /// This keeper's uid on the subnet at `b`.
    async fn own_uid(&self, b: u64) -> Result<Option<u16>> {
        let Some(me) = self.subtensor.signer() else {
            return Ok(None);
        };
        Ok(self
            .subtensor
            .neurons(b, self.netuid)
            .await?
            .iter()
            .find(|n| n.hotkey == me)
            .map(|n| n.uid))
    }

    async fn submit_weights(&self, mecid: u8, epoch: u64, b: u64) -> Result<Step> {
        let Some(row) = self.weights_row(mecid, epoch)? else {
            return Ok(Step::Done);
        };
        match row.status.as_str() {
            "pending" => {}
            "submitting" => {
                // An earlier attempt's outcome is unknown (the keeper stopped in between): the
                // blocks since it are searched for this keeper's extrinsic before sending again.
                let from = row.commit_block.unwrap_or(b);
                let head = self.subtensor.finalized_head().await?.number;
                if head < from.saturating_add(FINALITY_MARGIN_BLOCKS) {
                    return Ok(Step::Again(1));
                }
                if let Some((at, method, round)) = self.find_submission(mecid, from, head).await? {
                    let status = if method == "set" { "set" } else { "committed" };
                    self.update_weights(
                        mecid,
                        epoch,
                        status,
                        Update {
                            method: Some(method),
                            commit_block: Some(at),
                            reveal_round: round,
                            detail: None,
                        },
                    )?;
                    tracing::info!(target: "keeper::chain", mecid, epoch, block = at, method,
                        "the earlier weights submission reached the chain; not sending again");
                    self.enqueue_check(mecid, epoch, b, at.saturating_add(1))?;
                    return Ok(Step::Done);
                }
                tracing::warn!(target: "keeper::chain", mecid, epoch, from, head,
                    "an earlier weights submission did not reach the chain; submitting again");
            }
            _ => return Ok(Step::Done),
        }
        if row.uids.is_empty() {
            self.update_weights(mecid, epoch, "empty", Update::default())?;
            return Ok(Step::Done);
        }
        let settings = self.subtensor.weights_settings(b, self.netuid).await?;
        let (own_uid, subnet_n) = match self.preflight(&settings, &row.uids, b).await? {
            Preflight::Clear { own_uid, subnet_n } => (own_uid, subnet_n),
            Preflight::Refused(name, detail) => {
                return self.refuse_weights(mecid, epoch, name, &detail);
            }
        };
        let (uids, values) = pad_weights(
            &row.uids,
            &row.values,
            settings.min_allowed_weights,
            subnet_n,
            own_uid,
        );
        let mut timelocked = settings.commit_reveal_enabled;
        for attempt in 0..2 {
            let method = if timelocked { "timelocked" } else { "set" };
            self.update_weights(
                mecid,
                epoch,
                "submitting",
                Update {
                    method: Some(method),
                    // Where a restart starts looking for this submission.
                    commit_block: Some(self.subtensor.finalized_head().await?.number),
                    ..Update::default()
                },
            )?;
            let result = if timelocked {
                self.subtensor
                    .commit_weights_timelocked(
                        self.netuid,
                        mecid,
                        uids.clone(),
                        values.clone(),
                        self.version_key,
                    )
                    .await
                    .map(|(inc, round)| (inc, Some(round)))
            } else {
                self.subtensor
                    .set_mechanism_weights(
                        self.netuid,
                        mecid,
                        uids.clone(),
                        values.clone(),
                        self.version_key,
                    )
                    .await
                    .map(|inc| (inc, None))
            };
            match result {
                Ok((inc, round)) => {
                    let at = inc.block.number;
                    let status = if timelocked { "committed" } else { "set" };
                    self.update_weights(
                        mecid,
                        epoch,
                        status,
                        Update {
                            method: Some(method),
                            commit_block: Some(at),
                            reveal_round: round,
                            detail: None,
                        },
                    )?;
                    self.metrics
                        .weights_submitted
                        .with_label_values(&[&mecid.to_string(), method])
                        .inc();
                    tracing::info!(target: "keeper::chain", mecid, epoch, method, block = at, reveal_round = ?round,
                        uids = ?row.uids, values = ?row.values, "weights submitted");
                    self.enqueue_check(mecid, epoch, b, at.saturating_add(1))?;
                    return Ok(Step::Done);
                }
                Err(e) => {
                    let name = e.final_refusal();
                    match name.as_deref() {
                        Some("CommitRevealDisabled") if timelocked && attempt == 0 => {
                            tracing::info!(target: "keeper::chain", mecid, epoch, "commit-reveal is off: setting the weights directly");
                            timelocked = false;
                        }
                        Some("CommitRevealEnabled") if !timelocked && attempt == 0 => {
                            tracing::info!(target: "keeper::chain", mecid, epoch, "commit-reveal is on: committing the weights");
                            timelocked = true;
                        }
                        // A rate limit passes by itself: the weights wait for it, said.
                        Some(name @ ("CommittingWeightsTooFast" | "SettingWeightsTooFast")) => {
                            self.update_weights(
                                mecid,
                                epoch,
                                "pending",
                                Update {
                                    detail: Some(name),
                                    ..Update::default()
                                },
                            )?;
                            self.metrics
                                .weights_refused
                                .with_label_values(&[&mecid.to_string(), name])
                                .inc();
                            tracing::warn!(target: "keeper::chain", mecid, epoch, error = name, "the weights are rate-limited; trying again later");
                            return Ok(Step::Again(RATE_LIMITED_AGAIN_BLOCKS));
                        }
                        Some(name) => {
                            self.record_refusal(mecid, epoch, name, name)?;
                            tracing::error!(target: "keeper::chain", mecid, epoch, error = name, "the chain refused the weights");
                            return Ok(Step::Done);
                        }
                        None => {
                            if let tao20_chain::Error::Refused { validity, .. } = &e {
                                self.metrics
                                    .weights_refused
                                    .with_label_values(&[&mecid.to_string(), &validity.name])
                                    .inc();
                            }
                            let detail = e.to_string();
                            self.update_weights(
                                mecid,
                                epoch,
                                "pending",
                                Update {
                                    detail: Some(&detail),
                                    ..Update::default()
                                },
                            )?;
                            return Err(e.into());
                        }
                    }
                }
            }
        }
        self.update_weights(mecid, epoch, "pending", Update::default())?;
        Ok(Step::Again(2))
    }

    /// This keeper's successful weights extrinsic for (netuid, `mecid`) in `[from, to]`: its
    /// block, method and reveal round.
    async fn find_submission(
        &self,
        mecid: u8,
        from: u64,
        to: u64,
    ) -> Result<Option<(u64, &'static str, Option<u64>)>> {
        let Some(me) = self.subtensor.signer() else {
            return Ok(None);
        };
        for block in from..=to.min(from.saturating_add(MAX_SEARCH_BLOCKS)) {
            for x in self.subtensor.block_extrinsics(block).await? {
                if x.signer != Some(me) || !x.success {
                    continue;
                }
                match x.call {
                    Call::SetMechanismWeights {
                        netuid, mecid: m, ..
                    } if netuid == self.netuid && m == mecid => {
                        return Ok(Some((block, "set", None)));
                    }
                    Call::CommitTimelockedMechanismWeights {
                        netuid,
                        mecid: m,
                        reveal_round,
                        ..
                    } if netuid == self.netuid && m == mecid => {
                        return Ok(Some((block, "timelocked", Some(reveal_round))));
                    }
                    _ => {}
                }
            }
        }
        Ok(None)
    }

    fn enqueue_check(&self, mecid: u8, epoch: u64, b: u64, not_before: u64) -> Result<()> {
        outbox::enqueue(
            lock(&self.store).conn(),
            &ChainAction::CheckWeights { mecid, epoch },
            b,
            not_before,
        )?;
        Ok(())
    }

    async fn check_weights(&self, mecid: u8, epoch: u64, b: u64) -> Result<Step> {
        let Some(row) = self.weights_row(mecid, epoch)? else {
            return Ok(Step::Done);
        };
        if row.status != "set" && row.status != "committed" {
            return Ok(Step::Done);
        }
        let Some(uid) = self.own_uid(b).await? else {
            return Ok(Step::Again(5));
        };
        let onchain = normalise(&self.subtensor.weights(b, self.netuid, mecid, uid).await?);
        let ours = normalise(
            &row.uids
                .iter()
                .copied()
                .zip(row.values.iter().copied())
                .collect::<Vec<_>>(),
        );
        let label = mecid.to_string();
        if same_weights(&onchain, &ours) {
            rows::weights_matched(lock(&self.store).conn(), mecid, epoch, b)?;
            self.metrics
                .weights_checked
                .with_label_values(&[&label, "matched"])
                .inc();
            tracing::info!(target: "keeper::chain", mecid, epoch, block = b, "weights on chain match what was submitted");
            return Ok(Step::Done);
        }
        // A later epoch's weights may already have replaced these.
        let later = rows::later_weights(lock(&self.store).conn(), mecid, epoch)?;
        let superseded = later.into_iter().any(|(u, v)| {
            same_weights(
                &normalise(&u.into_iter().zip(v).collect::<Vec<_>>()),
                &onchain,
            )
        });
        if superseded {
            rows::weights_superseded(lock(&self.store).conn(), mecid, epoch)?;
            self.metrics
                .weights_checked
                .with_label_values(&[&label, "superseded"])
                .inc();
            return Ok(Step::Done);
        }
        let committed = row.commit_block.unwrap_or(b);
        let deadline = if row.status == "committed" {
            let settings = self.subtensor.weights_settings(b, self.netuid).await?;
            let tempo = u64::from(self.subtensor.tempo(b, self.netuid).await?);
            committed
                .saturating_add(
                    tempo.saturating_mul(settings.reveal_period_epochs.saturating_add(1)),
                )
                .saturating_add(CHECK_GRACE_BLOCKS)
        } else {
            committed.saturating_add(CHECK_GRACE_BLOCKS)
        };
        if b < deadline {
            return Ok(Step::Again(if row.status == "committed" { 5 } else { 1 }));
        }
        let detail = format!("on chain {onchain:?}, submitted {ours:?}");
        rows::weights_mismatch(lock(&self.store).conn(), mecid, epoch, &detail)?;
        self.metrics
            .weights_checked
            .with_label_values(&[&label, "mismatch"])
            .inc();
        tracing::error!(target: "keeper::chain", mecid, epoch, %detail, "the chain's weights differ from what this keeper submitted");
        Ok(Step::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::{normalise, pad_weights, same_weights};

    #[test]
    fn short_weights_are_padded_with_zeros_to_the_chains_minimum() {
        // Five uids on the subnet, MinAllowedWeights 1024: every uid, zeros for the others.
        let (u, v) = pad_weights(&[3, 0], &[100, 65_535], 1024, 5, Some(1));
        assert_eq!(u, vec![0, 1, 2, 3, 4]);
        assert_eq!(v, vec![65_535, 0, 0, 100, 0]);
        // As the read-back compares them: the same weights.
        assert!(same_weights(
            &normalise(&u.iter().copied().zip(v.iter().copied()).collect::<Vec<_>>()),
            &normalise(&[(0, 65_535), (3, 100)])
        ));
        // A minimum of 3: one zero added, the lowest uid left out.
        let (u, v) = pad_weights(&[3, 0], &[100, 65_535], 3, 5, Some(1));
        assert_eq!((u, v), (vec![0, 1, 3], vec![65_535, 0, 100]));
        // Long enough, or a self-weight: unchanged.
        assert_eq!(
            pad_weights(&[4, 2], &[1, 2], 2, 5, None),
            (vec![4, 2], vec![1, 2])
        );
        assert_eq!(
            pad_weights(&[1], &[65_535], 1024, 5, Some(1)),
            (vec![1], vec![65_535])
        );
    }

    #[test]
    fn normalise_upscales_drops_zeros_and_sorts() {
        assert_eq!(
            normalise(&[(3, 1), (1, 2), (2, 0)]),
            vec![(1, u16::MAX), (3, 32_768)]
        );
        assert_eq!(normalise(&[(0, 0)]), vec![]);
        assert!(same_weights(
            &[(1, 100), (2, 65_535)],
            &[(1, 101), (2, 65_535)]
        ));
        assert!(!same_weights(
            &[(1, 100), (2, 65_535)],
            &[(1, 102), (2, 65_535)]
        ));
        assert!(!same_weights(&[(1, 100)], &[(2, 100)]));
        assert!(!same_weights(&[(1, 100)], &[]));
        assert_eq!(normalise(&[]), vec![]);
        // Already normalised rows are unchanged.
        assert_eq!(
            normalise(&[(0, u16::MAX), (5, 100)]),
            vec![(0, u16::MAX), (5, 100)]
        );
    }
}
