//! `tao20 nav`: NAV per share at a valuation block, and the shares of a delivery.

use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Serialize};
use tao20_creation::alloy_primitives::U256;
use tao20_creation::nav::{
    holdings_value, nav, shares, FundState, Holding, Nav, Price, Shares, DEAD_SHARES,
};

use crate::output::{print_json, read_json, CliError, CliResult};

/// Arguments of `tao20 nav`.
#[derive(Debug, Args)]
pub struct NavArgs {
    /// The input JSON file (schema: keeper/creation/examples/nav-input.json).
    #[arg(long)]
    input: PathBuf,
}

/// The input of `tao20 nav`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NavInput {
    /// The valuation block `v`.
    #[serde(with = "tao20_creation::dec")]
    valuation_block: u64,
    /// Official prices (FP18 raw) of every netuid held or delivered.
    prices: Vec<Price>,
    /// The fund at `v`.
    fund: FundState,
    /// The delivered amounts, if a delivery is to be valued.
    #[serde(default)]
    delivery: Option<Vec<Holding>>,
    /// The mint fee, basis points.
    #[serde(default, with = "tao20_creation::dec")]
    mint_fee_bps: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryOut {
    #[serde(with = "tao20_creation::dec")]
    value_rao: U256,
    #[serde(flatten)]
    shares: Shares,
    /// Locked by the first mint ever (supply zero at `v`).
    #[serde(with = "tao20_creation::dec")]
    dead_shares: U256,
    /// `sharesOut - deadShares`: what the receiver gets.
    #[serde(with = "tao20_creation::dec")]
    receiver_shares: U256,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NavOut {
    #[serde(flatten)]
    nav: Nav,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<DeliveryOut>,
}

/// Runs `tao20 nav`.
pub fn run(args: NavArgs) -> CliResult {
    let input: NavInput = read_json(&args.input)?;
    let bad = |e: tao20_creation::Error| CliError::input(format!("{}: {e}", args.input.display()));
    let fund_nav = nav(&input.fund, &input.prices, input.valuation_block).map_err(bad)?;
    let delivery = match &input.delivery {
        None => None,
        Some(holdings) => {
            let value_rao = holdings_value(holdings, &input.prices).map_err(bad)?;
            let shares =
                shares(value_rao, fund_nav.nav_per_share, input.mint_fee_bps).map_err(bad)?;
            let dead_shares = if fund_nav.supply.is_zero() {
                U256::from(DEAD_SHARES)
            } else {
                U256::ZERO
            };
            let receiver_shares = shares.shares_out.checked_sub(dead_shares).ok_or_else(|| {
                CliError::input(format!(
                    "{}: sharesOut {} does not cover the first mint's {dead_shares} dead shares",
                    args.input.display(),
                    shares.shares_out
                ))
            })?;
            Some(DeliveryOut {
                value_rao,
                shares,
                dead_shares,
                receiver_shares,
            })
        }
    };
    print_json(&NavOut {
        nav: fund_nav,
        delivery,
    })
}
