//! `tao20 miner bid`: the hashrate bidder (what the InfiniteHash APS miner does, plus win/loss
//! handling).
//!
//! Each poll it re-reads `bids.toml` ([`file`]): a changed file that parses is applied, one that
//! does not is refused with its line and the last good bids stay. It commits the bids'
//! payload with `set_commitment` when the chain's commitment differs from it or is
//! `commit.refresh_blocks` old (before the 150-minute staleness), never twice within
//! `commit.min_interval_blocks`, and never beyond the commitments pallet's space limit
//! (`max(100, bytes)` per commitment, `MaxSpace` per subnet epoch, read from the chain). It follows
//! the subnet's epochs block by block and, for every window that becomes final after it started,
//! computes the window's result for its hotkey ([`results`]). Every commit and every result goes to
//! the hook ([`hooks`]).

pub mod file;
pub mod hooks;
pub mod results;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tao20_auction::commitment::BidPolicy;
use tao20_auction::window::{final_windows, Window};
use tao20_chain::types::{AccountId, CommitmentSpace};
use tao20_chain::Subtensor;
use tao20_core::Fp18;

use crate::{Error, Result};
use file::{BidFile, FileError};
use hooks::Hooks;
use results::{window_result, AuctionParams};

const TARGET: &str = "miner::bid";

/// Reads and parses `path`.
pub fn load(path: &Path) -> Result<(String, std::result::Result<BidFile, FileError>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let parsed = file::parse(&text, &base);
    Ok((text, parsed))
}

fn params(f: &BidFile) -> Result<AuctionParams> {
    let fp = |s: &str, what: &str| {
        Fp18::parse(s).map_err(|e| Error::config(format!("auction.{what}"), e))
    };
    Ok(AuctionParams {
        gamma: fp(&f.auction.gamma, "gamma")?,
        max_price: fp(&f.auction.max_price, "max_price")?,
        policy: BidPolicy {
            v2_only_from_block: f.auction.v2_only_from_block,
            block_time_secs: f.auction.block_time_secs,
            max_age_secs: f.auction.max_age_secs,
        },
        mechanism: f.auction.mechanism,
    })
}

/// The bidder.
pub struct Bidder<S> {
    path: PathBuf,
    sub: S,
    hotkey: AccountId,
    current: BidFile,
    text: String,
    refused: Option<String>,
    hooks: Hooks,
    epoch_blocks: Vec<u64>,
    last_index: u64,
    scanned: u64,
    started: u64,
    reported: BTreeSet<u64>,
    last_commit: Option<u64>,
}

impl<S> std::fmt::Debug for Bidder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bidder")
            .field("path", &self.path)
            .field("hotkey", &self.hotkey)
            .finish_non_exhaustive()
    }
}

impl<S: Subtensor> Bidder<S> {
    /// A bidder committing with `sub`'s signer (the hotkey), starting from the good file `first`.
    pub async fn new(path: PathBuf, text: String, first: BidFile, sub: S) -> Result<Self> {
        let hotkey = sub
            .signer()
            .ok_or_else(|| Error::Key("the subtensor client has no hotkey".into()))?;
        let netuid = first.subtensor.netuid;
        let head = sub.finalized_head().await?.number;
        let schedule = sub.epoch_schedule(head, netuid).await?;
        // The epoch before the last one anchors its windows: read it where the state still holds
        // it, else assume a full tempo (the auction crate's prediction does the same).
        let last = schedule.last_epoch_block;
        let before = match last.checked_sub(1) {
            Some(b) => sub
                .epoch_schedule(b, netuid)
                .await
                .map(|s| s.last_epoch_block)
                .unwrap_or_else(|_| last.saturating_sub(u64::from(schedule.tempo))),
            None => 0,
        };
        let mut epoch_blocks = vec![before.min(last.saturating_sub(1)), last];
        epoch_blocks.dedup();
        let hooks = Hooks::start(
            first.hooks.command.clone(),
            Duration::from_secs(first.hooks.timeout_secs.max(1)),
        );
        tracing::info!(target: TARGET, hotkey = %tao20_wallet::ss58::encode(&hotkey.0), netuid,
            payload = %String::from_utf8_lossy(&first.payload), head, "bidder running");
        Ok(Self {
            path,
            sub,
            hotkey,
            current: first,
            text,
            refused: None,
            hooks,
            epoch_blocks,
            last_index: schedule.subnet_epoch_index,
            scanned: head,
            started: head,
            reported: BTreeSet::new(),
            last_commit: None,
        })
    }

    /// The bids in force.
    pub fn current(&self) -> &BidFile {
        &self.current
    }

