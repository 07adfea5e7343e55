//! The creation miner's SQLite database: its identity, every operation (a creation or a
//! redemption) as a JSON record written before each step acts, and the delivery intents that keep
//! a restarted miner from delivering twice for one request.
//!
//! Tables (schema version 1, migrations in-house):
//! - `meta(key, value)`: `schema`, and the identity the database belongs to (chain id, fund,
//!   coldkey, EVM address): a database is never used with other keys.
//! - `ops(id, kind, state, done, started_block, updated_block, request_id UNIQUE, record)`.
//! - `deliveries(request_id PRIMARY KEY, submitted_head, block, idx)`: one row per request, inserted
//!   in the same transaction as the operation's `delivering` state and before the extrinsic is
//!   submitted; a second delivery for a request cannot be started, only the first one resumed.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const SCHEMA_VERSION: i64 = 1;

/// The database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

/// One stored operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredOp {
    /// Its id.
    pub id: i64,
    /// `create` or `redeem`.
    pub kind: String,
    /// Its step.
    pub state: String,
    /// Finished (successfully or not).
    pub done: bool,
    /// The block it started at.
    pub started_block: u64,
    /// The block of its last change.
    pub updated_block: u64,
    /// The creation request, once known.
    pub request_id: Option<String>,
    /// The operation, as JSON.
    pub record: serde_json::Value,
}

/// A delivery intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryIntent {
    /// The finalized head when the delivery was submitted.
    pub submitted_head: u64,
    /// Where it landed, once seen.
    pub landed: Option<(u64, u32)>,
}

/// One `ops` row: id, kind, state, done, started, updated, request id, record.
type Row = (i64, String, String, bool, i64, i64, Option<String>, String);

fn db(what: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::store(what, e)
}

