//! The bidder's hook: an external program run once per event (a commit, a window's result) with
//! the event as one JSON document on its stdin, so a miner can route its hashrate. Hooks run one
//! at a time, in order, on a task of their own, each in its own process group: a hook that fails,
//! or runs past its timeout (then its whole group is killed), is logged and forgotten; bidding
//! never waits for one. At most [`QUEUE`] events wait; beyond that new ones are dropped (logged).

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Events that may wait for the hook.
pub const QUEUE: usize = 256;

/// How one hook run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookOutcome {
    /// Exited 0.
    Ok,
    /// Exited otherwise (or was killed by a signal).
    Failed(String),
    /// Ran past the timeout and was killed.
    TimedOut,
    /// Could not be started.
    NotStarted(String),
}

/// Runs `command` with `doc` on stdin, at most `timeout`.
pub async fn run_once(command: &[String], doc: &Value, timeout: Duration) -> HookOutcome {
    let Some((program, args)) = command.split_first() else {
        return HookOutcome::NotStarted("no command".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return HookOutcome::NotStarted(format!("{program}: {e}")),
    };
    let pid = child.id();
    let mut line = doc.to_string().into_bytes();
    line.push(b'\n');
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A hook that does not read its stdin is not an error.
            let _ = stdin.write_all(&line).await;
            drop(stdin);
        }
        child.wait_with_output().await
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(out)) if out.status.success() => HookOutcome::Ok,
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: String = stderr
                .chars()
                .rev()
                .take(300)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            HookOutcome::Failed(format!("{}: {}", out.status, tail.trim()))
        }
        Ok(Err(e)) => HookOutcome::Failed(e.to_string()),
        Err(_) => {
            #[cfg(unix)]
            if let Some(pid) = pid
                .and_then(|p| i32::try_from(p).ok())
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            HookOutcome::TimedOut
        }
    }
}

/// The hook's queue and worker.
#[derive(Debug, Clone)]
pub struct Hooks {
    tx: Option<mpsc::Sender<Value>>,
}

impl Hooks {
    /// No hook.
    pub fn none() -> Self {
        Self { tx: None }
    }

    /// A worker running `command` (none when empty) with `timeout` per run.
    pub fn start(command: Vec<String>, timeout: Duration) -> Self {
        if command.is_empty() {
            return Self::none();
        }
        let (tx, mut rx) = mpsc::channel::<Value>(QUEUE);
        tokio::spawn(async move {
            while let Some(doc) = rx.recv().await {
                let event = doc["event"].as_str().unwrap_or("").to_string();
                match run_once(&command, &doc, timeout).await {
                    HookOutcome::Ok => {
                        tracing::debug!(target: "miner::bid", event, "hook ran")
                    }
                    other => {
                        tracing::warn!(target: "miner::bid", event, outcome = ?other, "hook did not succeed; bidding goes on")
                    }
                }
            }
        });
        Self { tx: Some(tx) }
    }

    /// Queues an event for the hook (dropped, with a warning, when the queue is full).
    pub fn send(&self, doc: Value) {
        let Some(tx) = &self.tx else { return };
        if let Err(e) = tx.try_send(doc) {
            tracing::warn!(target: "miner::bid", error = %e, "hook queue full; event dropped");
        }
    }
}
