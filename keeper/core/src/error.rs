//! The error type of the pure core.

/// Everything that can go wrong in the pure core. Each variant names the input it rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A decimal string is not a valid FP18 number.
    #[error("invalid decimal {input:?} at byte {offset}: {reason}")]
    Parse {
        /// The rejected text.
        input: String,
        /// Byte offset of the first offending character.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// An arithmetic result does not fit its type.
    #[error("overflow in {op} of {lhs} and {rhs}")]
    Overflow {
        /// The operation, e.g. `"mul"`.
        op: &'static str,
        /// The left operand as text.
        lhs: String,
        /// The right operand as text.
        rhs: String,
    },
    /// A subtraction would go below zero.
    #[error("underflow in {op} of {lhs} and {rhs}")]
    Underflow {
        /// The operation, e.g. `"sub"`.
        op: &'static str,
        /// The left operand as text.
        lhs: String,
        /// The right operand as text.
        rhs: String,
    },
    /// A division by zero.
    #[error("division by zero in {op} of {lhs}")]
    DivisionByZero {
        /// The operation, e.g. `"div"`.
        op: &'static str,
        /// The dividend as text.
        lhs: String,
    },
}

/// The result alias of the pure core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
