//! sr25519 keys as subtensor uses them: public keys (account ids) with their ss58 addresses,
//! 64-byte signatures, and a keypair that signs with the Substrate signing context
//! (`b"substrate"`, as `btcli wallet sign`, bittensor-wallet's `Keypair.sign` and extrinsic
//! signing do) and hands out the `subxt_signer` keypair the chain client needs.

use std::fmt;

use subxt_signer::sr25519;
use zeroize::Zeroizing;

use crate::ss58::{self, Ss58Error};

/// An sr25519 public key: the 32-byte account id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The format-42 ss58 address (`5…`), as btcli prints it.
    pub fn ss58(&self) -> String {
        ss58::encode(&self.0)
    }

    /// Parses an ss58 address of any format.
    pub fn from_ss58(address: &str) -> Result<Self, Ss58Error> {
        ss58::decode(address).map(Self)
    }

    /// `0x` and 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `signature` is this key's sr25519 signature of `message` (Substrate context).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        sr25519::verify(
            &sr25519::Signature(signature.0),
            message,
            &sr25519::PublicKey(self.0),
        )
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ss58())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.ss58())
    }
}

/// A 64-byte sr25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// 128 lowercase hex digits without a prefix, as `btcli wallet sign` prints it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 128 hex digits, with or without `0x`.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let digits = text.trim();
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        let mut out = [0u8; 64];
        hex::decode_to_slice(digits, &mut out)
            .map_err(|e| format!("not a 64-byte hex signature: {e}"))?;
        Ok(Self(out))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(0x{})", self.to_hex())
    }
}

/// An sr25519 keypair. `Debug` shows only the address; the secret stays inside
/// (`subxt_signer`'s own keypair would print it).
#[derive(Clone)]
pub struct Keypair {
    inner: sr25519::Keypair,
}

/// Why secret material does not make a keypair. Never carries the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The mnemonic is not a valid English BIP-39 phrase.
    #[error("not a valid BIP-39 mnemonic ({0})")]
    Phrase(String),
    /// The 32-byte mini secret is not usable.
    #[error("not a valid sr25519 seed")]
    Seed,
    /// The 64-byte secret is not a canonical sr25519 secret key (key scalar ‖ nonce).
    #[error("not a canonical 64-byte sr25519 secret key")]
    PrivateKey,
}

impl Keypair {
    /// From a BIP-39 mnemonic, as Substrate derives it (entropy through PBKDF2, no password).
    pub fn from_phrase(phrase: &str) -> Result<Self, SecretError> {
        let mnemonic =
            subxt_signer::bip39::Mnemonic::parse_in(subxt_signer::bip39::Language::English, phrase)
                .map_err(|e| SecretError::Phrase(describe_bip39(&e)))?;
        sr25519::Keypair::from_phrase(&mnemonic, None)
            .map(|inner| Self { inner })
            .map_err(|_| SecretError::Seed)
    }

    /// From the 32-byte mini secret (`secretSeed`).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, SecretError> {
        sr25519::Keypair::from_secret_key(*seed)
            .map(|inner| Self { inner })
            .map_err(|_| SecretError::Seed)
    }

    /// From the 64-byte expanded secret (`privateKey`: the key scalar, canonical, then the nonce
    /// seed), which is all a keyfile made from a secret URI such as `//Alice` holds.
    pub fn from_private_key(secret: &[u8; 64]) -> Result<Self, SecretError> {
        let key = schnorrkel::SecretKey::from_bytes(secret).map_err(|_| SecretError::PrivateKey)?;
        let inner = expanded::to_subxt(&key).ok_or(SecretError::PrivateKey)?;
        Ok(Self { inner })
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.inner.public_key().0)
    }

    /// The format-42 ss58 address.
    pub fn ss58(&self) -> String {
        self.public_key().ss58()
    }

    /// Signs `message` as-is with the Substrate signing context, like `btcli wallet sign`.
    /// sr25519 signatures are randomised: two signatures of one message differ, both verify.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.inner.sign(message).0)
    }

    /// The `subxt_signer` keypair, for signing extrinsics with subxt.
    pub fn subxt(&self) -> &sr25519::Keypair {
        &self.inner
    }

    /// Converts into the `subxt_signer` keypair.
    pub fn into_subxt(self) -> sr25519::Keypair {
        self.inner
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({})", self.ss58())
    }
}

