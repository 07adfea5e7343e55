//! A btcli wallet on disk: `<path>/<name>/coldkey`, `<name>/coldkeypub.txt`,
//! `<name>/hotkeys/<hotkey>` and `<name>/hotkeys/<hotkey>pub.txt` (bittensor-wallet 4 writes the
//! last; older wallets lack it).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::keyfile::Keyfile;
use crate::keypair::{Keypair, PublicKey};
use crate::password::PasswordSource;

/// btcli's default wallet directory (`~` is the home directory).
pub const DEFAULT_PATH: &str = "~/.bittensor/wallets/";
/// btcli's default wallet name.
pub const DEFAULT_NAME: &str = "default";
/// btcli's default hotkey name.
pub const DEFAULT_HOTKEY: &str = "default";

/// Which of a wallet's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The coldkey: owns the funds and the stake; normally `$NACL`-encrypted.
    Coldkey,
    /// The hotkey: the neuron's key; normally stored unencrypted.
    Hotkey,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Coldkey => "coldkey",
            Self::Hotkey => "hotkey",
        })
    }
}

/// A btcli wallet: a directory, a wallet name and a hotkey name. Nothing is read until a key is
/// asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    path: PathBuf,
    name: String,
    hotkey: String,
}

impl Wallet {
    /// The wallet `name` with hotkey `hotkey` under `path` (`~` and `~/…` expanded to `HOME`).
    /// Names must stay inside the directory: non-empty, not `.` or `..`, without `/`.
    pub fn new(path: &str, name: &str, hotkey: &str) -> Result<Self> {
        check_name("wallet", name)?;
        check_name("hotkey", hotkey)?;
        Ok(Self {
            path: expand_home(path)?,
            name: name.to_owned(),
            hotkey: hotkey.to_owned(),
        })
    }

    /// btcli's defaults: `~/.bittensor/wallets/`, wallet `default`, hotkey `default`.
    pub fn default_wallet() -> Result<Self> {
        Self::new(DEFAULT_PATH, DEFAULT_NAME, DEFAULT_HOTKEY)
    }

    /// The wallet directory (expanded).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The wallet name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hotkey name.
    pub fn hotkey_name(&self) -> &str {
        &self.hotkey
    }

    /// `<path>/<name>`.
    pub fn dir(&self) -> PathBuf {
        self.path.join(&self.name)
    }

    /// The secret keyfile of a key: `<name>/coldkey` or `<name>/hotkeys/<hotkey>`.
    pub fn keyfile_path(&self, role: Role) -> PathBuf {
        match role {
            Role::Coldkey => self.dir().join("coldkey"),
            Role::Hotkey => self.dir().join("hotkeys").join(&self.hotkey),
        }
    }

    /// The public keyfile of a key: `<name>/coldkeypub.txt` or `<name>/hotkeys/<hotkey>pub.txt`.
    pub fn public_keyfile_path(&self, role: Role) -> PathBuf {
        match role {
            Role::Coldkey => self.dir().join("coldkeypub.txt"),
            Role::Hotkey => self
                .dir()
                .join("hotkeys")
                .join(format!("{}pub.txt", self.hotkey)),
        }
    }

    /// A key's public key without any password: from its public file, or else from its secret
    /// keyfile when that is unencrypted. When only an encrypted keyfile exists this is
    /// [`Error::Encrypted`]; [`Wallet::public_key_with`] then asks for the password.
    pub fn public_key(&self, role: Role) -> Result<PublicKey> {
        let public_file = self.public_keyfile_path(role);
        match Keyfile::read(&public_file) {
            Ok(file) => file.public_key(&public_file),
            Err(Error::NotFound { .. }) => self.read_keyfile(role)?.public_key(&public_file),
            Err(e) => Err(e),
        }
    }

