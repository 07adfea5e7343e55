//! Bounded growth: history older than `[store] retention_blocks` is deleted, in one transaction,
//! every [`PRUNE_EVERY_BLOCKS`] blocks. What is deleted is history only: price samples, pool
//! telemetry, settled reports and their signatures, finished outbox items (dead letters are kept
//! until an operator looks), decided transactions and attempts, refusal records, settled windows,
//! bans, mints, weights and commitments. The journal, the cursor, the saved states and anything
//! still open are never touched.

use rusqlite::Connection;

use super::{db, Store};
use crate::Result;

/// How often (in blocks) the executor prunes.
pub const PRUNE_EVERY_BLOCKS: u64 = 1_000;

/// The least retention accepted: the engine reads bans back for 12 hours (3,600 blocks) and
/// prices for the price window; two days leaves room for both.
pub const MIN_RETENTION_BLOCKS: u64 = 14_400;

/// Rows deleted by one prune, in total.
pub type Pruned = u64;

/// Deletes the history recorded before block `before`.
pub fn prune(store: &mut Store, before: u64) -> Result<Pruned> {
    let b = i64::try_from(before).unwrap_or(i64::MAX);
    store.write(|tx| prune_in(tx, b))
}

fn prune_in(conn: &Connection, before: i64) -> Result<Pruned> {
    const STATEMENTS: &[(&str, &str)] = &[
        ("prices", "DELETE FROM prices WHERE block < ?1"),
        // Workers go with their poll (ON DELETE CASCADE).
        ("telemetry", "DELETE FROM telemetry_polls WHERE block < ?1"),
        (
            "signatures",
            "DELETE FROM signatures WHERE digest IN
                 (SELECT digest FROM reports WHERE settled_block IS NOT NULL AND settled_block < ?1)",
        ),
        (
            "reports",
            "DELETE FROM reports WHERE settled_block IS NOT NULL AND settled_block < ?1",
        ),
        (
            "outbox",
            "DELETE FROM outbox WHERE done_at IS NOT NULL AND dead = 0 AND created_block < ?1",
        ),
        (
            "transactions",
            "DELETE FROM transactions WHERE mined_block IS NOT NULL AND mined_block < ?1",
        ),
        (
            "tx_attempts",
            "DELETE FROM tx_attempts WHERE state != 'pending' AND sent_block < ?1",
        ),
        (
            "journal_refusals",
            "DELETE FROM journal_refusals WHERE block < ?1",
        ),
        ("windows", "DELETE FROM windows WHERE settled_block < ?1"),
        ("bans", "DELETE FROM bans WHERE block < ?1"),
        ("mints", "DELETE FROM mints WHERE block < ?1"),
        ("weights", "DELETE FROM weights WHERE epoch_block < ?1"),
        ("commitments", "DELETE FROM commitments WHERE block < ?1"),
    ];
    let mut total = 0u64;
    for (what, sql) in STATEMENTS {
        let n = conn.execute(sql, [before]).map_err(db(*what))?;
        total = total.saturating_add(u64::try_from(n).unwrap_or(0));
    }
    Ok(total)
}
