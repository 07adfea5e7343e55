//! Pure logic shared by every part of the TAO20 keeper.
//!
//! Nothing here does I/O, spawns tasks or touches floating point: every consensus path in the
//! keeper is built on these integer types so that every validator computes the same bits.

pub mod domain;
pub mod error;
pub mod fixed;
pub mod math;
#[cfg(feature = "vectors")]
pub mod vectors;

pub use error::{Error, Result};
pub use fixed::{Fp18, Rounding};
