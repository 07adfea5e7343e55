//! The signing journal in SQLite: against a plain reference over every short history, under ten
//! racing threads, and through export and import.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use alloy_primitives::{address, keccak256, Address, B256};
use tao20_creation::eip712::{Eip712Message, Position, RefundReport, Sweep};
use tao20_creation::journal::Subject;
use tao20_creation::signing::{recover, ReportSigner};
use tao20_node::journal::{self, Checked};
use tao20_node::store::journal as stored;
use tao20_node::store::Store;

const CHAIN: u64 = 31337;
const CONTRACT: Address = address!("00000000000000000000000000000000000000c0");

fn signer() -> ReportSigner {
    ReportSigner::from_bytes(&keccak256("tao20.test.signer0")).unwrap()
}

/// A refund of request `request` moving `amount`, under signer-set `version`.
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

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("keeper.sqlite")).unwrap();
    // Durability is not what these tests are about: skip the fsyncs.
    store
        .conn()
        .pragma_update(None, "synchronous", "OFF")
        .unwrap();
    (dir, store)
}

fn check(store: &mut Store, m: &Eip712Message) -> Checked {
    store
        .write(|tx| journal::check_and_record(tx, signer().address(), m, CHAIN, CONTRACT, 1))
        .unwrap()
}

/// The rule in ten lines: a subject keeps the first content signed for it; the same content may
/// be signed again under a version at least as high; anything else is refused.
#[derive(Default)]
struct Reference {
    signed: std::collections::BTreeMap<u8, (u64, u64)>, // request -> (amount, highest version)
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Sign,
    AlreadySigned,
    Refused,
}

impl Reference {
    fn propose(&mut self, request: u8, amount: u64, version: u64) -> Verdict {
        match self.signed.get_mut(&request) {
            None => {
                self.signed.insert(request, (amount, version));
                Verdict::Sign
            }
            Some((a, _)) if *a != amount => Verdict::Refused,
            Some((_, v)) if version > *v => {
                *v = version;
                Verdict::Sign
            }
            Some(_) => Verdict::AlreadySigned,
        }
    }
}

fn verdict(c: &Checked) -> Verdict {
    match c {
        Checked::Sign { .. } => Verdict::Sign,
        Checked::Signed { .. } => Verdict::AlreadySigned,
        Checked::Refused { .. } | Checked::BelowWatermark { .. } => Verdict::Refused,
    }
}

#[test]
fn agrees_with_the_reference_over_every_history_of_up_to_three_proposals() {
    // Universe: 2 subjects x 2 contents x 2 versions = 8 proposals; every sequence of length
    // 0..=3 (585 histories), as lighthouse's exhaustive slashing-protection test does.
    let universe: Vec<(u8, u64, u64)> = (0..8u8)
        .map(|i| {
            (
                1 + (i & 1),
                5 + u64::from((i >> 1) & 1),
                1 + u64::from(i >> 2),
            )
        })
        .collect();
    let (_dir, mut store) = fresh();
    let mut histories = 0;
    let mut stack: Vec<Vec<usize>> = vec![vec![]];
    while let Some(h) = stack.pop() {
        histories += 1;
        store
            .write(|tx| {
                tx.execute_batch("DELETE FROM journal; DELETE FROM journal_refusals;")
                    .unwrap();
                Ok(())
            })
            .unwrap();
        let mut reference = Reference::default();
        let mut refused = 0;
        for &i in &h {
            let (request, amount, version) = universe[i];
            let m = refund(request, amount, version);
            let got = check(&mut store, &m);
            let want = reference.propose(request, amount, version);
            assert_eq!(verdict(&got), want, "history {h:?}, step {i}");
            if want == Verdict::Refused {
                refused += 1;
            }
        }
        assert_eq!(stored::refusals(store.conn()).unwrap(), refused, "{h:?}");
        if h.len() < 3 {
            for i in 0..universe.len() {
                let mut next = h.clone();
                next.push(i);
                stack.push(next);
            }
        }
    }
    assert_eq!(histories, 1 + 8 + 64 + 512);
}

