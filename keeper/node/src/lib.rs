//! The TAO20 validator keeper (`tao20 validator run`): it follows subtensor and BEVM at their
//! finalized blocks, applies the pure cores, persists every decision before acting on it, signs
//! through a slashing-protection journal, exchanges signatures with its peers over HTTP, and
//! submits each quorum-signed report once. The design is `KEEPER.md`; this crate is the node
//! (engine, store, exchange, executors, config, metrics); the rules live in the pure crates.

pub mod chain_executor;
pub mod config;
pub mod consensus;
pub mod convert;
pub mod engine;
pub mod error;
pub mod exchange;
pub mod executor;
pub mod failpoint;
pub mod journal;
pub mod listener;
pub mod mechanisms;
pub mod metrics;
pub mod node;
pub mod ops;
pub mod replay;
pub mod reports;
pub mod safety;
pub mod store;

pub use error::{Error, Result};
