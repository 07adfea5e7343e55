//! The report-signing key: an encrypted JSON keystore (Web3 Secret Storage v3, the format
//! `cast wallet import` writes to `~/.foundry/keystores/NAME`), its password from a file or an
//! environment variable. The password is never an argument and never reaches a log line; errors
//! name the keystore file and the password's source, not the password.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where a keystore's password comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSource {
    /// The first line of a file (a trailing newline is dropped).
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl std::fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::File(p) => write!(f, "password file {}", p.display()),
            PasswordSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

impl PasswordSource {
    /// Reads the password.
    pub fn read(&self) -> Result<String> {
        let err = |reason: String| Error::Keystore {
            path: self.to_string(),
            reason,
        };
        match self {
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
                let line = text.lines().next().unwrap_or("");
                Ok(line.to_string())
            }
            PasswordSource::Env(var) => std::env::var(var).map_err(|e| err(e.to_string())),
        }
    }
}

/// A keystore and where its password comes from, as a keeper's (`[signer]`, `[transmitter]`) and
/// a miner's (`[evm]`) configuration name them. Paths are taken as given: the configuration
/// loaders expand `~` and resolve relative paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreConfig {
    /// The keystore file (`~/.foundry/keystores/NAME`).
    pub keystore: PathBuf,
    /// A file holding the keystore password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding it.
    #[serde(default)]
    pub password_env: Option<String>,
}

/// A [`KeystoreConfig`] naming both password sources, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("set exactly one of password_file and password_env")]
pub struct PasswordSourceUnclear;

impl KeystoreConfig {
    /// Where the password comes from: exactly one source must be named.
    pub fn password(&self) -> std::result::Result<PasswordSource, PasswordSourceUnclear> {
        match (&self.password_file, &self.password_env) {
            (Some(f), None) => Ok(PasswordSource::File(f.clone())),
            (None, Some(v)) => Ok(PasswordSource::Env(v.clone())),
            _ => Err(PasswordSourceUnclear),
        }
    }

    /// Its two paths passed through `f`: a configuration loader's `~` expansion and resolution of
    /// relative paths, so that neither path is left out.
    pub fn map_paths(&mut self, f: impl Fn(&Path) -> PathBuf) {
        self.keystore = f(&self.keystore);
        self.password_file = self.password_file.as_deref().map(f);
    }

    /// Decrypts the keystore.
    pub fn load(&self) -> Result<PrivateKeySigner> {
        let password = self
            .password()
            .map_err(|e| keystore_err(&self.keystore, e))?;
        load(&self.keystore, &password)
    }
}

fn keystore_err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Keystore {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Decrypts a keystore.
pub fn load(path: &Path, password: &PasswordSource) -> Result<PrivateKeySigner> {
    let pw = password.read()?;
    PrivateKeySigner::decrypt_keystore(path, pw)
        .map_err(|e| keystore_err(path, format!("cannot decrypt with the {password}: {e}")))
}

/// A new random key stored as `dir/name`; returns its address.
pub fn create(dir: &Path, name: &str, password: &PasswordSource) -> Result<Address> {
    check_name(dir, name)?;
    let pw = password.read()?;
    std::fs::create_dir_all(dir).map_err(|e| keystore_err(dir, e))?;
    let (signer, _) = PrivateKeySigner::new_keystore(dir, &mut rand::thread_rng(), pw, Some(name))
        .map_err(|e| keystore_err(dir, e))?;
    restrict(&dir.join(name))?;
    Ok(signer.address())
}

/// Stores an existing secret key as `dir/name`; returns its address.
pub fn import(dir: &Path, name: &str, secret: &B256, password: &PasswordSource) -> Result<Address> {
    check_name(dir, name)?;
    let pw = password.read()?;
    std::fs::create_dir_all(dir).map_err(|e| keystore_err(dir, e))?;
    let (signer, _) = PrivateKeySigner::encrypt_keystore(
        dir,
        &mut rand::thread_rng(),
        secret.as_slice(),
        pw,
        Some(name),
    )
    .map_err(|e| keystore_err(dir, e))?;
    restrict(&dir.join(name))?;
    Ok(signer.address())
}

/// Parses a secret key given as hex (with or without `0x`), surrounding whitespace ignored.
pub fn parse_secret(text: &str) -> Result<B256> {
    let t = text.trim();
    let digits = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(digits).map_err(|e| Error::invalid("secret key", e.to_string()))?;
    let arr: [u8; 32] = bytes.try_into().map_err(|v: Vec<u8>| {
        Error::invalid("secret key", format!("{} bytes, expected 32", v.len()))
    })?;
    Ok(B256::from(arr))
}

fn check_name(dir: &Path, name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(Error::invalid(
            "keystore name",
            format!("{name:?} is not a file name"),
        ));
    }
    let path = dir.join(name);
    if path.exists() {
        return Err(keystore_err(
            &path,
            "already exists; refusing to overwrite a key",
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| keystore_err(path, e))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_the_source_on_a_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let pw_file = dir.path().join("pw");
        std::fs::write(&pw_file, "correct horse\n").unwrap();
        let pw = PasswordSource::File(pw_file.clone());
        let secret = parse_secret(&format!("0x{}", "11".repeat(32))).unwrap();
        let addr = import(dir.path(), "keeper", &secret, &pw).unwrap();
        let signer = load(&dir.path().join("keeper"), &pw).unwrap();
        assert_eq!(signer.address(), addr);
        assert!(
            import(dir.path(), "keeper", &secret, &pw).is_err(),
            "never overwrites"
        );

        std::fs::write(&pw_file, "wrong\n").unwrap();
        let err = load(&dir.path().join("keeper"), &pw)
            .unwrap_err()
            .to_string();
        assert!(err.contains("password file"), "{err}");
        assert!(
            !err.contains("wrong") && !err.contains("correct horse"),
            "{err}"
        );
        assert!(parse_secret("0x1234").is_err());
        assert!(create(dir.path(), "../x", &pw).is_err());

        // As a configuration names it: exactly one password source, or the keystore is named
        // with the rule.
        std::fs::write(
            &pw_file,
            "correct horse
",
        )
        .unwrap();
        let mut cfg = KeystoreConfig {
            keystore: dir.path().join("keeper"),
            password_file: Some(pw_file.clone()),
            password_env: None,
        };
        assert_eq!(cfg.password(), Ok(PasswordSource::File(pw_file.clone())));
        assert_eq!(cfg.load().unwrap().address(), addr);
        cfg.password_env = Some("TAO20_UNUSED_PW".into());
        assert_eq!(cfg.password(), Err(PasswordSourceUnclear));
        let err = cfg.load().unwrap_err().to_string();
        assert!(
            err.contains("keeper") && err.contains("exactly one"),
            "{err}"
        );
        cfg.password_file = None;
        assert_eq!(
            cfg.password(),
            Ok(PasswordSource::Env("TAO20_UNUSED_PW".into()))
        );
        cfg.password_env = None;
        assert_eq!(cfg.password(), Err(PasswordSourceUnclear));

        // A loader's path mapping reaches both paths.
        let mut cfg = KeystoreConfig {
            keystore: "k".into(),
            password_file: Some("p".into()),
            password_env: None,
        };
        cfg.map_paths(|p| Path::new("/base").join(p));
        assert_eq!(cfg.keystore, Path::new("/base/k"));
        assert_eq!(cfg.password_file.as_deref(), Some(Path::new("/base/p")));
    }
}