    /// A key's public key, decrypting its keyfile with `password` only when nothing else holds
    /// it.
    pub fn public_key_with(&self, role: Role, password: &PasswordSource) -> Result<PublicKey> {
        match self.public_key(role) {
            Err(Error::Encrypted { .. }) => Ok(self.read_keyfile(role)?.contents(password)?.public),
            other => other,
        }
    }

    /// A key's keypair, from its secret keyfile (decrypted with `password` if encrypted).
    pub fn keypair(&self, role: Role, password: &PasswordSource) -> Result<Keypair> {
        self.read_keyfile(role)?.keypair(password)
    }

    /// The coldkey's public key without a password (see [`Wallet::public_key`]).
    pub fn coldkey_public(&self) -> Result<PublicKey> {
        self.public_key(Role::Coldkey)
    }

    /// The hotkey's public key without a password (see [`Wallet::public_key`]).
    pub fn hotkey_public(&self) -> Result<PublicKey> {
        self.public_key(Role::Hotkey)
    }

    /// The coldkey's keypair.
    pub fn coldkey_pair(&self, password: &PasswordSource) -> Result<Keypair> {
        self.keypair(Role::Coldkey, password)
    }

    /// The hotkey's keypair.
    pub fn hotkey_pair(&self, password: &PasswordSource) -> Result<Keypair> {
        self.keypair(Role::Hotkey, password)
    }

    /// Reads a key's secret keyfile; when neither it nor the public file exists the error is
    /// [`Error::NoKey`], naming both.
    fn read_keyfile(&self, role: Role) -> Result<Keyfile> {
        let path = self.keyfile_path(role);
        match Keyfile::read(&path) {
            Err(Error::NotFound { .. }) if !self.public_keyfile_path(role).exists() => {
                Err(Error::NoKey {
                    role,
                    path,
                    public_file: self.public_keyfile_path(role),
                })
            }
            other => other,
        }
    }
}

fn check_name(what: &'static str, name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Error::InvalidName {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Expands a leading `~` (alone or followed by `/`), as btcli does with `os.path.expanduser`.
/// `~user` forms are left as they are.
fn expand_home(path: &str) -> Result<PathBuf> {
    let rest = match path.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        _ => return Ok(PathBuf::from(path)),
    };
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::NoHome {
            path: path.to_owned(),
        })?;
    Ok(PathBuf::from(home).join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_btcli() {
        let w = Wallet::new("/srv/wallets", "miner", "h1").unwrap();
        assert_eq!(
            w.keyfile_path(Role::Coldkey),
            Path::new("/srv/wallets/miner/coldkey")
        );
        assert_eq!(
            w.public_keyfile_path(Role::Coldkey),
            Path::new("/srv/wallets/miner/coldkeypub.txt")
        );
        assert_eq!(
            w.keyfile_path(Role::Hotkey),
            Path::new("/srv/wallets/miner/hotkeys/h1")
        );
        assert_eq!(
            w.public_keyfile_path(Role::Hotkey),
            Path::new("/srv/wallets/miner/hotkeys/h1pub.txt")
        );
    }

    #[test]
    fn the_default_path_is_under_home() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            return;
        };
        let w = Wallet::default_wallet().unwrap();
        assert_eq!(w.path(), PathBuf::from(&home).join(".bittensor/wallets/"));
        assert_eq!((w.name(), w.hotkey_name()), ("default", "default"));
        assert_eq!(expand_home("~").unwrap(), PathBuf::from(&home));
        assert_eq!(expand_home("~other/x").unwrap(), PathBuf::from("~other/x"));
        assert_eq!(expand_home("rel/~").unwrap(), PathBuf::from("rel/~"));
    }

    #[test]
    fn names_cannot_leave_the_wallet_directory() {
        for bad in ["", ".", "..", "a/b", "../x"] {
            assert!(matches!(
                Wallet::new("/w", bad, "h"),
                Err(Error::InvalidName { what: "wallet", .. })
            ));
            assert!(matches!(
                Wallet::new("/w", "n", bad),
                Err(Error::InvalidName { what: "hotkey", .. })
            ));
        }
    }
}
