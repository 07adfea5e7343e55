//! The signing journal's tables: `journal` (one row per subject with what was signed for it) and
//! `journal_refusals`. Only reads and writes live here; what may be signed is decided by
//! [`crate::journal`], which calls these inside the block's transaction.

use alloy_primitives::B256;
use rusqlite::{Connection, OptionalExtension};
use tao20_creation::eip712::Eip712Message;

use super::{db, i, now, to_json, u};
use crate::{Error, Result};

/// A hash stored as text.
pub(crate) fn parse_b256(what: &str, text: &str) -> Result<B256> {
    text.parse().map_err(|e| Error::Decode {
        what: what.to_string(),
        reason: format!("{text:?}: {e}"),
    })
}

/// What the journal holds for a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The content hash signed for it.
    pub content: B256,
    /// The digest last committed to, if any (none for an imported row).
    pub digest: Option<B256>,
    /// The highest signer-set version signed under.
    pub version: u64,
    /// The signature of `digest`, once the signing step completed.
    pub signature: Option<Vec<u8>>,
}

/// A journal row as SQLite returns it.
type RawRow = (String, Option<String>, i64, Option<Vec<u8>>);

/// The row of the subject keyed `key`.
pub fn row(conn: &Connection, key: &str) -> Result<Option<Row>> {
    let raw: Option<RawRow> = conn
        .query_row(
            "SELECT content_hash, digest, signer_set_version, signature FROM journal WHERE subject = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db(format!("journal {key}")))?;
    raw.map(|(content, digest, version, signature)| {
        Ok(Row {
            content: parse_b256("journal content hash", &content)?,
            digest: digest
                .map(|d| parse_b256("journal digest", &d))
                .transpose()?,
            version: u(version),
            signature,
        })
    })
    .transpose()
}

/// The keys of the journal's subjects that start with `prefix` (`epoch:`, `sweep:`).
pub fn subjects_with_prefix(conn: &Connection, prefix: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT subject FROM journal WHERE substr(subject, 1, length(?1)) = ?1")
        .map_err(db("journal watermark"))?;
    let keys = stmt
        .query_map([prefix], |r| r.get::<_, String>(0))
        .map_err(db("journal watermark"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(db("journal watermark"))?;
    Ok(keys)
}

/// Why a proposed message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// Different content than was signed for the subject (the column's default, `content`).
    Content,
    /// Below its kind's low watermark with no row of its own (`watermark`).
    Watermark,
}

/// Records a refusal at `block`: what was signed (a content hash, or the watermark subject) and
/// the content hash proposed.
pub fn record_refusal(
    conn: &Connection,
    key: &str,
    signed: &str,
    proposed: &B256,
    block: u64,
    reason: RefusalReason,
) -> Result<()> {
    let params = rusqlite::params![key, signed, proposed.to_string(), i(block), now()];
    match reason {
        RefusalReason::Content => conn.execute(
            "INSERT INTO journal_refusals (subject, signed_hash, proposed_hash, block, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params,
        ),
        RefusalReason::Watermark => conn.execute(
            "INSERT INTO journal_refusals (subject, signed_hash, proposed_hash, block, at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, 'watermark')",
            params,
        ),
    }
    .map_err(db("journal refusal"))?;
    Ok(())
}

/// A subject's first signing, as the journal records it before the signature exists.
#[derive(Debug, Clone, Copy)]
pub struct NewRow<'a> {
    /// The subject's key.
    pub key: &'a str,
    /// The signer (stored lowercase).
    pub signer: &'a alloy_primitives::Address,
    /// The content hash.
    pub content: &'a B256,
    /// The digest to sign.
    pub digest: &'a B256,
    /// The signer-set version.
    pub version: u64,
    /// The message.
    pub message: &'a Eip712Message,
    /// The block that decided it.
    pub block: u64,
}

/// Writes a subject's first row.
pub fn insert(conn: &Connection, r: &NewRow<'_>) -> Result<()> {
    conn.execute(
        "INSERT INTO journal (subject, signer, content_hash, digest, signer_set_version, message, first_block)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            r.key,
            r.signer.to_string().to_lowercase(),
            r.content.to_string(),
            r.digest.to_string(),
            i(r.version),
            to_json("journal message", r.message)?,
            i(r.block),
        ],
    )
    .map_err(db(format!("journal {}", r.key)))?;
    Ok(())
}

