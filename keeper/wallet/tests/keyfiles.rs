//! Keyfile and wallet behaviour on hand-made files (no Python needed): what loads, what is
//! refused and how the refusal reads. One test runs the 512 MiB Argon2i derivation (the wrong
//! password); every other encrypted case is decided before it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use tao20_wallet::nacl::NaclError;
use tao20_wallet::{Encryption, Error, Keyfile, PasswordSource, PublicKey, Role, Wallet};

// The keyfile fields bittensor-wallet 4.1.1 writes for HOT_PHRASE, and for the //Alice URI
// (privateKey only, no phrase or seed).
const HOT_PHRASE: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
const HOT_PUBLIC: &str = "0x625e25364c7b68e0a83065ccb40afed43f8fe933e669b24f3d69a57eddb3b715";
const HOT_SS58: &str = "5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe";
const HOT_SEED: &str = "0x6fa2796b0071cac425d8a7851038318c2c37dcebfe4bae73197ce93e75909bd2";
const ALICE_PRIVATE: &str = "0x33a6f3093f158a7109f679410bef1a0c54168145e0cecb4df006c1c2fffb1f09925a225d97aa00682d6a59b95b18780c10d7032336e88f3442b42361f4a66011";
const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

// tests/fixtures/nacl-coldkey: written by bittensor-wallet 4.1.1 (`encrypt_keyfile_data` of the
// keyfile of the substrate dev phrase "bottom drive obey lake curtain smoke basket hold race
// lonely fit walk") with the password "tao20 fixture password".
const FIXTURE_SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";

fn fixture() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nacl-coldkey"))
        .unwrap()
}

fn keyfile(json: &str) -> Keyfile {
    Keyfile::from_bytes(Path::new("/w/miner/hotkeys/h"), json.as_bytes().to_vec())
}

/// A wallet `miner` (hotkey `h`) in a fresh directory, with the given files written.
fn wallet_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Wallet) {
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in files {
        let path: PathBuf = dir.path().join("miner").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let wallet = Wallet::new(dir.path().to_str().unwrap(), "miner", "h").unwrap();
    (dir, wallet)
}

fn public_json(ss58: &str, public: &str) -> String {
    format!(
        r#"{{"accountId":"{public}","publicKey":"{public}","ss58Address":"{ss58}","cryptoType":1}}"#
    )
}

#[test]
fn the_load_order_is_phrase_then_seed_then_private_key() {
    let never = PasswordSource::never();
    for json in [
        format!(r#"{{"secretPhrase":"{HOT_PHRASE}","publicKey":"{HOT_PUBLIC}"}}"#),
        format!(r#"{{"secretSeed":"{HOT_SEED}","ss58Address":"{HOT_SS58}"}}"#),
        // No cryptoType (files before bittensor-wallet 3) means sr25519.
        format!(
            r#"{{"secretSeed":"{}"}}"#,
            HOT_SEED.trim_start_matches("0x")
        ),
    ] {
        let pair = keyfile(&json).keypair(&never).unwrap();
        assert_eq!(pair.ss58(), HOT_SS58, "{json}");
    }
    let alice = keyfile(&format!(
        r#"{{"privateKey":"{ALICE_PRIVATE}","cryptoType":1}}"#
    ))
    .keypair(&never)
    .unwrap();
    assert_eq!(alice.ss58(), ALICE_SS58);
    // The phrase wins over a seed of another key: it is what bittensor-wallet loads.
    let both = format!(
        r#"{{"secretPhrase":"{HOT_PHRASE}","privateKey":"{ALICE_PRIVATE}","secretSeed":"0x{}"}}"#,
        "11".repeat(32)
    );
    assert_eq!(keyfile(&both).keypair(&never).unwrap().ss58(), HOT_SS58);
    // The subxt keypair is the same key.
    assert_eq!(
        alice.into_subxt().public_key().0,
        PublicKey::from_ss58(ALICE_SS58).unwrap().0
    );
}

#[test]
fn a_public_key_only_wallet_gives_addresses_and_refuses_to_sign() {
    let cold_pub = public_json(
        FIXTURE_SS58,
        "0x46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a",
    );
    let hot_pub = public_json(HOT_SS58, HOT_PUBLIC);
    let (_dir, wallet) = wallet_with(&[
        ("coldkeypub.txt", cold_pub.as_bytes()),
        ("hotkeys/hpub.txt", hot_pub.as_bytes()),
    ]);
    assert_eq!(wallet.coldkey_public().unwrap().ss58(), FIXTURE_SS58);
    assert_eq!(wallet.hotkey_public().unwrap().to_hex(), HOT_PUBLIC);
    let err = wallet.coldkey_pair(&PasswordSource::never()).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path } if path.ends_with("miner/coldkey")),
        "{err}"
    );
    // A public file put where the secret belongs has nothing to sign with.
    let err = keyfile(&hot_pub)
        .keypair(&PasswordSource::never())
        .unwrap_err();
    assert!(matches!(err, Error::PublicOnly { .. }), "{err}");
    assert!(err.to_string().contains("/w/miner/hotkeys/h"), "{err}");
}

