//! TAO20 on BEVM (subtensor's EVM) through alloy: the contract's bindings, reads of the fund at a
//! block, the contract's events from a persisted, reorg-aware cursor, the transactions keepers and
//! miners send (with reverts decoded into the contract's errors), and the report-signing key's
//! keystore. An adapter: it translates, it never decides.

pub mod api;
pub mod bindings;
pub mod convert;
pub mod cursor;
pub mod deployment;
pub mod error;
pub mod events;
pub mod keys;
pub mod localnet;
pub mod memory;
pub mod reader;
pub mod rpc;
pub mod txman;
pub mod writer;

pub use api::Bevm;
pub use deployment::Deployment;
pub use error::{ContractError, Error, Result, Retry};
pub use reader::Reader;
pub use writer::Writer;
