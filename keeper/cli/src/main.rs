//! `tao20`: the TAO20 validator keeper and its offline tools.
//!
//! Every subcommand prints JSON only on stdout and logs to stderr. Exit codes: 0 success, 2 bad
//! input (the message names the JSON path or byte offset), 1 internal error.

mod auction;
mod commitment;
mod consensus;
mod index;
mod nav;
mod output;
mod report;
mod sim;
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAO20_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
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
