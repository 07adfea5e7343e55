//! The signing journal in the store: lighthouse's slashing-protection pattern for report
//! signatures.
//!
//! One row per subject (a request, an orphan delivery, an epoch, a sweep nonce) with the content
//! hash signed for it. [`check_and_record`] runs inside the block's exclusive transaction: the
//! rule of [`tao20_creation::journal::decide`] against the stored row, and the row written, all
//! committed together with the block's other effects. Only after that commit does
//! [`signature_for`] sign (or return the stored signature of the same digest). A crash between
//! the two loses a signature, never safety: the restart signs the committed digest.
//!
//! Different content for a signed subject is refused, recorded in `journal_refusals` and
//! counted; it never aborts the block. Identical content is answered with the stored signature,
//! and signed again only under a new signer-set version (a new digest).
//!
//! Epochs and sweep nonces are ordered, and a keeper signs them in order: each kind has a low
//! watermark, the highest of its kind the journal holds, signed or imported (lighthouse's rule for
//! slots and epochs). A subject of that kind below it with no row of its own is refused: this
//! journal cannot say what was signed for it (a database started afresh, a history imported
//! without it), so it signs nothing there.
//!
//! [`export`] and [`import`] use an EIP-3076-style interchange (integers as decimal strings);
//! an import never lets the keeper sign different content for an imported subject, and refuses
//! outright to merge a subject the two sides signed differently.
//!
//! The rows themselves are read and written by [`crate::store::journal`]; this module decides.

use alloy_primitives::{Address, B256};
use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use tao20_creation::eip712::Eip712Message;
use tao20_creation::journal::{decide, entry_for, Decision, JournalEntry, Subject};
use tao20_creation::signing::ReportSigner;

use crate::store::journal::{self as rows, parse_b256, NewRow, RefusalReason};
use crate::store::Store;
use crate::{Error, Result};

/// The interchange format's name and version.
pub const INTERCHANGE_FORMAT: &str = "tao20-signing-journal/1";

/// A subject as the store keys it: `request:0x…`, `delivery:BLOCK:INDEX`, `epoch:N`, `sweep:N`.
pub fn subject_key(s: &Subject) -> String {
    match s {
        Subject::Request { request_id } => format!("request:{request_id}"),
        Subject::Delivery { block, index } => format!("delivery:{block}:{index}"),
        Subject::Epoch { epoch_id } => format!("epoch:{epoch_id}"),
        Subject::Sweep { nonce } => format!("sweep:{nonce}"),
    }
}

/// Parses [`subject_key`]'s form.
pub fn parse_subject(key: &str) -> Result<Subject> {
    let bad = || Error::Decode {
        what: format!("journal subject {key:?}"),
        reason: "expected request:0x…, delivery:BLOCK:INDEX, epoch:N or sweep:N".into(),
    };
    let (kind, rest) = key.split_once(':').ok_or_else(bad)?;
    match kind {
        "request" => Ok(Subject::Request {
            request_id: rest.parse::<B256>().map_err(|_| bad())?,
        }),
        "delivery" => {
            let (b, i) = rest.split_once(':').ok_or_else(bad)?;
            Ok(Subject::Delivery {
                block: b.parse().map_err(|_| bad())?,
                index: i.parse().map_err(|_| bad())?,
            })
        }
        "epoch" => Ok(Subject::Epoch {
            epoch_id: rest.parse().map_err(|_| bad())?,
        }),
        "sweep" => Ok(Subject::Sweep {
            nonce: rest.parse().map_err(|_| bad())?,
        }),
        _ => Err(bad()),
    }
}

/// What the journal decided for a proposed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Sign `digest` (nothing was signed for the subject, or the same content under another
    /// signer-set version).
    Sign {
        /// The subject.
        subject: Subject,
        /// The digest to sign.
        digest: B256,
    },
    /// The same digest was signed before: its stored signature, if the signing step completed.
    Signed {
        /// The subject.
        subject: Subject,
        /// The digest.
        digest: B256,
        /// The stored signature.
        signature: Option<Vec<u8>>,
    },
    /// Different content was signed for the subject before: refused (and recorded).
    Refused {
        /// The subject.
        subject: Subject,
        /// The content hash signed before.
        signed: B256,
        /// The content hash proposed now.
        proposed: B256,
    },
    /// Refused: the subject is below its kind's low watermark and this journal has no row for
    /// it (recorded in `journal_refusals` with the reason `watermark`).
    BelowWatermark {
        /// The subject.
        subject: Subject,
        /// The highest subject of its kind in the journal, as a number (epoch, sweep nonce).
        watermark: u64,
    },
}

