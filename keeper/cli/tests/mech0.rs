//! Mechanism-0 subcommands: `index compute`, `report digest`, `nav` (JSON on stdout, exit 2 with
//! the JSON path on bad input).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn tao20() -> Command {
    Command::cargo_bin("tao20").unwrap()
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../creation/examples")
        .join(name)
}

fn run_ok(args: &[&str]) -> Value {
    let out = tao20().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn run_bad(args: &[&str]) -> String {
    let out = tao20().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

fn write_tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tao20-mech0-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `report digest` on chain 1 that must fail with exit code 2; returns stderr.
fn digest_bad(input: &str, contract: &str) -> String {
    run_bad(&[
        "report",
        "digest",
        "--input",
        input,
        "--chain-id",
        "1",
        "--contract",
        contract,
    ])
}

const CONTRACT: &str = "0x7a0207a0207a0207a0207a0207a0207a0207a020";

#[test]
fn index_compute_matches_the_library_and_the_digest_command() {
    let input = example("index-input.json");
    let v = run_ok(&["index", "compute", "--input", input.to_str().unwrap()]);
    let assets = v["index"]["assets"].as_array().unwrap();
    let sum: u64 = assets
        .iter()
        .map(|a| a["weightBps"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 10_000);
    assert!(assets
        .iter()
        .all(|a| a["weightBps"].as_u64().unwrap() <= 1500));
    let netuids: Vec<u64> = assets
        .iter()
        .map(|a| a["netuid"].as_u64().unwrap())
        .collect();
    assert!(netuids.windows(2).all(|w| w[0] < w[1]));
    assert!(!netuids.contains(&0) && !netuids.contains(&5) && !netuids.contains(&7));
    assert_eq!(v["creationFile"]["validFromBlock"], "4302400");
    assert_eq!(v["creationFile"]["validUntilBlock"], "4403199");
    // The file's hash equals what `report digest` computes for the same file.
    let msg = serde_json::json!({"type": "CreationFile", "value": v["creationFile"]});
    let f = write_tmp("file.json", &msg.to_string());
    let d = run_ok(&[
        "report",
        "digest",
        "--input",
        f.to_str().unwrap(),
        "--chain-id",
        "964",
        "--contract",
        CONTRACT,
    ]);
    assert_eq!(d["structHash"], v["creationFileHash"]);
    assert_eq!(d["type"], "CreationFile");
}

#[test]
fn report_digest_covers_every_report_type_and_binds_the_domain() {
    for (file, ty) in [
        ("creation-report.json", "CreationReport"),
        ("refund-report.json", "RefundReport"),
        ("sweep.json", "Sweep"),
    ] {
        let p = example(file);
        let args = |chain: &'static str| {
            vec![
                "report".to_owned(),
                "digest".into(),
                "--input".into(),
                p.to_str().unwrap().to_owned(),
                "--chain-id".into(),
                chain.into(),
                "--contract".into(),
                CONTRACT.into(),
            ]
        };
        let a = run_ok(&args("964").iter().map(String::as_str).collect::<Vec<_>>());
        let b = run_ok(&args("945").iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(a["type"], ty);
        assert_eq!(a["structHash"], b["structHash"]);
        assert_ne!(a["digest"], b["digest"]);
        assert!(a["encodeType"].as_str().unwrap().starts_with(ty));
    }
}

#[test]
fn nav_values_a_delivery() {
    let p = example("nav-input.json");
    let v = run_ok(&["nav", "--input", p.to_str().unwrap()]);
    // 1.2M x 0.085 + 2M x 0.05 + 0.8M x 0.12 TAO = 298 000 TAO.
    assert_eq!(v["valueRao"], "298000000000000");
    // ceil(V x 1e18 / S), S = 300 000 shares plus 2500 blocks of a 1 % management fee.
    assert_eq!(v["navPerShare"], "993323891");
    let gross: u128 = v["delivery"]["gross"].as_str().unwrap().parse().unwrap();
    let fee: u128 = v["delivery"]["fee"].as_str().unwrap().parse().unwrap();
    let out: u128 = v["delivery"]["sharesOut"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(gross - fee, out);
    assert_eq!(fee, (gross * 30).div_ceil(10_000));
    assert_eq!(v["delivery"]["deadShares"], "0");
    assert_eq!(v["delivery"]["receiverShares"], v["delivery"]["sharesOut"]);
}

#[test]
fn bad_input_exits_2_naming_the_json_path() {
    let f = write_tmp(
        "bad-digest.json",
        r#"{"type":"Sweep","value":{"positions":[{"netuid":"1","hotkey":"0x01","amount":"1"}],"nonce":"1","signerSetVersion":"1"}}"#,
    );
    let err = digest_bad(f.to_str().unwrap(), CONTRACT);
    assert!(err.contains("value.positions[0].hotkey"), "{err}");
    let f = write_tmp(
        "unsorted.json",
        &std::fs::read_to_string(example("sweep.json"))
            .unwrap()
            .replace("\"netuid\": \"4\"", "\"netuid\": \"0\""),
    );
    let err = digest_bad(f.to_str().unwrap(), CONTRACT);
    assert!(
        err.contains("positions must be strictly increasing"),
        "{err}"
    );
    let err = digest_bad(example("sweep.json").to_str().unwrap(), "0xnope");
    assert!(err.contains("--contract"), "{err}");
    let f = write_tmp(
        "bad-index.json",
        r#"{"epoch":{"epochId":"1","genesisBlock":"0","epochLength":"10"},"navPerShare":"1","signerSetVersion":"1","subnets":[{"netuid":"1","price":"-1","alphaOutstanding":"1","trading":true,"transfersEnabled":true}]}"#,
    );
    let err = run_bad(&["index", "compute", "--input", f.to_str().unwrap()]);
    assert!(err.contains("subnets[0].price"), "{err}");
    let f = write_tmp(
        "bad-nav.json",
        r#"{"valuationBlock":"1","prices":[],"fund":{"positions":[{"netuid":"3","amount":"5"}],"totalSupply":"1","managementFeeBps":"0","lastAccrualBlock":"0"}}"#,
    );
    let err = run_bad(&["nav", "--input", f.to_str().unwrap()]);
    assert!(err.contains("no usable price for netuid 3"), "{err}");
    let err = run_bad(&["nav", "--input", "/no/such/file.json"]);
    assert!(err.contains("cannot read"), "{err}");
}