#[test]
fn ten_threads_racing_on_one_subject_sign_one_content() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(
        Store::open(&dir.path().join("keeper.sqlite")).unwrap(),
    ));
    let handles: Vec<_> = (0..10u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                // Even threads propose content A, odd threads content B.
                let m = refund(1, 100 + (t % 2), 1);
                let checked = {
                    let mut s = store.lock().unwrap();
                    s.write(|tx| {
                        journal::check_and_record(tx, signer().address(), &m, CHAIN, CONTRACT, 1)
                    })
                    .unwrap()
                };
                let sig = match &checked {
                    Checked::Sign { subject, digest }
                    | Checked::Signed {
                        subject, digest, ..
                    } => {
                        let mut s = store.lock().unwrap();
                        Some(journal::signature_for(&mut s, &signer(), subject, *digest).unwrap())
                    }
                    Checked::Refused { .. } | Checked::BelowWatermark { .. } => None,
                };
                (t % 2, verdict(&checked), sig)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: std::collections::BTreeSet<u64> = results
        .iter()
        .filter(|(_, v, _)| *v != Verdict::Refused)
        .map(|(c, _, _)| *c)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one content is signed: {results:?}"
    );
    assert_eq!(
        results
            .iter()
            .filter(|(_, v, _)| *v == Verdict::Sign)
            .count(),
        1,
        "one thread signs; the others get the stored signature or a refusal"
    );
    let sigs: std::collections::BTreeSet<_> = results.iter().filter_map(|r| r.2.clone()).collect();
    assert_eq!(sigs.len(), 1, "every winner holds the same signature");
    assert_eq!(stored::refusals(store.lock().unwrap().conn()).unwrap(), 5);
}

#[test]
fn a_new_signer_set_version_resigns_the_same_content_only() {
    let (_dir, mut store) = fresh();
    let Checked::Sign { subject, digest } = check(&mut store, &refund(1, 5, 1)) else {
        panic!()
    };
    let s1 = journal::signature_for(&mut store, &signer(), &subject, digest).unwrap();
    assert_eq!(recover(&digest, &s1).unwrap(), signer().address());
    let Checked::Signed {
        signature: Some(again),
        ..
    } = check(&mut store, &refund(1, 5, 1))
    else {
        panic!("identical content answers with the stored signature")
    };
    assert_eq!(again, s1);
    let Checked::Sign { digest: d2, .. } = check(&mut store, &refund(1, 5, 2)) else {
        panic!("a new version is a new digest")
    };
    assert_ne!(d2, digest);
    // The old digest is no longer the subject's: signing it is refused.
    assert!(journal::signature_for(&mut store, &signer(), &subject, digest).is_err());
    assert!(matches!(
        check(&mut store, &refund(1, 6, 2)),
        Checked::Refused { .. }
    ));
}

#[test]
fn export_import_round_trip_never_allows_other_content() {
    let (dir, mut store) = fresh();
    check(&mut store, &refund(1, 5, 3));
    let sweep = Eip712Message::Sweep(Sweep {
        positions: vec![],
        nonce: 4,
        signer_set_version: 1,
    });
    check(&mut store, &sweep);
    let doc = journal::export(&store, CHAIN, CONTRACT).unwrap();
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["metadata"]["chain_id"], "31337");
    assert_eq!(json["data"][0]["signed"][0]["signer_set_version"], "3");
    assert_eq!(json["data"][0]["signed"][1]["subject"], "sweep:4");

    // Into a new keeper's database: the subjects are known, only their content may be signed.
    let mut other = Store::open(&dir.path().join("moved.sqlite")).unwrap();
    let s = journal::import(&mut other, &doc, CHAIN, CONTRACT).unwrap();
    assert_eq!((s.added, s.merged), (2, 0));
    assert!(matches!(
        other
            .write(|tx| journal::check_and_record(
                tx,
                signer().address(),
                &refund(1, 6, 3),
                CHAIN,
                CONTRACT,
                9
            ))
            .unwrap(),
        Checked::Refused { .. }
    ));
    assert!(matches!(
        other
            .write(|tx| journal::check_and_record(
                tx,
                signer().address(),
                &refund(1, 5, 3),
                CHAIN,
                CONTRACT,
                9
            ))
            .unwrap(),
        Checked::Sign { .. }
    ));
    // Importing again merges; a conflicting file is refused whole.
    assert_eq!(
        journal::import(&mut other, &doc, CHAIN, CONTRACT)
            .unwrap()
            .merged,
        2
    );
    let mut conflicting = doc.clone();
    conflicting.data[0].signed[0].content_hash = B256::repeat_byte(7).to_string();
    assert!(journal::import(&mut other, &conflicting, CHAIN, CONTRACT).is_err());
    let mut wrong_chain = doc.clone();
    wrong_chain.metadata.chain_id = "964".into();
    assert!(journal::import(&mut other, &wrong_chain, CHAIN, CONTRACT).is_err());
    // Export and import need the writer's lock: not while a keeper holds it.
    drop(other);
    let reader = Store::open_read_only(&dir.path().join("moved.sqlite")).unwrap();
    assert!(journal::export(&reader, CHAIN, CONTRACT).is_err());
    let subject: Subject = journal::parse_subject("delivery:10:3").unwrap();
    assert_eq!(journal::subject_key(&subject), "delivery:10:3");
    assert!(journal::parse_subject("request:xyz").is_err());
}

