//! `tao20 validator status`: a summary of a keeper's database, read-only (WAL lets it read while
//! the keeper writes). It reads every table, so its queries live with the store's.

use rusqlite::OptionalExtension;

use super::{db, from_json, journal, outbox, Store};
use crate::Result;

fn count(s: &Store, sql: &str) -> Result<i64> {
    s.conn()
        .query_row(sql, [], |r| r.get(0))
        .map_err(db(sql.to_string()))
}

fn group(s: &Store, sql: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut stmt = s.conn().prepare(sql).map_err(db(sql.to_string()))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(db(sql.to_string()))?;
    let mut out = serde_json::Map::new();
    for row in rows {
        let (k, v) = row.map_err(db(sql.to_string()))?;
        out.insert(k, v.into());
    }
    Ok(out)
}

fn rows(
    s: &Store,
    sql: &str,
    f: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value>,
) -> Result<Vec<serde_json::Value>> {
    let mut stmt = s.conn().prepare(sql).map_err(db(sql.to_string()))?;
    let mapped = stmt.query_map([], f).map_err(db(sql.to_string()))?;
    mapped
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db(sql.to_string()))
}

fn parsed(text: &str) -> serde_json::Value {
    from_json("status column", text).unwrap_or(serde_json::Value::Null)
}

/// The mechanisms' part: recent windows with their winners, bans, weights, commitments, pool
/// telemetry.
pub fn mechanisms(s: &Store) -> Result<serde_json::Value> {
    // A database the keeper has not migrated yet has no mechanisms tables.
    if s.version()? < 2 {
        return Ok(serde_json::Value::Null);
    }
    let windows = rows(
        s,
        "SELECT start, end_block, epoch_block, idx, settled_block, skipped, budget_ph, result
         FROM windows ORDER BY start DESC LIMIT 12",
        |r| {
            let result = parsed(&r.get::<_, String>(7)?);
            Ok(serde_json::json!({
                "start": r.get::<_, i64>(0)?,
                "end": r.get::<_, i64>(1)?,
                "epoch": r.get::<_, i64>(2)?,
                "index": r.get::<_, i64>(3)?,
                "settledAt": r.get::<_, i64>(4)?,
                "skipped": r.get::<_, Option<String>>(5)?,
                "budgetPh": r.get::<_, Option<String>>(6)?,
                "winners": result.get("winners").cloned().unwrap_or_default(),
                "failed": result.get("failed").cloned().unwrap_or_default(),
                "bannedAtStart": result.get("bannedAtStart").cloned().unwrap_or_default(),
                "deliverySkipped": result.get("deliverySkipped").cloned().unwrap_or_default(),
            }))
        },
    )?;
    let bans = rows(
        s,
        "SELECT uid, hotkey, block, window_start FROM bans ORDER BY block DESC LIMIT 50",
        |r| {
            Ok(serde_json::json!({
                "uid": r.get::<_, i64>(0)?,
                "hotkey": r.get::<_, String>(1)?,
                "block": r.get::<_, i64>(2)?,
                "window": r.get::<_, i64>(3)?,
            }))
        },
    )?;
    let weights = rows(
        s,
        "SELECT mecid, epoch_block, uids, weight_values, method, commit_block, reveal_round,
         reveal_block, status, detail FROM weights ORDER BY epoch_block DESC, mecid LIMIT 12",
        |r| {
            Ok(serde_json::json!({
                "mecid": r.get::<_, i64>(0)?,
                "epoch": r.get::<_, i64>(1)?,
                "uids": parsed(&r.get::<_, String>(2)?),
                "values": parsed(&r.get::<_, String>(3)?),
                "method": r.get::<_, Option<String>>(4)?,
                "commitBlock": r.get::<_, Option<i64>>(5)?,
                "revealRound": r.get::<_, Option<i64>>(6)?,
                "checkedAt": r.get::<_, Option<i64>>(7)?,
                "status": r.get::<_, String>(8)?,
                "detail": r.get::<_, Option<String>>(9)?,
            }))
        },
    )?;
    let commitment = rows(
        s,
        "SELECT block, payload, state FROM commitments ORDER BY block DESC LIMIT 1",
        |r| {
            let hex: String = r.get(1)?;
            let bytes = alloy_primitives::hex::decode(&hex).unwrap_or_default();
            let text = bytes.split(|b| *b == 0xFF).next().unwrap_or(&[]);
            let bans = tao20_auction::commitment::Commitment::decode(&bytes)
                .ok()
                .and_then(|c| match c {
                    tao20_auction::commitment::Commitment::Price(p) => p.bans.map(|b| b.uids()),
                    tao20_auction::commitment::Commitment::Bid(_) => None,
                });
            Ok(serde_json::json!({
                "block": r.get::<_, i64>(0)?,
                "text": String::from_utf8_lossy(text),
                "bans": bans,
                "state": r.get::<_, String>(2)?,
            }))
        },
    )?;
    Ok(serde_json::json!({
        "windowsSettled": count(s, "SELECT COUNT(*) FROM windows")?,
        "windows": windows,
        "bans": bans,
        "weights": weights,
        "lastCommitment": commitment.into_iter().next(),
        "commitments": group(s, "SELECT substr(state, 1, instr(state || ' ', ' ') - 1) AS s, COUNT(*) FROM commitments GROUP BY s")?,
        "pool": {
            "samples": count(s, "SELECT COUNT(*) FROM telemetry_polls")?,
            "lastBlock": s.conn().query_row("SELECT MAX(block) FROM telemetry_polls", [], |r| r.get::<_, Option<i64>>(0)).map_err(db("telemetry"))?,
        },
        "mints": count(s, "SELECT COUNT(*) FROM mints")?,
    }))
}

