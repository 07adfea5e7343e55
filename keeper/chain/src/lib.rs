//! Subtensor access for the TAO20 keeper and miners: one async trait ([`Subtensor`]) with two
//! implementations, the real chain through subxt ([`client::SubxtClient`]) and an in-process
//! simulator ([`sim::SimClient`], also served to other processes by `tao20 sim serve`).
//!
//! Plain data types ([`types`]) carry what the keeper needs to recognise deliveries; typed errors
//! ([`Error`]) say which retry makes sense; [`epochs`] ports the chain's epoch schedule (when
//! epochs run, which epoch a commit belongs to, when it is revealed); [`drand`] implements
//! commit-reveal v4 timelocking.

pub mod api;
pub mod balancer;
pub mod client;
pub mod drand;
pub mod epochs;
pub mod error;
pub mod sim;
pub mod types;

pub use api::Subtensor;
pub use error::{DispatchError, Error, Invalidity, Result, Retry, CUSTOM_TRANSACTION_ERRORS};
