//! `tao20 demo`: the whole TAO20 system on a devnet, with faults, and a report of what happened.
//!
//! [`scenario::run`] starts a devnet (anvil, the subtensor simulator, the pool and price fixture)
//! with five keepers as separate `tao20 validator run` processes — one of them signing a wrong NAV
//! — and plays creation miners, a holder, bidding miners and the faults against it: a keeper killed
//! mid-creation and restarted, a keeper cut off its RPC endpoints, a price-manipulation attempt
//! before a request, an incomplete basket, a bidder that under-delivers once. It then reads back
//! what the chain and every keeper's database say ([`collect`]), checks every expectation, and
//! writes `report.json` ([`report`]) and a self-contained `report.html` with SVG charts ([`html`]).

pub mod collect;
pub mod html;
pub mod progress;
pub mod report;
pub mod scenario;

/// What can go wrong running the demo (a failed expectation is a check, not an error).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The devnet.
    #[error(transparent)]
    Devnet(#[from] tao20_devnet::Error),
    /// The BEVM side.
    #[error(transparent)]
    Bevm(#[from] tao20_bevm::Error),
    /// The subtensor side.
    #[error(transparent)]
    Chain(#[from] tao20_chain::Error),
    /// A miner step.
    #[error(transparent)]
    Miner(#[from] tao20_miner::Error),
    /// A keeper's database.
    #[error(transparent)]
    Node(#[from] tao20_node::Error),
    /// Anything else, with what was being done.
    #[error("demo: {0}")]
    Step(String),
    /// Writing the report.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The demo's results.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn step(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
    Error::Step(format!("{what}: {e}"))
}
