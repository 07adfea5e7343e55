//! `tao20 wallet show|sign` against a wallet written by PyPI bittensor-wallet (the reference
//! script of keeper/wallet; a missing python3 or package fails the test, naming the fix), and
//! their errors: exit 2 naming the input, nothing on stdout, no secret anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;

const PASSWORD: &str = "tao20 cli test password";
const MESSAGE: &str = "tao20 wallet sign: hello";

fn tao20() -> Command {
    let mut cmd = Command::cargo_bin("tao20").unwrap();
    // Nothing from the caller's environment decides a test; stdin is closed (no terminal).
    cmd.env_remove("TAO20_WALLET_PASSWORD");
    cmd
}

fn btwallet(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wallet/tests/btwallet.py");
    let out = Std::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): needed with bittensor-wallet (tools/deps.sh)")
        });
    assert!(
        out.status.success(),
        "{} {} failed: {}\n(bittensor-wallet is installed by tools/deps.sh)",
        script.display(),
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn btwallet_verifies(address: &str, signature_hex: &str) -> bool {
    let out = btwallet(&["verify", address, MESSAGE, signature_hex]);
    serde_json::from_str::<Value>(out.trim()).unwrap()["valid"]
        .as_bool()
        .unwrap()
}

fn wallet_args<'a>(root: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["wallet"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--wallet.path", root, "--wallet.name", "miner"]);
    args
}

/// Runs `tao20`, expecting exit 2 with an empty stdout; returns stderr.
fn input_error(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn show_and_sign_agree_with_bittensor_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    btwallet(&["create", root, PASSWORD, MESSAGE]);
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    let cold = &expected["coldkey"];
    let hot = &expected["hotkey"];

    // show: both keys from the public files, no password in the environment, none asked.
    let mut args = wallet_args(root, &["show", "--json"]);
    args.extend_from_slice(&["--wallet.hotkey", "validator"]);
    let out = tao20().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["coldkey"]["ss58"], cold["ss58"]);
    assert_eq!(shown["coldkey"]["public_key"], cold["public_key"]);
    assert_eq!(shown["hotkey"]["ss58"], hot["ss58"]);
    assert_eq!(shown["hotkey"]["public_key"], hot["public_key"]);
    assert_eq!(shown["hotkey"]["name"], "validator");
    // The text form carries the same addresses.
    args.retain(|a| *a != "--json");
    let out = tao20().args(&args).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for key in [cold, hot] {
        assert!(text.contains(key["ss58"].as_str().unwrap()), "{text}");
        assert!(text.contains(key["public_key"].as_str().unwrap()), "{text}");
    }
    // The default hotkey does not exist in this wallet: shown as absent, not an error.
    let out = tao20()
        .args(wallet_args(root, &["show", "--json"]))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["hotkey"].is_null());

    // sign --use-hotkey: the unencrypted hotkey signs without a password; the bare hex of
    // btcli verifies with bittensor-wallet.
    let mut args = wallet_args(root, &["sign", "--use-hotkey", "--message", MESSAGE]);
    args.extend_from_slice(&["--wallet.hotkey", "validator"]);
    let out = tao20().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signature = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(signature.len(), 128, "{signature}");
    assert!(btwallet_verifies(hot["ss58"].as_str().unwrap(), &signature));
    // ... and not as the coldkey's.
    assert!(!btwallet_verifies(
        cold["ss58"].as_str().unwrap(),
        &signature
    ));

    // sign with the $NACL coldkey: without a password it is an input error naming the file and
    // the variable, at once (closed stdin is no terminal) ...
    let args = wallet_args(root, &["sign", "--message", MESSAGE]);
    let stderr = input_error(tao20().args(&args));
    assert!(
        stderr.contains("miner/coldkey") && stderr.contains("TAO20_WALLET_PASSWORD"),
        "{stderr}"
    );
    // ... with it (this test's one Argon2i run), a signature bittensor-wallet accepts.
    let mut json_args = args.clone();
    json_args.push("--json");
    let out = tao20()
        .env("TAO20_WALLET_PASSWORD", PASSWORD)
        .args(&json_args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(signed["key"], "coldkey");
    assert_eq!(signed["ss58"], cold["ss58"]);
    let hex = signed["signature"]
        .as_str()
        .unwrap()
        .trim_start_matches("0x");
    assert!(btwallet_verifies(cold["ss58"].as_str().unwrap(), hex));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(PASSWORD) && !stdout.contains("bottom drive"),
        "{stdout}"
    );

    // Without coldkeypub.txt, show needs the coldkey's password: none available is exit 2.
    std::fs::remove_file(dir.path().join("miner/coldkeypub.txt")).unwrap();
    let stderr = input_error(tao20().args(wallet_args(root, &["show"])));
    assert!(stderr.contains("TAO20_WALLET_PASSWORD"), "{stderr}");
}

