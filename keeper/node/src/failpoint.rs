//! Crash points for the kill-and-restart tests: with `TAO20_CRASH_AT` naming a point (a comma
//! list) and `TAO20_CRASH_DIR` a directory, the keeper SIGKILLs itself the first time it reaches
//! that point (a marker file in the directory makes it once per point). Unset, a point costs one
//! environment lookup.
//!
//! Fault switches for the supervision tests: with `TAO20_FAULT_DIR` a directory, a switch is on
//! while a file of its name exists there, so a test turns a fault on and off at the moment it
//! chooses ([`ENGINE_ERROR`], [`ENGINE_STALL`]).

/// The engine's round fails with a permanent error (a full disk, an event that no longer
/// decodes): the process must stop, naming it.
pub const ENGINE_ERROR: &str = "engine-error";
/// The engine's round waits (a wedged task): the health endpoint must say so.
pub const ENGINE_STALL: &str = "engine-stall";

/// Whether the fault switch `name` is on.
pub fn on(name: &str) -> bool {
    match std::env::var_os("TAO20_FAULT_DIR") {
        Some(dir) => std::path::Path::new(&dir).join(name).exists(),
        None => false,
    }
}

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

/// Crashes here if the environment asks for it.
pub fn hit(point: &str) {
    let Ok(points) = std::env::var("TAO20_CRASH_AT") else {
        return;
    };
    if !points.split(',').any(|p| p.trim() == point) {
        return;
    }
    let Ok(dir) = std::env::var("TAO20_CRASH_DIR") else {
        return;
    };
    let marker = std::path::Path::new(&dir).join(point);
    if std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .is_err()
    {
        return;
    }
    tracing::error!(target: "keeper", point, "failpoint: killing this keeper");
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
}
