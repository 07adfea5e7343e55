//! Errors of the miners.

use std::path::Path;

/// The cause an error keeps: the library's own error, or a message where there is none.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// BEVM refused or failed (through the adapter).
    #[error(transparent)]
    Bevm(#[from] tao20_bevm::Error),
    /// A pure core refused an input.
    #[error(transparent)]
    Creation(#[from] tao20_creation::Error),
    /// The auction core refused an input.
    #[error(transparent)]
    Auction(#[from] tao20_auction::Error),
    /// A BEVM JSON-RPC request the miner makes itself failed.
    #[error("BEVM {what}: {source}")]
    Rpc {
        /// The request.
        what: String,
        /// The provider's error.
        #[source]
        source: Cause,
    },
    /// A transaction's simulation reverted.
    #[error("{call} reverts: {reason}")]
    Reverted {
        /// The call.
        call: String,
        /// The decoded revert (the contract's error when known).
        reason: String,
    },
    /// The miner's database.
    #[error("store {what}: {source}")]
    Store {
        /// The operation.
        what: String,
        /// SQLite's or the decoder's error.
        #[source]
        source: Cause,
    },
    /// A configuration that cannot work.
    #[error("config {what}: {source}")]
    Config {
        /// The key or file.
        what: String,
        /// Why.
        #[source]
        source: Cause,
    },
    /// A file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS's error.
        #[source]
        source: Cause,
    },
    /// A key could not be loaded (never with secret material in the message).
    #[error("key: {0}")]
    Key(String),
}

impl Error {
    /// A failed RPC request.
    pub fn rpc(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Rpc {
            what: what.into(),
            source: source.into(),
        }
    }

    /// A failed store operation.
    pub fn store(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Store {
            what: what.into(),
            source: source.into(),
        }
    }

    /// A bad configuration.
    pub fn config(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Config {
            what: what.into(),
            source: source.into(),
        }
    }

    /// A failed file operation.
    pub fn io(path: &Path, source: impl Into<Cause>) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source: source.into(),
        }
    }
}

/// The miners' result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
