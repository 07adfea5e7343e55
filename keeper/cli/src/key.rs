//! `tao20 key new|import|address`: the keeper's report-signing key in an encrypted JSON keystore
//! (the format `cast wallet import` writes to `~/.foundry/keystores/`). Secrets and passwords come
//! from files or environment variables, never from arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tao20_bevm::keys::{self, PasswordSource};

use crate::output::{self, CliError, CliResult};

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create a new random key in a keystore.
    New(NewArgs),
    /// Store an existing secret key (from a file or an environment variable) in a keystore.
    Import(ImportArgs),
    /// Print a keystore's address (decrypts it).
    Address(AddressArgs),
}

/// Where the password comes from.
#[derive(Debug, Args)]
pub struct Password {
    /// A file whose first line is the password.
    #[arg(long, conflicts_with = "password_env")]
    password_file: Option<PathBuf>,
    /// An environment variable holding the password.
    #[arg(long)]
    password_env: Option<String>,
}

impl Password {
    fn source(&self) -> CliResult<PasswordSource> {
        match (&self.password_file, &self.password_env) {
            (Some(f), None) => Ok(PasswordSource::File(f.clone())),
            (None, Some(v)) => Ok(PasswordSource::Env(v.clone())),
            _ => Err(CliError::input("give --password-file or --password-env")),
        }
    }
}

/// `tao20 key new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The keystore directory.
    #[arg(long, default_value = "~/.foundry/keystores")]
    keystore_dir: PathBuf,
    /// The key's file name.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    password: Password,
}

/// `tao20 key import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The keystore directory.
    #[arg(long, default_value = "~/.foundry/keystores")]
    keystore_dir: PathBuf,
    /// The key's file name.
    #[arg(long)]
    name: String,
    /// A file holding the secret key (hex).
    #[arg(long, conflicts_with = "private_key_env")]
    private_key_file: Option<PathBuf>,
    /// An environment variable holding the secret key (hex).
    #[arg(long)]
    private_key_env: Option<String>,
    #[command(flatten)]
    password: Password,
}

/// `tao20 key address`.
#[derive(Debug, Args)]
pub struct AddressArgs {
    /// The keystore file.
    #[arg(long)]
    keystore: PathBuf,
    #[command(flatten)]
    password: Password,
}

fn expand(p: &std::path::Path) -> PathBuf {
    tao20_node::config::expand(p)
}

/// Runs a key subcommand.
pub fn run(cmd: KeyCmd) -> CliResult {
    let input = |e: tao20_bevm::Error| CliError::input(e.to_string());
    match cmd {
        KeyCmd::New(a) => {
            let addr = keys::create(&expand(&a.keystore_dir), &a.name, &a.password.source()?)
                .map_err(input)?;
            output::print_json(
                &serde_json::json!({"address": addr, "keystore": expand(&a.keystore_dir).join(&a.name)}),
            )
        }
        KeyCmd::Import(a) => {
            let text = match (&a.private_key_file, &a.private_key_env) {
                (Some(f), None) => std::fs::read_to_string(f).map_err(|e| {
                    CliError::input(format!("--private-key-file {}: {e}", f.display()))
                })?,
                (None, Some(v)) => std::env::var(v)
                    .map_err(|_| CliError::input(format!("--private-key-env {v}: not set")))?,
                _ => {
                    return Err(CliError::input(
                        "give --private-key-file or --private-key-env",
                    ))
                }
            };
            let secret = keys::parse_secret(&text).map_err(input)?;
            let addr = keys::import(
                &expand(&a.keystore_dir),
                &a.name,
                &secret,
                &a.password.source()?,
            )
            .map_err(input)?;
            output::print_json(
                &serde_json::json!({"address": addr, "keystore": expand(&a.keystore_dir).join(&a.name)}),
            )
        }
        KeyCmd::Address(a) => {
            let signer = keys::load(&expand(&a.keystore), &a.password.source()?).map_err(input)?;
            output::print_json(&serde_json::json!({"address": signer.address()}))
        }
    }
}
