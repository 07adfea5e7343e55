//! The keeper's crash points (for the kill-and-restart tests) and fault switches (for the
//! supervision tests): [`tao20_runtime::crash`] says how a test arms them.

/// The engine's round fails with a permanent error (a full disk, an event that no longer
/// decodes): the process must stop, naming it.
pub const ENGINE_ERROR: &str = "engine-error";
/// The engine's round waits (a wedged task): the health endpoint must say so.
pub const ENGINE_STALL: &str = "engine-stall";

pub use tao20_runtime::crash::fault_on as on;
pub use tao20_runtime::crash::point as hit;

/// After the block transaction that recorded journal entries committed.
pub const AFTER_JOURNAL_COMMIT: &str = "after-journal-commit";
/// After a signature was made and committed to the journal, before it is recorded as a report
/// signature or queued for the peers.
pub const AFTER_SIGN_COMMIT: &str = "after-sign-commit";
/// After a signature was made and stored, and its push queued.
pub const AFTER_SIGN: &str = "after-sign";
/// After a signature was pushed to the peers.
pub const AFTER_PUSH: &str = "after-push";
/// After a transaction was broadcast (its attempt, hash included, was written before).
pub const AFTER_SUBMIT: &str = "after-submit";