/// A database bound to one signer takes no other signer's history: the subjects would be
/// another key's, and this keeper would refuse or hide content it never signed.
#[test]
fn import_refuses_another_signers_history() {
    let (dir, mut store) = fresh();
    check(&mut store, &refund(1, 5, 3));
    let doc = journal::export(&store, CHAIN, CONTRACT).unwrap();
    let mut other = Store::open(&dir.path().join("other.sqlite")).unwrap();
    let someone_else = ReportSigner::from_bytes(&keccak256("tao20.test.signer1")).unwrap();
    other
        .bind_identity(
            CHAIN,
            &CONTRACT.to_string(),
            &someone_else.address().to_string(),
        )
        .unwrap();
    let err = journal::import(&mut other, &doc, CHAIN, CONTRACT)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&signer().address().to_string())
            && err
                .to_lowercase()
                .contains(&someone_else.address().to_string().to_lowercase()),
        "names both signers: {err}"
    );
    assert_eq!(stored::signed(other.conn()).unwrap(), 0);
    // The database of the same signer takes it.
    let mut same = Store::open(&dir.path().join("same.sqlite")).unwrap();
    same.bind_identity(
        CHAIN,
        &CONTRACT.to_string(),
        &signer().address().to_string(),
    )
    .unwrap();
    assert_eq!(
        journal::import(&mut same, &doc, CHAIN, CONTRACT)
            .unwrap()
            .added,
        1
    );
}

/// A journaled subject whose signature was never made (a dry run's) is not counted as signed,
/// and `has_digest` knows the digest it committed to.
#[test]
fn committed_but_unsigned_subjects_are_not_signed_yet() {
    let (_dir, mut store) = fresh();
    let m = refund(1, 5, 3);
    let Checked::Sign { subject, digest } = check(&mut store, &m) else {
        panic!("a fresh journal signs");
    };
    assert!(stored::has_digest(store.conn(), &digest).unwrap());
    assert!(!stored::has_digest(store.conn(), &B256::repeat_byte(1)).unwrap());
    assert_eq!(stored::signed(store.conn()).unwrap(), 0);
    journal::signature_for(&mut store, &signer(), &subject, digest).unwrap();
    assert_eq!(stored::signed(store.conn()).unwrap(), 1);
}

/// The same race on separate SQLite connections to one file (as two processes would have: no
/// Rust lock between them), each in the exclusive transaction the keeper's store uses: SQLite's
/// own lock decides, and still exactly one content is journaled. With deferred transactions two
/// connections both read "no row" and one fails on its write instead.
#[test]
fn connections_racing_on_one_file_journal_one_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keeper.sqlite");
    // Created (schema, WAL) by the store, then released.
    drop(Store::open(&path).unwrap());
    let start = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let path = path.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                let mut conn = rusqlite::Connection::open(&path).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(30))
                    .unwrap();
                let m = refund(1, 100 + (t % 2), 1);
                start.wait();
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
                    .unwrap();
                let checked =
                    journal::check_and_record(&tx, signer().address(), &m, CHAIN, CONTRACT, 1)
                        .unwrap();
                tx.commit().unwrap();
                (t % 2, verdict(&checked))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let signing: Vec<_> = results
        .iter()
        .filter(|(_, v)| *v == Verdict::Sign)
        .collect();
    assert_eq!(signing.len(), 1, "{results:?}");
    let winner = signing[0].0;
    for (content, v) in &results {
        if *content == winner {
            assert_ne!(*v, Verdict::Refused, "{results:?}");
        } else {
            assert_eq!(*v, Verdict::Refused, "{results:?}");
        }
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(stored::refusals(store.conn()).unwrap(), 4);
}

