//! `tao20 auction window | solve | generate`: the hashrate auction, offline.
//!
//! - `window --netuid N --block B --tempo T --last-epoch-block L [--pending-epoch-at P]` prints
//!   `{"subnet_epoch_start": E, "index": k, "start": s, "end": e}` for the window predicted to
//!   hold B from that schedule state (`Tempo`, `LastEpochBlock`, `PendingEpochAt` of the subnet,
//!   read at one block): the epoch at L, the next at `min(L + T, P)`, then every T blocks (for
//!   window 0, E > B). A prediction: settle only `window::final_windows`.
//! - `solve --input FILE`, FILE `{"budget_ph": "12.5", "max_price_multiplier": "1.05", "bids":
//!   [{"hotkey", "hashrate", "price", "count"}]}` (`count` a positive integer, default 1;
//!   `max_price_multiplier` default 1.05; rows with the same (hotkey, hashrate, price) are merged;
//!   at most 1,000,000 worker items within the cap, each at most 1,000,000 PH). Prints `{"winners": [{"hotkey", "hashrate",
//!   "price", "count"}], "total_hashrate", "total_cost", "budget_ph", "optimal"}`, winners by
//!   (price, hashrate, hotkey), totals exact (`total_cost` may carry up to 36 decimals);
//!   `optimal` says whether the winners are the proven optimum, and so does a line on stderr.
//!   Rows within the bid rule (hashrates on the 0.01 PH grain, at most 0.45 PH) are always
//!   proven; others may run out of the Pareto programme's state budget (`--max-states`).
//! - `generate --miners M --workers W --seed S` prints a deterministic `solve` input (the
//!   benchmark instances).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tao20_auction::solve::{BidRow, Model, DEFAULT_MAX_PRICE, MAX_STATES};
use tao20_auction::units::format_scaled;
use tao20_auction::window::Schedule;
use tao20_auction::Error;
use tao20_core::Fp18;

use crate::output::{print_json, read_json, CliError, CliResult};

/// The hashrate auction.
#[derive(Debug, Subcommand)]
pub enum AuctionCmd {
    /// The validation window predicted to hold a block, from the subnet's schedule state.
    Window {
        /// The subnet (for the log: the stateful schedule does not depend on it).
        #[arg(long)]
        netuid: u16,
        /// The block.
        #[arg(long)]
        block: u64,
        /// The subnet's `Tempo` (at least 1).
        #[arg(long)]
        tempo: u16,
        /// The subnet's `LastEpochBlock`, taken as the block its last epoch ran at.
        #[arg(long)]
        last_epoch_block: u64,
        /// The subnet's `PendingEpochAt` (0 or absent: none).
        #[arg(long, default_value_t = 0)]
        pending_epoch_at: u64,
    },
    /// Select the winners of an auction described in FILE.
    Solve {
        /// The JSON input file.
        #[arg(long)]
        input: PathBuf,
        /// The engine: `exact` (canonical, the default) or `milp` (good_lp, checked against the
        /// exact optimum and replaced by it if it differs).
        #[arg(long, value_enum, default_value_t = Engine::Exact)]
        engine: Engine,
        /// The state budget of the Pareto programme, which answers rows beyond the bid rule;
        /// validators use the default.
        #[arg(long, default_value_t = MAX_STATES)]
        max_states: usize,
    },
    /// Print a deterministic benchmark instance in the `solve` input format.
    Generate {
        /// Number of miners.
        #[arg(long)]
        miners: u32,
        /// Workers per miner.
        #[arg(long)]
        workers: u32,
        /// The generator's seed.
        #[arg(long, default_value_t = 20)]
        seed: u64,
    },
}

/// A winner-selection engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The exact Pareto dynamic programme.
    Exact,
    /// The good_lp two-phase MILP.
    Milp,
}

/// Maps an auction-crate error to the CLI's: wrong input is exit 2, a solver limit exit 1.
pub fn lib_error(e: Error) -> CliError {
    match e {
        Error::Invalid { input, reason } => {
            CliError::Input(format!("at JSON path {input}: {reason}"))
        }
        Error::SolverLimit(_) | Error::Encode(_) => CliError::Internal(e.into()),
        other => CliError::Input(other.to_string()),
    }
}

fn one() -> u64 {
    1
}

