//! `tao20 weights reveal | encrypt`, and the auction's predicted windows against the chain's
//! epoch rule (`tao20_chain::epochs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use assert_cmd::Command;
use serde_json::{json, Value};
use tao20_auction::window::Schedule;
use tao20_chain::drand::{self, WeightsTlockPayload};
use tao20_chain::epochs::{self, StepOutcome};
use tao20_chain::types::EpochSchedule;

fn tao20(args: &[&str]) -> Output {
    Command::cargo_bin("tao20")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn ok_json(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn bad_input(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
}

const GENESIS: u64 = 1_692_803_367;

/// `weights reveal` with a fixed state, some flags replaced by `changes` (flag, value) pairs.
fn reveal(changes: &[(&str, &str)]) -> Output {
    let now = (GENESIS + 3_000).to_string();
    let defaults = [
        ("--tempo", "360"),
        ("--last-epoch-block", "1000"),
        ("--pending-epoch-at", "0"),
        ("--subnet-epoch-index", "4"),
        ("--blocks-since-last-step", "100"),
        ("--current-block", "1100"),
        ("--reveal-period", "1"),
        ("--now", now.as_str()),
    ];
    let mut args = vec!["weights", "reveal"];
    for (flag, value) in defaults {
        let value = changes
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or(value, |(_, v)| *v);
        args.extend([flag, value]);
    }
    for (flag, value) in changes {
        if !defaults.iter().any(|(f, _)| f == flag) {
            args.extend([*flag, *value]);
        }
    }
    tao20(&args)
}

#[test]
fn reveal_prints_the_first_reveal_block_and_its_round() {
    // The next epoch runs at 1360: the commit (included at 1101) is revealed there; the round is
    // aimed 3 blocks later: (3000 + (1360 + 3 - 1100) x 12) / 3 = 2052.
    assert_eq!(
        ok_json(&reveal(&[])),
        json!({"reveal_block": 1360, "reveal_round": 2052})
    );
    // Reveal period 2: an epoch later; 6 s blocks halve the time to it.
    assert_eq!(
        ok_json(&reveal(&[("--reveal-period", "2")])),
        json!({"reveal_block": 1720, "reveal_round": (3_000 + (1720 + 3 - 1100) * 12) / 3})
    );
    assert_eq!(
        ok_json(&reveal(&[("--block-time", "6")])),
        json!({"reveal_block": 1360, "reveal_round": (3_000 + 263 * 6) / 3})
    );
    // A pending epoch at 1200 comes first.
    assert_eq!(
        ok_json(&reveal(&[("--pending-epoch-at", "1200")]))["reveal_block"],
        1200
    );
    bad_input(&reveal(&[("--tempo", "0")]), "--tempo");
    bad_input(&reveal(&[("--reveal-period", "0")]), "--reveal-period");
    bad_input(&reveal(&[("--tempo", "70000")]), "--tempo");
    bad_input(
        &tao20(&["weights", "reveal", "--tempo", "360"]),
        "--last-epoch-block",
    );
}

struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp(text: &str) -> TempFile {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "tao20-weights-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    TempFile(path)
}

#[test]
fn encrypt_makes_a_commit_that_opens_with_the_rounds_signature() {
    let hotkey = format!("0x{}", "ab".repeat(32));
    let f = temp(
        &json!({"hotkey": hotkey, "uids": [0, 5], "values": [65535, 9], "version_key": 7, "round": 1000})
            .to_string(),
    );
    let out = ok_json(&tao20(&[
        "weights",
        "encrypt",
        "--input",
        f.0.to_str().unwrap(),
    ]));
    assert_eq!(out["round"], 1000);
    let commit = hex::decode(out["commit"].as_str().unwrap().strip_prefix("0x").unwrap()).unwrap();
    let sig = hex::decode(drand::QUICKNET_ROUND_1000_SIGNATURE).unwrap();
    assert_eq!(
        drand::decrypt_payload(&commit, &sig).unwrap(),
        WeightsTlockPayload {
            hotkey: vec![0xAB; 32],
            uids: vec![0, 5],
            values: vec![65535, 9],
            version_key: 7
        }
    );
    // Another beacon's key: the quicknet signature does not open it.
    let beacon = drand::LocalBeacon::from_seed(3);
    let f = temp(
        &json!({"hotkey": hotkey, "uids": [1], "values": [2], "version_key": 0, "round": 1000,
            "beacon_public_key": hex::encode(beacon.public_key().unwrap())})
        .to_string(),
    );
    let out = ok_json(&tao20(&[
        "weights",
        "encrypt",
        "--input",
        f.0.to_str().unwrap(),
    ]));
    let commit = hex::decode(out["commit"].as_str().unwrap().strip_prefix("0x").unwrap()).unwrap();
    assert!(drand::decrypt(&commit, &sig).is_err());
    assert_eq!(
        drand::decrypt_payload(&commit, &beacon.signature(1000).unwrap())
            .unwrap()
            .uids,
        vec![1]
    );
    for (text, needle) in [
        (
            json!({"hotkey": "0x12", "uids": [], "values": [], "version_key": 0, "round": 1}),
            "hotkey",
        ),
        (
            json!({"hotkey": hotkey, "uids": [1], "values": [], "version_key": 0, "round": 1}),
            "values",
        ),
        (
            json!({"hotkey": hotkey, "uids": [70000], "values": [1], "version_key": 0, "round": 1}),
            "uids",
        ),
        (
            json!({"hotkey": hotkey, "uids": [], "values": [], "version_key": 0, "round": 1, "beacon_public_key": "0x00"}),
            "beacon_public_key",
        ),
        (
            json!({"hotkey": hotkey, "uids": [], "values": [], "version_key": 0, "round": 1, "extra": 1}),
            "extra",
        ),
    ] {
        let f = temp(&text.to_string());
        bad_input(
            &tao20(&["weights", "encrypt", "--input", f.0.to_str().unwrap()]),
            needle,
        );
    }
    bad_input(
        &tao20(&["weights", "encrypt", "--input", "/no/such/file.json"]),
        "cannot read",
    );
}

#[test]
fn predicted_windows_sit_on_the_epochs_the_chain_rule_runs() {
    // For a few schedule states, the epochs `epochs::step` runs are the `subnet_epoch_start`s
    // the auction's prediction gives, and each window 0 ends right before one of them.
    for (tempo, last, pending) in [
        (360u16, 1000u64, 0u64),
        (360, 1000, 1100),
        (720, 5000, 0),
        (400, 7, 300),
    ] {
        let mut state = EpochSchedule {
            tempo,
            last_epoch_block: last,
            pending_epoch_at: pending,
            subnet_epoch_index: 0,
            blocks_since_last_step: 0,
            reveal_period_epochs: 1,
        };
        let ran: Vec<u64> = (last + 1..last + 4 * u64::from(tempo))
            .filter(|b| epochs::step(&mut state, *b, false) == StepOutcome::Ran)
            .collect();
        let schedule = Schedule::new(u64::from(tempo), last, pending).unwrap();
        assert_eq!(schedule.next_epoch_block(), ran[0]);
        for e in &ran[..ran.len() - 1] {
            let w = schedule.window_at(*e).unwrap();
            assert_eq!(
                (w.subnet_epoch_start, w.index, w.start),
                (*e, 1, *e),
                "{tempo} {last} {pending}"
            );
            let before = schedule.window_at(e - 1).unwrap();
            assert_eq!(
                before.subnet_epoch_start,
                if before.index == 0 {
                    *e
                } else {
                    before.subnet_epoch_start
                }
            );
            assert_eq!(before.end, e - 1);
        }
    }
}
