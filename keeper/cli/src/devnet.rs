//! `tao20 devnet up|down|chain`: the local TAO20 network (anvil and the simulator on one ledger).
//! See `tao20_devnet`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use tao20_devnet::process;
use tao20_devnet::up::{self, DevnetFile, UpOptions};

use crate::output::{self, CliError, CliResult};

/// Devnet subcommands.
#[derive(Debug, Subcommand)]
pub enum DevnetCmd {
    /// Start a devnet: anvil, the mocks, TAO20 (through script/Deploy.s.sol), the simulator on the
    /// shared ledger, subnets, keys and the first creation file; writes DIR/devnet.json. Stays in
    /// the foreground until Ctrl-C unless `--detach`.
    Up(UpArgs),
    /// Stop exactly the processes `DIR/devnet.json` lists.
    Down(DirArgs),
    /// Run the devnet's chain process (started by `up`).
    Chain(ChainArgs),
}

/// `tao20 devnet up` options.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The devnet's directory.
    #[arg(long, default_value = ".devnet")]
    dir: PathBuf,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 250)]
    block_time_ms: u64,
    /// Creation epoch length, blocks.
    #[arg(long, default_value_t = 1_200)]
    epoch_length: u64,
    /// Alpha subnets in the fund.
    #[arg(long, default_value_t = 4)]
    subnets: u16,
    /// Seed of keys, pools and prices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Keepers to run (`tao20 validator run`, one per signer key).
    #[arg(long, default_value_t = 0)]
    validators: usize,
    /// Of those, how many sign a wrong NAV on purpose (fault injection, for demonstrations).
    #[arg(long, default_value_t = 0)]
    faulty_validators: usize,
    /// Creation delivery window, blocks.
    #[arg(long, default_value_t = 40)]
    delivery_window: u64,
    /// Blocks after the delivery window before anyone may expire a request.
    #[arg(long, default_value_t = 20)]
    expiry_grace: u64,
    /// Keepers run creation only (no price commitments, auction or weights).
    #[arg(long)]
    no_mechanisms: bool,
    /// Keys in the fund's signer set (the quorum is 2/3 of them plus one): 3 lets three
    /// keepers mint on their own.
    #[arg(long, default_value_t = 5)]
    signers: usize,
    /// Units of the genesis creation that seeds the TAO20/WTAO pair (0: no market).
    #[arg(long, default_value_t = 100)]
    genesis_units: u32,
    /// The pair's seed price above NAV, basis points.
    #[arg(long, default_value_t = 2_000)]
    market_premium_bps: u16,
    /// Return once the devnet runs, leaving its processes running.
    #[arg(long)]
    detach: bool,
}

/// A devnet directory.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// The devnet's directory.
    #[arg(long, default_value = ".devnet")]
    dir: PathBuf,
}

/// `tao20 devnet chain` options.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// The chain spec `up` wrote (`DIR/chain.json`).
    #[arg(long)]
    spec: PathBuf,
}

/// Runs a devnet subcommand.
pub fn run(cmd: DevnetCmd) -> CliResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    match cmd {
        DevnetCmd::Up(a) => rt.block_on(up_cmd(a)),
        DevnetCmd::Down(a) => {
            if !DevnetFile::path(&a.dir).exists() {
                return Err(CliError::input(format!(
                    "--dir {}: no devnet.json there",
                    a.dir.display()
                )));
            }
            let stopped = up::down(&a.dir).map_err(|e| CliError::input(e.to_string()))?;
            output::print_json(&serde_json::json!({
                "stopped": stopped.iter().filter(|(_, r)| *r).map(|(p, _)| serde_json::json!({"name": p.name, "pid": p.pid})).collect::<Vec<_>>(),
                "alreadyGone": stopped.iter().filter(|(_, r)| !*r).map(|(p, _)| p.name.clone()).collect::<Vec<_>>(),
            }))
        }
        DevnetCmd::Chain(a) => rt
            .block_on(tao20_devnet::chain::serve(&a.spec))
            .map_err(|e| CliError::Internal(e.into())),
    }
}

async fn up_cmd(a: UpArgs) -> CliResult {
    let root = tao20_bevm::localnet::repo_root().map_err(|e| CliError::input(e.to_string()))?;
    let bin = std::env::current_exe().context("the tao20 binary's path")?;
    let mut opts = UpOptions::new(a.dir.clone(), root, bin);
    opts.block_time_ms = a.block_time_ms;
    opts.epoch_length = a.epoch_length;
    opts.subnets = a.subnets;
    opts.seed = a.seed;
    opts.validators = a.validators;
    opts.faulty_validators = a.faulty_validators;
    opts.delivery_window = a.delivery_window;
    opts.expiry_grace = a.expiry_grace;
    opts.mechanisms = !a.no_mechanisms;
    opts.signers = a.signers;
    opts.genesis_units = a.genesis_units;
    opts.market_premium_bps = a.market_premium_bps;
    let (file, mut children) = match up::up(&opts).await {
        Ok(x) => x,
        Err(e @ tao20_devnet::Error::Live { .. }) => return Err(CliError::input(e.to_string())),
        Err(e) => return Err(CliError::Internal(e.into())),
    };
    eprintln!(
        "devnet up in {}\n  anvil      {} (chain id {})\n  substrate  {} (Substrate JSON-RPC, ws and http; dev_* administration)\n  fixture    {} (pool API, prices)\n  TAO20      {} (vault {})\n  netuids    TAO20 subnet {}, fund {:?}\n  logs       {}/logs/",
        file.options.dir.display(),
        file.anvil_rpc,
        file.chain_id,
        file.substrate,
        file.fixture_url,
        file.tao20,
        file.vault_coldkey,
        file.tao20_netuid,
        file.alpha_netuids,
        file.options.dir.display(),
    );
    output::print_json(&serde_json::json!({
        "dir": file.options.dir,
        "anvil": file.anvil_rpc,
        "substrate": file.substrate,
        "fixture": file.fixture_url,
        "tao20": file.tao20,
        "market": file.market,
        "processes": file.processes,
    }))?;
    if let Some(m) = &file.market {
        eprintln!(
            "  market     pair {} (router {}, WTAO {}), seeded {} bps above NAV",
            m.pair, m.router, m.wtao, m.premium_bps
        );
    }
    if a.detach {
        // The children run in their own process groups and outlive this process.
        return Ok(());
    }
    eprintln!("Ctrl-C stops the devnet.");
    loop {
        tokio::select! {
            _ = process::wait_for_signal() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                for (child, started) in children.iter_mut() {
                    if let Err(e) = up::check_alive(child, started) {
                        eprintln!("{e}");
                        let _ = up::down(&file.options.dir);
                        return Err(CliError::Internal(e.into()));
                    }
                }
            }
        }
    }
    let stopped = up::down(&file.options.dir).map_err(|e| CliError::Internal(e.into()))?;
    for (mut c, _) in children {
        let _ = c.wait();
    }
    eprintln!("devnet stopped ({} processes)", stopped.len());
    Ok(())
}
