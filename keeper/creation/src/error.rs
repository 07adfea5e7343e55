//! The error type of the creation core. Every variant names the input it rejects.

use alloy_primitives::B256;

/// Everything the creation core can reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Fixed-point or wide-integer arithmetic failed (overflow, division by zero).
    #[error("arithmetic: {0}")]
    Math(#[from] tao20_core::Error),
    /// A value does not fit the width the protocol gives it (e.g. a `uint64` field).
    #[error("{what} = {value} does not fit {width}")]
    OutOfRange {
        /// Which quantity.
        what: String,
        /// Its value as text.
        value: String,
        /// The type it must fit, e.g. `"uint64"`.
        width: &'static str,
    },
    /// A configuration parameter is invalid.
    #[error("parameter {name}: {reason}")]
    InvalidParam {
        /// The parameter's name.
        name: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// The same netuid appears twice in one input list.
    #[error("netuid {netuid} appears more than once in {list}")]
    DuplicateNetuid {
        /// The repeated netuid.
        netuid: u16,
        /// Which list.
        list: &'static str,
    },
    /// No subnet is eligible for the index (or every one was dropped by the minimum-value rule).
    #[error("no subnet is eligible for the index: {0}")]
    EmptyIndex(String),
    /// The spot prices given for the official price do not cover the window exactly once.
    #[error("price window of netuid {netuid}: {reason}")]
    PriceWindow {
        /// The subnet.
        netuid: u16,
        /// What is missing or extra.
        reason: String,
    },
    /// A price needed for a valuation is missing or zero.
    #[error("no usable price for netuid {netuid}")]
    MissingPrice {
        /// The subnet.
        netuid: u16,
    },
    /// A list the protocol requires sorted (assets by netuid, positions by (netuid, hotkey)) is not
    /// strictly increasing at `index`.
    #[error("{list} must be strictly increasing; element {index} is out of order or repeated")]
    Unsorted {
        /// Which list.
        list: &'static str,
        /// The first offending element.
        index: usize,
    },
    /// A creation would mint nothing, or the contract would otherwise revert the computation.
    #[error("{0}")]
    Rejected(String),
    /// A signature or signing key is malformed or does not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// The signing journal forbids signing different content for an already signed subject.
    #[error("journal: already signed different content for {key} (signed {signed}, proposed {proposed})")]
    JournalConflict {
        /// The subject, e.g. `request 0x..`.
        key: String,
        /// Content hash already signed.
        signed: B256,
        /// Content hash proposed.
        proposed: B256,
    },
    /// A lifecycle event cannot be applied to the current state.
    #[error("lifecycle: {0}")]
    Lifecycle(String),
}

/// The result alias of the creation core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn range(
        what: impl Into<String>,
        value: impl ToString,
        width: &'static str,
    ) -> Self {
        Self::OutOfRange {
            what: what.into(),
            value: value.to_string(),
            width,
        }
    }
}
