//! The store's file handling: atomic creation with owner-only permissions, one writer, readers
//! alongside it, and the identity binding.

use std::os::unix::fs::PermissionsExt;

use tao20_node::store::{schema_version, Store};
use tao20_node::Error;

#[test]
fn creates_atomically_owner_only_and_locks_out_a_second_keeper() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/keeper.sqlite");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.version().unwrap(), schema_version());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "no group or world access: {mode:o}");
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let second = Store::open(&path).unwrap_err();
    match &second {
        Error::Locked { holder, .. } => assert_eq!(holder, &std::process::id().to_string()),
        other => panic!("{other}"),
    }
    // A reader works while the keeper holds the lock, and cannot write.
    let mut reader = Store::open_read_only(&path).unwrap();
    assert!(reader.write(|_| Ok(())).is_err());
    drop(store);
    assert!(Store::open(&path).is_ok(), "the lock goes with the process");
}

#[test]
fn a_database_belongs_to_one_deployment_and_signer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keeper.sqlite");
    let mut store = Store::open(&path).unwrap();
    store.bind_identity(31337, "0xAbC", "0x01").unwrap();
    store.bind_identity(31337, "0xabc", "0x01").unwrap();
    let err = store.bind_identity(964, "0xabc", "0x01").unwrap_err();
    assert!(
        matches!(err, Error::Identity { ref key, .. } if key == "chain_id"),
        "{err}"
    );
    assert!(store.bind_identity(31337, "0xabc", "0x02").is_err());
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keeper.sqlite");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", schema_version() + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(err.contains("newer than this build"), "{err}");
}

#[test]
fn a_database_of_the_first_schema_migrates_and_keeps_its_data() {
    // keeper/node/tests/fixtures/v1.sqlite was written by the first schema (v1.sql) with a cursor,
    // a price and a journal entry.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keeper.sqlite");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1.sqlite"),
        &path,
    )
    .unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.version().unwrap(), schema_version());
    assert!(schema_version() >= 2);
    let c = store.conn();
    let next: i64 = c
        .query_row("SELECT next_block FROM cursor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(next, 42);
    let subject: String = c
        .query_row("SELECT subject FROM journal", [], |r| r.get(0))
        .unwrap();
    assert!(subject.starts_with("request:0x0101"));
    // The new tables exist and are empty.
    for table in [
        "windows",
        "bans",
        "telemetry_polls",
        "mints",
        "weights",
        "commitments",
    ] {
        let n: i64 = c
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
}