/// Names a BIP-39 failure without echoing any word of the phrase.
fn describe_bip39(e: &subxt_signer::bip39::Error) -> String {
    use subxt_signer::bip39::Error as E;
    match e {
        E::BadWordCount(n) => format!("{n} words; 12, 15, 18, 21 or 24 expected"),
        E::UnknownWord(i) => format!("word {} is not in the English word list", i + 1),
        E::InvalidChecksum => "its checksum does not match".to_owned(),
        _ => "malformed".to_owned(),
    }
}

/// The bridge from a 64-byte expanded secret to a `subxt_signer` keypair.
///
/// `subxt_signer::sr25519::Keypair` can be built from a mnemonic or a 32-byte seed, and from an
/// expanded secret only through its polkadot-js JSON importer. So the secret is wrapped, in
/// memory only, as a polkadot-js v3 export (PKCS#8 layout, scrypt + XSalsa20-Poly1305) under an
/// empty password, and imported back. The envelope protects nothing and never leaves this
/// function; it uses the cheapest scrypt parameters the importer accepts, and the importer checks
/// that the public key it derives is the one written beside the secret.
mod expanded {
    use base64::Engine;
    use crypto_secretbox::aead::{Aead, KeyInit};
    use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
    use subxt_signer::sr25519;
    use zeroize::Zeroizing;

    // polkadot-js `pair/decode.ts`: the PKCS#8 header and the divider before the public key.
    const PKCS8_HEADER: [u8; 16] = [48, 83, 2, 1, 1, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32];
    const PKCS8_DIVIDER: [u8; 5] = [161, 35, 3, 33, 0];
    // polkadot-js' standard scrypt parameters (N = 2^15, p = 1, r = 8), the cheapest allowed.
    const LOG_N: u8 = 15;
    const P: u32 = 1;
    const R: u32 = 8;

    pub(super) fn to_subxt(secret: &schnorrkel::SecretKey) -> Option<sr25519::Keypair> {
        let public = secret.to_public().to_bytes();
        let ed25519 = Zeroizing::new(secret.to_ed25519_bytes());
        let mut plain = Zeroizing::new(Vec::with_capacity(117));
        plain.extend_from_slice(&PKCS8_HEADER);
        plain.extend_from_slice(ed25519.as_ref());
        plain.extend_from_slice(&PKCS8_DIVIDER);
        plain.extend_from_slice(&public);

        let salt = [0u8; 32];
        let nonce = [0u8; 24];
        let params = scrypt::Params::new(LOG_N, R, P, 32).ok()?;
        let mut key = Zeroizing::new([0u8; 32]);
        scrypt::scrypt(b"", &salt, &params, key.as_mut()).ok()?;
        let sealed = XSalsa20Poly1305::new(&Key::from(*key))
            .encrypt(&Nonce::from(nonce), plain.as_slice())
            .ok()?;

        let mut encoded = Zeroizing::new(Vec::with_capacity(68 + sealed.len()));
        encoded.extend_from_slice(&salt);
        encoded.extend_from_slice(&(1u32 << LOG_N).to_le_bytes());
        encoded.extend_from_slice(&P.to_le_bytes());
        encoded.extend_from_slice(&R.to_le_bytes());
        encoded.extend_from_slice(&nonce);
        encoded.extend_from_slice(&sealed);
        let json = Zeroizing::new(
            serde_json::json!({
                "encoded": base64::engine::general_purpose::STANDARD.encode(encoded.as_slice()),
                "encoding": {
                    "content": ["pkcs8", "sr25519"],
                    "type": ["scrypt", "xsalsa20-poly1305"],
                    "version": "3",
                },
                "address": crate::ss58::encode(&public),
            })
            .to_string(),
        );
        let pair = subxt_signer::polkadot_js_compat::decrypt_json(&json, "").ok()?;
        (pair.public_key().0 == public).then_some(pair)
    }
}

impl From<&Keypair> for PublicKey {
    fn from(pair: &Keypair) -> Self {
        pair.public_key()
    }
}