fn default_max_price() -> Fp18 {
    DEFAULT_MAX_PRICE
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Bid {
    hotkey: String,
    hashrate: Fp18,
    price: Fp18,
    #[serde(default = "one")]
    count: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SolveInput {
    budget_ph: Fp18,
    #[serde(default = "default_max_price")]
    max_price_multiplier: Fp18,
    bids: Vec<Bid>,
}

fn row(b: Bid) -> BidRow {
    BidRow {
        hotkey: b.hotkey,
        hashrate: b.hashrate,
        price: b.price,
        count: b.count,
    }
}

fn winner_json(w: &BidRow) -> serde_json::Value {
    json!({
        "hotkey": w.hotkey,
        "hashrate": w.hashrate.to_string(),
        "price": w.price.to_string(),
        "count": w.count,
    })
}

/// Runs an `auction` subcommand.
pub fn run(cmd: AuctionCmd) -> CliResult {
    match cmd {
        AuctionCmd::Window {
            netuid,
            block,
            tempo,
            last_epoch_block,
            pending_epoch_at,
        } => {
            let arg_error = |e: Error| match e {
                Error::Invalid { input, reason } => CliError::Input(format!("--{input}: {reason}")),
                other => lib_error(other),
            };
            let schedule = Schedule::new(u64::from(tempo), last_epoch_block, pending_epoch_at)
                .map_err(arg_error)?;
            let window = schedule.window_at(block).map_err(arg_error)?;
            tracing::debug!(netuid, block, ?window, "predicted window");
            print_json(&window)
        }
        AuctionCmd::Solve {
            input,
            engine,
            max_states,
        } => {
            let input: SolveInput = read_json(&input)?;
            if let Some(i) = input.bids.iter().position(|b| b.count == 0) {
                return Err(CliError::Input(format!(
                    "at JSON path bids[{i}].count: must be a positive integer"
                )));
            }
            let budget = input.budget_ph;
            let max_price = input.max_price_multiplier;
            let rows: Vec<BidRow> = input.bids.into_iter().map(row).collect();
            let model = Model::new(&rows, budget, max_price).map_err(lib_error)?;
            let (exact_counts, cert) = model.solve_counts_within(max_states).map_err(lib_error)?;
            let counts = match engine {
                Engine::Exact => exact_counts,
                Engine::Milp => milp_counts(&model, exact_counts, &cert),
            };
            let (winners, total_hashrate, total_cost) =
                model.winners(&counts).map_err(lib_error)?;
            if cert.optimal {
                eprintln!("optimal: true (the winners are the proven optimum)");
            } else {
                eprintln!(
                    "optimal: false (the state budget ran out: the winners are the best verified \
                     selection found, {} value units below the LP bound at most)",
                    cert.value_bound - cert.value
                );
            }
            print_json(&json!({
                "winners": winners.iter().map(winner_json).collect::<Vec<_>>(),
                "total_hashrate": total_hashrate.to_string(),
                "total_cost": format_scaled(total_cost, 36),
                "budget_ph": budget.to_string(),
                "optimal": cert.optimal,
            }))
        }
        AuctionCmd::Generate {
            miners,
            workers,
            seed,
        } => {
            let inst = tao20_auction::instance::generate(miners, workers, seed);
            print_json(&json!({
                "budget_ph": inst.budget.to_string(),
                "max_price_multiplier": inst.max_price.to_string(),
                "bids": inst.rows.iter().map(winner_json).collect::<Vec<_>>(),
            }))
        }
    }
}

/// The MILP's counts when they reach the exact engine's (value, cost), else the exact ones.
fn milp_counts(
    model: &Model,
    exact: Vec<u64>,
    cert: &tao20_auction::solve::Certificate,
) -> Vec<u64> {
    match tao20_auction::milp::solve_milp(model) {
        Ok(m) if (m.value, m.cost) == (cert.value, cert.cost) => m.counts,
        Ok(m) => {
            tracing::warn!(milp_value = %m.value, milp_cost = %m.cost, value = %cert.value, cost = %cert.cost,
                "MILP answer differs from the exact optimum; using the exact one");
            exact
        }
        Err(e) => {
            tracing::warn!(%e, "MILP failed; using the exact optimum");
            exact
        }
    }
}
