//! `tao20 consensus price`: gamma-MSI over a file of price points.
//!
//! Input: `{"gamma": "0.67", "points": [{"hotkey": "...", "stake": "40", "price": "10.2"}]}`;
//! `gamma` defaults to 0.67, `stake` is an unsigned integer string (up to 128 bits, any unit) and
//! `price` a decimal string. Output: `{"price": "10"}` or `{"price": null}`.

use std::path::PathBuf;

use clap::Subcommand;
use serde::{Deserialize, Deserializer};
use tao20_auction::consensus::{gamma_msi, PricePoint, DEFAULT_GAMMA};
use tao20_core::Fp18;

use crate::auction::lib_error;
use crate::output::{print_json, read_json, CliResult};

/// Consensus computations.
#[derive(Debug, Subcommand)]
pub enum ConsensusCmd {
    /// gamma-MSI price consensus of the points in FILE.
    Price {
        /// The JSON input file.
        #[arg(long)]
        input: PathBuf,
    },
}

/// An unsigned 128-bit integer written as a decimal string.
#[derive(Debug, Clone, Copy)]
struct U128Text(u128);

impl<'de> Deserialize<'de> for U128Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        tao20_auction::units::parse_u128(&s, "stake")
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Point {
    hotkey: String,
    stake: U128Text,
    price: Fp18,
}

fn default_gamma() -> Fp18 {
    DEFAULT_GAMMA
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceInput {
    #[serde(default = "default_gamma")]
    gamma: Fp18,
    points: Vec<Point>,
}

/// Runs a `consensus` subcommand.
pub fn run(cmd: ConsensusCmd) -> CliResult {
    match cmd {
        ConsensusCmd::Price { input } => {
            let input: PriceInput = read_json(&input)?;
            let points: Vec<PricePoint> = input
                .points
                .into_iter()
                .map(|p| PricePoint {
                    hotkey: p.hotkey,
                    stake: p.stake.0,
                    price: p.price,
                })
                .collect();
            let price = gamma_msi(&points, input.gamma).map_err(lib_error)?;
            print_json(&serde_json::json!({ "price": price.map(|p| p.to_string()) }))
        }
    }
}
