//! The mechanisms' tables: pool telemetry, `CreationMinted` records, settled windows, bans,
//! weights and price commitments. What a block decided is written here in the block's
//! transaction; what a later block's decision reads back from them is read here, by the
//! mechanisms' sense step, and recorded with that block so it can be replayed.

use alloy_primitives::B256;
use rusqlite::Connection;
use serde::Deserialize;
use tao20_auction::delivery::{Sample, Telemetry, WorkerReading};
use tao20_auction::weights::{Payment, WindowSettlement};
use tao20_core::Fp18;

use crate::mechanisms::{MechDecisions, MintRow};
use crate::store::outbox::{self, ChainAction};
use crate::store::{db, from_json, i, to_json};
use crate::{Error, Result};

/// The keeper's pool samples with blocks in `[from, to]`.
pub fn telemetry(conn: &Connection, from: u64, to: u64) -> Result<Telemetry> {
    let mut stmt = conn
        .prepare(
            "SELECT p.id, p.block, p.from_proxy, w.worker, w.hashrate FROM telemetry_polls p
             LEFT JOIN telemetry_workers w ON w.poll = p.id
             WHERE p.block BETWEEN ?1 AND ?2 ORDER BY p.id, w.worker",
        )
        .map_err(db("telemetry"))?;
    let rows = stmt
        .query_map(rusqlite::params![i(from), i(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(db("telemetry"))?;
    let mut samples: Vec<(i64, Sample)> = Vec::new();
    let mut proxied = false;
    for row in rows {
        let (id, block, proxy, worker, hashrate) = row.map_err(db("telemetry"))?;
        proxied |= proxy != 0;
        if samples.last().map(|(i, _)| *i) != Some(id) {
            samples.push((
                id,
                Sample {
                    block: u64::try_from(block).unwrap_or(0),
                    workers: Vec::new(),
                },
            ));
        }
        if let (Some(name), Some(h), Some((_, s))) = (worker, hashrate, samples.last_mut()) {
            let hashrate_hs = h.parse().map_err(|_| Error::Decode {
                what: "stored hashrate".into(),
                reason: h.clone(),
            })?;
            s.workers.push(WorkerReading { name, hashrate_hs });
        }
    }
    Ok(Telemetry {
        samples: samples.into_iter().map(|(_, s)| s).collect(),
        from_proxy: proxied,
    })
}

/// Records one pool sample.
pub fn store_sample(
    conn: &Connection,
    block: u64,
    unix_time: u64,
    from_proxy: bool,
    workers: &[WorkerReading],
) -> Result<()> {
    conn.execute(
        "INSERT INTO telemetry_polls (block, unix_time, from_proxy) VALUES (?1, ?2, ?3)",
        rusqlite::params![i(block), i(unix_time), i64::from(from_proxy)],
    )
    .map_err(db("telemetry"))?;
    let poll = conn.last_insert_rowid();
    for w in workers {
        conn.execute(
            "INSERT OR REPLACE INTO telemetry_workers (poll, worker, hashrate) VALUES (?1, ?2, ?3)",
            rusqlite::params![poll, w.name, w.hashrate_hs.to_string()],
        )
        .map_err(db("telemetry"))?;
    }
    Ok(())
}

/// The settlements stored for the windows of the subnet epoch that ran at `epoch`, in window
/// order.
pub fn settlements(conn: &Connection, epoch: u64) -> Result<Vec<WindowSettlement>> {
    let mut stmt = conn
        .prepare("SELECT result FROM windows WHERE epoch_block = ?1 ORDER BY start")
        .map_err(db("windows"))?;
    let rows = stmt
        .query_map([i(epoch)], |r| r.get::<_, String>(0))
        .map_err(db("windows"))?;
    let mut out = Vec::new();
    for row in rows {
        let text = row.map_err(db("windows"))?;
        let r: StoredWindow = from_json("stored window", &text)?;
        if let Some(s) = r.settlement() {
            out.push(s);
        }
    }
    Ok(out)
}

/// The `CreationMinted` records stored with blocks in `[from, to]`.
pub fn mints(conn: &Connection, from: u64, to: u64) -> Result<Vec<MintRow>> {
    let mut stmt = conn
        .prepare("SELECT miner, coldkey, value_rao, block FROM mints WHERE block BETWEEN ?1 AND ?2 ORDER BY block, request_id")
        .map_err(db("mints"))?;
    let rows = stmt
        .query_map(rusqlite::params![i(from), i(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(db("mints"))?;
    let bad = |what: &str, v: &str| Error::Decode {
        what: format!("stored mint {what}"),
        reason: v.to_string(),
    };
    let mut out = Vec::new();
    for row in rows {
        let (miner, coldkey, value, block) = row.map_err(db("mints"))?;
        out.push(MintRow {
            miner: miner.parse().map_err(|_| bad("miner", &miner))?,
            coldkey: coldkey.parse().map_err(|_| bad("coldkey", &coldkey))?,
            value_rao: value.parse().map_err(|_| bad("value", &value))?,
            block: u64::try_from(block).unwrap_or(0),
        });
    }
    Ok(out)
}

/// Records a mint (once per request).
pub fn insert_mint(conn: &Connection, request_id: &B256, m: &MintRow) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO mints (request_id, miner, coldkey, value_rao, block) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![request_id.to_string(), m.miner.to_string(), m.coldkey.to_string(), m.value_rao.to_string(), i(m.block)],
    )
    .map_err(db("mints"))?;
    Ok(())
}

/// Every ban stored: (uid, block).
pub fn bans(conn: &Connection) -> Result<Vec<(u8, u64)>> {
    let mut stmt = conn
        .prepare("SELECT uid, block FROM bans")
        .map_err(db("bans"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .map_err(db("bans"))?;
    let mut out = Vec::new();
    for row in rows {
        let (uid, block) = row.map_err(db("bans"))?;
        if let Ok(u) = u8::try_from(uid) {
            out.push((u, u64::try_from(block).unwrap_or(0)));
        }
    }
    Ok(out)
}

/// What a stored window's JSON carries for the weights: enough to rebuild its settlement.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredWindow {
    window: StoredBounds,
    alpha_tao: Option<Fp18>,
    tao_usdc: Option<Fp18>,
    hashp_usdc: Option<Fp18>,
    miner_alpha_per_block: Option<Fp18>,
    payments: Vec<StoredPayment>,
}

#[derive(Debug, Clone, Deserialize)]
struct StoredBounds {
    start: u64,
    end: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPayment {
    uid: u16,
    delivered: Fp18,
    price: Fp18,
}

impl StoredWindow {
    fn settlement(&self) -> Option<WindowSettlement> {
        Some(WindowSettlement {
            window_blocks: self.window.end.saturating_sub(self.window.start) + 1,
            miner_alpha_per_block: self.miner_alpha_per_block?,
            alpha_tao: self.alpha_tao?,
            tao_usdc: self.tao_usdc?,
            hashp_usdc: self.hashp_usdc?,
            payments: self
                .payments
                .iter()
                .map(|p| Payment {
                    uid: p.uid,
                    delivered: p.delivered,
                    price: p.price,
                })
                .collect(),
        })
    }
}

/// Writes what one block decided into its transaction: the windows, the bans, the weights (each
/// (mechanism, epoch) once, ever) and the commitment, with their outbox actions. Returns the
/// weights newly decided.
pub fn persist(
    tx: &Connection,
    b: u64,
    d: &MechDecisions,
    dry_run: bool,
) -> Result<Vec<(u8, u64)>> {
    for w in &d.windows {
        tx.execute(
            "INSERT OR IGNORE INTO windows (start, epoch_block, idx, end_block, settled_block, skipped, budget_ph, winners, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                i(w.window.start),
                i(w.window.subnet_epoch_start),
                w.window.index,
                i(w.window.end),
                i(b),
                w.skipped,
                w.budget_ph.map(|p| p.to_string()),
                i64::try_from(w.winners.len()).unwrap_or(i64::MAX),
                to_json("window result", w)?,
            ],
        )
        .map_err(db("windows"))?;
    }
    for (uid, hotkey, block, window_start) in &d.bans {
        tx.execute(
            "INSERT OR IGNORE INTO bans (uid, hotkey, block, window_start) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![uid, hotkey, i(*block), i(*window_start)],
        )
        .map_err(db("bans"))?;
    }
    let mut fresh = Vec::new();
    for (mecid, epoch, uids, values) in &d.weights {
        let n = tx
            .execute(
                "INSERT OR IGNORE INTO weights (mecid, epoch_block, uids, weight_values, status)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    mecid,
                    i(*epoch),
                    to_json("uids", uids)?,
                    to_json("weights", values)?,
                    if dry_run { "dry-run" } else { "pending" },
                ],
            )
            .map_err(db("weights"))?;
        if n > 0 {
            fresh.push((*mecid, *epoch));
            if !dry_run {
                outbox::enqueue(
                    tx,
                    &ChainAction::SubmitWeights {
                        mecid: *mecid,
                        epoch: *epoch,
                    },
                    b,
                    0,
                )?;
            }
        }
    }
    if let Some(payload) = &d.commitment {
        // Hex: a price commitment ends in a binary ban bitmap.
        let payload = alloy_primitives::hex::encode(payload);
        tx.execute(
            "INSERT OR IGNORE INTO commitments (block, payload, state) VALUES (?1, ?2, ?3)",
            rusqlite::params![i(b), payload, if dry_run { "dry-run" } else { "pending" }],
        )
        .map_err(db("commitments"))?;
        if !dry_run {
            outbox::enqueue(tx, &ChainAction::SetCommitment { block: b }, b, 0)?;
        }
    }
    Ok(fresh)
}

/// The windows settled at block `b`: (start, result JSON), by start.
pub fn windows_settled_at(conn: &Connection, b: u64) -> Result<Vec<(u64, String)>> {
    let mut stmt = conn
        .prepare("SELECT start, result FROM windows WHERE settled_block = ?1 ORDER BY start")
        .map_err(db("windows"))?;
    let rows = stmt
        .query_map([i(b)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db("windows"))?;
    let mut out = Vec::new();
    for row in rows {
        let (start, result) = row.map_err(db("windows"))?;
        out.push((u64::try_from(start).unwrap_or(0), result));
    }
    Ok(out)
}