/// Parses `0x`-prefixed (or bare) hex of exactly `N` bytes; the message never echoes the input,
/// which may be a secret.
pub(crate) fn parse_hex<const N: usize>(text: &str) -> Result<Zeroizing<[u8; N]>, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 2 * N {
        return Err(format!(
            "expected {N} bytes ({} hex digits), found {} characters",
            2 * N,
            digits.len()
        ));
    }
    let mut out = Zeroizing::new([0u8; N]);
    hex::decode_to_slice(digits, out.as_mut()).map_err(|_| "not hex".to_owned())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHRASE: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";
    // What bittensor-wallet 4.1.1 writes for PHRASE (its keyfile fields), checked by the
    // cross-tests against the live package too.
    const PUBLIC: &str = "0x625e25364c7b68e0a83065ccb40afed43f8fe933e669b24f3d69a57eddb3b715";
    const SS58: &str = "5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe";
    const SEED: &str = "0x6fa2796b0071cac425d8a7851038318c2c37dcebfe4bae73197ce93e75909bd2";
    const PRIVATE: &str = "0xad8a44476e667ef8eab356d1d6f09303f21ba1ac44a3f8b96210bdd603d1900bb25d15f130020fffc3261f584f84168e7a6f0009f6c3abb2f3fa460f493b0595";

    #[test]
    fn phrase_seed_and_private_key_give_the_same_key() {
        let from_phrase = Keypair::from_phrase(PHRASE).unwrap();
        let from_seed = Keypair::from_seed(&parse_hex::<32>(SEED).unwrap()).unwrap();
        let from_private = Keypair::from_private_key(&parse_hex::<64>(PRIVATE).unwrap()).unwrap();
        for pair in [&from_phrase, &from_seed, &from_private] {
            assert_eq!(pair.public_key().to_hex(), PUBLIC);
            assert_eq!(pair.ss58(), SS58);
        }
        // Each one signs what the others' public key verifies, through subxt's keypair too.
        let message = b"tao20";
        for pair in [&from_phrase, &from_seed, &from_private] {
            let sig = pair.sign(message);
            assert!(from_phrase.public_key().verify(message, &sig));
            assert!(!from_phrase.public_key().verify(b"tao21", &sig));
            let via_subxt = Signature(pair.subxt().sign(message).0);
            assert!(from_seed.public_key().verify(message, &via_subxt));
        }
    }

    #[test]
    fn debug_shows_the_address_and_never_the_secret() {
        let pair = Keypair::from_phrase(PHRASE).unwrap();
        let shown = format!("{pair:?}");
        assert_eq!(shown, format!("Keypair({SS58})"));
        assert!(!shown.contains("legal"));
        assert_eq!(
            format!("{:?}", pair.public_key()),
            format!("PublicKey({SS58})")
        );
    }

    #[test]
    fn bad_secrets_are_named_without_their_content() {
        let err = Keypair::from_phrase(
            "legal winner thank year wave sausage worth useful legal winner thank thank",
        )
        .unwrap_err();
        assert_eq!(
            err,
            SecretError::Phrase("its checksum does not match".to_owned())
        );
        let err = Keypair::from_phrase("legal winner zzzz")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("zzzz"), "{err}");
        // A key scalar that is not reduced mod l is no canonical sr25519 secret.
        let mut bad = *parse_hex::<64>(PRIVATE).unwrap();
        bad[31] = 0xff;
        assert_eq!(
            Keypair::from_private_key(&bad).unwrap_err(),
            SecretError::PrivateKey
        );
        let err = parse_hex::<32>("0xzz").unwrap_err();
        assert!(err.contains("expected 32 bytes"), "{err}");
        assert!(parse_hex::<2>("zzzz").is_err());
    }

    #[test]
    fn signatures_round_trip_through_hex() {
        let pair = Keypair::from_phrase(PHRASE).unwrap();
        let sig = pair.sign(b"m");
        assert_eq!(sig.to_hex().len(), 128);
        assert_eq!(Signature::from_hex(&sig.to_hex()).unwrap(), sig);
        assert_eq!(
            Signature::from_hex(&format!("0x{}", sig.to_hex())).unwrap(),
            sig
        );
        assert!(Signature::from_hex("0x1234").is_err());
    }
}
