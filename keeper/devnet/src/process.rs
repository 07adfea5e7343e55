//! The processes a devnet starts: each with its log file under `DIR/logs/`, in a process group of
//! its own (so a Ctrl-C meant for `devnet up` reaches them only through `up` itself), identified
//! by pid and command line so `devnet down` stops exactly what it started.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A process the devnet started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    /// Its role (`anvil`, `chain`, `validator-0`, ...).
    pub name: String,
    /// Its pid.
    pub pid: u32,
    /// Its log file.
    pub log: PathBuf,
    /// The program and arguments.
    pub command: Vec<String>,
}

/// Spawns `program args` with stdout and stderr appended to `log`, in its own process group.
pub fn spawn(
    name: &str,
    program: &Path,
    args: &[String],
    log: &Path,
    env: &[(String, String)],
) -> Result<(Child, Started)> {
    if let Some(d) = log.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(log, e))?;
    let err = out.try_clone().map_err(|e| Error::io(log, e))?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd.spawn().map_err(|e| Error::io(program, e))?;
    let started = Started {
        name: name.to_string(),
        pid: child.id(),
        log: log.to_path_buf(),
        command: std::iter::once(program.display().to_string())
            .chain(args.iter().cloned())
            .collect(),
    };
    Ok((child, started))
}

/// The last `n` lines of a log file.
pub fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether `p` is alive and still the process that was started (its command line matches, so a
/// reused pid is never mistaken for it).
pub fn is_running(p: &Started) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{}/cmdline", p.pid)) else {
        return false;
    };
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", p.pid)) {
        // A zombie has exited; only its parent has not reaped it yet.
        if stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        {
            return false;
        }
    }
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).to_string())
        .collect();
    args.len() == p.command.len() && args.iter().zip(&p.command).skip(1).all(|(a, b)| a == b)
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// Stops a started process: SIGTERM, then SIGKILL after `grace`. Returns whether it had to be
/// killed.
pub fn stop(p: &Started, grace: Duration) -> bool {
    if !is_running(p) {
        return false;
    }
    signal(p.pid, rustix::process::Signal::TERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_running(p) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(p.pid, rustix::process::Signal::KILL);
    // Gone only once the kernel has released it (its ports with it): a restart may bind them.
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_running(p) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Sends SIGKILL (a crash, for tests).
pub fn kill(p: &Started) {
    signal(p.pid, rustix::process::Signal::KILL);
}

pub use tao20_runtime::signal::wait as wait_for_signal;

/// A free TCP port on 127.0.0.1 (the OS picks; it is free when this returns).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Setup(format!("free port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Setup(format!("free port: {e}")))
}
