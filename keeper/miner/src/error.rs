//! Errors of the miners.

/// Errors of the miners.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input or a state the miner cannot act on.
    #[error("{0}")]
    Invalid(String),
    /// Waiting took too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Subtensor refused or failed.
    #[error(transparent)]
    Chain(#[from] tao20_chain::Error),
    /// BEVM refused or failed.
    #[error(transparent)]
    Bevm(#[from] tao20_bevm::Error),
    /// A pure core refused an input.
    #[error(transparent)]
    Creation(#[from] tao20_creation::Error),
}

/// The miners' result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
