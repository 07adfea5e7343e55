//! `tao20 miner create|status|bid`: the miners (see `tao20_miner`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use tao20_miner::config::MinerConfig;
use tao20_miner::store::Store;

use crate::output::{self, CliError, CliResult};

/// Miner subcommands.
#[derive(Debug, Subcommand)]
pub enum MinerCmd {
    /// Run the creation-unit arbitrageur until SIGINT or SIGTERM.
    Create(ConfigArgs),
    /// Summarise the creation miner's database: operations, profit and loss, the last NAV and
    /// pool price (read-only; works while the miner runs).
    Status(StatusArgs),
    /// Run the hashrate bidder until SIGINT or SIGTERM (`--check`: validate the file, print the
    /// payload it commits, and exit).
    Bid(BidArgs),
}

/// A configuration file.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// `miner.toml` (see examples/miner.toml).
    #[arg(long)]
    config: PathBuf,
}

/// `tao20 miner status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// `miner.toml` (its `store.path` is read).
    #[arg(long, conflicts_with = "db")]
    config: Option<PathBuf>,
    /// The SQLite file itself.
    #[arg(long)]
    db: Option<PathBuf>,
}

/// `tao20 miner bid`.
#[derive(Debug, Args)]
pub struct BidArgs {
    /// `bids.toml` (see examples/bids.toml).
    #[arg(long)]
    config: PathBuf,
    /// Validate and print the commitment payload, then exit.
    #[arg(long)]
    check: bool,
}

fn runtime() -> CliResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?)
}

fn classify(e: tao20_miner::Error) -> CliError {
    match e {
        tao20_miner::Error::Config { .. }
        | tao20_miner::Error::Key(_)
        | tao20_miner::Error::Invalid(_) => CliError::input(e.to_string()),
        tao20_miner::Error::Store { ref what, .. } if what == "identity" => {
            CliError::input(e.to_string())
        }
        other => CliError::Internal(other.into()),
    }
}

/// Runs a miner subcommand.
pub fn run(cmd: MinerCmd) -> CliResult {
    match cmd {
        MinerCmd::Create(a) => {
            let cfg = MinerConfig::load(&a.config).map_err(|e| CliError::input(e.to_string()))?;
            crate::init_logging(&cfg.log.level, cfg.log.format == "json");
            runtime()?
                .block_on(tao20_miner::run::create(cfg))
                .map_err(classify)
        }
        MinerCmd::Status(a) => {
            let db = match (a.config, a.db) {
                (Some(c), None) => {
                    MinerConfig::load(&c)
                        .map_err(|e| CliError::input(e.to_string()))?
                        .store
                        .path
                }
                (None, Some(d)) => d,
                _ => return Err(CliError::input("give --config or --db")),
            };
            if !db.exists() {
                return Err(CliError::input(format!(
                    "{}: no such database",
                    db.display()
                )));
            }
            let store = Store::open(&db).map_err(|e| CliError::input(e.to_string()))?;
            let value = tao20_miner::status::status(&store).map_err(classify)?;
            output::print_json(&value)
        }
        MinerCmd::Bid(a) => {
            let (_, parsed) = tao20_miner::bid::load(&a.config).map_err(classify)?;
            let file =
                parsed.map_err(|e| CliError::input(format!("{}: {e}", a.config.display())))?;
            if a.check {
                return output::print_json(&serde_json::json!({
                    "payload": String::from_utf8_lossy(&file.payload),
                    "bytes": file.payload.len(),
                    "bids": file.lines().iter().map(|l| serde_json::json!({
                        "price": l.price.to_string(), "hashrate": l.hashrate.to_string(), "count": l.count,
                    })).collect::<Vec<_>>(),
                }));
            }
            crate::init_logging(&file.engine.log_level, false);
            runtime()?
                .block_on(tao20_miner::run::bid(&a.config))
                .map_err(classify)
        }
    }
}
