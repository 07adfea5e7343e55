//! Mechanism 1 of TAO20, the hashrate auction: pure logic, no I/O, no async, no floating point on
//! any consensus path.
//!
//! - [`bids`]: from posted commitments to bid rows, and the published ban bitmap.
//! - [`commitment`]: the `v;t;d` commitment codec (price commitments with the ban bitmap, bid
//!   commitments v1 and v2), canonical encoding and staleness.
//! - [`window`]: subnet epochs, the six validation windows and the windows still to settle.
//! - [`consensus`]: gamma-MSI price consensus in exact integer arithmetic, and ban consensus.
//! - [`budget`]: the PH budget of a window and the miners' alpha per block.
//! - [`solve`]: winner selection, an exact lexicographic bounded knapsack (maximum hashrate, then
//!   minimum cost) with a canonical tie-break, verified in integer arithmetic; [`proximity`] is
//!   its bounded search for bids within the bid rule, and [`milp`] holds the same problem as a
//!   good_lp MILP, used as an independent cross-check.
//! - [`delivery`]: delivery verification from pool telemetry, and bans of failed winners.
//! - [`weights`]: per-window budgets and payments in alpha, the burn, and u16 weights.
//! - [`instance`]: a deterministic instance generator for benchmarks and the reference comparison.

pub mod bids;
pub mod budget;
pub mod commitment;
pub mod consensus;
pub mod delivery;
pub mod error;
pub mod instance;
pub mod milp;
pub mod proximity;
pub mod settle;
pub mod solve;
pub mod units;
pub mod weights;
pub mod window;

pub use error::{Error, Result};
