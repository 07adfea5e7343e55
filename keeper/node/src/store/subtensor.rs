//! What the subtensor lane submits, as the chain executor reads and advances it: the `weights`
//! rows (pending, submitting, committed or set, then matched, superseded, mismatch or refused)
//! and the `commitments`' state. Each step is written before and after its extrinsic, so a
//! restart knows what may already be on chain.

use rusqlite::{Connection, OptionalExtension};

use super::{db, from_json, i};
use crate::Result;

/// A price commitment decided at a block: its payload (hex) and state (`pending`, `dry-run`,
/// `included N`, `refused NAME`, `superseded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// The payload, hex.
    pub payload: String,
    /// Its state.
    pub state: String,
}

/// The commitment decided at `block`.
pub fn commitment(conn: &Connection, block: u64) -> Result<Option<Commitment>> {
    conn.query_row(
        "SELECT payload, state FROM commitments WHERE block = ?1",
        [i(block)],
        |r| {
            Ok(Commitment {
                payload: r.get(0)?,
                state: r.get(1)?,
            })
        },
    )
    .optional()
    .map_err(db("commitments"))
}

/// Whether a commitment was decided after `block`.
pub fn newer_commitment(conn: &Connection, block: u64) -> Result<bool> {
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM commitments WHERE block > ?1",
            [i(block)],
            |r| r.get(0),
        )
        .map_err(db("commitments"))?;
    Ok(n > 0)
}

/// Sets the state of the commitment decided at `block`.
pub fn set_commitment_state(conn: &Connection, block: u64, state: &str) -> Result<()> {
    conn.execute(
        "UPDATE commitments SET state = ?2 WHERE block = ?1",
        rusqlite::params![i(block), state],
    )
    .map_err(db("commitments"))?;
    Ok(())
}

/// A stored weights row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsRow {
    /// The uids.
    pub uids: Vec<u16>,
    /// Their weights.
    pub values: Vec<u16>,
    /// The block the submission was included at, or (while `submitting`) the finalized head
    /// before it was sent.
    pub commit_block: Option<u64>,
    /// Its status.
    pub status: String,
}

/// A weights row as stored: uids, values, commit block, status.
type StoredWeights = (String, String, Option<i64>, String);

/// The weights of `mecid` for the subnet epoch at `epoch`.
pub fn weights(conn: &Connection, mecid: u8, epoch: u64) -> Result<Option<WeightsRow>> {
    let row: Option<StoredWeights> = conn
        .query_row(
            "SELECT uids, weight_values, commit_block, status FROM weights
             WHERE mecid = ?1 AND epoch_block = ?2",
            rusqlite::params![mecid, i(epoch)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db("weights"))?;
    let Some((uids, values, commit_block, status)) = row else {
        return Ok(None);
    };
    Ok(Some(WeightsRow {
        uids: from_json("stored weights uids", &uids)?,
        values: from_json("stored weights values", &values)?,
        commit_block: commit_block.and_then(|c| u64::try_from(c).ok()),
        status,
    }))
}

/// The optional columns of a weights update (`None` keeps what is stored).
#[derive(Debug, Default, Clone, Copy)]
pub struct Update<'a> {
    /// `timelocked` or `set`.
    pub method: Option<&'a str>,
    /// See [`WeightsRow::commit_block`].
    pub commit_block: Option<u64>,
    /// The drand round a timelocked commit reveals at.
    pub reveal_round: Option<u64>,
    /// Why, for a refusal or a wait.
    pub detail: Option<&'a str>,
}

/// Sets a weights row's status and the columns `u` gives.
pub fn update_weights(
    conn: &Connection,
    mecid: u8,
    epoch: u64,
    status: &str,
    u: Update<'_>,
) -> Result<()> {
    let Update {
        method,
        commit_block,
        reveal_round,
        detail,
    } = u;
    conn.execute(
        "UPDATE weights SET status = ?3, method = COALESCE(?4, method),
         commit_block = COALESCE(?5, commit_block), reveal_round = COALESCE(?6, reveal_round),
         detail = COALESCE(?7, detail) WHERE mecid = ?1 AND epoch_block = ?2",
        rusqlite::params![
            mecid,
            i(epoch),
            status,
            method,
            commit_block.map(i),
            reveal_round.map(i),
            detail
        ],
    )
    .map_err(db("weights"))?;
    Ok(())
}

/// The chain holds the submitted weights: matched, read back at `block`.
pub fn weights_matched(conn: &Connection, mecid: u8, epoch: u64, block: u64) -> Result<()> {
    conn.execute(
        "UPDATE weights SET status = 'matched', matches = 1, reveal_block = ?3
         WHERE mecid = ?1 AND epoch_block = ?2",
        rusqlite::params![mecid, i(epoch), i(block)],
    )
    .map_err(db("weights"))?;
    Ok(())
}

/// A later epoch's weights replaced these on chain before they could be read back.
pub fn weights_superseded(conn: &Connection, mecid: u8, epoch: u64) -> Result<()> {
    conn.execute(
        "UPDATE weights SET status = 'superseded' WHERE mecid = ?1 AND epoch_block = ?2",
        rusqlite::params![mecid, i(epoch)],
    )
    .map_err(db("weights"))?;
    Ok(())
}

/// The chain's weights never matched by the deadline: `detail` says how they differ.
pub fn weights_mismatch(conn: &Connection, mecid: u8, epoch: u64, detail: &str) -> Result<()> {
    conn.execute(
        "UPDATE weights SET status = 'mismatch', matches = 0, detail = ?3
         WHERE mecid = ?1 AND epoch_block = ?2",
        rusqlite::params![mecid, i(epoch), detail],
    )
    .map_err(db("weights"))?;
    Ok(())
}

/// The weights of `mecid` submitted for epochs after `epoch` (set, committed or matched), as
/// `(uids, values)`; a row that does not decode reads as empty.
pub fn later_weights(
    conn: &Connection,
    mecid: u8,
    epoch: u64,
) -> Result<Vec<(Vec<u16>, Vec<u16>)>> {
    let mut stmt = conn
        .prepare(
            "SELECT uids, weight_values FROM weights WHERE mecid = ?1 AND epoch_block > ?2
             AND status IN ('set', 'committed', 'matched')",
        )
        .map_err(db("weights"))?;
    let rows: Vec<(String, String)> = stmt
        .query_map(rusqlite::params![mecid, i(epoch)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(db("weights"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(db("weights"))?;
    Ok(rows
        .iter()
        .map(|(u, v)| {
            (
                from_json("stored weights uids", u).unwrap_or_default(),
                from_json("stored weights values", v).unwrap_or_default(),
            )
        })
        .collect())
}
