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

/// subtensor's `CustomTransactionError` codes (`common/src/transaction_error.rs`, main 14bc6f9):
/// what its transaction extension answers as `InvalidTransaction::Custom(n)`.
pub const CUSTOM_TRANSACTION_ERRORS: &[(u8, &str)] = &[
    (0, "ColdkeyInSwapSchedule"),
    (1, "StakeAmountTooLow"),
    (2, "BalanceTooLow"),
    (3, "SubnetNotExists"),
    (4, "HotkeyAccountDoesntExist"),
    (5, "NotEnoughStakeToWithdraw"),
    (6, "RateLimitExceeded"),
    (7, "InsufficientLiquidity"),
    (8, "SlippageTooHigh"),
    (9, "TransferDisallowed"),
    (10, "HotKeyNotRegisteredInNetwork"),
    (11, "InvalidIpAddress"),
    (12, "ServingRateLimitExceeded"),
    (13, "InvalidPort"),
    (14, "ZeroMaxAmount"),
    (15, "InvalidRevealRound"),
    (16, "CommitNotFound"),
    (17, "CommitBlockNotInRevealRange"),
    (18, "InputLengthsUnequal"),
    (19, "UidNotFound"),
    (20, "EvmKeyAssociateRateLimitExceeded"),
    (21, "ColdkeySwapDisputed"),
    (22, "InvalidRealAccount"),
    (23, "FailedShieldedTxParsing"),
    (24, "InvalidShieldedTxPubKeyHash"),
    (25, "NonAssociatedColdKey"),
    (26, "DelegateTakeTooLow"),
    (27, "DelegateTakeTooHigh"),
    (255, "BadRequest"),
];

/// `sp_runtime::InvalidTransaction` as a node reports it: the variant and, for subtensor's own
/// checks, the custom code and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalidity {
    /// `"Stale"`, `"Future"`, `"BadProof"`, ... or, for `Custom(n)`, the name of code `n`
    /// (`"Custom(n)"` for a code this client does not know).
    pub name: String,
    /// `n` of `InvalidTransaction::Custom(n)`.
    pub custom: Option<u8>,
}

/// The messages of `InvalidTransaction`'s variants (`sp_runtime::transaction_validity`), as a
/// node puts them in the error's data.
const INVALID_TRANSACTION_MESSAGES: &[(&str, &str)] = &[
    ("Transaction call is not expected", "Call"),
    (
        "Inability to pay some fees (e.g. account balance too low)",
        "Payment",
    ),
    ("Transaction will be valid in the future", "Future"),
    ("Transaction is outdated", "Stale"),
    ("Transaction has a bad signature", "BadProof"),
    (
        "Transaction has an ancient birth block",
        "AncientBirthBlock",
    ),
    (
        "Transaction would exhaust the block limits",
        "ExhaustsResources",
    ),
    (
        "A call was labelled as mandatory, but resulted in an Error.",
        "BadMandatory",
    ),
    (
        "Transaction dispatch is mandatory; transactions must not be validated.",
        "MandatoryValidation",
    ),
    ("Invalid signing address", "BadSigner"),
];

impl Invalidity {
    /// `InvalidTransaction::Custom(code)`, named by [`CUSTOM_TRANSACTION_ERRORS`].
    pub fn custom(code: u8) -> Self {
        let name = CUSTOM_TRANSACTION_ERRORS
            .iter()
            .find(|(c, _)| *c == code)
            .map_or_else(|| format!("Custom({code})"), |(_, n)| (*n).to_string());
        Self {
            name,
            custom: Some(code),
        }
    }

    /// From the data of a node's 1010 error: `"Custom error: 6"` or a variant's message.
    pub fn from_node_message(data: &str) -> Self {
        let data = data.trim().trim_matches('"');
        if let Some(code) = data
            .strip_prefix("Custom error: ")
            .and_then(|c| c.trim().parse::<u8>().ok())
        {
            return Self::custom(code);
        }
        let name = INVALID_TRANSACTION_MESSAGES
            .iter()
            .find(|(m, _)| data.starts_with(m))
            .map_or_else(|| format!("unknown ({data})"), |(_, n)| (*n).to_string());
        Self { name, custom: None }
    }

