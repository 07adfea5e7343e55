//! `tao20 sim ...`: the subtensor simulator for the demo and for tests, served to other processes
//! (keepers and miners started separately) as JSON lines over TCP. See `tao20_chain::sim`.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::{Args, Subcommand};
use tao20_chain::sim::{SimConfig, SimServer, Simulator};

use crate::output::{self, CliError, CliResult};

/// Simulator subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Serve a fresh simulator on a TCP address; prints `{"listening": ADDR, ...}` on stdout once
    /// bound, then answers clients until killed.
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
        let server = SimServer::bind(&args.listen, Arc::new(Mutex::new(sim)))
            .await
            .map_err(|e| CliError::input(format!("--listen {}: {e}", args.listen)))?;
        let addr = server.local_addr().context("bound address")?;
        output::print_json(&serde_json::json!({
            "listening": addr.to_string(),
            "config": config,
        }))?;
        tracing::info!(target: "tao20::sim", %addr, seed = config.seed, "simulator serving");
        server.run().await.context("simulator server")?;
        Ok(())
    })
}
