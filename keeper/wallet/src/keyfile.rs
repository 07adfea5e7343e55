//! One btcli keyfile: its encryption, and the JSON inside.
//!
//! The JSON (bittensor-wallet `serialized_keypair_to_keyfile_data`) has `accountId` and
//! `publicKey` (`0x` + 32 bytes), `privateKey` (`0x` + the 64-byte expanded sr25519 secret),
//! `secretPhrase` (the mnemonic), `secretSeed` (`0x` + the 32-byte mini secret), `ss58Address`
//! and `cryptoType` (1 = sr25519; absent in older files). A keypair is loaded from the first of
//! `secretPhrase`, `secretSeed`, `privateKey` present, as bittensor-wallet does; a file with none
//! of them (`coldkeypub.txt`) holds a public key only. Where the file also states its public key or
//! address, it must be the one the secret gives.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::keypair::{parse_hex, Keypair, PublicKey};
use crate::nacl;
use crate::password::PasswordSource;

/// How a keyfile's bytes are protected, told from its first bytes as bittensor-wallet does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plain JSON (hotkeys, public-key files, coldkeys created without a password).
    None,
    /// `$NACL`: Argon2i + XSalsa20-Poly1305 (see [`crate::nacl`]).
    Nacl,
    /// `$ANSIBLE_VAULT` (bittensor before 6.x); not supported.
    AnsibleVault,
    /// Fernet tokens (`gAAAAA…`, the oldest bittensor); not supported.
    LegacyFernet,
}

impl Encryption {
    /// Detects the encryption from the file's leading bytes.
    pub fn detect(data: &[u8]) -> Self {
        if data.starts_with(nacl::PREFIX) {
            Self::Nacl
        } else if data.starts_with(b"$ANSIBLE_VAULT") {
            Self::AnsibleVault
        } else if data.starts_with(b"gAAAAA") {
            Self::LegacyFernet
        } else {
            Self::None
        }
    }
}

impl fmt::Display for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "no encryption",
            Self::Nacl => "$NACL",
            Self::AnsibleVault => "$ANSIBLE_VAULT",
            Self::LegacyFernet => "legacy Fernet (gAAAAA…)",
        })
    }
}

/// A keyfile as read from disk. Its bytes are wiped when it is dropped.
pub struct Keyfile {
    path: PathBuf,
    data: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Keyfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyfile")
            .field("path", &self.path)
            .field("encryption", &self.encryption())
            .field("len", &self.data.len())
            .finish()
    }
}

/// A keyfile's content after decryption: the public key, and the keypair when it has a secret.
#[derive(Debug)]
pub struct Contents {
    /// The public key (stated by the file, or derived from its secret).
    pub public: PublicKey,
    /// The keypair, when the file has a secret.
    pub pair: Option<Keypair>,
}

