//! `tao20 wallet show|sign`: the keys of a btcli wallet (`tao20-wallet`), with btcli's flags.
//!
//! These two commands are for people: by default they print text (`sign` prints the bare hex
//! signature, as `btcli wallet sign` does); `--json` prints one JSON line instead:
//! - show: `{"wallet": {"name", "path"}, "coldkey": {"ss58", "public_key"} | null,
//!   "hotkey": {"name", "ss58", "public_key"} | null}`; a key is null when the wallet has neither
//!   of its files (and the hotkey was not named explicitly).
//! - sign: `{"key": "coldkey" | "hotkey", "ss58", "public_key", "signature"}`, hex `0x`-prefixed.
//!
//! A password (`TAO20_WALLET_PASSWORD`, else a prompt on a terminal) is asked for only when a
//! secret is needed: to sign with an encrypted key, or to show a key whose public file is missing.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tao20_wallet::nacl::NaclError;
use tao20_wallet::{Error, PasswordSource, PublicKey, Role, Wallet, DEFAULT_HOTKEY, DEFAULT_PATH};

use crate::output::{print_json, CliError, CliResult};

/// btcli wallets.
#[derive(Debug, Subcommand)]
pub enum WalletCmd {
    /// Print the coldkey's and hotkey's ss58 addresses and public keys.
    Show(ShowArgs),
    /// Sign a message with sr25519 as `btcli wallet sign` does (the coldkey, or the hotkey with
    /// --use-hotkey) and print the signature as hex.
    Sign(SignArgs),
}

/// Which wallet: btcli's flags.
#[derive(Debug, Args)]
pub struct WalletArgs {
    /// The wallets directory (`~` expands to the home directory).
    #[arg(long = "wallet.path", value_name = "PATH", default_value = DEFAULT_PATH)]
    path: String,
    /// The wallet's name (its directory under the wallets directory).
    #[arg(long = "wallet.name", value_name = "NAME")]
    name: String,
    /// The hotkey's name (default: `default`).
    #[arg(long = "wallet.hotkey", value_name = "HOTKEY")]
    hotkey: Option<String>,
}

impl WalletArgs {
    fn wallet(&self) -> CliResult<Wallet> {
        let hotkey = self.hotkey.as_deref().unwrap_or(DEFAULT_HOTKEY);
        let wallet = Wallet::new(&self.path, &self.name, hotkey).map_err(wallet_error)?;
        if !wallet.dir().is_dir() {
            return Err(CliError::input(format!(
                "--wallet.name {}: no wallet directory {}",
                self.name,
                wallet.dir().display()
            )));
        }
        Ok(wallet)
    }
}

/// Arguments of `tao20 wallet show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `tao20 wallet sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// Sign with the hotkey instead of the coldkey.
    #[arg(long = "use-hotkey")]
    use_hotkey: bool,
    /// The message; its UTF-8 bytes are signed as they are.
    #[arg(long, value_name = "TEXT")]
    message: String,
    /// Print one JSON line instead of the bare signature.
    #[arg(long)]
    json: bool,
}

/// Runs a `wallet` subcommand.
pub fn run(cmd: WalletCmd) -> CliResult {
    let password = PasswordSource::env_or_prompt();
    match cmd {
        WalletCmd::Show(args) => show(&args, &password),
        WalletCmd::Sign(args) => sign(&args, &password),
    }
}

fn show(args: &ShowArgs, password: &PasswordSource) -> CliResult {
    let wallet = args.wallet.wallet()?;
    // A key the wallet does not have is shown as absent, unless the caller named it.
    let optional = |role: Role, named: bool| match wallet.public_key_with(role, password) {
        Ok(key) => Ok(Some(key)),
        Err(Error::NoKey { .. }) if !named => Ok(None),
        Err(e) => Err(wallet_error(e)),
    };
    // The hotkey first: a hotkey named but missing fails before any coldkey password is asked.
    let hotkey = optional(Role::Hotkey, args.wallet.hotkey.is_some())?;
    let coldkey = optional(Role::Coldkey, false)?;
    if coldkey.is_none() && hotkey.is_none() {
        return Err(CliError::input(format!(
            "--wallet.name {}: {} holds neither a coldkey nor hotkey {}",
            wallet.name(),
            wallet.dir().display(),
            wallet.hotkey_name()
        )));
    }
    if args.json {
        let key = |k: PublicKey| json!({"ss58": k.ss58(), "public_key": k.to_hex()});
        return print_json(&json!({
            "wallet": {"name": wallet.name(), "path": wallet.dir().display().to_string()},
            "coldkey": coldkey.map(key),
            "hotkey": hotkey.map(|k| {
                let mut v = key(k);
                v["name"] = Value::from(wallet.hotkey_name());
                v
            }),
        }));
    }
    let none = "(none)".to_owned();
    let line =
        |k: Option<PublicKey>| k.map_or(none.clone(), |k| format!("{}  {}", k.ss58(), k.to_hex()));
    print_text(&format!(
        "wallet   {}  {}\ncoldkey  {}\nhotkey   {}  {}",
        wallet.name(),
        wallet.dir().display(),
        line(coldkey),
        wallet.hotkey_name(),
        line(hotkey),
    ))
}

fn sign(args: &SignArgs, password: &PasswordSource) -> CliResult {
    let wallet = args.wallet.wallet()?;
    let role = if args.use_hotkey {
        Role::Hotkey
    } else {
        Role::Coldkey
    };
    let pair = wallet.keypair(role, password).map_err(wallet_error)?;
    let signature = pair.sign(args.message.as_bytes());
    if args.json {
        return print_json(&json!({
            "key": role.to_string(),
            "ss58": pair.ss58(),
            "public_key": pair.public_key().to_hex(),
            "signature": format!("0x{}", signature.to_hex()),
        }));
    }
    print_text(&signature.to_hex())
}

/// A wallet problem is the caller's (a file, a name, a password) except a failing key
/// derivation, which is this machine's (e.g. no 512 MiB to spare).
fn wallet_error(e: Error) -> CliError {
    match e {
        Error::Nacl {
            source: NaclError::Kdf(_),
            ..
        } => CliError::Internal(e.into()),
        other => CliError::input(other.to_string()),
    }
}

/// Prints text on stdout; a reader that went away is not an error (as in `print_json`).
fn print_text(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Internal(e.into())),
    }
}