/// Epoch `epoch`'s creation file (an empty basket), under signer-set `version`.
fn file(epoch: u64, version: u64) -> Eip712Message {
    Eip712Message::CreationFile(tao20_creation::eip712::CreationFile {
        epoch_id: epoch,
        valid_from_block: epoch * 100,
        valid_until_block: epoch * 100 + 99,
        shares_per_unit: alloy_primitives::U256::from(1000u64),
        tolerance_bps: 10,
        min_units: 1,
        assets: vec![],
        signer_set_version: version,
    })
}

fn sweep(nonce: u64) -> Eip712Message {
    Eip712Message::Sweep(Sweep {
        positions: vec![],
        nonce,
        signer_set_version: 1,
    })
}

fn watermark(c: &Checked) -> Option<u64> {
    match c {
        Checked::BelowWatermark { watermark, .. } => Some(*watermark),
        _ => None,
    }
}

/// Epochs and sweep nonces are signed in order: below the highest of its kind, a subject the
/// journal has no row for is refused (and counted), whatever its content; each kind has its own
/// watermark, and subjects it already holds keep their ordinary rule.
#[test]
fn ordered_subjects_below_the_low_watermark_are_refused_and_counted() {
    let (_dir, mut store) = fresh();
    assert!(matches!(
        check(&mut store, &file(5, 1)),
        Checked::Sign { .. }
    ));
    assert_eq!(watermark(&check(&mut store, &file(3, 1))), Some(5));
    assert_eq!(watermark(&check(&mut store, &file(4, 2))), Some(5));
    assert_eq!(stored::refusals(store.conn()).unwrap(), 2);
    let reason: String = store
        .conn()
        .query_row(
            "SELECT reason || ' ' || signed_hash FROM journal_refusals WHERE subject = 'epoch:3'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "watermark epoch:5");
    // Its own subject: the same content again, and under a new version; other content refused.
    assert!(matches!(
        check(&mut store, &file(5, 1)),
        Checked::Signed { .. }
    ));
    assert!(matches!(
        check(&mut store, &file(5, 2)),
        Checked::Sign { .. }
    ));
    let mut other = file(5, 2);
    if let Eip712Message::CreationFile(f) = &mut other {
        f.min_units = 2;
    }
    assert!(matches!(check(&mut store, &other), Checked::Refused { .. }));
    // Above it, and another kind.
    assert!(matches!(
        check(&mut store, &file(6, 2)),
        Checked::Sign { .. }
    ));
    assert_eq!(watermark(&check(&mut store, &file(5, 3))), None);
    assert!(matches!(check(&mut store, &sweep(2)), Checked::Sign { .. }));
    assert_eq!(watermark(&check(&mut store, &sweep(1))), Some(2));
    assert_eq!(
        journal::low_watermark(store.conn(), "epoch:").unwrap(),
        Some(6)
    );
    assert_eq!(
        journal::low_watermark(store.conn(), "sweep:").unwrap(),
        Some(2)
    );
    // Requests and deliveries are not ordered: no watermark.
    assert!(matches!(
        check(&mut store, &refund(1, 5, 1)),
        Checked::Sign { .. }
    ));
    assert!(matches!(
        check(&mut store, &refund(0, 5, 1)),
        Checked::Sign { .. }
    ));
}

/// An imported history sets the watermarks of the database it goes into: a keeper moved to a
/// new machine with its journal does not sign an older epoch or sweep it has no record of.
#[test]
fn an_imported_history_sets_the_low_watermarks() {
    let (dir, mut store) = fresh();
    check(&mut store, &file(7, 1));
    check(&mut store, &sweep(4));
    let doc = journal::export(&store, CHAIN, CONTRACT).unwrap();
    // Without the history nothing stops it; with it, the watermarks do.
    let mut blank = Store::open(&dir.path().join("blank.sqlite")).unwrap();
    assert!(matches!(
        check(&mut blank, &file(6, 1)),
        Checked::Sign { .. }
    ));
    let mut moved = Store::open(&dir.path().join("moved.sqlite")).unwrap();
    journal::import(&mut moved, &doc, CHAIN, CONTRACT).unwrap();
    assert_eq!(watermark(&check(&mut moved, &file(6, 1))), Some(7));
    assert_eq!(watermark(&check(&mut moved, &sweep(3))), Some(4));
    // The imported subjects themselves may be signed with their imported content.
    assert!(matches!(
        check(&mut moved, &file(7, 1)),
        Checked::Sign { .. }
    ));
    assert!(matches!(
        check(&mut moved, &file(8, 1)),
        Checked::Sign { .. }
    ));
}
