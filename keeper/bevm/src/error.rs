//! Errors of the BEVM adapter: what failed, with which input, and whether a retry can help.

use alloy::primitives::{Bytes, B256};
use serde::{Deserialize, Serialize};

/// A revert of the TAO20 contract, decoded into its custom error where the ABI knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractError {
    /// The custom error's name (`RequestNotPending`), or `unknown` when the data does not decode.
    pub name: String,
    /// The decoded error with its arguments, for logs and operators.
    pub detail: String,
    /// The raw revert data.
    pub data: Bytes,
}

impl std::fmt::Display for ContractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The endpoint failed or timed out: try again later, unchanged.
    Later,
    /// The input or the chain state refuses it: retrying the same thing cannot help.
    Never,
}

/// Errors of the adapter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The JSON-RPC endpoint failed (connection, HTTP, rate limit, malformed answer).
    #[error("BEVM RPC {what}: {reason}")]
    Rpc {
        /// The request.
        what: String,
        /// What the transport said.
        reason: String,
        /// The transport's error, when there was one (a contradiction the adapter found itself
        /// has none).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The contract reverted a call or a transaction.
    #[error("{call} reverted: {error}")]
    Reverted {
        /// The contract function.
        call: String,
        /// The decoded revert.
        error: ContractError,
    },
    /// A transaction was mined but failed, and re-simulating it did not explain why.
    #[error("{call} transaction {tx} failed in block {block} without revert data")]
    FailedWithoutReason {
        /// The contract function.
        call: String,
        /// The transaction.
        tx: B256,
        /// Its block.
        block: u64,
    },
    /// Waiting for a receipt or confirmations took too long.
    #[error("{what}: timed out")]
    Timeout {
        /// What was awaited.
        what: String,
    },
    /// An answer of the chain did not decode into what the contract promises.
    #[error("decoding {what}: {reason}")]
    Decode {
        /// What was decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A caller's input is invalid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The input.
        what: String,
        /// Why.
        reason: String,
    },
    /// A keystore could not be read, decrypted or written. Never carries the password.
    #[error("keystore {path}: {reason}")]
    Keystore {
        /// The keystore file or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The node no longer keeps a block the caller needs: a pruned (non-archive) node, such as
    /// a subtensor node with its default `--state-pruning 256`, answers for recent blocks only.
    /// Retrying cannot bring the block back, and reading on from the next block it keeps would
    /// skip events, so this is permanent until the endpoint changes.
    #[error(
        "BEVM node has discarded block {block}, needed for {what} (its head is {head}): a pruned \
         node keeps recent state only; use an archive node (`--state-pruning archive`) as the BEVM \
         endpoint"
    )]
    StateDiscarded {
        /// What needed the block.
        what: String,
        /// The block.
        block: u64,
        /// The node's head when it answered.
        head: u64,
    },
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    /// Whether retrying can help.
    pub fn retry(&self) -> Retry {
        match self {
            Error::Rpc { .. } | Error::Timeout { .. } => Retry::Later,
            _ => Retry::Never,
        }
    }

    /// An RPC failure with the transport's error as its source.
    pub(crate) fn rpc(
        what: impl Into<String>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Rpc {
            what: what.into(),
            reason: e.to_string(),
            source: Some(Box::new(e)),
        }
    }

    /// An RPC answer the adapter found wrong itself (no transport error behind it).
    pub(crate) fn rpc_answer(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Rpc {
            what: what.into(),
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn decode(what: impl Into<String>, e: impl std::fmt::Display) -> Self {
        Error::Decode {
            what: what.into(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

/// The adapter's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
