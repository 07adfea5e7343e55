//! The keeper's embedded database (SQLite through rusqlite, bundled): cursor, strategy state,
//! price history, requests, the signing journal, signatures, the outbox and transactions.
//!
//! - **All SQL is here.** Each submodule owns the statements of its tables and gives the rest of
//!   the node typed functions; the rules that decide what to write (the journal's, the
//!   executors') stay outside and never see a statement. `tests/store.rs` fails on SQL anywhere
//!   else in the crate, bar the files it lists as still being moved.
//! - **One writer.** A lock file next to the database (`<db>.lock`, an OS file lock held for the
//!   life of the process) makes a second keeper on the same file refuse to start, with the pid of
//!   the holder in the message. Readers (`tao20 validator status`) open the database read-only
//!   without the lock: WAL lets them read while the keeper writes.
//! - **Created atomically.** A new database is built under a temporary name in the same
//!   directory (owner-only permissions, schema applied) and renamed into place, so a crash never
//!   leaves a database without tables behind (lighthouse #1537).
//! - **Bound to one deployment and signer.** The first open records the chain id, contract and
//!   signer; opening it for another is an error, so a misplaced database fails loudly.
//! - **Migrations** are SQL steps applied in order inside one transaction on every open
//!   (`PRAGMA user_version` counts them); `tests/store.rs` migrates a checked-in database of the
//!   first schema.

pub mod journal;
pub mod mechanisms;
pub mod outbox;
pub mod reports;
pub mod retention;
pub mod state;
pub mod status;
pub mod subtensor;
pub mod txs;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::{Error, Result};

/// The schema steps, in order: applying `MIGRATIONS[i]` moves a database from version `i` to
/// `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema/v1.sql"),
    include_str!("schema/v2.sql"),
    include_str!("schema/v3.sql"),
    include_str!("schema/v4.sql"),
    include_str!("schema/v5.sql"),
];

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// The keeper's database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    _lock: Option<File>,
}

fn sql(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Error {
    let what = what.into();
    move |source| Error::Sql { what, source }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        what: path.display().to_string(),
        source,
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Takes the database's lock file; `Error::Locked` when another process holds it.
fn take_lock(path: &Path) -> Result<File> {
    let lock = lock_path(path);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock)
        .map_err(io(&lock))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io(&lock))?;
            writeln!(file, "{}", std::process::id()).map_err(io(&lock))?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&lock).unwrap_or_default();
            Err(Error::Locked {
                path: path.display().to_string(),
                holder: holder.trim().to_string(),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io(&lock)(e)),
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql("journal_mode"))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql("synchronous"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(sql("foreign_keys"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql("busy_timeout"))?;
    Ok(())
}

/// Applies every migration the database has not seen, in one transaction.
fn migrate(conn: &mut Connection) -> Result<i64> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(sql("begin migration"))?;
    let current: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql("user_version"))?;
    let target = schema_version();
    if current > target {
        return Err(Error::Store {
            what: "schema".into(),
            reason: format!(
                "the database is at version {current}, newer than this build's {target}: \
                 run the newer keeper or restore a backup"
            ),
        });
    }
    for (i, step) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.execute_batch(step)
            .map_err(sql(format!("migration to version {}", i + 1)))?;
    }
    tx.pragma_update(None, "user_version", target)
        .map_err(sql("user_version"))?;
    tx.commit().map_err(sql("commit migration"))?;
    Ok(target)
}

fn create_atomically(path: &Path) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::Store {
            what: path.display().to_string(),
            reason: "not a file path".into(),
        })?
        .to_string_lossy()
        .to_string();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(&tmp).map_err(io(&tmp))?;
        let mut conn = Connection::open(&tmp).map_err(sql(tmp.display().to_string()))?;
        configure(&conn)?;
        migrate(&mut conn)?;
        // Fold the WAL into the main file so the rename moves a complete database.
        conn.pragma_update(None, "journal_mode", "DELETE")
            .map_err(sql("journal_mode"))?;
        conn.close().map_err(|(_, e)| sql("close")(e))?;
    }
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(d) = dir {
        File::open(d).and_then(|f| f.sync_all()).map_err(io(d))?;
    }
    Ok(())
}

impl Store {
    /// Opens the database for writing: creates it atomically if missing, takes the lock, and
    /// migrates it to this build's schema.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(d) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        let lock = take_lock(path)?;
        if !path.exists() {
            create_atomically(path)?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql(path.display().to_string()))?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            _lock: Some(lock),
        })
    }

    /// Opens the database read-only, without the lock, for status and export while a keeper may
    /// be running.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Store {
                what: path.display().to_string(),
                reason: "no such database".into(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql(path.display().to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql("busy_timeout"))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            _lock: None,
        })
    }

    /// Whether this handle holds the writer's lock.
    pub fn is_writer(&self) -> bool {
        self._lock.is_some()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The schema version of the open database.
    pub fn version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql("user_version"))
    }

    /// Runs `f` in one exclusive transaction, committed when `f` returns `Ok`.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if !self.is_writer() {
            return Err(Error::Store {
                what: self.path.display().to_string(),
                reason: "opened read-only".into(),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(sql("begin"))?;
        let out = f(&tx)?;
        tx.commit().map_err(sql("commit"))?;
        Ok(out)
    }

    /// Records the deployment and signer this database belongs to on first use, and refuses a
    /// different one afterwards.
    pub fn bind_identity(&mut self, chain_id: u64, contract: &str, signer: &str) -> Result<()> {
        let wanted = [
            ("chain_id", chain_id.to_string()),
            ("contract", contract.to_lowercase()),
            ("signer", signer.to_lowercase()),
        ];
        self.write(|tx| {
            for (key, value) in &wanted {
                let stored = meta(tx, key)?;
                match stored {
                    None => set_meta(tx, key, value)?,
                    Some(s) if &s == value => {}
                    Some(s) => {
                        return Err(Error::Identity {
                            key: (*key).to_string(),
                            stored: s,
                            configured: value.clone(),
                        })
                    }
                }
            }
            Ok(())
        })
    }
}

/// A value of the `meta` table.
pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .map_err(sql(format!("meta {key}")))
}

/// Sets a value of the `meta` table.
pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .map_err(sql(format!("meta {key}")))?;
    Ok(())
}

/// A block number or count as SQLite's integer (saturating: no block number comes near).
pub(crate) fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An integer read back from SQLite as a block number or count (a negative one is 0).
pub(crate) fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Unix seconds, for the rows' time stamps (never a decision's input).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A value as the JSON text the database stores; `what` names it in the error.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|source| Error::Json {
        what: what.into(),
        source,
    })
}

/// A value read back from the JSON text the database stores.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|source| Error::Json {
        what: what.into(),
        source,
    })
}

/// Maps a rusqlite error for `what`.
pub(crate) fn db(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Error {
    sql(what)
}
