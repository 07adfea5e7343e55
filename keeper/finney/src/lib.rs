//! The subtensor runtime as subxt sees it: the code subxt's macro generates from the checked-in
//! finney metadata (`metadata/finney.scale`, copied unmodified from the crates.io package
//! `bittensor-rs` 0.1.1), and the metadata's bytes.
//!
//! It is a crate of its own because the generated code is most of what `tao20-chain` compiles:
//! here it is compiled once, not again for each of that crate's test and lint builds.

/// Code generated from `metadata/finney.scale` by subxt's macro.
#[allow(missing_docs, clippy::all, clippy::pedantic, unused)]
#[subxt::subxt(runtime_metadata_path = "metadata/finney.scale")]
pub mod finney {}

/// The checked-in runtime metadata (SCALE-encoded, with its magic number).
pub const METADATA: &[u8] = include_bytes!("../metadata/finney.scale");