fn i(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

fn u(x: i64) -> u64 {
    u64::try_from(x).unwrap_or(0)
}

impl Store {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let conn =
            Connection::open(path).map_err(|e| Error::store(path.display().to_string(), e))?;
        Self::init(conn)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(db("open"))?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS ops (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               kind TEXT NOT NULL,
               state TEXT NOT NULL,
               done INTEGER NOT NULL DEFAULT 0,
               started_block INTEGER NOT NULL,
               updated_block INTEGER NOT NULL,
               request_id TEXT UNIQUE,
               record TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS deliveries (
               request_id TEXT PRIMARY KEY,
               submitted_head INTEGER NOT NULL,
               block INTEGER,
               idx INTEGER);",
        )
        .map_err(db("schema"))?;
        let store = Self { conn };
        match store.meta("schema")? {
            None => store.set_meta("schema", &SCHEMA_VERSION.to_string())?,
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(Error::store(
                    "schema",
                    format!("version {v}; this miner reads version {SCHEMA_VERSION}"),
                ))
            }
        }
        Ok(store)
    }

    /// A `meta` value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(db("meta"))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(db("meta"))
    }

    /// Binds the database to `identity` on first use; refuses another identity afterwards.
    pub fn bind_identity(&self, identity: &str) -> Result<()> {
        match self.meta("identity")? {
            None => self.set_meta("identity", identity),
            Some(v) if v == identity => Ok(()),
            Some(v) => Err(Error::store(
                "identity",
                format!("this database belongs to {v}, not {identity}"),
            )),
        }
    }

    /// Keeps the latest observation (for `status`).
    pub fn set_observation(&self, value: &serde_json::Value) -> Result<()> {
        self.set_meta("observation", &value.to_string())
    }

    /// The latest observation.
    pub fn observation(&self) -> Result<Option<serde_json::Value>> {
        self.meta("observation")?
            .map(|v| serde_json::from_str(&v).map_err(|e| Error::store("observation", e)))
            .transpose()
    }

    /// Inserts a new operation; returns its id.
    pub fn insert_op(
        &self,
        kind: &str,
        state: &str,
        block: u64,
        record: &serde_json::Value,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO ops (kind, state, started_block, updated_block, record)
                 VALUES (?1, ?2, ?3, ?3, ?4)",
                params![kind, state, i(block), record.to_string()],
            )
            .map_err(db("insert op"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Writes an operation's new state and record.
    pub fn update_op(
        &self,
        id: i64,
        state: &str,
        done: bool,
        block: u64,
        request_id: Option<&str>,
        record: &serde_json::Value,
    ) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE ops SET state = ?2, done = ?3, updated_block = ?4,
                   request_id = COALESCE(?5, request_id), record = ?6 WHERE id = ?1",
                params![id, state, done, i(block), request_id, record.to_string()],
            )
            .map_err(db("update op"))?;
        if n != 1 {
            return Err(Error::store("update op", format!("no operation {id}")));
        }
        Ok(())
    }

    /// Records the intent to deliver for `request_id` together with the operation's new state, in
    /// one transaction. Returns false (and changes nothing) when an intent exists already.
    pub fn begin_delivery(
        &self,
        request_id: &str,
        head: u64,
        op: (i64, &str, &serde_json::Value),
    ) -> Result<bool> {
        // The connection is this store's alone and used from one task: no other transaction can
        // be open on it.
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(db("begin delivery"))?;
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO deliveries (request_id, submitted_head) VALUES (?1, ?2)",
                params![request_id, i(head)],
            )
            .map_err(db("delivery intent"))?;
        if inserted == 1 {
            tx.execute(
                "UPDATE ops SET state = ?2, updated_block = ?3, record = ?4 WHERE id = ?1",
                params![op.0, op.1, i(head), op.2.to_string()],
            )
            .map_err(db("update op"))?;
        }
        tx.commit().map_err(db("commit delivery"))?;
        Ok(inserted == 1)
    }

    /// Moves a delivery intent's submission head (a resubmission after the first was lost).
    pub fn resubmit_delivery(&self, request_id: &str, head: u64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE deliveries SET submitted_head = ?2 WHERE request_id = ?1 AND block IS NULL",
                params![request_id, i(head)],
            )
            .map(|_| ())
            .map_err(db("resubmit delivery"))
    }

    /// Records where a delivery landed.
    pub fn delivery_landed(&self, request_id: &str, block: u64, index: u32) -> Result<()> {
        self.conn
            .execute(
                "UPDATE deliveries SET block = ?2, idx = ?3 WHERE request_id = ?1",
                params![request_id, i(block), i64::from(index)],
            )
            .map(|_| ())
            .map_err(db("delivery landed"))
    }

    /// The delivery intent of a request.
    pub fn delivery(&self, request_id: &str) -> Result<Option<DeliveryIntent>> {
        self.conn
            .query_row(
                "SELECT submitted_head, block, idx FROM deliveries WHERE request_id = ?1",
                [request_id],
                |r| {
                    let head: i64 = r.get(0)?;
                    let block: Option<i64> = r.get(1)?;
                    let idx: Option<i64> = r.get(2)?;
                    Ok(DeliveryIntent {
                        submitted_head: u(head),
                        landed: block
                            .zip(idx)
                            .map(|(b, x)| (u(b), u32::try_from(x).unwrap_or(u32::MAX))),
                    })
                },
            )
            .optional()
            .map_err(db("delivery"))
    }

    /// Delivery intents recorded, and of them those that landed.
    pub fn delivery_counts(&self) -> Result<(u64, u64)> {
        self.conn
            .query_row("SELECT COUNT(*), COUNT(block) FROM deliveries", [], |r| {
                Ok((u(r.get(0)?), u(r.get(1)?)))
            })
            .map_err(db("delivery counts"))
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    }

    fn stored(row: Row) -> Result<StoredOp> {
        let (id, kind, state, done, started, updated, request_id, record) = row;
        Ok(StoredOp {
            id,
            kind,
            state,
            done,
            started_block: u(started),
            updated_block: u(updated),
            request_id,
            record: serde_json::from_str(&record)
                .map_err(|e| Error::store(format!("record of operation {id}"), e))?,
        })
    }

    const COLUMNS: &'static str =
        "id, kind, state, done, started_block, updated_block, request_id, record";

    /// The unfinished operation, if any (the miner runs one at a time).
    pub fn open_op(&self) -> Result<Option<StoredOp>> {
        let sql = format!(
            "SELECT {} FROM ops WHERE done = 0 ORDER BY id LIMIT 1",
            Self::COLUMNS
        );
        self.conn
            .query_row(&sql, [], Self::row)
            .optional()
            .map_err(db("open op"))?
            .map(Self::stored)
            .transpose()
    }

    /// Every operation, oldest first.
    pub fn ops(&self) -> Result<Vec<StoredOp>> {
        let sql = format!("SELECT {} FROM ops ORDER BY id", Self::COLUMNS);
        let mut stmt = self.conn.prepare(&sql).map_err(db("ops"))?;
        let rows = stmt
            .query_map([], Self::row)
            .map_err(db("ops"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db("ops"))?;
        rows.into_iter().map(Self::stored).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_open_names_the_path_and_keeps_the_causes_of_both_kinds() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        // A directory is no database: SQLite's own error is the source.
        let e = Store::open(dir.path()).unwrap_err();
        assert!(
            e.to_string().contains(&dir.path().display().to_string()),
            "{e}"
        );
        let source = e.source().expect("a source");
        assert!(
            source.downcast_ref::<rusqlite::Error>().is_some(),
            "{source:?}"
        );
        // A parent that is a file: the OS's error is the source.
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = Store::open(&file.join("db.sqlite")).unwrap_err();
        let source = e.source().expect("a source");
        assert!(
            source.downcast_ref::<std::io::Error>().is_some(),
            "{source:?}"
        );
    }

    #[test]
    fn one_delivery_intent_per_request() {
        let s = Store::in_memory().unwrap();
        let rec = serde_json::json!({"a": 1});
        let id = s.insert_op("create", "requesting", 10, &rec).unwrap();
        s.update_op(id, "buying", false, 11, Some("0xab"), &rec)
            .unwrap();
        assert!(s
            .begin_delivery("0xab", 12, (id, "delivering", &rec))
            .unwrap());
        assert!(!s
            .begin_delivery("0xab", 13, (id, "delivering", &rec))
            .unwrap());
        assert_eq!(
            s.delivery("0xab").unwrap(),
            Some(DeliveryIntent {
                submitted_head: 12,
                landed: None
            })
        );
        s.delivery_landed("0xab", 14, 1).unwrap();
        s.resubmit_delivery("0xab", 20).unwrap();
        assert_eq!(s.delivery("0xab").unwrap().unwrap().landed, Some((14, 1)));
        assert_eq!(s.delivery("0xab").unwrap().unwrap().submitted_head, 12);
        assert_eq!(s.open_op().unwrap().unwrap().state, "delivering");
        s.update_op(id, "done", true, 30, None, &rec).unwrap();
        assert!(s.open_op().unwrap().is_none());
        assert_eq!(s.ops().unwrap()[0].request_id.as_deref(), Some("0xab"));
        assert_eq!(s.delivery_counts().unwrap(), (1, 1));
    }

    #[test]
    fn a_database_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite");
        Store::open(&path).unwrap().bind_identity("a").unwrap();
        let s = Store::open(&path).unwrap();
        s.bind_identity("a").unwrap();
        assert!(s.bind_identity("b").is_err());
    }
}
