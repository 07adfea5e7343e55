//! Crash points for the kill-and-restart tests: with `TAO20_CRASH_AT` naming points (a comma
//! list) and `TAO20_CRASH_DIR` a directory, the miner SIGKILLs itself the first time it reaches a
//! named point (a marker file in the directory makes it once per point), as the keeper does.
//! Unset, a point costs one environment lookup.
//!
//! The creation miner's points: `after-request` (the request exists, nothing bought),
//! `before-buy` (the purchase is announced, not submitted), `after-buy` (the basket is bought,
//! not recorded), `before-deliver` (the intent is recorded, nothing submitted), `after-deliver`
//! (the delivery is on chain, not recorded), `before-unstake` and `after-unstake` (a redemption's
//! alpha sale: announced, not submitted; sold, not recorded), `before-broadcast-<purpose>` (a
//! transaction is recorded signed, not broadcast).

/// Crashes here if the environment asks for it.
pub fn point(name: &str) {
    let Ok(points) = std::env::var("TAO20_CRASH_AT") else {
        return;
    };
    if !points.split(',').any(|p| p.trim() == name) {
        return;
    }
    let Ok(dir) = std::env::var("TAO20_CRASH_DIR") else {
        return;
    };
    let marker = std::path::Path::new(&dir).join(name);
    if std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .is_err()
    {
        return;
    }
    tracing::error!(target: "miner", point = name, "crash point: killing this miner");
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
}
