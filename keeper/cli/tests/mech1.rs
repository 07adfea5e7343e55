//! Mechanism 1's command-line contracts: `commitment decode`, `consensus price`, `auction window`,
//! `auction solve` and `auction generate`, on valid and invalid input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::Output;

use assert_cmd::Command;
use serde_json::{json, Value};

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

/// Asserts exit code 2, an empty stdout and a stderr mentioning every `needle`.
fn bad_input(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err:?}");
    }
}

fn file(value: &str) -> tempfile_path::TempPath {
    tempfile_path::write(value)
}

/// A tiny temporary-file helper (no extra dependency).
mod tempfile_path {
    use super::*;

    pub struct TempPath(pub std::path::PathBuf);

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    impl TempPath {
        pub fn arg(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    pub fn write(text: &str) -> TempPath {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tao20-mech1-{}-{}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        TempPath(path)
    }
}

#[test]
fn decode_bid_v1_and_v2() {
    let v = ok_json(&tao20(&["commitment", "decode", "1;b;2=0.2;1=0.05,0.25"]));
    assert_eq!(v["version"], 1);
    assert_eq!(v["type"], "bid");
    assert_eq!(
        v["bids"],
        json!([{"price": "1", "hashrates": ["0.05", "0.25"]}, {"price": "2", "hashrates": ["0.2"]}])
    );
    assert_eq!(v["canonical"], "1;b;1=0.05,0.25;2=0.2");
    let v = ok_json(&tao20(&["commitment", "decode", "2;b;BTC,1.10=0.2:2,.1:1"]));
    assert_eq!(v["version"], 2);
    assert_eq!(v["algo"], "BTC");
    assert_eq!(
        v["bids"][0]["workers"],
        json!([{"hashrate": "0.1", "count": 1}, {"hashrate": "0.2", "count": 2}])
    );
    assert_eq!(
        v["lines"][1],
        json!({"hashrate": "0.2", "price": "1.1", "count": 2})
    );
    assert_eq!(v["canonical"], "2;b;BTC,1.1=0.1:1,0.2:2");
}

#[test]
fn decode_price_with_bitmap_from_hex() {
    let mut payload = b"1;p;TAO_USDC=400;cap=.4".to_vec();
    payload.push(0xFF);
    let mut bitmap = [0u8; 32];
    bitmap[0] = 0b0000_0101; // uids 0 and 2
    bitmap[31] = 0x80; // uid 255
    payload.extend_from_slice(&bitmap);
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    let v = ok_json(&tao20(&[
        "commitment",
        "decode",
        "--hex",
        &format!("0x{hex}"),
    ]));
    assert_eq!(v["type"], "price");
    assert_eq!(v["prices"], json!({"TAO_USDC": "400", "cap": "0.4"}));
    assert_eq!(v["bans"], json!([0, 2, 255]));
    assert_eq!(v["canonical"], "1;p;TAO_USDC=400;cap=0.4");
    let v = ok_json(&tao20(&["commitment", "decode", "1;p;cap=1"]));
    assert_eq!(v["bans"], Value::Null);
}

#[test]
fn decode_rejects_bad_payloads_naming_the_offset() {
    bad_input(
        &tao20(&["commitment", "decode", "1;b;1=0.4,x"]),
        &["byte 10", "group 0"],
    );
    // The bid rule: the error names the field, the value and the rule.
    bad_input(
        &tao20(&["commitment", "decode", "2;b;BTC,1=0.2:1,0.125:3"]),
        &[
            "group 0",
            "byte 16",
            "hashrate 0.125",
            "whole multiple of 0.01 PH",
        ],
    );
    bad_input(
        &tao20(&["commitment", "decode", "1;b;1=0.5"]),
        &["hashrate 0.5", "a v1 worker is at most 0.45 PH"],
    );
    bad_input(
        &tao20(&["commitment", "decode", "2;b;BTC,1=0.5:1"]),
        &["group 0", "worker size"],
    );
    bad_input(
        &tao20(&["commitment", "decode", "1;p;cap=1;cap=2"]),
        &["byte 10", "repeated"],
    );
    bad_input(
        &tao20(&["commitment", "decode", "--hex", "31zz"]),
        &["offset 2"],
    );
    let long = format!("1;b;1={}", vec!["0.5"; 40].join(","));
    bad_input(&tao20(&["commitment", "decode", &long]), &["byte 128"]);
    bad_input(&tao20(&["commitment", "decode"]), &[]);
}

/// `tao20 miner bid` refuses a bids file that breaks the bid rule before it touches the chain,
/// naming the line, the value and the rule; the same file on the grain is accepted.
#[test]
fn miner_bid_refuses_bids_off_the_grain_at_startup() {
    let toml = |size: &str| {
        format!(
            "[subtensor]\nnetwork = \"local\"\nchain_endpoint = \"ws://127.0.0.1:1\"\nnetuid = 1\n\
             [wallet]\nsuri_file = \"/nonexistent/bidder.suri\"\n\
             [bids.BTC]\n\"1.0\" = {{ \"0.2\" = 2, \"{size}\" = 1 }}\n"
        )
    };
    let bad = file(&toml("0.125"));
    let out = tao20(&["miner", "bid", "--config", bad.arg()]);
    bad_input(
        &out,
        &["line 8", "hashrate 0.125", "whole multiple of 0.01 PH"],
    );
    let good = file(&toml("0.12"));
    let v = ok_json(&tao20(&["miner", "bid", "--config", good.arg(), "--check"]));
    assert_eq!(v["payload"], "2;b;BTC,1=0.12:1,0.2:2");
}

#[test]
fn consensus_price_contract() {
    let f = file(
        r#"{"gamma": "0.67", "points": [
        {"hotkey": "a", "stake": "40", "price": "10"},
        {"hotkey": "b", "stake": "30", "price": "10.2"},
        {"hotkey": "c", "stake": "20", "price": "11"},
        {"hotkey": "d", "stake": "10", "price": "50"}]}"#,
    );
    assert_eq!(
        ok_json(&tao20(&["consensus", "price", "--input", f.arg()])),
        json!({"price": "10"})
    );
    let f = file(r#"{"gamma": "1.5", "points": [{"hotkey": "a", "stake": "1", "price": "1"}]}"#);
    assert_eq!(
        ok_json(&tao20(&["consensus", "price", "--input", f.arg()])),
        json!({"price": null})
    );
    let big = format!(
        r#"{{"points": [{{"hotkey": "a", "stake": "{}", "price": "2"}}]}}"#,
        u128::MAX
    );
    let f = file(&big);
    assert_eq!(
        ok_json(&tao20(&["consensus", "price", "--input", f.arg()])),
        json!({"price": "2"})
    );
}

#[test]
fn consensus_price_rejects_bad_input() {
    for (text, needles) in [
        (r#"{"gamma": "0", "points": []}"#, vec!["gamma"]),
        (r#"{"gamma": "-1", "points": []}"#, vec!["gamma"]),
        (
            r#"{"points": [{"hotkey": "a", "stake": "1", "price": "1"}, {"hotkey": "a", "stake": "2", "price": "1"}]}"#,
            vec!["points[1].hotkey", "repeated"],
        ),
        (
            r#"{"points": [{"hotkey": "a", "stake": "1.5", "price": "1"}]}"#,
            vec!["points[0].stake"],
        ),
        (
            r#"{"points": [{"hotkey": "a", "stake": "340282366920938463463374607431768211456", "price": "1"}]}"#,
            vec!["points[0].stake"],
        ),
        (
            r#"{"points": [{"hotkey": "a", "stake": "1", "price": "1e3"}]}"#,
            vec!["points[0].price"],
        ),
        (
            r#"{"points": [{"hotkey": "a", "stake": 1, "price": "1"}]}"#,
            vec!["points[0].stake"],
        ),
        (r#"{"points": "#, vec!["JSON"]),
    ] {
        let f = file(text);
        bad_input(
            &tao20(&["consensus", "price", "--input", f.arg()]),
            &needles,
        );
    }
    bad_input(
        &tao20(&["consensus", "price", "--input", "/no/such/file.json"]),
        &["cannot read"],
    );
}

#[test]
fn auction_window_contract() {
    // Tempo 360, last epoch at 1000: windows 0..5 of it are 940, 1000, 1060, 1120, 1180, 1240;
    // the next epoch runs at 1360, its window 0 from 1300.
    let window = |block: &str, pending: Option<&str>| {
        let mut args = vec![
            "auction",
            "window",
            "--netuid",
            "1",
            "--block",
            block,
            "--tempo",
            "360",
            "--last-epoch-block",
            "1000",
        ];
        if let Some(p) = pending {
            args.extend(["--pending-epoch-at", p]);
        }
        tao20(&args)
    };
    assert_eq!(
        ok_json(&window("1300", None)),
        json!({"subnet_epoch_start": 1360, "index": 0, "start": 1300, "end": 1359})
    );
    assert_eq!(
        ok_json(&window("1299", None)),
        json!({"subnet_epoch_start": 1000, "index": 5, "start": 1240, "end": 1299})
    );
    assert_eq!(
        ok_json(&window("1000", None)),
        json!({"subnet_epoch_start": 1000, "index": 1, "start": 1000, "end": 1059})
    );
    // An owner-triggered epoch at 1100 cuts window 2 and re-anchors the cycle.
    assert_eq!(
        ok_json(&window("1099", Some("1100"))),
        json!({"subnet_epoch_start": 1000, "index": 2, "start": 1060, "end": 1099})
    );
    assert_eq!(
        ok_json(&window("1460", Some("1100"))),
        json!({"subnet_epoch_start": 1460, "index": 1, "start": 1460, "end": 1519})
    );
    bad_input(&window("939", None), &["--block"]);
    bad_input(
        &tao20(&[
            "auction",
            "window",
            "--netuid",
            "1",
            "--block",
            "5000",
            "--tempo",
            "0",
            "--last-epoch-block",
            "1000",
        ]),
        &["--tempo"],
    );
    bad_input(
        &tao20(&[
            "auction",
            "window",
            "--netuid",
            "x",
            "--block",
            "5000",
            "--tempo",
            "360",
            "--last-epoch-block",
            "1000",
        ]),
        &["netuid"],
    );
    bad_input(
        &tao20(&[
            "auction", "window", "--netuid", "1", "--block", "5000", "--tempo", "360",
        ]),
        &["--last-epoch-block"],
    );
}

#[test]
fn auction_solve_contract() {
    let f = file(
        r#"{"budget_ph": "1.2", "bids": [
        {"hotkey": "a", "hashrate": "0.5", "price": "1", "count": 2},
        {"hotkey": "b", "hashrate": "1", "price": "0.9"},
        {"hotkey": "c", "hashrate": "0.3", "price": "0.5"},
        {"hotkey": "d", "hashrate": "5", "price": "1.06"}]}"#,
    );
    let out = tao20(&["auction", "solve", "--input", f.arg()]);
    let v = ok_json(&out);
    assert_eq!(
        v,
        json!({
            "winners": [
                {"hotkey": "c", "hashrate": "0.3", "price": "0.5", "count": 1},
                {"hotkey": "b", "hashrate": "1", "price": "0.9", "count": 1},
            ],
            "total_hashrate": "1.3",
            "total_cost": "1.05",
            "budget_ph": "1.2",
            "optimal": true,
        })
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("optimal: true"));
    let milp = ok_json(&tao20(&[
        "auction",
        "solve",
        "--input",
        f.arg(),
        "--engine",
        "milp",
    ]));
    assert_eq!(milp, v);
}

/// One bid written to the last of 18 decimals in hashrate and price used to fail the whole
/// auction ("exceeds the exact integer range"); now it is solved like any other, by both engines
/// (the MILP refuses coefficients beyond 2^53 and falls back to the exact answer).
#[test]
fn auction_solve_takes_full_precision_bids() {
    let mut inst = ok_json(&tao20(&[
        "auction",
        "generate",
        "--miners",
        "12",
        "--workers",
        "15",
        "--seed",
        "3",
    ]));
    inst["bids"].as_array_mut().unwrap().push(json!({
        "hotkey": "5adversary",
        "hashrate": "0.449999999999999999",
        "price": "1.049999999999999999",
        "count": 1000,
    }));
    inst["bids"].as_array_mut().unwrap().push(json!({
        "hotkey": "5cheap",
        "hashrate": "0.050000000000000001",
        "price": "0.900000000000000001",
        "count": 3,
    }));
    let f = file(&inst.to_string());
    let v = ok_json(&tao20(&["auction", "solve", "--input", f.arg()]));
    assert_eq!(v["optimal"], true);
    let winners = v["winners"].as_array().unwrap();
    assert!(winners.iter().any(|w| w["hotkey"] == "5cheap"));
    assert!(winners.iter().any(|w| w["hotkey"] != "5cheap"));
    // Exact decimal comparison: (integer part, fraction padded to 36 digits).
    let exact = |text: &str| {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        (
            int.parse::<u128>().unwrap(),
            format!("{frac:0<36}").parse::<u128>().unwrap(),
        )
    };
    let cost = v["total_cost"].as_str().unwrap();
    let budget = inst["budget_ph"].as_str().unwrap();
    assert!(exact(cost) <= exact(budget), "{cost} > {budget}");
    assert_ne!(
        exact(cost).1 % 1_000_000_000,
        0,
        "{cost} has no fine digits"
    );
    let milp = ok_json(&tao20(&[
        "auction",
        "solve",
        "--input",
        f.arg(),
        "--engine",
        "milp",
    ]));
    assert_eq!(milp, v);
}

/// Rows beyond the bid rule go to the Pareto programme, whose state budget can run out: then
/// the winners are still feasible, and both the JSON and stderr say they are not proven.
#[test]
fn auction_solve_says_when_its_answer_is_not_proven() {
    let f = file(
        r#"{"budget_ph": "0.9", "bids": [
        {"hotkey": "a", "hashrate": "0.200000000000000001", "price": "0.5"},
        {"hotkey": "b", "hashrate": "1", "price": "0.9"}]}"#,
    );
    let args = ["auction", "solve", "--input", f.arg(), "--max-states", "1"];
    let out = tao20(&args);
    let v = ok_json(&out);
    assert_eq!(v["optimal"], false);
    assert!(!v["winners"].as_array().unwrap().is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("optimal: false"), "{err}");
    assert!(
        err.contains("not a proven optimum") || err.contains("best verified"),
        "{err}"
    );
    // The default budget proves it.
    let v = ok_json(&tao20(&["auction", "solve", "--input", f.arg()]));
    assert_eq!(v["optimal"], true);
    // Within the bid rule the bounded search needs no state at all.
    let g = file(
        r#"{"budget_ph": "0.9", "bids": [
        {"hotkey": "a", "hashrate": "0.2", "price": "0.5"},
        {"hotkey": "b", "hashrate": "0.45", "price": "0.9", "count": 2}]}"#,
    );
    let args = ["auction", "solve", "--input", g.arg(), "--max-states", "1"];
    assert_eq!(ok_json(&tao20(&args))["optimal"], true);
}

