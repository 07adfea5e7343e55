//! TAO20's miners.
//!
//! - [`creation`]: the steps of a creation (request, deliver, follow), shared by the creation-unit
//!   arbitrageur and the tests.

pub mod creation;
pub mod error;

pub use error::{Error, Result};
