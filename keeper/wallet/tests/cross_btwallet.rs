//! Cross-tests against PyPI bittensor-wallet (the library btcli itself uses; version pinned in
//! tools/deps.sh): it writes a wallet and keyfiles through its own API, this crate reads them
//! and must find the same keys, and each side verifies the other's signatures. Without python3
//! or bittensor-wallet these tests fail, naming what is missing; they are never skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tao20_wallet::{Keyfile, PasswordSource, PublicKey, Signature, Wallet};

const PASSWORD: &str = "correct horse battery staple";
const MESSAGE: &str = "tao20 cross-test: sign me";
const BTWALLET_VERSION: &str = "4.1.1";

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/btwallet.py")
}

/// Runs the reference script; a missing interpreter or package fails the test with the fix.
fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); the wallet cross-tests need it and bittensor-wallet=={BTWALLET_VERSION} (tools/deps.sh installs it)"));
    assert!(
        out.status.success(),
        "btwallet.py {} failed ({}): {}\n(bittensor-wallet=={BTWALLET_VERSION} is installed by tools/deps.sh)",
        args.first().unwrap_or(&""),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn btwallet_verifies(address: &str, message: &str, signature: &Signature) -> bool {
    let out = python(&["verify", address, message, &signature.to_hex()]);
    let answer: Value = serde_json::from_str(out.trim()).unwrap();
    answer["valid"].as_bool().unwrap()
}

fn key(expected: &Value) -> (String, String) {
    (
        expected["ss58"].as_str().unwrap().to_owned(),
        expected["public_key"].as_str().unwrap().to_owned(),
    )
}

fn shown(public: PublicKey) -> (String, String) {
    (public.ss58(), public.to_hex())
}

#[test]
fn wallets_written_by_bittensor_wallet_read_the_same_and_signatures_cross_verify() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    python(&["create", root, PASSWORD, MESSAGE]);
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected["version"], BTWALLET_VERSION);
    let cold = key(&expected["coldkey"]);
    let hot = key(&expected["hotkey"]);

    let wallet = Wallet::new(root, "miner", "validator").unwrap();
    // Public keys from coldkeypub.txt / validatorpub.txt: no password involved.
    assert_eq!(shown(wallet.coldkey_public().unwrap()), cold);
    assert_eq!(shown(wallet.hotkey_public().unwrap()), hot);

    // The hotkey is unencrypted: it loads without a password source.
    let hotkey = wallet.hotkey_pair(&PasswordSource::never()).unwrap();
    assert_eq!(shown(hotkey.public_key()), hot);

    // The one $NACL decryption of this suite: bittensor-wallet's Argon2i + secretbox.
    let started = std::time::Instant::now();
    let coldkey = wallet
        .coldkey_pair(&PasswordSource::fixed(PASSWORD))
        .unwrap();
    eprintln!("$NACL coldkey decrypted in {:?}", started.elapsed());
    assert_eq!(shown(coldkey.public_key()), cold);

    // bittensor-wallet's signatures verify here, over the message and nothing else.
    for (pair, field) in [
        (&coldkey, "coldkey_signature"),
        (&hotkey, "hotkey_signature"),
    ] {
        let theirs = Signature::from_hex(expected[field].as_str().unwrap()).unwrap();
        assert!(
            pair.public_key().verify(MESSAGE.as_bytes(), &theirs),
            "{field}"
        );
        assert!(
            !pair.public_key().verify(b"another message", &theirs),
            "{field}"
        );
    }
    // Ours verify there; a flipped bit does not.
    for (pair, address) in [(&coldkey, &cold.0), (&hotkey, &hot.0)] {
        let ours = pair.sign(MESSAGE.as_bytes());
        assert!(btwallet_verifies(address, MESSAGE, &ours));
        let mut bad = ours;
        bad.0[10] ^= 1;
        assert!(!btwallet_verifies(address, MESSAGE, &bad));
    }

    // Single keyfiles: only a seed, only a private key (a //Alice URI), only a public key.
    let keyfiles = dir.path().join("keyfiles");
    for label in ["seed", "uri", "public"] {
        let want = &expected["keyfiles"][label];
        let fields: Vec<&str> = want["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let file = Keyfile::read(&keyfiles.join(label)).unwrap();
        let contents = file.contents(&PasswordSource::never()).unwrap();
        assert_eq!(shown(contents.public), key(want), "{label}");
        match label {
            "seed" => assert!(fields.contains(&"secretSeed") && !fields.contains(&"secretPhrase")),
            "uri" => assert!(fields.contains(&"privateKey") && !fields.contains(&"secretSeed")),
            _ => assert!(!fields.contains(&"privateKey")),
        }
        match contents.pair {
            Some(pair) => {
                assert_ne!(label, "public");
                assert_eq!(shown(pair.public_key()), key(want), "{label}");
                let sig = pair.sign(MESSAGE.as_bytes());
                assert!(btwallet_verifies(&key(want).0, MESSAGE, &sig), "{label}");
            }
            None => assert_eq!(label, "public"),
        }
    }
}
