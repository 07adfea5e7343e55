//! The error type of subtensor access. Every variant says what failed, with which input, and
//! [`Error::retry`] says which retry makes sense.

use serde::{Deserialize, Serialize};

/// What a caller should do after an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retry {
    /// The connection is gone or was never made: reconnect (with backoff), then repeat the call.
    Reconnect,
    /// The answer does not exist *yet* (block not produced or not finalized, node busy): repeat the
    /// same call later, unchanged.
    Later,
    /// Repeating the same call cannot succeed: fix the input, the key, the metadata or the state
    /// first.
    Never,
}

/// A failed dispatch, named as the runtime names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchError {
    /// The pallet that raised the error (`"SubtensorModule"`), or empty for a non-module error.
    pub pallet: String,
    /// The runtime's error name (`"TransferDisallowed"`, `"BadOrigin"`, ...).
    pub error: String,
}

impl std::fmt::Display for DispatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pallet.is_empty() {
            f.write_str(&self.error)
        } else {
            write!(f, "{}::{}", self.pallet, self.error)
        }
    }
}

/// Everything that can go wrong when reading from or writing to subtensor (real or simulated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// The node (or the simulator server) cannot be reached or dropped the connection.
    #[error("connection to {endpoint} failed: {reason}")]
    Connection {
        /// The endpoint that failed (URL or `host:port`).
        endpoint: String,
        /// The transport's own message.
        reason: String,
    },
    /// A request reached the node but failed there or timed out (busy node, RPC error).
    #[error("request {what} failed: {reason}")]
    Request {
        /// The request, e.g. `"storage SubtensorModule::SubnetTAO at 123"`.
        what: String,
        /// The node's message.
        reason: String,
    },
    /// The block, subnet, neuron or value asked for does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was asked for, with its keys.
        what: String,
        /// True when it may appear later (a block not produced or finalized yet).
        later: bool,
    },
    /// Bytes from the chain do not decode as the checked-in metadata says: the runtime changed.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// The decoder's message.
        reason: String,
    },
    /// The extrinsic was included but its dispatch failed; nothing it did was kept.
    #[error("dispatch of {call} failed in block {block}: {error}")]
    Dispatch {
        /// The call, e.g. `"Utility::batch_all"`.
        call: String,
        /// The block that included the failed extrinsic (0 if it was rejected before inclusion).
        block: u64,
        /// The runtime's error.
        error: DispatchError,
    },
    /// The input is invalid before anything is sent (lengths, ranges, a missing signer).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The input, by name.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signing key could not be loaded. The message never contains secret material.
    #[error("signing key: {reason}")]
    Key {
        /// What went wrong (which variable or file, not its content).
        reason: String,
    },
    /// Timelock encryption or decryption failed.
    #[error("timelock: {reason}")]
    Timelock {
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    /// Which retry makes sense after this error.
    pub fn retry(&self) -> Retry {
        match self {
            Error::Connection { .. } => Retry::Reconnect,
            Error::Request { .. } => Retry::Later,
            Error::NotFound { later: true, .. } => Retry::Later,
            Error::NotFound { later: false, .. }
            | Error::Decode { .. }
            | Error::Dispatch { .. }
            | Error::Invalid { .. }
            | Error::Key { .. }
            | Error::Timelock { .. } => Retry::Never,
        }
    }

    /// The runtime's error name if this is a dispatch error, e.g. `Some("TransferDisallowed")`.
    pub fn dispatch_error_name(&self) -> Option<&str> {
        match self {
            Error::Dispatch { error, .. } => Some(&error.error),
            _ => None,
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound {
            what: what.into(),
            later: false,
        }
    }

    /// An invalid input: what it was and why it is refused.
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn decode(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Decode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

/// The result alias of subtensor access.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_advice_follows_the_kind() {
        let conn = Error::Connection {
            endpoint: "ws://x".into(),
            reason: "refused".into(),
        };
        assert_eq!(conn.retry(), Retry::Reconnect);
        let later = Error::NotFound {
            what: "block 9".into(),
            later: true,
        };
        assert_eq!(later.retry(), Retry::Later);
        let dispatch = Error::Dispatch {
            call: "SubtensorModule::transfer_stake".into(),
            block: 3,
            error: DispatchError {
                pallet: "SubtensorModule".into(),
                error: "TransferDisallowed".into(),
            },
        };
        assert_eq!(dispatch.retry(), Retry::Never);
        assert_eq!(dispatch.dispatch_error_name(), Some("TransferDisallowed"));
        assert!(dispatch
            .to_string()
            .contains("SubtensorModule::TransferDisallowed"));
    }

    #[test]
    fn errors_round_trip_through_json() {
        let e = Error::NotFound {
            what: "subnet 7".into(),
            later: false,
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"kind\":\"not_found\""));
        assert_eq!(serde_json::from_str::<Error>(&json).unwrap(), e);
    }
}
