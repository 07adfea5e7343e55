//! `tao20 validator status`: a summary of a keeper's database, read-only (WAL lets it read while
//! the keeper writes).

use rusqlite::OptionalExtension;

use crate::store::{db, Store};
use crate::{journal, reports, Result};

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

/// The summary document.
pub fn summary(s: &Store) -> Result<serde_json::Value> {
    let next_block: Option<i64> = s
        .conn()
        .query_row("SELECT next_block FROM cursor WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db("cursor"))?;
    let meta = |k: &str| crate::store::meta(s.conn(), k);
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
                let name = serde_json::from_str::<serde_json::Value>(&call)
                    .ok()
                    .and_then(|v| v.get("call").and_then(|c| c.as_str()).map(str::to_string))
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
        "outboxDepth": reports::depth(s.conn())?,
        "transactions": group(s, "SELECT state, COUNT(*) FROM transactions GROUP BY state")?,
        "recentTransactions": recent,
        "priceHistory": {
            "samples": count(s, "SELECT COUNT(*) FROM prices")?,
            "lastBlock": s.conn().query_row("SELECT MAX(block) FROM prices", [], |r| r.get::<_, Option<i64>>(0)).map_err(db("prices"))?,
        },
    }))
}
