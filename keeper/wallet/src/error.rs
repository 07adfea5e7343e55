//! The crate's error: every variant names the file (or variable) concerned and what was wrong
//! with it, and none ever carries a password, a mnemonic or key bytes.

use std::path::PathBuf;

use crate::keyfile::Encryption;
use crate::nacl::NaclError;
use crate::password::PASSWORD_ENV;
use crate::wallet::Role;

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a wallet, a keyfile or its password could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The keyfile does not exist.
    #[error("{}: no such keyfile", path.display())]
    NotFound {
        /// The file looked for.
        path: PathBuf,
    },
    /// The keyfile exists but cannot be read (permissions, a directory, ...).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// An encryption this crate does not implement (`$ANSIBLE_VAULT`, legacy Fernet).
    #[error(
        "{}: encrypted with {format}, which only older bittensor versions write; \
         re-encrypt it with a current btcli (`btcli wallet regen-coldkey`/`regen-hotkey`, \
         which writes $NACL)",
        path.display()
    )]
    UnsupportedEncryption {
        /// The file.
        path: PathBuf,
        /// The format found.
        format: Encryption,
    },
    /// A `$NACL` file that does not open: wrong password, truncated or damaged.
    #[error("{}: {source}", path.display())]
    Nacl {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: NaclError,
    },
    /// The (decrypted) content is not a keyfile.
    #[error("{}: not a bittensor keyfile: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, without quoting content.
        reason: String,
    },
    /// One field of the keyfile is unusable.
    #[error("{}: field {field}: {reason}", path.display())]
    BadField {
        /// The file.
        path: PathBuf,
        /// The JSON field (`secretPhrase`, `ss58Address`, ...).
        field: &'static str,
        /// What is wrong, without quoting a secret.
        reason: String,
    },
    /// The key is not sr25519 (bittensor-wallet can write ed25519 keyfiles, `cryptoType` 0).
    #[error(
        "{}: cryptoType {crypto_type} is not sr25519 (1); subtensor accounts here are sr25519",
        path.display()
    )]
    UnsupportedCryptoType {
        /// The file.
        path: PathBuf,
        /// The value found.
        crypto_type: i64,
    },
    /// The file's stated public key or address is not the one its secret gives.
    #[error(
        "{}: {field} says {stated} but the key is {derived}; the keyfile is inconsistent",
        path.display()
    )]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The field that disagrees.
        field: &'static str,
        /// What the field says (a public value).
        stated: String,
        /// The key's address: the one its secret gives, or its first public field's.
        derived: String,
    },
    /// A secret was needed but the file holds only a public key.
    #[error("{}: holds only a public key; signing needs the file with the secret", path.display())]
    PublicOnly {
        /// The file.
        path: PathBuf,
    },
    /// The public key was asked for without a password, and only the encrypted file exists.
    #[error(
        "{}: encrypted, and there is no public-key file beside it ({}); give the password to \
         read the key, or restore the public file (`btcli wallet regen-coldkeypub`)",
        path.display(),
        public_file.display()
    )]
    Encrypted {
        /// The encrypted file.
        path: PathBuf,
        /// The public-key file that is missing.
        public_file: PathBuf,
    },
    /// The wallet has neither file of the key.
    #[error("wallet has no {role}: neither {} nor {} exists", path.display(), public_file.display())]
    NoKey {
        /// Which key.
        role: Role,
        /// The secret keyfile looked for.
        path: PathBuf,
        /// The public keyfile looked for.
        public_file: PathBuf,
    },
    /// A password is needed and there is no way to get one.
    #[error(
        "{} is encrypted and no password is available: set {PASSWORD_ENV}{}",
        path.display(),
        if *prompt_allowed { ", or run on a terminal to be asked" } else { "" }
    )]
    NoPassword {
        /// The encrypted file.
        path: PathBuf,
        /// Whether a terminal prompt would have been used.
        prompt_allowed: bool,
    },
    /// The password variable is set but not UTF-8.
    #[error("{PASSWORD_ENV} is not valid UTF-8")]
    PasswordNotUtf8,
    /// Reading the password from the terminal failed.
    #[error("cannot read the password for {} from the terminal: {source}", path.display())]
    Prompt {
        /// The encrypted file.
        path: PathBuf,
        /// The terminal's error.
        #[source]
        source: std::io::Error,
    },
    /// A wallet or hotkey name that would leave the wallet directory, or is empty.
    #[error("invalid {what} name {name:?}: it must be non-empty, not `.` or `..`, without `/`")]
    InvalidName {
        /// `wallet` or `hotkey`.
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// `~` in the wallet path with no home directory to expand it to.
    #[error("cannot expand `~` in the wallet path {path:?}: HOME is not set")]
    NoHome {
        /// The path given.
        path: String,
    },
}