#[test]
fn auction_solve_output_is_byte_identical_under_permutation() {
    let inst = ok_json(&tao20(&[
        "auction",
        "generate",
        "--miners",
        "12",
        "--workers",
        "15",
        "--seed",
        "3",
    ]));
    let f = file(&inst.to_string());
    let a = tao20(&["auction", "solve", "--input", f.arg()]);
    let mut reversed = inst.clone();
    reversed["bids"].as_array_mut().unwrap().reverse();
    let g = file(&reversed.to_string());
    let b = tao20(&["auction", "solve", "--input", g.arg()]);
    assert!(a.status.success() && b.status.success());
    assert_eq!(a.stdout, b.stdout);
    let v: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert!(!v["winners"].as_array().unwrap().is_empty());
}

#[test]
fn auction_solve_rejects_bad_input() {
    for (text, needles) in [
        (r#"{"bids": []}"#, vec!["budget_ph"]),
        (
            r#"{"budget_ph": "1", "bids": [{"hotkey": "a", "hashrate": "x", "price": "1"}]}"#,
            vec!["bids[0].hashrate"],
        ),
        (
            r#"{"budget_ph": "1", "bids": [{"hotkey": "a", "hashrate": "1", "price": "1", "count": 0}]}"#,
            vec!["bids[0].count"],
        ),
        (
            r#"{"budget_ph": "1", "bids": [{"hotkey": "a", "hashrate": "1", "price": "1", "count": -1}]}"#,
            vec!["bids[0].count"],
        ),
        (
            r#"{"budget_ph": "1", "bids": [{"hotkey": "a", "hashrate": "1", "price": "1", "extra": 1}]}"#,
            vec!["bids[0]"],
        ),
        (
            r#"{"budget_ph": "1", "max_price_multiplier": 1.05, "bids": []}"#,
            vec!["max_price_multiplier"],
        ),
        (
            r#"{"budget_ph": "1", "bids": [{"hotkey": "a", "hashrate": "1000000.1", "price": "1"}]}"#,
            vec!["bids", "1000000.1", "exceeds 1000000 PH"],
        ),
    ] {
        let f = file(text);
        bad_input(&tao20(&["auction", "solve", "--input", f.arg()]), &needles);
    }
}
