//! The signing journal's rule, as a validator's slashing protection: a keeper never signs two
//! different contents for one subject. Identical content may be signed again, including under a
//! new `signerSetVersion` (after a signer-set change the old signatures no longer count).
//!
//! *Content* is the struct hash of the message with its `signerSetVersion` set to zero, so two
//! messages that differ only in the version are the same content. *Subjects*:
//! - a creation or refund report with a request id: the request (never a mint report and a refund
//!   report for one request, never two different values);
//! - a refund report of an orphan (zero request id): its delivery `(block, extrinsicIndex)`;
//! - a creation file: its epoch; a sweep: its nonce.
//!
//! The store persists [`JournalEntry`] values and calls [`decide`] before every signature, writing
//! the entry before the signature leaves the process.

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

use crate::eip712::Eip712Message;
use crate::{Error, Result};

/// What a signature commits the keeper to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Subject {
    /// A creation request (creation and refund reports that name it).
    Request {
        /// The request id.
        request_id: B256,
    },
    /// An orphan delivery, refunded by its delivery id.
    Delivery {
        /// Block of the delivery extrinsic.
        block: u64,
        /// Index of the extrinsic in its block.
        index: u32,
    },
    /// An epoch's creation file.
    Epoch {
        /// The epoch.
        epoch_id: u64,
    },
    /// A sweep.
    Sweep {
        /// Its nonce.
        nonce: u64,
    },
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request { request_id } => write!(f, "request {request_id}"),
            Self::Delivery { block, index } => write!(f, "delivery ({block}, {index})"),
            Self::Epoch { epoch_id } => write!(f, "epoch {epoch_id}"),
            Self::Sweep { nonce } => write!(f, "sweep {nonce}"),
        }
    }
}

/// One journal record: the subject, the content signed for it, and the latest version signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// What was signed for.
    pub subject: Subject,
    /// The content hash (struct hash with `signerSetVersion = 0`).
    pub content: B256,
    /// The highest `signerSetVersion` signed under.
    pub signer_set_version: u64,
}

/// What the journal allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    /// Nothing was signed for this subject: sign and record the entry.
    SignNew(JournalEntry),
    /// The same content was signed before: signing again (under this or a new version) is safe;
    /// record the returned entry (its version is the larger of the two).
    Resign(JournalEntry),
}

/// The subject a message commits to; `None` for `Asset` and `Position`, which are never signed
/// on their own.
pub fn subject(message: &Eip712Message) -> Option<Subject> {
    match message {
        Eip712Message::Asset(_) | Eip712Message::Position(_) => None,
        Eip712Message::CreationFile(f) => Some(Subject::Epoch {
            epoch_id: f.epoch_id,
        }),
        Eip712Message::CreationReport(r) => Some(Subject::Request {
            request_id: r.request_id,
        }),
        Eip712Message::RefundReport(r) if r.request_id == B256::ZERO => Some(Subject::Delivery {
            block: r.delivery_block,
            index: r.delivery_index,
        }),
        Eip712Message::RefundReport(r) => Some(Subject::Request {
            request_id: r.request_id,
        }),
        Eip712Message::Sweep(s) => Some(Subject::Sweep { nonce: s.nonce }),
    }
}

/// The version of a message (0 for types without one).
fn version_of(message: &Eip712Message) -> u64 {
    match message {
        Eip712Message::Asset(_) | Eip712Message::Position(_) => 0,
        Eip712Message::CreationFile(f) => f.signer_set_version,
        Eip712Message::CreationReport(r) => r.signer_set_version,
        Eip712Message::RefundReport(r) => r.signer_set_version,
        Eip712Message::Sweep(s) => s.signer_set_version,
    }
}

/// The journal entry signing `message` would record. Content also binds the type name, so a
/// creation report and a refund report for one request never count as the same content.
pub fn entry_for(message: &Eip712Message) -> Result<JournalEntry> {
    let subject = subject(message).ok_or_else(|| {
        Error::Signature(format!(
            "{} is never signed on its own",
            message.type_name()
        ))
    })?;
    let unversioned = message.with_signer_set_version(0);
    let mut content = [0u8; 64];
    content[..32].copy_from_slice(alloy_primitives::keccak256(message.type_name()).as_slice());
    content[32..].copy_from_slice(unversioned.struct_hash().as_slice());
    Ok(JournalEntry {
        subject,
        content: alloy_primitives::keccak256(content),
        signer_set_version: version_of(message),
    })
}