    /// Whether sending again can succeed: a nonce, era or runtime that moved is fixed by signing
    /// again, a rate limit by waiting; a missing permit, stake or registration is not.
    pub fn retry(&self) -> Retry {
        match self.name.as_str() {
            "Stale"
            | "Future"
            | "BadProof"
            | "AncientBirthBlock"
            | "ExhaustsResources"
            | "RateLimitExceeded"
            | "ServingRateLimitExceeded"
            | "EvmKeyAssociateRateLimitExceeded"
            | "CommitBlockNotInRevealRange" => Retry::Later,
            _ => Retry::Never,
        }
    }
}

impl std::fmt::Display for Invalidity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.custom {
            Some(code) => write!(f, "{} (InvalidTransaction::Custom({code}))", self.name),
            None => write!(f, "InvalidTransaction::{}", self.name),
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
    /// The node refused the extrinsic before it entered the pool (JSON-RPC 1010, the runtime's
    /// `InvalidTransaction`); nothing was included.
    #[error("the node refused {call}: {validity}")]
    Refused {
        /// The call, e.g. `"SubtensorModule::commit_timelocked_mechanism_weights"`.
        call: String,
        /// Why, named as the runtime names it.
        validity: Invalidity,
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
    /// The node no longer keeps the state of the block asked for (a pruning node keeps the last
    /// 256 blocks by default): asking again cannot help.
    #[error(
        "{what}: the node discarded that block's state ({reason}); a keeper this far behind \
         needs an archive node (--state-pruning archive) as its subtensor endpoint"
    )]
    Pruned {
        /// The request.
        what: String,
        /// The node's message.
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
            Error::Refused { validity, .. } => validity.retry(),
            Error::NotFound { later: false, .. }
            | Error::Decode { .. }
            | Error::Dispatch { .. }
            | Error::Invalid { .. }
            | Error::Key { .. }
            | Error::Timelock { .. }
            | Error::Pruned { .. } => Retry::Never,
        }
    }

    /// The runtime's error name if this is a dispatch error, e.g. `Some("TransferDisallowed")`.
    pub fn dispatch_error_name(&self) -> Option<&str> {
        match self {
            Error::Dispatch { error, .. } => Some(&error.error),
            _ => None,
        }
    }

    /// The runtime's name for a refusal that no retry can overcome: a dispatch error, or a
    /// transaction the node will not take (`StakeAmountTooLow`, ...).
    pub fn final_refusal(&self) -> Option<String> {
        match self {
            Error::Dispatch { error, .. } => Some(error.error.clone()),
            Error::Refused { validity, .. } if validity.retry() == Retry::Never => {
                Some(validity.name.clone())
            }
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
    fn node_refusals_are_named_and_advised() {
        let rate = Invalidity::from_node_message("Custom error: 6");
        assert_eq!(rate.name, "RateLimitExceeded");
        assert_eq!(rate.retry(), Retry::Later);
        let stake = Invalidity::from_node_message("Custom error: 1");
        assert_eq!(stake.name, "StakeAmountTooLow");
        assert_eq!(stake.retry(), Retry::Never);
        assert_eq!(
            stake.to_string(),
            "StakeAmountTooLow (InvalidTransaction::Custom(1))"
        );
        let e = Error::Refused {
            call: "SubtensorModule::set_mechanism_weights".into(),
            validity: stake,
        };
        assert_eq!(e.final_refusal().as_deref(), Some("StakeAmountTooLow"));
        assert_eq!(Invalidity::custom(200).name, "Custom(200)");
        let stale = Invalidity::from_node_message("Transaction is outdated");
        assert_eq!(
            (stale.name.as_str(), stale.retry()),
            ("Stale", Retry::Later)
        );
        assert_eq!(
            Error::Refused {
                call: "x".into(),
                validity: stale
            }
            .final_refusal(),
            None
        );
        assert_eq!(
            Invalidity::from_node_message("Transaction has a bad signature").name,
            "BadProof"
        );
        assert!(Invalidity::from_node_message("something new")
            .name
            .starts_with("unknown"));
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