#[test]
fn public_keys_need_no_password_and_an_encrypted_coldkey_alone_says_so() {
    // Unencrypted hotkey, no pub file: read from the keyfile itself.
    let hot = format!(r#"{{"secretPhrase":"{HOT_PHRASE}"}}"#);
    let (_dir, wallet) = wallet_with(&[("coldkey", &fixture()), ("hotkeys/h", hot.as_bytes())]);
    assert_eq!(wallet.hotkey_public().unwrap().ss58(), HOT_SS58);
    assert_eq!(
        wallet.hotkey_pair(&PasswordSource::never()).unwrap().ss58(),
        HOT_SS58
    );
    // $NACL coldkey without coldkeypub.txt: no address without the password.
    let err = wallet.coldkey_public().unwrap_err();
    match &err {
        Error::Encrypted { path, public_file } => {
            assert!(path.ends_with("miner/coldkey"));
            assert!(public_file.ends_with("miner/coldkeypub.txt"));
        }
        other => panic!("{other}"),
    }
    // Falling back to the password, with none to be had: a clear error, not a prompt.
    let err = wallet
        .public_key_with(Role::Coldkey, &PasswordSource::never())
        .unwrap_err();
    assert!(matches!(err, Error::NoPassword { .. }), "{err}");
    assert!(err.to_string().contains("TAO20_WALLET_PASSWORD"), "{err}");
}

#[test]
fn a_missing_key_names_both_files() {
    let (_dir, wallet) = wallet_with(&[("coldkeypub.txt", b"{}")]);
    let err = wallet.hotkey_public().unwrap_err();
    match &err {
        Error::NoKey {
            role,
            path,
            public_file,
        } => {
            assert_eq!(*role, Role::Hotkey);
            assert!(path.ends_with("miner/hotkeys/h"));
            assert!(public_file.ends_with("miner/hotkeys/hpub.txt"));
        }
        other => panic!("{other}"),
    }
    // `{}` has no key at all.
    let err = wallet.coldkey_public().unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }), "{err}");
}

