//! The outbox: actions decided in a block transaction, carried out after it by the executor of
//! their lane. Each lane has its own action type ([`BevmAction`], [`ChainAction`]) and [`due`]
//! reads one lane's rows as that type only, so an executor can never be handed the other lane's
//! work; both types keep the JSON of the single action type they replace, so stored rows decode.

use alloy_primitives::B256;
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tao20_creation::journal::Subject;

use super::{db, from_json, i, now, to_json, u};
use crate::Result;

/// An action of one lane of the outbox.
pub trait Action: Serialize + DeserializeOwned {
    /// The `kind` column of every action of the lane: a lane reads only its own rows.
    const KINDS: &'static [&'static str];

    /// The idempotency key: one outbox item per key, ever.
    fn key(&self) -> String;

    /// A short name for logs and metrics, stored as the row's `kind`.
    fn kind(&self) -> &'static str;
}

/// An action of the BEVM lane: signatures, the exchange and BEVM transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum BevmAction {
    /// Sign a committed journal digest and publish the signature.
    Sign {
        /// The subject.
        subject: Subject,
        /// The digest.
        digest: B256,
    },
    /// Push this keeper's signature of a digest to every peer.
    Push {
        /// The digest.
        digest: B256,
    },
    /// Send the quorum-signed report of a digest, if it is still unsettled.
    Transmit {
        /// The digest.
        digest: B256,
    },
    /// Send `expire(requestId)`, if the request is still pending.
    Expire {
        /// The request.
        request_id: B256,
    },
}

impl Action for BevmAction {
    const KINDS: &'static [&'static str] = &["sign", "push", "transmit", "expire"];

    fn key(&self) -> String {
        match self {
            BevmAction::Sign { digest, .. } => format!("sign:{digest}"),
            BevmAction::Push { digest } => format!("push:{digest}"),
            BevmAction::Transmit { digest } => format!("transmit:{digest}"),
            BevmAction::Expire { request_id } => format!("expire:{request_id}"),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            BevmAction::Sign { .. } => "sign",
            BevmAction::Push { .. } => "push",
            BevmAction::Transmit { .. } => "transmit",
            BevmAction::Expire { .. } => "expire",
        }
    }
}

/// An action of the subtensor lane: extrinsics (commitments, weights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum ChainAction {
    /// Publish the price commitment stored for a block.
    SetCommitment {
        /// The block that decided it.
        block: u64,
    },
    /// Submit the stored weights of a mechanism for a subnet epoch.
    SubmitWeights {
        /// The mechanism.
        mecid: u8,
        /// The block the subnet epoch ran at.
        epoch: u64,
    },
    /// Read the submitted weights back from the chain once it applied them.
    CheckWeights {
        /// The mechanism.
        mecid: u8,
        /// The block the subnet epoch ran at.
        epoch: u64,
    },
}

impl Action for ChainAction {
    const KINDS: &'static [&'static str] = &["commitment", "weights", "check_weights"];

    fn key(&self) -> String {
        match self {
            ChainAction::SetCommitment { block } => format!("commitment:{block}"),
            ChainAction::SubmitWeights { mecid, epoch } => format!("weights:{mecid}:{epoch}"),
            ChainAction::CheckWeights { mecid, epoch } => format!("check_weights:{mecid}:{epoch}"),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ChainAction::SetCommitment { .. } => "commitment",
            ChainAction::SubmitWeights { .. } => "weights",
            ChainAction::CheckWeights { .. } => "check_weights",
        }
    }
}

/// One outbox item of a lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem<A> {
    /// Row id.
    pub id: i64,
    /// The action.
    pub action: A,
    /// Attempts so far.
    pub attempts: u64,
    /// Not before this block.
    pub not_before_block: u64,
}

/// Enqueues an action (a no-op when its key was ever enqueued); returns whether it was new.
pub fn enqueue<A: Action>(
    conn: &Connection,
    action: &A,
    block: u64,
    not_before: u64,
) -> Result<bool> {
    let n = conn
        .execute(
            "INSERT OR IGNORE INTO outbox (key, kind, payload, created_block, not_before_block)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                action.key(),
                action.kind(),
                to_json("outbox action", action)?,
                i(block),
                i(not_before)
            ],
        )
        .map_err(db("outbox"))?;
    Ok(n > 0)
}

/// Items of the lane of `A` not done whose time has come at `block`, oldest first.
pub fn due<A: Action>(conn: &Connection, block: u64, limit: usize) -> Result<Vec<OutboxItem<A>>> {
    let kinds = A::KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(",");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id, payload, attempts, not_before_block FROM outbox
             WHERE done_at IS NULL AND not_before_block <= ?1 AND kind IN ({kinds})
             ORDER BY not_before_block, id LIMIT ?2"
        ))
        .map_err(db("outbox"))?;
    let rows = stmt
        .query_map(
            rusqlite::params![i(block), i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .map_err(db("outbox"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, payload, attempts, nb) = row.map_err(db("outbox"))?;
        out.push(OutboxItem {
            id,
            action: from_json("outbox action", &payload)?,
            attempts: u(attempts),
            not_before_block: u(nb),
        });
    }
    Ok(out)
}

/// Marks an item done.
pub fn complete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET done_at = ?2 WHERE id = ?1",
        rusqlite::params![id, now()],
    )
    .map_err(db("outbox"))?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub fn retry_later(conn: &Connection, id: i64, error: &str, not_before: u64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, not_before_block = ?3 WHERE id = ?1",
        rusqlite::params![id, error, i(not_before)],
    )
    .map_err(db("outbox"))?;
    Ok(())
}

