//! The error type of the auction crate: every variant says what was wrong and with which input.

/// Everything that can go wrong in mechanism 1's pure logic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A commitment payload is malformed; `offset` is the byte offset in the whole payload.
    #[error("invalid commitment at byte {offset}: {reason}")]
    Commitment {
        /// Byte offset (in the whole payload) of the first offending byte.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// One group of a bid commitment is malformed, which rejects the whole commitment.
    #[error("invalid bid group {group} (byte {offset}): {reason}")]
    BidGroup {
        /// Zero-based index of the `;`-separated group.
        group: usize,
        /// Byte offset (in the whole payload) of the first offending byte.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// A bid's worker size breaks the bid rule ([`crate::commitment::BidRule`]); like a
    /// malformed group, it rejects the whole commitment and nothing else.
    #[error(
        "invalid bid group {group} (byte {offset}): {field} {value} breaks the bid rule: {rule}"
    )]
    BidRule {
        /// Zero-based index of the `;`-separated group.
        group: usize,
        /// Byte offset (in the whole payload) of the value.
        offset: usize,
        /// The field, `hashrate`.
        field: &'static str,
        /// The value.
        value: tao20_core::Fp18,
        /// The rule it breaks.
        rule: crate::commitment::BidRule,
    },
    /// A commitment cannot be encoded (e.g. it would exceed the 128-byte limit).
    #[error("cannot encode commitment: {0}")]
    Encode(String),
    /// An input of a computation is invalid; `input` names it.
    #[error("invalid {input}: {reason}")]
    Invalid {
        /// The offending input, e.g. `gamma` or `bids[3]`.
        input: String,
        /// What was wrong.
        reason: String,
    },
    /// An intermediate or a result does not fit the exact integer range this crate works in.
    #[error("{what} exceeds the exact integer range")]
    Overflow {
        /// The quantity that overflowed.
        what: String,
    },
    /// The exact solver gave up on an instance beyond its documented state limit.
    #[error("winner selection exceeded its limit: {0}")]
    SolverLimit(String),
    /// A decimal could not be parsed or a fixed-point operation failed.
    #[error(transparent)]
    Core(#[from] tao20_core::Error),
}

impl Error {
    /// An [`Error::Invalid`] for `input`.
    pub fn invalid(input: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            input: input.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Overflow`] of `what`.
    pub fn overflow(what: impl Into<String>) -> Self {
        Self::Overflow { what: what.into() }
    }
}

/// The result alias of the auction crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
