//! `tao20 validator run|status|replay|journal`: the keeper a validator runs (see `tao20_node`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use tao20_node::config::{FlagOverrides, KeeperConfig, LogFormat};
use tao20_node::store::{self, Store};

use crate::output::{self, CliError, CliResult};

/// Validator subcommands.
#[derive(Debug, Subcommand)]
pub enum ValidatorCmd {
    /// Run the keeper until SIGINT or SIGTERM.
    Run(RunArgs),
    /// Summarise a keeper's database (read-only; works while the keeper runs).
    Status(DbArgs),
    /// Decide every recorded block again from its recorded inputs and compare with what the
    /// keeper committed (read-only); exits 1 on any difference.
    Replay(DbArgs),
    /// Export or import the signing journal (the keeper must be stopped).
    Journal {
        #[command(subcommand)]
        cmd: JournalCmd,
    },
}

/// `tao20 validator run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration (see keeper.example.toml).
    #[arg(long)]
    config: PathBuf,
    /// Follow the chain and log what would be signed; sign and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Create the database if it does not exist: only for a report key that never signed for
    /// this contract (otherwise import its journal first: `tao20 validator journal import`).
    #[arg(long)]
    init_journal: bool,
    /// The TAO20 subnet (overrides `subtensor.netuid`).
    #[arg(long)]
    netuid: Option<u16>,
    /// `finney`, `test`, `local` or `sim` (overrides `subtensor.network`).
    #[arg(long = "subtensor.network")]
    network: Option<String>,
    /// The subtensor endpoint (overrides `subtensor.chain_endpoint`).
    #[arg(long = "subtensor.chain_endpoint")]
    chain_endpoint: Option<String>,
    /// btcli wallet name (overrides `wallet.name`).
    #[arg(long = "wallet.name")]
    wallet_name: Option<String>,
    /// btcli hotkey name (overrides `wallet.hotkey`).
    #[arg(long = "wallet.hotkey")]
    wallet_hotkey: Option<String>,
    /// btcli wallets directory (overrides `wallet.path`).
    #[arg(long = "wallet.path")]
    wallet_path: Option<PathBuf>,
}

/// A keeper database.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The SQLite file.
    #[arg(long)]
    db: PathBuf,
}

/// Journal subcommands.
#[derive(Debug, Subcommand)]
pub enum JournalCmd {
    /// Write the journal as EIP-3076-style JSON.
    Export {
        /// The SQLite file.
        #[arg(long)]
        db: PathBuf,
        /// Output file (`-` for stdout).
        #[arg(long, default_value = "-")]
        out: PathBuf,
    },
    /// Merge an exported journal into a database.
    Import {
        /// The SQLite file.
        #[arg(long)]
        db: PathBuf,
        /// The exported file.
        #[arg(long = "in")]
        input: PathBuf,
    },
}

/// Runs a validator subcommand.
pub fn run(cmd: ValidatorCmd) -> CliResult {
    match cmd {
        ValidatorCmd::Run(a) => run_keeper(a),
        ValidatorCmd::Status(a) => status(&a.db),
        ValidatorCmd::Replay(a) => replay(&a.db),
        ValidatorCmd::Journal { cmd } => journal(cmd),
    }
}

fn run_keeper(a: RunArgs) -> CliResult {
    let flags = FlagOverrides {
        netuid: a.netuid,
        network: a.network,
        chain_endpoint: a.chain_endpoint,
        wallet_name: a.wallet_name,
        wallet_hotkey: a.wallet_hotkey,
        wallet_path: a.wallet_path,
    };
    let mut cfg =
        KeeperConfig::load(&a.config, &flags).map_err(|e| CliError::input(e.to_string()))?;
    cfg.dry_run |= a.dry_run;
    cfg.init_journal = a.init_journal;
    crate::init_logging(&cfg.log.level, cfg.log.format == LogFormat::Json);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(tao20_node::node::run(cfg))
        .map_err(|e| match e {
            tao20_node::Error::Config { .. }
            | tao20_node::Error::Setup { .. }
            | tao20_node::Error::Locked { .. }
            | tao20_node::Error::Identity { .. } => CliError::input(e.to_string()),
            other => CliError::Internal(other.into()),
        })
}