/// Records a failure (an error, not a wait): the item is tried again at `not_before`, or, at
/// its `max_failures`th failure, set aside as a dead letter. Whether it is dead now.
pub fn fail(
    conn: &Connection,
    id: i64,
    error: &str,
    not_before: u64,
    max_failures: u64,
) -> Result<bool> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, failures = failures + 1, last_error = ?2,
             not_before_block = ?3,
             dead = (failures + 1 >= ?4),
             done_at = CASE WHEN failures + 1 >= ?4 THEN ?5 ELSE done_at END
         WHERE id = ?1",
        rusqlite::params![id, error, i(not_before), i(max_failures), now()],
    )
    .map_err(db("outbox"))?;
    let dead: i64 = conn
        .query_row("SELECT dead FROM outbox WHERE id = ?1", [id], |r| r.get(0))
        .map_err(db("outbox"))?;
    Ok(dead != 0)
}

/// Failures after which an outbox item is a dead letter: with the backoff of
/// [`fail_with_backoff`] (1, 2, 4, ... 32 blocks) about 1,500 blocks of trying.
pub const MAX_FAILURES: u64 = 50;

/// [`fail`] with the outbox's backoff: 2^attempts blocks, at most 32. Whether the item is dead.
pub fn fail_with_backoff<A>(
    conn: &Connection,
    item: &OutboxItem<A>,
    error: &str,
    block: u64,
) -> Result<bool> {
    let backoff = 1u64 << item.attempts.min(5);
    fail(
        conn,
        item.id,
        error,
        block.saturating_add(backoff),
        MAX_FAILURES,
    )
}

/// Dead letters: items set aside after too many failures.
pub fn dead_letters(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM outbox WHERE dead = 1", [], |r| {
            r.get(0)
        })
        .map_err(db("outbox"))?;
    Ok(u(n))
}

/// Items not done.
pub fn depth(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE done_at IS NULL",
            [],
            |r| r.get(0),
        )
        .map_err(db("outbox"))?;
    Ok(u(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows written before the lanes had types of their own decode as before: the JSON, keys and
    /// kinds are those of the one action type both replace.
    #[test]
    fn each_lane_keeps_the_stored_form_of_its_actions() {
        let d = B256::repeat_byte(0xab);
        let bevm = [
            (
                BevmAction::Sign {
                    subject: Subject::Epoch { epoch_id: 7 },
                    digest: d,
                },
                format!(
                    r#"{{"action":"sign","subject":{},"digest":"{d}"}}"#,
                    serde_json::to_string(&Subject::Epoch { epoch_id: 7 }).unwrap()
                ),
                format!("sign:{d}"),
            ),
            (
                BevmAction::Push { digest: d },
                format!(r#"{{"action":"push","digest":"{d}"}}"#),
                format!("push:{d}"),
            ),
            (
                BevmAction::Transmit { digest: d },
                format!(r#"{{"action":"transmit","digest":"{d}"}}"#),
                format!("transmit:{d}"),
            ),
            (
                BevmAction::Expire { request_id: d },
                format!(r#"{{"action":"expire","request_id":"{d}"}}"#),
                format!("expire:{d}"),
            ),
        ];
        for (a, json, key) in &bevm {
            assert_eq!(&serde_json::to_string(a).unwrap(), json);
            assert_eq!(&serde_json::from_str::<BevmAction>(json).unwrap(), a);
            assert_eq!(&a.key(), key);
            assert!(BevmAction::KINDS.contains(&a.kind()), "{}", a.kind());
        }
        let chain = [
            (
                ChainAction::SetCommitment { block: 9 },
                r#"{"action":"setCommitment","block":9}"#,
                "commitment:9",
            ),
            (
                ChainAction::SubmitWeights {
                    mecid: 1,
                    epoch: 360,
                },
                r#"{"action":"submitWeights","mecid":1,"epoch":360}"#,
                "weights:1:360",
            ),
            (
                ChainAction::CheckWeights {
                    mecid: 0,
                    epoch: 720,
                },
                r#"{"action":"checkWeights","mecid":0,"epoch":720}"#,
                "check_weights:0:720",
            ),
        ];
        for (a, json, key) in &chain {
            assert_eq!(&serde_json::to_string(a).unwrap(), json);
            assert_eq!(&serde_json::from_str::<ChainAction>(json).unwrap(), a);
            assert_eq!(&a.key(), key);
            assert!(ChainAction::KINDS.contains(&a.kind()), "{}", a.kind());
        }
        assert_eq!(
            [BevmAction::KINDS, ChainAction::KINDS].concat().len(),
            bevm.len() + chain.len()
        );
    }
}