impl Keyfile {
    /// Reads a keyfile; a missing file is [`Error::NotFound`].
    pub fn read(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(data) => Ok(Self::from_bytes(path, data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound {
                path: path.to_owned(),
            }),
            Err(source) => Err(Error::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// A keyfile from bytes already in memory; `path` is only used in messages.
    pub fn from_bytes(path: &Path, data: Vec<u8>) -> Self {
        Self {
            path: path.to_owned(),
            data: Zeroizing::new(data),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its encryption.
    pub fn encryption(&self) -> Encryption {
        Encryption::detect(&self.data)
    }

    /// The public key, without any password: from a plain file only. An encrypted file is
    /// [`Error::Encrypted`] (`public_file` names the sibling that would have answered).
    pub fn public_key(&self, public_file: &Path) -> Result<PublicKey> {
        match self.encryption() {
            Encryption::None => self.parse_plain(&self.data).map(|c| c.public),
            Encryption::Nacl => {
                self.check_nacl_framing()?;
                Err(Error::Encrypted {
                    path: self.path.clone(),
                    public_file: public_file.to_owned(),
                })
            }
            format => Err(self.unsupported(format)),
        }
    }

    /// The keyfile's content, decrypting it first when it is `$NACL`; the password is asked
    /// from `password` only then.
    pub fn contents(&self, password: &PasswordSource) -> Result<Contents> {
        match self.encryption() {
            Encryption::None => self.parse_plain(&self.data),
            Encryption::Nacl => {
                // A cut-off file is refused before a password is asked or 512 MiB are spent.
                self.check_nacl_framing()?;
                let secret = password.password_for(&self.path)?;
                let plain =
                    nacl::decrypt(&self.data, secret.as_bytes()).map_err(|source| Error::Nacl {
                        path: self.path.clone(),
                        source,
                    })?;
                if Encryption::detect(&plain) != Encryption::None {
                    return Err(self.malformed("the decrypted content is encrypted again"));
                }
                self.parse_plain(&plain)
            }
            format => Err(self.unsupported(format)),
        }
    }

    /// The keypair; [`Error::PublicOnly`] when the file has no secret.
    pub fn keypair(&self, password: &PasswordSource) -> Result<Keypair> {
        self.contents(password)?
            .pair
            .ok_or_else(|| Error::PublicOnly {
                path: self.path.clone(),
            })
    }

    fn check_nacl_framing(&self) -> Result<()> {
        nacl::check_framing(&self.data).map_err(|source| Error::Nacl {
            path: self.path.clone(),
            source,
        })
    }

    fn unsupported(&self, format: Encryption) -> Error {
        Error::UnsupportedEncryption {
            path: self.path.clone(),
            format,
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> Error {
        Error::Malformed {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn bad(&self, field: &'static str, reason: impl Into<String>) -> Error {
        Error::BadField {
            path: self.path.clone(),
            field,
            reason: reason.into(),
        }
    }

    fn parse_plain(&self, data: &[u8]) -> Result<Contents> {
        let json: KeyfileJson = serde_json::from_slice(data).map_err(|e| {
            // serde_json's message can quote a value; only its category and position are kept.
            let what = match e.classify() {
                serde_json::error::Category::Io => "unreadable",
                serde_json::error::Category::Syntax => "JSON syntax error",
                serde_json::error::Category::Data => "unexpected JSON value",
                serde_json::error::Category::Eof => "JSON cut off",
            };
            self.malformed(format!(
                "{what} at line {}, column {}",
                e.line(),
                e.column()
            ))
        })?;
        match json.crypto_type {
            None | Some(1) => {}
            Some(crypto_type) => {
                return Err(Error::UnsupportedCryptoType {
                    path: self.path.clone(),
                    crypto_type,
                })
            }
        }

        let pair = if let Some(phrase) = &json.secret_phrase {
            Some(
                Keypair::from_phrase(phrase)
                    .map_err(|e| self.bad("secretPhrase", e.to_string()))?,
            )
        } else if let Some(seed) = &json.secret_seed {
            let seed = parse_hex::<32>(seed).map_err(|e| self.bad("secretSeed", e))?;
            Some(Keypair::from_seed(&seed).map_err(|e| self.bad("secretSeed", e.to_string()))?)
        } else if let Some(private) = &json.private_key {
            let private = parse_hex::<64>(private).map_err(|e| self.bad("privateKey", e))?;
            Some(
                Keypair::from_private_key(&private)
                    .map_err(|e| self.bad("privateKey", e.to_string()))?,
            )
        } else {
            None
        };

        // Every public field the file has must agree with the others and with the secret.
        let mut stated: Vec<(&'static str, PublicKey)> = Vec::new();
        if let Some(address) = &json.ss58_address {
            let key = PublicKey::from_ss58(address)
                .map_err(|e| self.bad("ss58Address", e.to_string()))?;
            stated.push(("ss58Address", key));
        }
        for (field, value) in [
            ("publicKey", &json.public_key),
            ("accountId", &json.account_id),
        ] {
            if let Some(text) = value {
                let bytes = parse_hex::<32>(text).map_err(|e| self.bad(field, e))?;
                stated.push((field, PublicKey(*bytes)));
            }
        }
        let public = match (&pair, stated.first()) {
            (Some(pair), _) => pair.public_key(),
            (None, Some((_, key))) => *key,
            (None, None) => return Err(self.malformed(
                "none of secretPhrase, secretSeed, privateKey, ss58Address, publicKey, accountId",
            )),
        };
        if let Some((field, key)) = stated.iter().find(|(_, key)| *key != public) {
            return Err(Error::Mismatch {
                path: self.path.clone(),
                field,
                stated: key.ss58(),
                derived: public.ss58(),
            });
        }
        Ok(Contents { public, pair })
    }
}

/// The keyfile JSON. Unknown fields are ignored, as bittensor-wallet does; the secret fields are
/// wiped on drop.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyfileJson {
    account_id: Option<String>,
    public_key: Option<String>,
    private_key: Option<String>,
    secret_phrase: Option<String>,
    secret_seed: Option<String>,
    ss58_address: Option<String>,
    crypto_type: Option<i64>,
}

impl Drop for KeyfileJson {
    fn drop(&mut self) {
        self.private_key.zeroize();
        self.secret_phrase.zeroize();
        self.secret_seed.zeroize();
    }
}
