//! The store's file handling: atomic creation with owner-only permissions, one writer, readers
//! alongside it, and the identity binding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

fn count(store: &Store, table: &str) -> i64 {
    store
        .conn()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Retention deletes history before the cut and nothing else: not the journal, not what is
/// still open (an unsettled report, a pending outbox item or transaction, a dead letter).
#[test]
fn retention_prunes_history_and_keeps_the_journal_and_everything_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("keeper.sqlite")).unwrap();
    store
        .write(|tx| {
            for (block, settled) in [(100i64, Some(150i64)), (200, None), (5_000, Some(5_100))] {
                let digest = format!("0x{block:064x}");
                tx.execute(
                    "INSERT INTO reports (digest, subject, kind, message, signer_set_version, created_block, settled_block)
                     VALUES (?1, ?2, 'RefundReport', '{}', 1, ?3, ?4)",
                    rusqlite::params![digest, format!("delivery:{block}:1"), block, settled],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO signatures (digest, signer, signature, source, received_at) VALUES (?1, 'a', x'00', 'own', 0)",
                    [&digest],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO prices (netuid, block, price) VALUES (1, ?1, '1')",
                    [block],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO journal (subject, signer, content_hash, signer_set_version, first_block)
                     VALUES (?1, 'a', ?2, 1, ?3)",
                    rusqlite::params![format!("delivery:{block}:1"), format!("0x{block:064x}"), block],
                )
                .unwrap();
            }
            // Outbox: done long ago, pending long ago, dead long ago, done recently.
            for (key, created, done, dead) in [
                ("done-old", 100i64, Some(1i64), 0),
                ("pending-old", 100, None, 0),
                ("dead-old", 100, Some(1), 1),
                ("done-new", 5_000, Some(1), 0),
            ] {
                tx.execute(
                    "INSERT INTO outbox (key, kind, payload, created_block, done_at, dead) VALUES (?1, 'push', '{}', ?2, ?3, ?4)",
                    rusqlite::params![key, created, done, dead],
                )
                .unwrap();
            }
            for (hash, state, sent) in [("0x01", "mined", 100i64), ("0x02", "pending", 100), ("0x03", "mined", 5_000)] {
                tx.execute(
                    "INSERT INTO tx_attempts (key, call, sender, nonce, max_fee, priority_fee, gas_limit, raw, tx_hash, state, sent_block, at)
                     VALUES ('k', 'mint', 'a', 0, '1', '1', 1, x'00', ?1, ?2, ?3, 0)",
                    rusqlite::params![hash, state, sent],
                )
                .unwrap();
            }
            Ok(())
        })
        .unwrap();

    let pruned = tao20_node::store::retention::prune(&mut store, 1_000).unwrap();
    // One settled report with its signature, one price sample each below 1000 (two), one done
    // outbox item, one decided attempt.
    assert_eq!(pruned, 1 + 1 + 2 + 1 + 1);
    assert_eq!(
        count(&store, "reports"),
        2,
        "the open report and the recent one stay"
    );
    assert_eq!(count(&store, "signatures"), 2);
    assert_eq!(count(&store, "prices"), 1);
    assert_eq!(count(&store, "journal"), 3, "the journal is never pruned");
    let keys: Vec<String> = store
        .conn()
        .prepare("SELECT key FROM outbox ORDER BY key")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, ["dead-old", "done-new", "pending-old"]);
    assert_eq!(
        count(&store, "tx_attempts"),
        2,
        "pending and recent attempts stay"
    );
}

/// An outbox item that keeps failing is set aside as a dead letter at its 50th failure, and a
/// wait (a turn not come yet) is not a failure.
#[test]
fn an_item_that_keeps_failing_becomes_a_dead_letter() {
    use tao20_node::store::outbox::{self, BevmAction};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("keeper.sqlite")).unwrap();
    let action = BevmAction::Expire {
        request_id: alloy_primitives::B256::repeat_byte(1),
    };
    outbox::enqueue(store.conn(), &action, 10, 0).unwrap();
    let item = |b| {
        outbox::due::<BevmAction>(store.conn(), b, 10)
            .unwrap()
            .into_iter()
            .next()
    };
    for _ in 0..100 {
        let it = item(u64::MAX).unwrap();
        outbox::retry_later(store.conn(), it.id, "not yet", 0).unwrap();
    }
    assert_eq!(outbox::dead_letters(store.conn()).unwrap(), 0);
    for n in 1..=outbox::MAX_FAILURES {
        let it = item(u64::MAX).expect("still due until it is dead");
        let dead = outbox::fail_with_backoff(store.conn(), &it, "reverted: Nope()", 10).unwrap();
        assert_eq!(dead, n == outbox::MAX_FAILURES, "failure {n}");
    }
    assert!(item(u64::MAX).is_none(), "a dead letter is never retried");
    assert_eq!(outbox::dead_letters(store.conn()).unwrap(), 1);
    assert_eq!(outbox::depth(store.conn()).unwrap(), 0);
}

/// Each lane reads only its own actions: the BEVM executor is never handed a subtensor action,
/// nor the subtensor executor a BEVM one.
#[test]
fn each_lane_of_the_outbox_reads_only_its_own_actions() {
    use tao20_node::store::outbox::{self, BevmAction, ChainAction};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("keeper.sqlite")).unwrap();
    let bevm = BevmAction::Push {
        digest: alloy_primitives::B256::repeat_byte(2),
    };
    let chain = ChainAction::SubmitWeights {
        mecid: 1,
        epoch: 360,
    };
    assert!(outbox::enqueue(store.conn(), &chain, 10, 0).unwrap());
    assert!(outbox::enqueue(store.conn(), &bevm, 10, 0).unwrap());
    assert!(
        !outbox::enqueue(store.conn(), &chain, 11, 0).unwrap(),
        "one item per key"
    );
    let b: Vec<BevmAction> = outbox::due(store.conn(), 10, 10)
        .unwrap()
        .into_iter()
        .map(|i| i.action)
        .collect();
    let c: Vec<ChainAction> = outbox::due(store.conn(), 10, 10)
        .unwrap()
        .into_iter()
        .map(|i| i.action)
        .collect();
    assert_eq!((b, c), (vec![bevm], vec![chain]));
}

/// Where SQL shows outside the store in one file's text: `(line, text)` of each rusqlite call or
/// string literal opening with an SQL statement. Comments are left out.
fn sql_lines(text: &str) -> Vec<(usize, String)> {
    const CALLS: &[&str] = &[
        ".execute(",
        ".prepare(",
        ".prepare_cached(",
        ".query_row(",
        ".execute_batch(",
    ];
    const STATEMENTS: &[&str] = &[
        "\"SELECT ",
        "\"INSERT ",
        "\"UPDATE ",
        "\"DELETE ",
        "\"CREATE ",
    ];
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .filter(|(_, l)| CALLS.iter().chain(STATEMENTS).any(|p| l.contains(p)))
        .map(|(n, l)| (n + 1, l.trim().to_string()))
        .collect()
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The store owns all SQL: no statement and no rusqlite call in the rest of the crate, so the
/// schema has one place to change and every table one typed interface.
#[test]
fn no_sql_outside_the_store() {
    let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "store.rs" || rel.starts_with("store/") || rel.starts_with("schema/") {
            continue;
        }
        let lines = sql_lines(&std::fs::read_to_string(path).unwrap());
        found.extend(
            lines
                .into_iter()
                .map(|(n, l)| format!("src/{rel}:{n}: {l}")),
        );
    }
    assert!(
        found.is_empty(),
        "SQL outside the store (move it into a module of src/store/):\n{}",
        found.join("\n")
    );
}