fn status(db: &std::path::Path) -> CliResult {
    let s = Store::open_read_only(db).map_err(|e| CliError::input(e.to_string()))?;
    let doc = tao20_node::store::status::summary(&s).map_err(|e| CliError::Internal(e.into()))?;
    output::print_json(&doc)
}

fn replay(db: &std::path::Path) -> CliResult {
    let s = Store::open_read_only(db).map_err(|e| CliError::input(e.to_string()))?;
    let out = tao20_node::replay::replay(s.conn()).map_err(|e| CliError::Internal(e.into()))?;
    output::print_json(&out)?;
    if out.mismatches.is_empty() {
        Ok(())
    } else {
        Err(CliError::Internal(anyhow::anyhow!(
            "{} difference(s) in {} replayed blocks between what was decided again and what was committed",
            out.mismatches.len(),
            out.blocks
        )))
    }
}

fn identity(s: &Store) -> CliResult<(u64, alloy_primitives::Address)> {
    let chain: u64 = store::meta(s.conn(), "chain_id")
        .map_err(|e| CliError::Internal(e.into()))?
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| CliError::input("the database has no chain id yet (never ran)"))?;
    let contract = store::meta(s.conn(), "contract")
        .map_err(|e| CliError::Internal(e.into()))?
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| CliError::input("the database has no contract yet (never ran)"))?;
    Ok((chain, contract))
}

fn journal(cmd: JournalCmd) -> CliResult {
    use tao20_node::journal;
    match cmd {
        JournalCmd::Export { db, out } => {
            let s = Store::open(&db).map_err(|e| CliError::input(e.to_string()))?;
            let (chain, contract) = identity(&s)?;
            let doc =
                journal::export(&s, chain, contract).map_err(|e| CliError::input(e.to_string()))?;
            if out.as_os_str() == "-" {
                return output::print_json(&doc);
            }
            let text = serde_json::to_string_pretty(&doc).context("journal JSON")?;
            std::fs::write(&out, text)
                .map_err(|e| CliError::input(format!("--out {}: {e}", out.display())))?;
            output::print_json(
                &serde_json::json!({"exported": doc.data.iter().map(|d| d.signed.len()).sum::<usize>(), "out": out}),
            )
        }
        JournalCmd::Import { db, input } => {
            let doc: journal::Interchange = output::read_json(&input)?;
            let mut s = Store::open(&db).map_err(|e| CliError::input(e.to_string()))?;
            let chain: u64 = doc
                .metadata
                .chain_id
                .parse()
                .map_err(|_| CliError::input("metadata.chain_id is not a decimal integer"))?;
            let contract = doc
                .metadata
                .contract
                .parse()
                .map_err(|_| CliError::input("metadata.contract is not an address"))?;
            if let Ok((c, k)) = identity(&s) {
                if (c, k) != (chain, contract) {
                    return Err(CliError::input(format!("the database belongs to chain {c} contract {k}, the file to chain {chain} contract {contract}")));
                }
            }
            let summary = journal::import(&mut s, &doc, chain, contract)
                .map_err(|e| CliError::input(e.to_string()))?;
            // A fresh database takes the file's deployment (and its signer, when it names one),
            // so a later import or a keeper of another deployment or key is refused.
            let signer = match doc.data.as_slice() {
                [one] => Some(one.signer.to_lowercase()),
                _ => None,
            };
            s.write(|tx| {
                for (key, value) in [
                    ("chain_id", Some(chain.to_string())),
                    ("contract", Some(contract.to_string().to_lowercase())),
                    ("signer", signer),
                ] {
                    if let (Some(v), None) = (value, store::meta(tx, key)?) {
                        store::set_meta(tx, key, &v)?;
                    }
                }
                Ok(())
            })
            .map_err(|e| CliError::Internal(e.into()))?;
            output::print_json(&summary)
        }
    }
}