/// An ordered subject's kind prefix and number: epochs and sweep nonces.
fn ordered(s: &Subject) -> Option<(&'static str, u64)> {
    match s {
        Subject::Epoch { epoch_id } => Some(("epoch:", *epoch_id)),
        Subject::Sweep { nonce } => Some(("sweep:", *nonce)),
        Subject::Request { .. } | Subject::Delivery { .. } => None,
    }
}

/// The low watermark of `kind` (`epoch:` or `sweep:`): the highest number of that kind in the
/// journal, signed or imported.
pub fn low_watermark(conn: &Connection, kind: &str) -> Result<Option<u64>> {
    let mut high: Option<u64> = None;
    for key in rows::subjects_with_prefix(conn, kind)? {
        if let Some((_, n)) = ordered(&parse_subject(&key)?) {
            high = high.max(Some(n));
        }
    }
    Ok(high)
}

/// The journal rule for `message` (signed under `chain_id`/`contract` by `signer`), applied and
/// recorded in the caller's transaction.
pub fn check_and_record(
    tx: &Transaction<'_>,
    signer: Address,
    message: &Eip712Message,
    chain_id: u64,
    contract: Address,
    block: u64,
) -> Result<Checked> {
    let proposed = entry_for(message)?;
    let subject = proposed.subject;
    let key = subject_key(&subject);
    let digest = message.digest(chain_id, contract);
    let row = rows::row(tx, &key)?;
    if row.is_none() {
        if let Some((kind, n)) = ordered(&subject) {
            if let Some(low) = low_watermark(tx, kind)?.filter(|low| *low > n) {
                rows::record_refusal(
                    tx,
                    &key,
                    &format!("{kind}{low}"),
                    &proposed.content,
                    block,
                    RefusalReason::Watermark,
                )?;
                tracing::error!(target: "keeper::journal", subject = %key, watermark = low,
                    "refused to sign below the journal's low watermark: it holds a later subject of this kind and no record of this one");
                return Ok(Checked::BelowWatermark {
                    subject,
                    watermark: low,
                });
            }
        }
    }
    let existing = row.as_ref().map(|r| JournalEntry {
        subject,
        content: r.content,
        signer_set_version: r.version,
    });
    match decide(existing.as_ref(), message) {
        Err(tao20_creation::Error::JournalConflict { .. }) => {
            let signed = row.map(|r| r.content).unwrap_or_default();
            rows::record_refusal(
                tx,
                &key,
                &signed.to_string(),
                &proposed.content,
                block,
                RefusalReason::Content,
            )?;
            tracing::error!(target: "keeper::journal", subject = %key, %signed, proposed = %proposed.content,
                "refused to sign different content for a subject signed before");
            Ok(Checked::Refused {
                subject,
                signed,
                proposed: proposed.content,
            })
        }
        Err(e) => Err(e.into()),
        Ok(Decision::SignNew(entry)) => {
            rows::insert(
                tx,
                &NewRow {
                    key: &key,
                    signer: &signer,
                    content: &entry.content,
                    digest: &digest,
                    version: entry.signer_set_version,
                    message,
                    block,
                },
            )?;
            Ok(Checked::Sign { subject, digest })
        }
        Ok(Decision::Resign(entry)) => {
            let r = row.ok_or_else(|| Error::Store {
                what: "journal".into(),
                reason: "resign decided without a row".into(),
            })?;
            if r.digest == Some(digest) {
                return Ok(Checked::Signed {
                    subject,
                    digest,
                    signature: r.signature,
                });
            }
            // Same content under another signer-set version: a new digest to sign. The stored
            // version only ever grows, so an older digest is never signed again.
            if entry_for(message)?.signer_set_version < r.version {
                return Ok(Checked::Signed {
                    subject,
                    digest,
                    signature: None,
                });
            }
            rows::resign(tx, &key, &digest, entry.signer_set_version, message)?;
            Ok(Checked::Sign { subject, digest })
        }
    }
}

/// The signature of `digest` for `subject`, after the journal committed it: the stored one, or
/// a new one (stored before it is returned). Refuses a digest that is not the subject's
/// committed one.
pub fn signature_for(
    store: &mut Store,
    signer: &ReportSigner,
    subject: &Subject,
    digest: B256,
) -> Result<Vec<u8>> {
    let key = subject_key(subject);
    store.write(|tx| {
        let row = rows::row(tx, &key)?.ok_or_else(|| Error::Refused {
            subject: key.clone(),
            signed: "nothing".into(),
            proposed: digest.to_string(),
        })?;
        if row.digest != Some(digest) {
            return Err(Error::Refused {
                subject: key.clone(),
                signed: row.digest.map(|d| d.to_string()).unwrap_or_default(),
                proposed: digest.to_string(),
            });
        }
        if let Some(sig) = row.signature {
            return Ok(sig);
        }
        let sig = signer.sign_digest(&digest)?.to_vec();
        rows::set_signature(tx, &key, &sig)?;
        Ok(sig)
    })
}

