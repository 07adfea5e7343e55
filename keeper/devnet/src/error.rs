//! Errors of the devnet.

use std::path::Path;

/// Errors of the devnet.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Building the devnet failed.
    #[error("devnet: {0}")]
    Setup(String),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A process it started died.
    #[error("{name} (pid {pid}) exited; last lines of {log}:\n{tail}")]
    Died {
        /// The process.
        name: String,
        /// Its pid.
        pid: u32,
        /// Its log file.
        log: String,
        /// The log's last lines.
        tail: String,
    },
    /// The directory holds a devnet that is still running.
    #[error(
        "{dir} holds a running devnet (pids {pids}): run `tao20 devnet down --dir {dir}` first"
    )]
    Live {
        /// The directory.
        dir: String,
        /// Its live processes.
        pids: String,
    },
    /// Subtensor (the simulator) refused or failed.
    #[error(transparent)]
    Chain(#[from] tao20_chain::Error),
    /// BEVM (anvil) refused or failed.
    #[error(transparent)]
    Bevm(#[from] tao20_bevm::Error),
    /// A pure core refused an input.
    #[error(transparent)]
    Creation(#[from] tao20_creation::Error),
}

impl Error {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}

/// The devnet's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
