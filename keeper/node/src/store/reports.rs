//! The reports this keeper journaled (`reports`, by digest, with their quorum and settlement)
//! and the verified signatures of their digests (`signatures`): what the engine, the exchange
//! and the BEVM executor share about each report.

use alloy_primitives::{Address, B256};
use rusqlite::{Connection, OptionalExtension, Transaction};
use tao20_creation::eip712::Eip712Message;
use tao20_creation::journal::Subject;

use super::{db, from_json, i, now, to_json, u};
use crate::journal::subject_key;
use crate::reports::version_of;
use crate::{Error, Result};

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

/// Whether a report of `subject` was settled on chain (under any signer-set version).
pub fn subject_settled(conn: &Connection, subject: &str) -> Result<bool> {
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM reports WHERE subject = ?1 AND settled_block IS NOT NULL",
            [subject],
            |r| r.get(0),
        )
        .map_err(db("reports"))?;
    Ok(n > 0)
}
