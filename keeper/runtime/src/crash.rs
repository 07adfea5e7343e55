//! Crash points and fault switches, for the tests that kill a process between two steps or make
//! one of its tasks fail, from outside the process.
//!
//! - A crash point: with `TAO20_CRASH_AT` naming points (a comma list) and `TAO20_CRASH_DIR` a
//!   directory, the process SIGKILLs itself the first time it reaches a named point (a marker file
//!   in the directory makes it once per point, across restarts). Unset, a point costs one
//!   environment lookup.
//! - A fault switch: with `TAO20_FAULT_DIR` a directory, a switch is on while a file of its name
//!   exists there, so a test turns a fault on and off at the moment it chooses.
//!
//! Each process names its own points and switches next to the code they interrupt.

/// Kills this process here (SIGKILL: nothing after this point runs, no destructor, no flush) if
/// the environment names `point` and it has not fired in this crash directory before.
pub fn point(point: &str) {
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
    tracing::error!(target: "tao20", point, "crash point: killing this process");
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
}

/// Whether the fault switch `name` is on.
pub fn fault_on(name: &str) -> bool {
    match std::env::var_os("TAO20_FAULT_DIR") {
        Some(dir) => std::path::Path::new(&dir).join(name).exists(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the environment is the process's, shared by every test thread.
    #[test]
    fn a_fault_switch_follows_its_file_and_an_unnamed_point_does_not_fire() {
        let dir = std::env::temp_dir().join(format!("tao20-runtime-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(!fault_on("stall"), "no fault directory: off");
        std::env::set_var("TAO20_FAULT_DIR", &dir);
        assert!(!fault_on("stall"));
        std::fs::write(dir.join("stall"), b"").unwrap_or_else(|e| panic!("{e}"));
        assert!(fault_on("stall"));
        assert!(!fault_on("other"));
        std::fs::remove_file(dir.join("stall")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!fault_on("stall"));

        // A point the environment does not name returns, and leaves no marker.
        std::env::set_var("TAO20_CRASH_AT", "elsewhere");
        std::env::set_var("TAO20_CRASH_DIR", &dir);
        point("here");
        assert!(!dir.join("here").exists());
        // One already fired in this directory (its marker exists) does not fire again.
        std::fs::write(dir.join("fired"), b"").unwrap_or_else(|e| panic!("{e}"));
        std::env::set_var("TAO20_CRASH_AT", "fired");
        point("fired");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
