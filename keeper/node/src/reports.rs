//! Reports, their signatures and their quorum progress in the store (the outbox of actions
//! decided in block transactions is [`crate::store::outbox`]).

use alloy_primitives::{keccak256, Address, B256};
use rusqlite::{Connection, OptionalExtension, Transaction};
use tao20_creation::eip712::Eip712Message;
use tao20_creation::journal::Subject;

use crate::journal::subject_key;
use crate::store::{db, from_json, to_json};
use crate::{Error, Result};

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A report this keeper computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Its EIP-712 digest.
    pub digest: B256,
    /// Its subject.
    pub subject: String,
    /// The message.
    pub message: Eip712Message,
    /// The signer-set version it is signed under.
    pub signer_set_version: u64,
    /// Block it was computed at.
    pub created_block: u64,
    /// Block a quorum was first seen, if any.
    pub quorum_block: Option<u64>,
    /// Block its subject was settled on chain, if known.
    pub settled_block: Option<u64>,
    /// How it was settled.
    pub outcome: Option<String>,
}

/// Records a report (idempotent: a known digest is left as it is).
pub fn insert_report(
    tx: &Transaction<'_>,
    digest: B256,
    subject: &Subject,
    message: &Eip712Message,
    block: u64,
) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO reports (digest, subject, kind, message, signer_set_version, created_block)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            digest.to_string(),
            subject_key(subject),
            message.type_name(),
            to_json("report", message)?,
            i(version_of(message)),
            i(block)
        ],
    )
    .map_err(db("report"))?;
    Ok(())
}

/// The signer-set version a message carries.
pub fn version_of(message: &Eip712Message) -> u64 {
    match message {
        Eip712Message::CreationFile(f) => f.signer_set_version,
        Eip712Message::CreationReport(r) => r.signer_set_version,
        Eip712Message::RefundReport(r) => r.signer_set_version,
        Eip712Message::Sweep(s) => s.signer_set_version,
        Eip712Message::Asset(_) | Eip712Message::Position(_) => 0,
    }
}

/// The report with `digest`, if this keeper computed it.
pub fn report(conn: &Connection, digest: &B256) -> Result<Option<Report>> {
    conn.query_row(
        "SELECT subject, message, signer_set_version, created_block, quorum_block, settled_block, outcome
         FROM reports WHERE digest = ?1",
        [digest.to_string()],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        },
    )
    .optional()
    .map_err(db("report"))?
    .map(|(subject, message, version, created, quorum, settled, outcome)| {
        Ok(Report {
            digest: *digest,
            subject,
            message: from_json("report message", &message)?,
            signer_set_version: u(version),
            created_block: u(created),
            quorum_block: quorum.map(u),
            settled_block: settled.map(u),
            outcome,
        })
    })
    .transpose()
}

