//! The keeper's BEVM transaction records: every attempt written before it is broadcast
//! (`tx_attempts`: nonce, fees, raw bytes, hash), so a restart follows or replaces what it may
//! have sent instead of sending again, and each send's outcome (`transactions`).

use alloy_primitives::{Address, Bytes, B256};
use rusqlite::Connection;
use tao20_bevm::txman::Attempt;
use tao20_bevm::writer::Call;

use super::{db, i, to_json, Store};
use crate::{Error, Result};

/// An attempt not decided yet.
#[derive(Debug, Clone)]
pub struct PendingAttempt {
    /// Its row.
    pub id: i64,
    /// The transaction.
    pub attempt: Attempt,
    /// The keeper block at which it was written (and broadcast).
    pub sent_block: u64,
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        what: what.into(),
        reason: e.to_string(),
    }
}

/// Writes `attempt` of `call` for the outbox subject `key`, pending, before its broadcast.
pub fn save_attempt(
    store: &Store,
    key: &str,
    call: &Call,
    attempt: &Attempt,
    block: u64,
) -> Result<()> {
    store
        .conn()
        .execute(
            "INSERT INTO tx_attempts (key, call, sender, nonce, max_fee, priority_fee, gas_limit, raw,
                                      tx_hash, state, sent_block, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, strftime('%s','now'))",
            rusqlite::params![
                key,
                call.name(),
                attempt.from.to_string(),
                i(attempt.nonce),
                attempt.max_fee_per_gas.to_string(),
                attempt.max_priority_fee_per_gas.to_string(),
                i(attempt.gas_limit),
                attempt.raw.to_vec(),
                attempt.hash.to_string(),
                i(block),
            ],
        )
        .map_err(db("tx_attempts"))?;
    Ok(())
}

type Row = (i64, String, i64, String, String, i64, Vec<u8>, String, i64);

/// The pending attempts of `key`, oldest first.
pub fn pending(store: &Store, key: &str) -> Result<Vec<PendingAttempt>> {
    pending_in(store.conn(), key)
}

fn pending_in(conn: &Connection, key: &str) -> Result<Vec<PendingAttempt>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, sender, nonce, max_fee, priority_fee, gas_limit, raw, tx_hash, sent_block
             FROM tx_attempts WHERE key = ?1 AND state = 'pending' ORDER BY id",
        )
        .map_err(db("tx_attempts"))?;
    let rows = stmt
        .query_map([key], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .map_err(db("tx_attempts"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, sender, nonce, max_fee, tip, gas, raw, hash, sent): Row =
            row.map_err(db("tx_attempts"))?;
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        out.push(PendingAttempt {
            id,
            attempt: Attempt {
                from: sender
                    .parse::<Address>()
                    .map_err(|e| decode_err("tx_attempts sender", e))?,
                nonce: u(nonce),
                max_fee_per_gas: max_fee
                    .parse()
                    .map_err(|e| decode_err("tx_attempts max_fee", e))?,
                max_priority_fee_per_gas: tip
                    .parse()
                    .map_err(|e| decode_err("tx_attempts priority_fee", e))?,
                gas_limit: u(gas),
                raw: Bytes::from(raw),
                hash: hash
                    .parse::<B256>()
                    .map_err(|e| decode_err("tx_attempts tx_hash", e))?,
            },
            sent_block: u(sent),
        });
    }
    Ok(out)
}

/// Attempt `mined` decided `key`: it is marked mined, the subject's other pending attempts
/// (same nonce, other fees) superseded.
pub fn settle(store: &Store, key: &str, mined: i64) -> Result<()> {
    store
        .conn()
        .execute(
            "UPDATE tx_attempts SET state = CASE WHEN id = ?2 THEN 'mined' ELSE 'superseded' END
             WHERE key = ?1 AND state = 'pending'",
            rusqlite::params![key, mined],
        )
        .map_err(db("tx_attempts"))?;
    Ok(())
}

/// Every pending attempt of `key` is superseded (another transaction took their nonce).
pub fn supersede_all(store: &Store, key: &str) -> Result<()> {
    store
        .conn()
        .execute(
            "UPDATE tx_attempts SET state = 'superseded' WHERE key = ?1 AND state = 'pending'",
            [key],
        )
        .map_err(db("tx_attempts"))?;
    Ok(())
}

/// Records a send's outcome for `tao20 validator status` and the demo's report.
#[allow(clippy::too_many_arguments)] // one row's columns
pub fn record(
    store: &Store,
    key: &str,
    call: &Call,
    tx: B256,
    state: &str,
    mined: Option<u64>,
    gas: Option<u64>,
    detail: Option<&str>,
) -> Result<()> {
    store
        .conn()
        .execute(
            "INSERT INTO transactions (key, call, tx_hash, state, sent_block, mined_block, gas_used, detail, at)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, strftime('%s','now'))",
            rusqlite::params![
                key,
                to_json("call", call)?,
                tx.to_string(),
                state,
                mined.map(i),
                gas.map(i),
                detail
            ],
        )
        .map_err(db("transactions"))?;
    Ok(())
}