/// The last 20 transaction attempts, newest first: a replacement shows as a second attempt at
/// the nonce of a superseded one.
fn recent_attempts(s: &Store) -> Result<Vec<serde_json::Value>> {
    rows(
        s,
        "SELECT key, call, nonce, tx_hash, state, sent_block FROM tx_attempts ORDER BY id DESC LIMIT 20",
        |r| {
            Ok(serde_json::json!({
                "subject": r.get::<_, String>(0)?,
                "call": r.get::<_, String>(1)?,
                "nonce": r.get::<_, i64>(2)?,
                "tx": r.get::<_, String>(3)?,
                "state": r.get::<_, String>(4)?,
                "sentBlock": r.get::<_, i64>(5)?,
            }))
        },
    )
}

/// The summary document.
pub fn summary(s: &Store) -> Result<serde_json::Value> {
    let next_block: Option<i64> = s
        .conn()
        .query_row("SELECT next_block FROM cursor WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db("cursor"))?;
    let meta = |k: &str| super::meta(s.conn(), k);
    let mut recent = Vec::new();
    {
        let mut stmt = s
            .conn()
            .prepare(
                "SELECT key, call, tx_hash, state, mined_block, gas_used FROM transactions ORDER BY id DESC LIMIT 10",
            )
            .map_err(db("transactions"))?;
        let rows = stmt
            .query_map([], |r| {
                let call: String = r.get(1)?;
                let name = parsed(&call)
                    .get("call")
                    .and_then(|c| c.as_str())
                    .map(str::to_string)
                    .unwrap_or_default();
                Ok(serde_json::json!({
                    "subject": r.get::<_, String>(0)?,
                    "call": name,
                    "tx": r.get::<_, Option<String>>(2)?,
                    "state": r.get::<_, String>(3)?,
                    "block": r.get::<_, Option<i64>>(4)?,
                    "gasUsed": r.get::<_, Option<i64>>(5)?,
                }))
            })
            .map_err(db("transactions"))?;
        for row in rows {
            recent.push(row.map_err(db("transactions"))?);
        }
    }
    Ok(serde_json::json!({
        "database": s.path(),
        "schemaVersion": s.version()?,
        "chainId": meta("chain_id")?,
        "contract": meta("contract")?,
        "signer": meta("signer")?,
        "nextBlock": next_block,
        "requests": group(s, "SELECT status, COUNT(*) FROM requests GROUP BY status")?,
        "journal": {
            "signed": journal::signed(s.conn())?,
            "refused": journal::refusals(s.conn())?,
        },
        "reports": {
            "total": count(s, "SELECT COUNT(*) FROM reports")?,
            "withQuorum": count(s, "SELECT COUNT(*) FROM reports WHERE quorum_block IS NOT NULL")?,
            "settled": group(s, "SELECT outcome, COUNT(*) FROM reports WHERE settled_block IS NOT NULL GROUP BY outcome")?,
        },
        "signatures": count(s, "SELECT COUNT(*) FROM signatures")?,
        "outboxDepth": outbox::depth(s.conn())?,
        "transactions": group(s, "SELECT state, COUNT(*) FROM transactions GROUP BY state")?,
        "attempts": group(s, "SELECT state, COUNT(*) FROM tx_attempts GROUP BY state")?,
        "recentAttempts": recent_attempts(s)?,
        "recentTransactions": recent,
        "priceHistory": {
            "samples": count(s, "SELECT COUNT(*) FROM prices")?,
            "lastBlock": s.conn().query_row("SELECT MAX(block) FROM prices", [], |r| r.get::<_, Option<i64>>(0)).map_err(db("prices"))?,
        },
        "mechanisms": mechanisms(s)?,
    }))
}
