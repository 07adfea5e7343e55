//! TAO20's miners.
//!
//! - [`arb`]: `tao20 miner create`, the creation-unit arbitrageur: NAV against the TAO20 pool's
//!   price each block, creations sized in closed form ([`sizing`]) at a premium, redemptions at a
//!   discount, every step persisted ([`store`]) before it acts.
//! - [`bid`]: `tao20 miner bid`, the hashrate bidder: bids from a TOML file that is reloaded when
//!   it changes, committed within the chain's rate limit, and hooks told of every commit and every
//!   window's result.
//! - [`creation`]: the steps of a creation (request, deliver, follow), shared with the tests.
//! - [`market`]: the TAO20/WTAO Uniswap V2 pair and router; [`evm`]: transactions recorded before
//!   they are broadcast; [`observe`]: NAV and prices; [`config`], [`keys`], [`status`].

pub mod arb;
pub mod bid;
pub mod config;
pub mod crash;
pub mod creation;
pub mod error;
pub mod evm;
pub mod keys;
pub mod market;
pub mod observe;
pub mod run;
pub mod sizing;
pub mod status;
pub mod store;

pub use error::{Error, Result};
