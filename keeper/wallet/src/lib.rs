//! btcli wallets in pure Rust: what the keeper and the miners need to use the keys an operator
//! already has, without Python, libsodium or OpenSSL.
//!
//! # Layout
//! A wallet lives where btcli puts it (`--wallet.path`, default [`DEFAULT_PATH`],
//! `~/.bittensor/wallets/`):
//!
//! ```text
//! <path>/<name>/coldkey                  the coldkey, normally $NACL-encrypted
//! <path>/<name>/coldkeypub.txt           its public key (plain JSON)
//! <path>/<name>/hotkeys/<hotkey>         a hotkey, normally plain JSON
//! <path>/<name>/hotkeys/<hotkey>pub.txt  its public key (bittensor-wallet 4)
//! ```
//!
//! Names default to `default` ([`DEFAULT_NAME`], [`DEFAULT_HOTKEY`]).
//!
//! # Keyfiles
//! A keyfile is JSON ([`keyfile`]) holding a mnemonic, a seed or an expanded secret, plus the
//! public key and ss58 address; only sr25519 keys are accepted. Encrypted keyfiles are `$NACL`
//! ([`nacl`]: Argon2i at libsodium's sensitive limits, 512 MiB per decryption, and
//! XSalsa20-Poly1305). The older `$ANSIBLE_VAULT` and Fernet encodings are recognised and
//! refused with [`Error::UnsupportedEncryption`], naming the format.
//!
//! # Passwords
//! A password is asked for only when a secret is needed ([`PasswordSource`]): from
//! `TAO20_WALLET_PASSWORD` ([`PASSWORD_ENV`]), else a prompt on the terminal, else an error.
//! Reading an address never needs one when the public file exists, as in btcli.
//!
//! # Example
//! ```no_run
//! use tao20_wallet::{PasswordSource, Wallet};
//!
//! let wallet = Wallet::new("~/.bittensor/wallets", "miner", "default")?;
//! println!("coldkey {}", wallet.coldkey_public()?);
//! let hotkey = wallet.hotkey_pair(&PasswordSource::env_only())?;
//! let signature = hotkey.sign(b"hello");
//! assert!(hotkey.public_key().verify(b"hello", &signature));
//! let for_subxt = hotkey.into_subxt(); // a subxt_signer::sr25519::Keypair
//! # drop(for_subxt);
//! # Ok::<(), tao20_wallet::Error>(())
//! ```
//!
//! Secrets (decrypted bytes, mnemonics, seeds, passwords) are wiped from memory when dropped
//! where the types allow it; no `Debug` output or error message contains one.

mod error;
pub mod keyfile;
mod keypair;
pub mod nacl;
mod password;
pub mod ss58;
mod wallet;

pub use error::{Error, Result};
pub use keyfile::{Contents, Encryption, Keyfile};
pub use keypair::{Keypair, PublicKey, SecretError, Signature};
pub use password::{PasswordSource, PASSWORD_ENV};
pub use wallet::{Role, Wallet, DEFAULT_HOTKEY, DEFAULT_NAME, DEFAULT_PATH};