/// Unsettled reports created at or after `since`, oldest first.
pub fn open_reports(conn: &Connection, since: u64) -> Result<Vec<Report>> {
    let mut stmt = conn
        .prepare(
            "SELECT digest FROM reports WHERE settled_block IS NULL AND created_block >= ?1
             ORDER BY created_block, digest",
        )
        .map_err(db("open reports"))?;
    let digests: Vec<String> = stmt
        .query_map([i(since)], |r| r.get(0))
        .map_err(db("open reports"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(db("open reports"))?;
    let mut out = Vec::new();
    for d in digests {
        let digest: B256 = d.parse().map_err(|_| Error::Decode {
            what: "report digest".into(),
            reason: d.clone(),
        })?;
        if let Some(r) = report(conn, &digest)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Records a verified signature; returns how many signatures the digest now has.
pub fn add_signature(
    conn: &Connection,
    digest: &B256,
    signer: &Address,
    signature: &[u8],
    source: &str,
) -> Result<u64> {
    conn.execute(
        "INSERT OR IGNORE INTO signatures (digest, signer, signature, source, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            digest.to_string(),
            signer.to_string().to_lowercase(),
            signature,
            source,
            now()
        ],
    )
    .map_err(db("signature"))?;
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM signatures WHERE digest = ?1",
            [digest.to_string()],
            |r| r.get(0),
        )
        .map_err(db("signatures"))?;
    Ok(u(n))
}

/// The verified signatures of a digest, ascending by signer.
pub fn signatures(conn: &Connection, digest: &B256) -> Result<Vec<(Address, Vec<u8>)>> {
    let mut stmt = conn
        .prepare("SELECT signer, signature FROM signatures WHERE digest = ?1 ORDER BY signer")
        .map_err(db("signatures"))?;
    let rows = stmt
        .query_map([digest.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .map_err(db("signatures"))?;
    let mut out = Vec::new();
    for row in rows {
        let (signer, sig) = row.map_err(db("signatures"))?;
        let addr: Address = signer.parse().map_err(|_| Error::Decode {
            what: "signature signer".into(),
            reason: signer.clone(),
        })?;
        out.push((addr, sig));
    }
    out.sort_by_key(|(a, _)| *a);
    Ok(out)
}

/// Marks the first block a quorum was seen (kept if already set); returns whether it was new.
pub fn set_quorum(conn: &Connection, digest: &B256, block: u64) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE reports SET quorum_block = ?2 WHERE digest = ?1 AND quorum_block IS NULL",
            rusqlite::params![digest.to_string(), i(block)],
        )
        .map_err(db("report quorum"))?;
    Ok(n > 0)
}

/// Marks every report of a subject settled (its digest under any signer-set version).
pub fn settle_subject(conn: &Connection, subject: &str, block: u64, outcome: &str) -> Result<()> {
    conn.execute(
        "UPDATE reports SET settled_block = ?2, outcome = ?3 WHERE subject = ?1 AND settled_block IS NULL",
        rusqlite::params![subject, i(block), outcome],
    )
    .map_err(db("report settled"))?;
    Ok(())
}

/// OCR2's transmission order: the signers sorted by `keccak256(digest ‖ signer)`. Every keeper
/// computes the same order, so the first in it transmits first and the others only if it has
/// not done so `stage` blocks later.
pub fn transmission_rank(digest: &B256, signers: &[Address], me: &Address) -> Option<usize> {
    let mut order: Vec<(B256, Address)> = signers
        .iter()
        .map(|s| {
            let mut buf = [0u8; 52];
            buf[..32].copy_from_slice(digest.as_slice());
            buf[32..].copy_from_slice(s.as_slice());
            (keccak256(buf), *s)
        })
        .collect();
    order.sort();
    order.iter().position(|(_, s)| s == me)
}

/// The first block at or after `now` inside the transmission turn of `rank` among `slots`, each
/// turn `stage` blocks long and the first starting at `anchor` (the block the report was decided
/// at, which every keeper shares): turns repeat every `slots x stage` blocks, so at most one
/// keeper's turn is open at any block whatever moment each keeper saw the quorum, and a keeper
/// that is down only costs its own turn.
///
/// A keeper starts no send in the last [`turn_guard`] blocks of its turn: keepers see the head a
/// little apart and a send takes a few round trips, and a send begun at the very end of one turn
/// would race the next keeper's simulation, which cannot see it in the pool yet.
pub fn turn_start(anchor: u64, rank: usize, slots: usize, stage: u64, now: u64) -> u64 {
    let stage = stage.max(1);
    let open = stage - turn_guard(stage);
    let slots = u64::try_from(slots.max(1)).unwrap_or(u64::MAX);
    let rank = u64::try_from(rank).unwrap_or(u64::MAX) % slots;
    let period = slots.saturating_mul(stage);
    let first = anchor.saturating_add(rank.saturating_mul(stage));
    if now <= first {
        return first;
    }
    let start = first.saturating_add((now - first) / period * period);
    if now < start.saturating_add(open) {
        now
    } else {
        start.saturating_add(period)
    }
}

/// The blocks at the end of a `stage`-block turn in which no send starts: a quarter of the turn
/// (none for turns shorter than 4 blocks, whose blocks are long enough by themselves).
pub fn turn_guard(stage: u64) -> u64 {
    stage.max(1) / 4
}

/// Digests of the reports first journaled at `block`.
pub fn created_at(conn: &Connection, block: u64) -> Result<Vec<B256>> {
    let mut stmt = conn
        .prepare("SELECT digest FROM reports WHERE created_block = ?1 ORDER BY digest")
        .map_err(db("reports"))?;
    let rows: Vec<String> = stmt
        .query_map([i(block)], |r| r.get(0))
        .map_err(db("reports"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(db("reports"))?;
    rows.iter()
        .map(|d| {
            d.parse().map_err(|_| Error::Decode {
                what: "stored report digest".into(),
                reason: d.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_turn_is_open_at_every_block_and_each_keeper_waits_for_its_own() {
        let (anchor, slots, stage) = (1_000u64, 5usize, 4u64);
        for now in anchor..anchor + 3 * 5 * 4 {
            let open: Vec<usize> = (0..slots)
                .filter(|&r| turn_start(anchor, r, slots, stage, now) == now)
                .collect();
            let in_turn = (now - anchor) % stage;
            if in_turn >= stage - turn_guard(stage) {
                assert!(open.is_empty(), "block {now} ends a turn: open {open:?}");
                continue;
            }
            assert_eq!(open.len(), 1, "block {now}: turns open {open:?}");
            assert_eq!(
                open[0],
                usize::try_from((now - anchor) / stage).unwrap() % slots
            );
            for r in 0..slots {
                let t = turn_start(anchor, r, slots, stage, now);
                assert!(t >= now && t < now + 5 * 4, "rank {r} at {now}: {t}");
                assert_eq!((t - anchor) / stage % 5, u64::try_from(r).unwrap());
            }
        }
        // Before the anchor, each waits for its first turn.
        assert_eq!(turn_start(anchor, 3, slots, stage, 0), anchor + 12);
    }

    #[test]
    fn every_signer_gets_a_distinct_rank_and_the_order_depends_on_the_digest() {
        let signers: Vec<Address> = (1..=5u8).map(Address::repeat_byte).collect();
        let ranks = |d: B256| -> Vec<usize> {
            signers
                .iter()
                .map(|s| transmission_rank(&d, &signers, s).unwrap())
                .collect()
        };
        let a = ranks(B256::repeat_byte(1));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        // Some digest puts a different signer first (the load spreads over the set).
        let firsts: std::collections::BTreeSet<usize> = (0..32u8)
            .map(|i| {
                let r = ranks(B256::repeat_byte(i));
                r.iter().position(|x| *x == 0).unwrap()
            })
            .collect();
        assert!(firsts.len() > 1, "{firsts:?}");
        assert_eq!(
            transmission_rank(&B256::ZERO, &signers, &Address::repeat_byte(9)),
            None
        );
    }
}
