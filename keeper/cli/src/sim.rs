//! `tao20 sim ...`: the subtensor simulator served as a Substrate node's JSON-RPC (WebSocket and
//! HTTP on one port), for keepers, miners and any Substrate client in other processes, with the
//! `dev_*` methods that drive it. See `tao20_chain::sim` and `tao20_chain::sim::node`.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::{Args, Subcommand};
use tao20_chain::sim::node::{NodeConfig, NodeServer};
use tao20_chain::sim::{SimConfig, Simulator};

use crate::output::{self, CliError, CliResult};

/// Simulator subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Serve a fresh simulator as a Substrate node; prints `{"listening": "ws://ADDR", ...}` on
    /// stdout once bound, then answers clients until killed. Blocks are made by `dev_simulator`
    /// `advance` requests (`SimClient::connect`), not by a clock.
    Serve(ServeArgs),
}

/// `tao20 sim serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:9944")]
    listen: String,
    /// Seed of the price walk, block hashes and beacon key: the same seed gives the same run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Blocks between the head and the finalized head.
    #[arg(long, default_value_t = 0)]
    finality_lag: u64,
    /// Largest per-block price move, parts per million.
    #[arg(long, default_value_t = 2_000)]
    volatility_ppm: u32,
    /// Blocks of past state kept for reads at earlier blocks.
    #[arg(long, default_value_t = 256)]
    state_window: u64,
    /// `MaxEpochsPerBlock`: epochs run per block at most; the rest are deferred a block.
    #[arg(long, default_value_t = tao20_chain::epochs::DEFAULT_MAX_EPOCHS_PER_BLOCK)]
    max_epochs_per_block: u8,
    /// TAO given at start to each well-known dev account (`//Alice` ... `//Ferdie`).
    #[arg(long, default_value_t = 1_000_000)]
    dev_account_tao: u64,
}

/// Runs a simulator subcommand.
pub fn run(cmd: SimCmd) -> CliResult {
    match cmd {
        SimCmd::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> CliResult {
    let config = SimConfig {
        seed: args.seed,
        finality_lag: args.finality_lag,
        volatility_ppm: args.volatility_ppm,
        state_window: args.state_window,
        max_epochs_per_block: args.max_epochs_per_block,
        ..SimConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(async move {
        let sim = Simulator::new(config.clone()).context("simulator")?;
        let node = NodeServer::start(
            &args.listen,
            Arc::new(Mutex::new(sim)),
            NodeConfig {
                dev_account_balance: args.dev_account_tao.saturating_mul(1_000_000_000),
                ..NodeConfig::default()
            },
        )
        .await
        .map_err(|e| CliError::input(format!("--listen {}: {e}", args.listen)))?;
        output::print_json(&serde_json::json!({
            "listening": node.url(),
            "config": config,
        }))?;
        tracing::info!(target: "tao20::sim", url = node.url(), seed = config.seed, "simulator serving");
        let _ = tokio::signal::ctrl_c().await;
        node.stop();
        Ok(())
    })
}
