//! `tao20`: the TAO20 validator keeper and its offline tools.
//!
//! Every subcommand prints JSON only on stdout and logs to stderr. Exit codes: 0 success, 2 bad
//! input (the message names the JSON path or byte offset), 1 internal error.

mod auction;
mod commitment;
mod consensus;
mod demo;
mod devnet;
mod fund;
mod index;
mod key;
mod miner;
mod nav;
mod output;
mod report;
mod sim;
mod validator;
mod wallet;
mod weights;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TAO20 keeper: index fund creation reports, the hashrate auction, and subtensor access.
#[derive(Debug, Parser)]
#[command(name = "tao20", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The validator keeper: run it, summarise its database, move its signing journal.
    Validator {
        #[command(subcommand)]
        cmd: validator::ValidatorCmd,
    },
    /// The whole system on a devnet with faults (five keepers, miners, bidders), checked, with
    /// `report.json` and `report.html`.
    Demo(demo::DemoArgs),
    /// The miners: the creation-unit arbitrageur and the hashrate bidder.
    Miner {
        #[command(subcommand)]
        cmd: miner::MinerCmd,
    },
    /// The local network: anvil and the subtensor simulator on one stake ledger.
    Devnet {
        #[command(subcommand)]
        cmd: devnet::DevnetCmd,
    },
    /// The fund as the chain holds it (for integrators and operators).
    Fund {
        #[command(subcommand)]
        cmd: fund::FundCmd,
    },
    /// The report-signing key's keystore.
    Key {
        #[command(subcommand)]
        cmd: key::KeyCmd,
    },
    /// Print the build's version and the protocol constants it was built for, as JSON.
    Info,
    /// Mechanism 0: the index methodology and the creation file.
    Index {
        #[command(subcommand)]
        cmd: index::IndexCmd,
    },
    /// EIP-712 digests of creation files, creation and refund reports, and sweeps.
    Report {
        #[command(subcommand)]
        cmd: report::ReportCmd,
    },
    /// NAV per share at a valuation block, and the value and shares of a delivery.
    Nav(nav::NavArgs),
    /// Mechanism 1: decode commitment payloads.
    Commitment {
        #[command(subcommand)]
        cmd: commitment::CommitmentCmd,
    },
    /// Mechanism 1: price consensus.
    Consensus {
        #[command(subcommand)]
        cmd: consensus::ConsensusCmd,
    },
    /// Mechanism 1: validation windows and winner selection.
    Auction {
        #[command(subcommand)]
        cmd: auction::AuctionCmd,
    },
    /// Commit-reveal v4 weights: the reveal block and round of a schedule state, and encryption.
    Weights {
        #[command(subcommand)]
        cmd: weights::WeightsCmd,
    },
    /// The subtensor simulator: `sim serve` for keepers and miners in other processes.
    Sim {
        #[command(subcommand)]
        cmd: sim::SimCmd,
    },
    /// btcli wallets: show their keys, sign a message.
    Wallet {
        #[command(subcommand)]
        cmd: wallet::WalletCmd,
    },
}

/// Logs go to stderr; `TAO20_LOG` (a tracing filter) wins over `default_level`.
pub(crate) fn init_logging(default_level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TAO20_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    // A second initialisation (tests running commands in one process) keeps the first.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The keeper configures its own logging (text or JSON, its level) from its config file.
    if !matches!(
        cli.command,
        Command::Validator {
            cmd: validator::ValidatorCmd::Run(_)
        } | Command::Miner {
            cmd: miner::MinerCmd::Create(_) | miner::MinerCmd::Bid(_)
        }
    ) {
        init_logging("warn", false);
    }
    let result = match cli.command {
        Command::Index { cmd } => index::run(cmd),
        Command::Report { cmd } => report::run(cmd),
        Command::Nav(args) => nav::run(args),
        Command::Commitment { cmd } => commitment::run(cmd),
        Command::Consensus { cmd } => consensus::run(cmd),
        Command::Auction { cmd } => auction::run(cmd),
        Command::Sim { cmd } => sim::run(cmd),
        Command::Wallet { cmd } => wallet::run(cmd),
        Command::Weights { cmd } => weights::run(cmd),
        Command::Devnet { cmd } => devnet::run(cmd),
        Command::Demo(a) => demo::run(a),
        Command::Miner { cmd } => miner::run(cmd),
        Command::Fund { cmd } => fund::run(cmd),
        Command::Key { cmd } => key::run(cmd),
        Command::Validator { cmd } => validator::run(cmd),
        Command::Info => output::print_json(&serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "eip712": {
                "name": tao20_core::domain::DOMAIN_NAME,
                "version": tao20_core::domain::DOMAIN_VERSION,
            },
            "chain_ids": {
                "finney": tao20_core::domain::CHAIN_ID_FINNEY,
                "testnet": tao20_core::domain::CHAIN_ID_TESTNET,
                "anvil": tao20_core::domain::CHAIN_ID_ANVIL,
            },
        })),
    };
    output::exit(result)
}