/// A wallet `miner` in a fresh directory with the given files.
fn wallet_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in files {
        let path = dir.path().join("miner").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    dir
}

#[test]
fn bad_wallets_exit_2_naming_the_input() {
    let hot_pub = r#"{"ss58Address":"5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe"}"#;
    let dir = wallet_with(&[
        ("coldkey", "$ANSIBLE_VAULT;1.1;AES256\n3132"),
        ("hotkeys/default", "{\"secretSeed\": \"0x12\"}"),
        ("hotkeys/pubonlypub.txt", hot_pub),
    ]);
    let root = dir.path().to_str().unwrap();

    let stderr = input_error(tao20().args([
        "wallet",
        "show",
        "--wallet.path",
        root,
        "--wallet.name",
        "nobody",
    ]));
    assert!(stderr.contains("--wallet.name nobody"), "{stderr}");

    let stderr = input_error(tao20().args(wallet_args(root, &["sign", "--message", "m"])));
    assert!(
        stderr.contains("$ANSIBLE_VAULT") && stderr.contains("miner/coldkey"),
        "{stderr}"
    );

    let stderr = input_error(tao20().args(wallet_args(
        root,
        &["sign", "--use-hotkey", "--message", "m"],
    )));
    assert!(
        stderr.contains("miner/hotkeys/default") && stderr.contains("secretSeed"),
        "{stderr}"
    );

    // show reads the (public-only) hotkey, then the coldkey (no coldkeypub.txt), and names the
    // coldkey's encoding.
    let mut args = wallet_args(root, &["show"]);
    args.extend_from_slice(&["--wallet.hotkey", "pubonly"]);
    let stderr = input_error(tao20().args(&args));
    assert!(stderr.contains("$ANSIBLE_VAULT"), "{stderr}");
    // The default hotkey's bad seed is named with its file.
    let stderr = input_error(tao20().args(wallet_args(root, &["show"])));
    assert!(
        stderr.contains("hotkeys/default: field secretSeed"),
        "{stderr}"
    );

    // A hotkey with only its public file cannot sign.
    let mut args = wallet_args(root, &["sign", "--use-hotkey", "--message", "m"]);
    args.extend_from_slice(&["--wallet.hotkey", "pubonly"]);
    let stderr = input_error(tao20().args(&args));
    assert!(
        stderr.contains("miner/hotkeys/pubonly: no such keyfile"),
        "{stderr}"
    );

    // A named hotkey that does not exist.
    let mut args = wallet_args(root, &["show"]);
    args.extend_from_slice(&["--wallet.hotkey", "ghost"]);
    let stderr = input_error(tao20().args(&args));
    assert!(
        stderr.contains("hotkeys/ghost") && stderr.contains("ghostpub.txt"),
        "{stderr}"
    );

    // A name that would leave the wallets directory.
    let stderr = input_error(tao20().args([
        "wallet",
        "show",
        "--wallet.path",
        root,
        "--wallet.name",
        "../etc",
    ]));
    assert!(stderr.contains("invalid wallet name"), "{stderr}");
}

#[test]
fn a_public_only_wallet_shows_without_any_password() {
    let dir = wallet_with(&[
        (
            "coldkeypub.txt",
            r#"{"ss58Address":"5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV","cryptoType":1}"#,
        ),
        (
            "hotkeys/defaultpub.txt",
            r#"{"publicKey":"0x625e25364c7b68e0a83065ccb40afed43f8fe933e669b24f3d69a57eddb3b715"}"#,
        ),
    ]);
    let root = dir.path().to_str().unwrap();
    let out = tao20()
        .args(wallet_args(root, &["show", "--json"]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        shown["coldkey"]["public_key"],
        "0x46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a"
    );
    assert_eq!(
        shown["hotkey"]["ss58"],
        "5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe"
    );
    assert_eq!(shown["hotkey"]["name"], "default");
    assert_eq!(shown["wallet"]["name"], "miner");
}
