//! Mechanism 0 of TAO20 (creation units): the pure logic every keeper runs identically.
//!
//! Nothing here does I/O, spawns tasks or uses floating point; every consensus value is an integer
//! with a documented rounding direction, computed the same way as the contracts compute it (the
//! shared vectors in `test/vectors/protocol.json` prove it).
//!
//! - [`pricing`]: the official price of a subnet's alpha (mean of the runtime's spot price).
//! - [`index`]: the index methodology (eligibility, ranking, capped weights, basis points, the
//!   minimum-value rule) and the per-unit quantities of the creation file.
//! - [`eip712`]: the protocol's EIP-712 structs as plain serde types, their type strings, struct
//!   hashes and digests.
//! - [`ids`]: request ids and the delivery remark.
//! - [`nav`]: position value, management fee, NAV per share, shares of a creation, redemption.
//! - [`delivery`]: the substrate data the lifecycle reads, and delivery recognition and validity.
//! - [`lifecycle`]: the creation state machine, a pure function of (state, event) -> actions.
//! - [`signing`]: secp256k1 report signatures, recovery and ordering; [`journal`]: the signing rule.
//! - [`weights`]: mechanism-0 weights from `CreationMinted` records.

pub mod dec;
pub mod delivery;
pub mod eip712;
pub mod error;
pub mod ids;
pub mod index;
pub mod journal;
pub mod lifecycle;
pub mod nav;
pub mod pricing;
pub mod signing;
pub mod weights;

/// Re-exported so callers (the binary, the chain adapters) name the same `Address`, `B256`, `U256`.
pub use alloy_primitives;
pub use error::{Error, Result};

/// The shared-vector kinds this crate asserts (its `tests/vectors.rs` has a handler for each).
#[cfg(feature = "vectors")]
pub mod vectors {
    /// Every kind of `test/vectors/protocol.json` the creation core asserts.
    pub const VECTOR_KINDS: &[&str] = &[
        "eip712_typehash",
        "eip712_struct",
        "eip712_signature",
        "request_id",
        "delivery_remark",
        "position_value",
        "management_fee",
        "nav_per_share",
        "shares",
        "redemption",
        "index_weights",
        "dust",
        "fund_value",
        "expiry",
        "native_redemption",
    ];
}

/// Basis points in a whole (100 %).
pub const BPS: u32 = 10_000;