/// The same content under a new signer-set version: the new digest to sign, its signature not
/// made yet.
pub fn resign(
    conn: &Connection,
    key: &str,
    digest: &B256,
    version: u64,
    message: &Eip712Message,
) -> Result<()> {
    conn.execute(
        "UPDATE journal SET digest = ?2, signer_set_version = ?3, message = ?4, signature = NULL
         WHERE subject = ?1",
        rusqlite::params![
            key,
            digest.to_string(),
            i(version),
            to_json("journal message", message)?,
        ],
    )
    .map_err(db(format!("journal {key}")))?;
    Ok(())
}

/// Stores the signature of a subject's committed digest.
pub fn set_signature(conn: &Connection, key: &str, signature: &[u8]) -> Result<()> {
    conn.execute(
        "UPDATE journal SET signature = ?2 WHERE subject = ?1",
        rusqlite::params![key, signature],
    )
    .map_err(db(format!("journal {key}")))?;
    Ok(())
}

/// Whether the journal committed this keeper to `digest` (signed, or to be signed, or carried
/// over by an import): a signature of this keeper's key over any other digest was made by
/// another process (see [`crate::safety`]).
pub fn has_digest(conn: &Connection, digest: &B256) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM journal WHERE digest = ?1)",
        [digest.to_string()],
        |r| r.get(0),
    )
    .map_err(db(format!("journal digest {digest}")))
}

/// Refusals recorded so far.
pub fn refusals(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM journal_refusals", [], |r| r.get(0))
        .map_err(db("journal refusals"))?;
    Ok(u(n))
}

/// Refusals recorded at `block`.
pub fn refusals_at(conn: &Connection, block: u64) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM journal_refusals WHERE block = ?1",
            [i(block)],
            |r| r.get(0),
        )
        .map_err(db("journal refusals"))?;
    Ok(u(n))
}

/// Subjects signed so far.
pub fn signed(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        // Rows a dry run committed to are not signed until a live run signs them.
        .query_row(
            "SELECT COUNT(*) FROM journal WHERE imported = 0 AND signature IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .map_err(db("journal"))?;
    Ok(u(n))
}

/// A journal row as the interchange exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The signer, lowercase.
    pub signer: String,
    /// The subject's key.
    pub subject: String,
    /// The content hash.
    pub content_hash: String,
    /// The digest last committed to, if any.
    pub digest: Option<String>,
    /// The signer-set version.
    pub version: u64,
}

/// Every journal row, by signer and subject.
pub fn all(conn: &Connection) -> Result<Vec<Exported>> {
    let mut stmt = conn
        .prepare(
            "SELECT signer, subject, content_hash, digest, signer_set_version FROM journal
             ORDER BY signer, subject",
        )
        .map_err(db("journal export"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Exported {
                signer: r.get(0)?,
                subject: r.get(1)?,
                content_hash: r.get(2)?,
                digest: r.get(3)?,
                version: u(r.get(4)?),
            })
        })
        .map_err(db("journal export"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(db("journal export"))?;
    Ok(rows)
}

/// An imported subject already here with the same content: its version raised to `version`.
pub fn raise_version(conn: &Connection, key: &str, version: u64) -> Result<()> {
    conn.execute(
        "UPDATE journal SET signer_set_version = ?2 WHERE subject = ?1",
        rusqlite::params![key, i(version)],
    )
    .map_err(db("journal import"))?;
    Ok(())
}

/// An imported subject new here: its content and version, without a digest or signature, so the
/// keeper may only ever sign that content for it.
pub fn insert_imported(
    conn: &Connection,
    key: &str,
    signer: &alloy_primitives::Address,
    content: &B256,
    version: u64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO journal (subject, signer, content_hash, digest, signer_set_version, first_block, imported)
         VALUES (?1, ?2, ?3, NULL, ?4, 0, 1)",
        rusqlite::params![
            key,
            signer.to_string().to_lowercase(),
            content.to_string(),
            i(version)
        ],
    )
    .map_err(db("journal import"))?;
    Ok(())
}