/// The interchange document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interchange {
    /// What it is and which deployment it belongs to.
    pub metadata: InterchangeMetadata,
    /// Per signer, what it signed.
    pub data: Vec<SignerRecords>,
}

/// The interchange's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterchangeMetadata {
    /// [`INTERCHANGE_FORMAT`].
    pub format: String,
    /// Chain id, decimal.
    pub chain_id: String,
    /// The contract.
    pub contract: String,
}

/// One signer's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerRecords {
    /// The signer's address.
    pub signer: String,
    /// Its signed subjects.
    pub signed: Vec<SignedRecord>,
}

/// One signed subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRecord {
    /// [`subject_key`].
    pub subject: String,
    /// The content hash.
    pub content_hash: String,
    /// The last digest signed, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The highest signer-set version signed under, decimal.
    pub signer_set_version: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportSummary {
    /// Subjects added.
    pub added: u64,
    /// Subjects already present with the same content (versions merged).
    pub merged: u64,
}

/// Exports every journal row. Takes the writer's lock: the keeper must be stopped.
pub fn export(store: &Store, chain_id: u64, contract: Address) -> Result<Interchange> {
    if !store.is_writer() {
        return Err(Error::Import(
            "export needs the database's lock (stop the keeper first)".into(),
        ));
    }
    let mut data: Vec<SignerRecords> = Vec::new();
    for row in rows::all(store.conn())? {
        let rows::Exported {
            signer,
            subject,
            content_hash,
            digest,
            version,
        } = row;
        let rec = SignedRecord {
            subject,
            content_hash,
            digest,
            signer_set_version: version.to_string(),
        };
        match data.last_mut() {
            Some(s) if s.signer == signer => s.signed.push(rec),
            _ => data.push(SignerRecords {
                signer,
                signed: vec![rec],
            }),
        }
    }
    Ok(Interchange {
        metadata: InterchangeMetadata {
            format: INTERCHANGE_FORMAT.into(),
            chain_id: chain_id.to_string(),
            contract: contract.to_string().to_lowercase(),
        },
        data,
    })
}

/// Imports an interchange into the journal, all or nothing: a subject recorded here with other
/// content than the import's refuses the whole import; identical content keeps the higher
/// version; new subjects are added without a digest or signature, so the keeper may only ever
/// sign their imported content.
pub fn import(
    store: &mut Store,
    doc: &Interchange,
    chain_id: u64,
    contract: Address,
) -> Result<ImportSummary> {
    if doc.metadata.format != INTERCHANGE_FORMAT {
        return Err(Error::Import(format!(
            "format {:?}, expected {INTERCHANGE_FORMAT:?}",
            doc.metadata.format
        )));
    }
    if doc.metadata.chain_id != chain_id.to_string()
        || doc.metadata.contract.to_lowercase() != contract.to_string().to_lowercase()
    {
        return Err(Error::Import(format!(
            "the file is for chain {} contract {}, this keeper for chain {chain_id} contract {contract}",
            doc.metadata.chain_id, doc.metadata.contract
        )));
    }
    store.write(|tx| {
        let mut summary = ImportSummary::default();
        // A database bound to a signer takes only that signer's history: another key's records
        // would make this keeper refuse content it never signed, or (worse) hide what it did.
        let bound = crate::store::meta(tx, "signer")?;
        for signer in &doc.data {
            let signer_addr: Address = signer.signer.parse().map_err(|e| {
                Error::Import(format!("signer {:?}: {e}", signer.signer))
            })?;
            if let Some(bound) = &bound {
                if *bound != signer_addr.to_string().to_lowercase() {
                    return Err(Error::Import(format!(
                        "the file holds signer {signer_addr}'s history, this database belongs to signer {bound}"
                    )));
                }
            }
            for rec in &signer.signed {
                let subject = parse_subject(&rec.subject)?;
                let key = subject_key(&subject);
                let content = parse_b256("imported content hash", &rec.content_hash)?;
                let version: u64 = rec.signer_set_version.parse().map_err(|_| {
                    Error::Import(format!(
                        "{key}: signer_set_version {:?} is not a decimal integer",
                        rec.signer_set_version
                    ))
                })?;
                match rows::row(tx, &key)? {
                    Some(row) if row.content != content => {
                        return Err(Error::Import(format!(
                            "{key} was signed here with content {} and in the file with {content}: \
                             refusing to merge conflicting journals",
                            row.content
                        )))
                    }
                    Some(row) => {
                        if version > row.version {
                            rows::raise_version(tx, &key, version)?;
                        }
                        summary.merged += 1;
                    }
                    None => {
                        rows::insert_imported(tx, &key, &signer_addr, &content, version)?;
                        summary.added += 1;
                    }
                }
            }
        }
        Ok(summary)
    })
}
