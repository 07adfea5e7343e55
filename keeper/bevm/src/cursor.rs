//! Following the contract's events block by block from a persisted cursor, up to a target block
//! the caller chooses (the substrate finalized number on BEVM, `head - depth` on anvil).
//!
//! alloy has no confirmed-log stream: this polls `eth_getLogs` by range and remembers the hash of
//! the last block of every range (and of every block that had events). On the next poll the
//! remembered hashes are checked against the chain, newest first; a mismatch is a reorganisation
//! below the cursor, reported as the first block whose events must be undone, and the cursor
//! moves back there. Subscriptions (new-head notifications) are only wake-ups for the caller.
//!
//! [`Cursor::poll`] does not change the cursor: it returns the next one with the batch, so the
//! caller stores both in one transaction with the effects of the events.

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};

use crate::api::Bevm;
use crate::events::LoggedEvent;
use crate::reader::MAX_LOG_RANGE;
use crate::{Error, Result};

/// Remembered block hashes (enough to find the fork point of any reorg a confirmation depth or
/// finality should ever let through).
pub const REMEMBERED_BLOCKS: usize = 128;

/// Where event processing stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    /// The next block to read.
    pub next: u64,
    /// `(block, hash)` of processed blocks, ascending, at most [`REMEMBERED_BLOCKS`].
    pub recent: Vec<(u64, B256)>,
}

/// The result of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Set when blocks already processed were reorganised away: every event at or above this
    /// block that was delivered before must be undone.
    pub undo_from: Option<u64>,
    /// Events of the blocks read, in chain order.
    pub events: Vec<LoggedEvent>,
    /// The blocks read, `[from, to]`, when any.
    pub range: Option<(u64, u64)>,
    /// The cursor after this batch.
    pub next: Cursor,
}

impl Cursor {
    /// A cursor that starts reading at `block` (the deployment block).
    pub fn starting_at(block: u64) -> Self {
        Self {
            next: block,
            recent: Vec::new(),
        }
    }

    /// Finds a reorg below the cursor: the first remembered block whose hash changed, and the
    /// cursor moved back to the block after the newest one still on chain.
    async fn check_reorg<B: Bevm>(&self, reader: &B) -> Result<(Option<u64>, Cursor)> {
        let mut kept = self.recent.clone();
        let mut undo_from = None;
        while let Some(&(number, hash)) = kept.last() {
            // A remembered block the node has pruned is not a reorg: it is history this node can
            // no longer check or replay, and calling it one would report a fork deeper than the
            // remembered blocks.
            let now = reader
                .kept_block_hash(number, "checking the event cursor for a reorg")
                .await?;
            if now == Some(hash) {
                break;
            }
            undo_from = Some(number);
            kept.pop();
        }
        let Some(first_changed) = undo_from else {
            return Ok((None, self.clone()));
        };
        // Blocks between the newest surviving remembered block and the first changed one were
        // processed without their hash being kept: undo from just after the survivor.
        let from = match kept.last() {
            Some(&(n, _)) => n + 1,
            None => {
                let oldest = self.recent.first().map(|r| r.0).unwrap_or(first_changed);
                return Err(Error::invalid(
                    "event cursor",
                    format!(
                        "every remembered block from {oldest} on was reorganised: the fork is \
                         deeper than {REMEMBERED_BLOCKS} remembered blocks"
                    ),
                ));
            }
        };
        Ok((
            Some(from),
            Cursor {
                next: from,
                recent: kept,
            },
        ))
    }

    /// Reads the events of the blocks from the cursor up to `target` (at most
    /// [`MAX_LOG_RANGE`] blocks per call), after checking for a reorg below the cursor.
    pub async fn poll<B: Bevm>(&self, reader: &B, target: u64) -> Result<Batch> {
        let (undo_from, mut next) = self.check_reorg(reader).await?;
        if target < next.next {
            return Ok(Batch {
                undo_from,
                events: Vec::new(),
                range: None,
                next,
            });
        }
        let from = next.next;
        let to = target.min(from.saturating_add(MAX_LOG_RANGE - 1));
        let what = "reading the contract's events";
        let before = reader.kept_block_hash(to, what).await?.ok_or_else(|| {
            Error::rpc_answer(
                format!("eth_getBlockByNumber({to})"),
                "the node does not have the block yet",
            )
        })?;
        // A pruned node answers `eth_getLogs` over blocks it discarded with nothing for them:
        // the range's first block must still be there (the last one is, just above).
        if from < to {
            reader.kept_block_hash(from, what).await?;
        }
        let events = reader.logs_of_kept_blocks(from, to).await?;
        let after = reader.block_hash(to).await?;
        if after != Some(before) {
            return Err(Error::rpc_answer(
                format!("eth_getLogs({from}..={to})"),
                "the chain reorganised while reading; read again",
            ));
        }
        let mut seen: Vec<(u64, B256)> = events.iter().map(|e| (e.block, e.block_hash)).collect();
        seen.push((to, before));
        seen.dedup();
        next.recent.extend(seen);
        next.recent.sort_by_key(|r| r.0);
        next.recent.dedup_by_key(|r| r.0);
        let excess = next.recent.len().saturating_sub(REMEMBERED_BLOCKS);
        next.recent.drain(..excess);
        next.next = to + 1;
        Ok(Batch {
            undo_from,
            events,
            range: Some((from, to)),
            next,
        })
    }
}