#[test]
fn a_wrong_password_is_a_typed_error_naming_the_file_not_the_password() {
    let (_dir, wallet) = wallet_with(&[("coldkey", &fixture())]);
    let err = wallet
        .coldkey_pair(&PasswordSource::fixed("not the fixture password"))
        .unwrap_err();
    match &err {
        Error::Nacl { path, source } => {
            assert_eq!(*source, NaclError::WrongPassword);
            assert!(path.ends_with("miner/coldkey"));
        }
        other => panic!("{other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("wrong password") && text.contains("coldkey"),
        "{text}"
    );
    assert!(!text.contains("not the fixture"), "{text}");
}

#[test]
fn a_truncated_nacl_file_is_refused_before_any_password_is_asked() {
    let data = fixture();
    for len in [5, 29, 44] {
        let file = Keyfile::from_bytes(Path::new("/w/coldkey"), data[..len].to_vec());
        assert_eq!(file.encryption(), Encryption::Nacl);
        // `never` would answer NoPassword if the password were asked for first.
        let err = file.keypair(&PasswordSource::never()).unwrap_err();
        assert!(
            matches!(err, Error::Nacl { source: NaclError::Truncated { len: l }, .. } if l == len),
            "{len}: {err}"
        );
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = file.public_key(Path::new("/w/coldkeypub.txt")).unwrap_err();
        assert!(matches!(err, Error::Nacl { .. }), "{err}");
    }
}

#[test]
fn older_encryptions_are_named_and_refused() {
    for (data, format, name) in [
        (
            &b"$ANSIBLE_VAULT;1.1;AES256\n6134356337"[..],
            Encryption::AnsibleVault,
            "$ANSIBLE_VAULT",
        ),
        (&b"gAAAAABkX2c3"[..], Encryption::LegacyFernet, "Fernet"),
    ] {
        let file = Keyfile::from_bytes(Path::new("/w/coldkey"), data.to_vec());
        assert_eq!(file.encryption(), format);
        for err in [
            file.keypair(&PasswordSource::fixed("x")).unwrap_err(),
            file.public_key(Path::new("/w/coldkeypub.txt")).unwrap_err(),
        ] {
            assert!(
                matches!(err, Error::UnsupportedEncryption { format: f, .. } if f == format),
                "{err}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}

#[test]
fn malformed_files_are_named_without_quoting_their_content() {
    let never = PasswordSource::never();
    let cases: Vec<(String, &str)> = vec![
        ("not json at all".to_owned(), "JSON syntax error at line 1"),
        (r#"{"secretPhrase": 12345678}"#.to_owned(), "unexpected JSON value"),
        (
            r#"{"secretPhrase":"legal winner thank year wave sausage worth useful legal winner thank thank"}"#
                .to_owned(),
            "field secretPhrase: not a valid BIP-39 mnemonic (its checksum does not match)",
        ),
        (r#"{"secretSeed":"0xdeadbeef"}"#.to_owned(), "field secretSeed: expected 32 bytes"),
        (format!(r#"{{"privateKey":"0x{}"}}"#, "zz".repeat(64)), "field privateKey: not hex"),
        (r#"{"ss58Address":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"}"#.to_owned(), "checksum"),
        (r#"{"cryptoType":1}"#.to_owned(), "none of secretPhrase"),
    ];
    for (json, expected) in cases {
        let err = keyfile(&json).keypair(&never).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{json}: {text}");
        assert!(text.starts_with("/w/miner/hotkeys/h"), "{text}");
        for secret in ["12345678", "deadbeef", "legal", "zzzz"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[test]
fn ed25519_keys_and_inconsistent_files_are_refused() {
    let never = PasswordSource::never();
    let ed = format!(r#"{{"secretPhrase":"{HOT_PHRASE}","cryptoType":0}}"#);
    let err = keyfile(&ed).keypair(&never).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedCryptoType { crypto_type: 0, .. }),
        "{err}"
    );
    // A secret of one key beside the address of another: which one is funded? Refused.
    let mixed = format!(r#"{{"secretPhrase":"{HOT_PHRASE}","ss58Address":"{ALICE_SS58}"}}"#);
    let err = keyfile(&mixed).keypair(&never).unwrap_err();
    match &err {
        Error::Mismatch {
            field,
            stated,
            derived,
            ..
        } => {
            assert_eq!(
                (*field, stated.as_str(), derived.as_str()),
                ("ss58Address", ALICE_SS58, HOT_SS58)
            );
        }
        other => panic!("{other}"),
    }
    // Two public fields that disagree, with no secret.
    let alice_hex = format!("0x{}", hex_of(&PublicKey::from_ss58(ALICE_SS58).unwrap().0));
    let pubs = format!(r#"{{"ss58Address":"{HOT_SS58}","publicKey":"{alice_hex}"}}"#);
    let err = keyfile(&pubs).public_key(Path::new("/w/p")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Mismatch {
                field: "publicKey",
                ..
            }
        ),
        "{err}"
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
