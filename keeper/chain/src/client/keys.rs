//! The signing key: sr25519 from a secret URI (`//Alice`, a mnemonic, `0x` seed, with optional
//! derivation paths), read from an environment variable or a file, never from the command line.
//! Error messages name the variable or file, never its content; the keypair's `Debug` prints only
//! the public key.

use std::str::FromStr;

use subxt_signer::sr25519::Keypair;
use subxt_signer::SecretUri;

use crate::types::Bytes32;
use crate::{Error, Result};

/// Environment variable holding the secret URI.
pub const SURI_ENV: &str = "TAO20_SUBSTRATE_SURI";
/// Environment variable naming a file that holds the secret URI (first line).
pub const SURI_FILE_ENV: &str = "TAO20_SUBSTRATE_SURI_FILE";

/// An sr25519 signer.
#[derive(Clone)]
pub struct Signer {
    keypair: Keypair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.account())
    }
}

impl Signer {
    /// Parses a secret URI; `source` names where it came from, for the error message.
    pub fn from_suri(suri: &str, source: &str) -> Result<Self> {
        let uri = SecretUri::from_str(suri.trim()).map_err(|_| Error::Key {
            reason: format!("{source} does not hold a valid secret URI"),
        })?;
        let keypair = Keypair::from_uri(&uri).map_err(|_| Error::Key {
            reason: format!("{source}: cannot derive an sr25519 key from its secret URI"),
        })?;
        Ok(Signer { keypair })
    }

    /// Loads the key from [`SURI_ENV`], or else from the file named by [`SURI_FILE_ENV`].
    /// `Ok(None)` when neither is set (a read-only client).
    pub fn from_env() -> Result<Option<Self>> {
        if let Ok(suri) = std::env::var(SURI_ENV) {
            return Self::from_suri(&suri, SURI_ENV).map(Some);
        }
        if let Ok(path) = std::env::var(SURI_FILE_ENV) {
            return Self::from_file(std::path::Path::new(&path)).map(Some);
        }
        Ok(None)
    }

    /// Loads the key from a file holding the secret URI on its first line.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Key {
            reason: format!("cannot read key file {}: {}", path.display(), e.kind()),
        })?;
        let line = text.lines().next().unwrap_or_default();
        Self::from_suri(line, &format!("key file {}", path.display()))
    }

    /// A signer from a keypair loaded elsewhere (a btcli wallet).
    pub fn from_keypair(keypair: Keypair) -> Self {
        Signer { keypair }
    }

    /// The public key (the account id).
    pub fn account(&self) -> Bytes32 {
        Bytes32(self.keypair.public_key().0)
    }

    /// The subxt keypair.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_uris_give_the_well_known_accounts_and_errors_hide_the_secret() {
        let alice = Signer::from_suri("//Alice", "test").unwrap();
        assert_eq!(
            alice.account().to_string(),
            "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert!(!format!("{alice:?}").contains("Alice"));
        let err = Signer::from_suri("not a uri with secret words", "TAO20_SUBSTRATE_SURI")
            .unwrap_err()
            .to_string();
        assert!(err.contains("TAO20_SUBSTRATE_SURI"));
        assert!(!err.contains("secret words"));
    }

    #[test]
    fn key_files_are_read_from_their_first_line() {
        let dir = std::env::temp_dir().join(format!("tao20-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("suri");
        std::fs::write(&path, "//Bob\n").unwrap();
        let bob = Signer::from_file(&path).unwrap();
        assert_eq!(
            bob.account().to_string(),
            "0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"
        );
        assert!(Signer::from_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
