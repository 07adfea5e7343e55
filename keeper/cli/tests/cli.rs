//! The binary's surface: help, version and the JSON/exit-code contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;

fn tao20() -> Command {
    Command::cargo_bin("tao20").unwrap()
}

#[test]
fn version_and_help() {
    let out = tao20().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("tao20 {}", env!("CARGO_PKG_VERSION"))
    );
    let out = tao20().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("Usage: tao20"));
}

#[test]
fn info_prints_json_only() {
    let out = tao20().arg("info").output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["chain_ids"]["finney"], 964);
    assert_eq!(v["eip712"]["name"], "TAO20");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = tao20().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("tao20"))
        .arg("info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the child writes: its write then fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// A keeper with no database starts only when told to (`--init-journal`), and says why.
#[test]
fn a_keeper_without_its_database_refuses_to_start_without_init_journal() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keeper.toml");
    let db = dir.path().join("keeper.sqlite");
    std::fs::write(
        &config,
        format!(
            r#"[subtensor]
network = "local"
chain_endpoint = "ws://127.0.0.1:9"
netuid = 2

[bevm]
rpc = "http://127.0.0.1:9"
deployment = "{dir}/deployment.json"

[signer]
keystore = "{dir}/report-key"
password_file = "{dir}/password"

[wallet]
suri_file = "{dir}/hotkey.suri"

[store]
path = "{db}"
"#,
            dir = dir.path().display(),
            db = db.display()
        ),
    )
    .unwrap();
    let out = tao20()
        .args(["validator", "run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--init-journal") && err.contains("journal import"),
        "{err}"
    );
    assert!(!db.exists(), "nothing was created");
    // With the flag it goes on to the next step (here: the missing hotkey file).
    let out = tao20()
        .args(["validator", "run", "--init-journal", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("--init-journal"), "{err}");
}
