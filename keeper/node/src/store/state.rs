//! The engine's own tables: the cursor, the strategies' state and its per-block history, the
//! price history, the queryable copy of the requests, and each block's recorded inputs.
//!
//! A block's rows are written in the one transaction that commits the block ([`write_block`]);
//! a BEVM reorganisation below the cursor rewinds them ([`undo`]).

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction};
use tao20_creation::lifecycle::{CreationMachine, Status};

use super::{db, i, u};
use crate::{Error, Result};

/// What a keeper committed last: `(next block, BEVM cursor JSON, creation state JSON)`.
pub fn saved(conn: &Connection) -> Result<Option<(u64, String, String)>> {
    let cursor: Option<(i64, String)> = conn
        .query_row(
            "SELECT next_block, bevm FROM cursor WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db("cursor"))?;
    let state = strategy(conn, "creation")?;
    Ok(match (cursor, state) {
        (Some((next, bevm)), Some(state)) => Some((u(next), bevm, state)),
        _ => None,
    })
}

/// A strategy's current state JSON (`creation`, `mechanisms`).
pub fn strategy(conn: &Connection, name: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT state FROM strategy_state WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
    .optional()
    .map_err(db("strategy state"))
}

/// A strategy's state JSON after `block`, while the history keeps it.
pub fn history(conn: &Connection, name: &str, block: u64) -> Result<Option<String>> {
    conn.query_row(
        "SELECT state FROM state_history WHERE name = ?1 AND block = ?2",
        rusqlite::params![name, i(block)],
        |r| r.get(0),
    )
    .optional()
    .map_err(db("state history"))
}

/// The keeper's spot prices of `netuid` over `[from, to]`, by block.
pub fn price_history(
    conn: &Connection,
    netuid: u16,
    from: u64,
    to: u64,
) -> Result<BTreeMap<u64, u64>> {
    let mut stmt = conn
        .prepare("SELECT block, price FROM prices WHERE netuid = ?1 AND block BETWEEN ?2 AND ?3")
        .map_err(db("prices"))?;
    let rows = stmt
        .query_map(rusqlite::params![netuid, i(from), i(to)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db("prices"))?;
    let mut m = BTreeMap::new();
    for row in rows {
        let (blk, p) = row.map_err(db("prices"))?;
        let p: u64 = p.parse().map_err(|_| Error::Decode {
            what: format!("stored price of netuid {netuid} at block {blk}"),
            reason: p.clone(),
        })?;
        m.insert(u(blk), p);
    }
    Ok(m)
}

/// The recorded inputs of every block still kept, ascending: `(block, JSON)`.
pub fn recorded(conn: &Connection) -> Result<Vec<(u64, String)>> {
    let mut stmt = conn
        .prepare("SELECT block, inputs FROM block_inputs ORDER BY block")
        .map_err(db("block inputs"))?;
    let rows = stmt
        .query_map([], |r| Ok((u(r.get::<_, i64>(0)?), r.get::<_, String>(1)?)))
        .map_err(db("block inputs"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(db("block inputs"))?;
    Ok(rows)
}

/// Records the state a fresh keeper starts from as the history of the block before its first,
/// so that first block can be replayed too, and the first block itself (meta `first_block`), so
/// a replay can say whether its record reaches back to it.
pub fn write_start(
    tx: &Transaction<'_>,
    first: u64,
    live_from: u64,
    creation: &str,
    mechanisms: &str,
) -> Result<()> {
    let before = first.saturating_sub(1);
    for (name, state) in [("creation", creation), ("mechanisms", mechanisms)] {
        tx.execute(
            "INSERT OR IGNORE INTO state_history (block, name, state) VALUES (?1, ?2, ?3)",
            rusqlite::params![i(before), name, state],
        )
        .map_err(db("state history"))?;
    }
    if super::meta(tx, "first_block")?.is_none() {
        super::set_meta(tx, "first_block", &first.to_string())?;
    }
    if super::meta(tx, "live_from")?.is_none() {
        super::set_meta(tx, "live_from", &live_from.to_string())?;
    }
    Ok(())
}

/// The first block past the finalized head at the database's creation: what lands from there on
/// was signed while this database's journal existed. `None` for a database older than the record.
pub fn live_from(conn: &Connection) -> Result<Option<u64>> {
    Ok(super::meta(conn, "live_from")?.and_then(|v| v.parse().ok()))
}

/// The first block this database's keeper processed, when it recorded it.
pub fn first_block(conn: &Connection) -> Result<Option<u64>> {
    Ok(super::meta(conn, "first_block")?.and_then(|v| v.parse().ok()))
}

/// One committed block's rows in the engine's tables.
#[derive(Debug)]
pub struct BlockWrite<'a> {
    /// The block.
    pub block: u64,
    /// The creation state after it (JSON).
    pub creation: &'a str,
    /// Its machine, for the requests table.
    pub machine: &'a CreationMachine,
    /// The mechanisms' state after it (JSON).
    pub mechanisms: &'a str,
    /// The block's spot prices.
    pub spots: &'a [(u16, u64)],
    /// Older prices the node supplied for holes in the history.
    pub backfill: &'a [(u16, u64, u64)],
    /// The block's recorded inputs (JSON).
    pub inputs: &'a str,
    /// The BEVM cursor after it (JSON).
    pub cursor: &'a str,
    /// Blocks of state history kept.
    pub history_blocks: u64,
}

/// Writes a block's state, history, prices, requests, inputs and cursor.
pub fn write_block(tx: &Transaction<'_>, w: &BlockWrite<'_>) -> Result<()> {
    let b = w.block;
    for (name, state) in [("creation", w.creation), ("mechanisms", w.mechanisms)] {
        tx.execute(
            "INSERT INTO strategy_state (name, block, state) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET block = excluded.block, state = excluded.state",
            rusqlite::params![name, i(b), state],
        )
        .map_err(db("strategy state"))?;
        tx.execute(
            "INSERT OR REPLACE INTO state_history (block, name, state) VALUES (?1, ?2, ?3)",
            rusqlite::params![i(b), name, state],
        )
        .map_err(db("state history"))?;
    }
    let horizon = b.saturating_sub(w.history_blocks);
    tx.execute("DELETE FROM state_history WHERE block < ?1", [i(horizon)])
        .map_err(db("state history"))?;
    // A recorded block is replayed from the state of the block before it: keep the inputs of
    // the blocks whose previous state is still kept.
    tx.execute(
        "INSERT OR REPLACE INTO block_inputs (block, inputs) VALUES (?1, ?2)",
        rusqlite::params![i(b), w.inputs],
    )
    .map_err(db("block inputs"))?;
    tx.execute("DELETE FROM block_inputs WHERE block <= ?1", [i(horizon)])
        .map_err(db("block inputs"))?;
    for (n, p) in w.spots {
        tx.execute(
            "INSERT OR REPLACE INTO prices (netuid, block, price) VALUES (?1, ?2, ?3)",
            rusqlite::params![n, i(b), p.to_string()],
        )
        .map_err(db("prices"))?;
    }
    for (n, blk, p) in w.backfill {
        tx.execute(
            "INSERT OR IGNORE INTO prices (netuid, block, price) VALUES (?1, ?2, ?3)",
            rusqlite::params![n, i(*blk), p.to_string()],
        )
        .map_err(db("prices"))?;
    }
    save_requests(tx, w.machine, b)?;
    tx.execute(
        "INSERT INTO cursor (id, next_block, bevm, updated_at) VALUES (1, ?1, ?2, strftime('%s','now'))
         ON CONFLICT(id) DO UPDATE SET next_block = excluded.next_block, bevm = excluded.bevm,
         updated_at = excluded.updated_at",
        rusqlite::params![i(b + 1), w.cursor],
    )
    .map_err(db("cursor"))?;
    Ok(())
}

/// Rewinds the engine's tables to the block before `from` (BEVM reorganised from `from`):
/// the strategies' states become `creation` and `mechanisms` (the history's rows of that
/// block), the history, inputs and mints from `from` on are dropped, the cursor is `cursor`.
pub fn undo(
    tx: &Transaction<'_>,
    from: u64,
    creation: &str,
    mechanisms: Option<&str>,
    cursor: &str,
) -> Result<()> {
    let before = from.saturating_sub(1);
    tx.execute(
        "UPDATE strategy_state SET block = ?1, state = ?2 WHERE name = 'creation'",
        rusqlite::params![i(before), creation],
    )
    .map_err(db("strategy state"))?;
    tx.execute("DELETE FROM state_history WHERE block >= ?1", [i(from)])
        .map_err(db("state history"))?;
    tx.execute("DELETE FROM block_inputs WHERE block >= ?1", [i(from)])
        .map_err(db("block inputs"))?;
    if let Some(text) = mechanisms {
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
        rusqlite::params![i(from), cursor],
    )
    .map_err(db("cursor"))?;
    Ok(())
}

fn save_requests(tx: &Transaction<'_>, m: &CreationMachine, b: u64) -> Result<()> {
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