/// The journal's rule: may `message` be signed, given the entry already recorded for its subject
/// (`None` if nothing was signed for it)?
pub fn decide(existing: Option<&JournalEntry>, message: &Eip712Message) -> Result<Decision> {
    let proposed = entry_for(message)?;
    match existing {
        None => Ok(Decision::SignNew(proposed)),
        Some(e) if e.subject != proposed.subject => Err(Error::Signature(format!(
            "journal entry for {} consulted for {}",
            e.subject, proposed.subject
        ))),
        Some(e) if e.content == proposed.content => Ok(Decision::Resign(JournalEntry {
            signer_set_version: e.signer_set_version.max(proposed.signer_set_version),
            ..proposed
        })),
        Some(e) => Err(Error::JournalConflict {
            key: e.subject.to_string(),
            signed: e.content,
            proposed: proposed.content,
        }),
    }
}

/// An in-memory journal: the entries by subject. The keeper's store persists the same entries;
/// this type gives the tests and the offline tools the same rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    entries: Vec<JournalEntry>,
}

impl Journal {
    /// The entry recorded for `subject`.
    pub fn get(&self, subject: &Subject) -> Option<&JournalEntry> {
        self.entries.iter().find(|e| e.subject == *subject)
    }

    /// Applies the rule to `message` and records the entry if signing is allowed; the caller signs
    /// only after this returns `Ok`.
    pub fn check_and_record(&mut self, message: &Eip712Message) -> Result<Decision> {
        let subject = subject(message).ok_or_else(|| {
            Error::Signature(format!(
                "{} is never signed on its own",
                message.type_name()
            ))
        })?;
        let decision = decide(self.get(&subject), message)?;
        let entry = match decision {
            Decision::SignNew(e) | Decision::Resign(e) => e,
        };
        match self.entries.iter_mut().find(|e| e.subject == subject) {
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eip712::{Position, RefundReport};

    fn refund(request: u8, amount: u64, version: u64) -> Eip712Message {
        Eip712Message::RefundReport(RefundReport {
            request_id: B256::repeat_byte(request),
            coldkey: B256::repeat_byte(9),
            positions: vec![Position {
                netuid: 1,
                hotkey: B256::repeat_byte(2),
                amount,
            }],
            delivery_block: 10,
            delivery_index: 3,
            signer_set_version: version,
        })
    }

    #[test]
    fn same_content_may_be_resigned_under_a_new_version() {
        let Decision::SignNew(e) = decide(None, &refund(1, 5, 1)).unwrap() else {
            panic!("first signature must be new")
        };
        assert_eq!(
            decide(Some(&e), &refund(1, 5, 2)).unwrap(),
            Decision::Resign(JournalEntry {
                signer_set_version: 2,
                ..e
            })
        );
        assert!(matches!(
            decide(Some(&e), &refund(1, 6, 1)),
            Err(Error::JournalConflict { .. })
        ));
        assert!(decide(Some(&e), &refund(2, 5, 1)).is_err());
    }

    #[test]
    fn journal_records_and_refuses() {
        let mut j = Journal::default();
        assert!(matches!(
            j.check_and_record(&refund(1, 5, 1)),
            Ok(Decision::SignNew(_))
        ));
        assert!(matches!(
            j.check_and_record(&refund(1, 5, 3)),
            Ok(Decision::Resign(_))
        ));
        assert!(j.check_and_record(&refund(1, 7, 3)).is_err());
        let s = Subject::Request {
            request_id: B256::repeat_byte(1),
        };
        assert_eq!(j.get(&s).unwrap().signer_set_version, 3);
    }

    #[test]
    fn orphans_are_keyed_by_delivery() {
        let m = refund(0, 5, 1);
        assert_eq!(
            subject(&m),
            Some(Subject::Delivery {
                block: 10,
                index: 3
            })
        );
    }
}
