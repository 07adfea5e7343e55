//! SIGINT and SIGTERM: what a terminal and a supervisor (systemd, a container runtime) send to stop
//! a process.

/// Waits for SIGINT or SIGTERM (SIGINT alone where there is no SIGTERM).
pub async fn wait() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A stop flag that turns true on SIGINT or SIGTERM, logged as `target` shutting down. Call it
/// inside a tokio runtime.
pub fn stop_on_signal(target: &'static str) -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait().await;
        tracing::info!(target: "tao20", process = target, "shutting down");
        let _ = tx.send(true);
    });
    rx
}