    /// Runs until `stop` turns true.
    pub async fn run(&mut self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(target: TARGET, error = %e, "round failed; retrying");
            }
            let poll = Duration::from_millis(self.current.engine.poll_ms.max(10));
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Re-reads the file: applies a good change, refuses a bad one (once per text).
    pub fn reload(&mut self) {
        let (text, parsed) = match load(&self.path) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, "cannot read the bids file; keeping the last good bids");
                return;
            }
        };
        if text == self.text {
            return;
        }
        match parsed {
            Ok(f) => {
                if f.subtensor != self.current.subtensor || f.wallet != self.current.wallet {
                    tracing::warn!(target: TARGET, "subtensor and wallet changes apply at the next start");
                }
                if f.hooks != self.current.hooks {
                    self.hooks = Hooks::start(
                        f.hooks.command.clone(),
                        Duration::from_secs(f.hooks.timeout_secs.max(1)),
                    );
                }
                tracing::info!(target: TARGET, payload = %String::from_utf8_lossy(&f.payload), "bids reloaded");
                let keep = (self.current.subtensor.clone(), self.current.wallet.clone());
                self.current = BidFile {
                    subtensor: keep.0,
                    wallet: keep.1,
                    ..f
                };
                self.text = text;
                self.refused = None;
            }
            Err(e) => {
                if self.refused.as_deref() != Some(text.as_str()) {
                    tracing::error!(target: TARGET, file = %self.path.display(), line = e.line,
                        error = %e.message, "bids file refused (line {}: {}); the last good bids stay",
                        e.line, e.message);
                    self.refused = Some(text);
                }
            }
        }
    }

    /// One round: reload, commit if due, report final windows.
    pub async fn tick(&mut self) -> Result<()> {
        self.reload();
        let head = self.sub.finalized_head().await?.number;
        self.commit_if_due(head).await?;
        self.follow_epochs(head).await?;
        self.report_windows(head).await
    }

    async fn commit_if_due(&mut self, head: u64) -> Result<()> {
        let netuid = self.current.subtensor.netuid;
        let payload = self.current.payload.clone();
        let onchain = self
            .sub
            .commitments(head, netuid)
            .await?
            .into_iter()
            .find(|c| c.hotkey == self.hotkey);
        let reason = match &onchain {
            None => "first",
            Some(c) if c.data != payload => "changed",
            Some(c) if head.saturating_sub(c.block) >= self.current.commit.refresh_blocks => {
                "refresh"
            }
            Some(_) => return Ok(()),
        };
        if let Some(last) = self.last_commit {
            if head < last.saturating_add(self.current.commit.min_interval_blocks) {
                return Ok(());
            }
        }
        // The commitments pallet's space per subnet epoch.
        let space = self.sub.commitment_space(head, netuid, self.hotkey).await?;
        let epoch = self
            .sub
            .epoch_schedule(head, netuid)
            .await?
            .subnet_epoch_index;
        let cost = CommitmentSpace::cost(payload.len());
        if cost > space.free_in(epoch) {
            tracing::debug!(target: TARGET, used = space.used_space, max = space.max_space, epoch,
                "commitment space used up this epoch; waiting");
            return Ok(());
        }
        let inc = self.sub.set_commitment(netuid, payload.clone()).await?;
        self.last_commit = Some(inc.block.number);
        let text = String::from_utf8_lossy(&payload).to_string();
        tracing::info!(target: TARGET, block = inc.block.number, reason, payload = %text, "bids committed");
        let bids: Vec<_> = self
            .current
            .lines()
            .iter()
            .map(|l| json!({"price": l.price.to_string(), "hashrate": l.hashrate.to_string(), "count": l.count}))
            .collect();
        self.hooks.send(json!({
            "event": "commit",
            "reason": reason,
            "block": inc.block.number,
            "hotkey": tao20_wallet::ss58::encode(&self.hotkey.0),
            "netuid": netuid,
            "payload": text,
            "bids": bids,
        }));
        Ok(())
    }

    /// Records the blocks the subnet's epochs ran at since the last round.
    async fn follow_epochs(&mut self, head: u64) -> Result<()> {
        let netuid = self.current.subtensor.netuid;
        let mut b = self.scanned.saturating_add(1);
        while b <= head {
            let s = self.sub.epoch_schedule(b, netuid).await?;
            if s.subnet_epoch_index > self.last_index {
                // An epoch ran at this block (`LastEpochBlock` is the block it ran at).
                if self
                    .epoch_blocks
                    .last()
                    .is_none_or(|l| *l < s.last_epoch_block)
                {
                    self.epoch_blocks.push(s.last_epoch_block);
                }
                self.last_index = s.subnet_epoch_index;
            }
            self.scanned = b;
            b += 1;
        }
        if self.epoch_blocks.len() > 8 {
            let cut = self.epoch_blocks.len() - 8;
            self.epoch_blocks.drain(..cut);
        }
        Ok(())
    }

    async fn report_windows(&mut self, head: u64) -> Result<()> {
        let windows: Vec<Window> = final_windows(&self.epoch_blocks, head)?
            .into_iter()
            .filter(|w| w.start > self.started && !self.reported.contains(&w.start))
            .collect();
        if windows.is_empty() {
            return Ok(());
        }
        let params = params(&self.current)?;
        let netuid = self.current.subtensor.netuid;
        let me = tao20_wallet::ss58::encode(&self.hotkey.0);
        for w in windows {
            let r = window_result(&self.sub, netuid, w, &self.hotkey, &params).await?;
            tracing::info!(target: TARGET, window_start = w.start, window_end = w.end, index = w.index,
                result = ?r.outcome, reason = r.reason.as_deref().unwrap_or(""),
                workers = r.deliver.iter().map(|x| x.count).sum::<u64>(), "window result");
            self.hooks.send(r.to_json(&me, netuid));
            self.reported.insert(w.start);
        }
        Ok(())
    }
}
