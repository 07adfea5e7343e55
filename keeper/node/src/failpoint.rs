//! Crash points for the kill-and-restart tests: with `TAO20_CRASH_AT` naming a point (a comma
//! list) and `TAO20_CRASH_DIR` a directory, the keeper SIGKILLs itself the first time it reaches
//! that point (a marker file in the directory makes it once per point). Unset, a point costs one
//! environment lookup.

/// After the block transaction that recorded journal entries committed.
pub const AFTER_JOURNAL_COMMIT: &str = "after-journal-commit";
/// After a signature was made and stored.
pub const AFTER_SIGN: &str = "after-sign";
/// After a signature was pushed to the peers.
pub const AFTER_PUSH: &str = "after-push";
/// After a transaction was broadcast, before its hash is recorded.
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
