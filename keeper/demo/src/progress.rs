//! Visible progress: one redrawn status line (block, epoch, what just happened) on a terminal,
//! plain lines otherwise (CI logs, pipes).

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// The progress display.
#[derive(Debug)]
pub struct Progress {
    tty: bool,
    started: Instant,
    target_block: u64,
    last: String,
}

impl Progress {
    /// Progress towards `target_block`, drawn on stderr.
    pub fn new(target_block: u64) -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            target_block,
            last: String::new(),
        }
    }

    /// Moves the target (the run is over when the expectations are met, not at a fixed block).
    pub fn set_target(&mut self, block: u64) {
        self.target_block = block;
    }

    /// Reports an event at `block` (creation epoch `epoch`).
    pub fn event(&mut self, block: u64, epoch: u64, what: &str) {
        self.last = what.to_string();
        let secs = self.started.elapsed().as_secs();
        if self.tty {
            eprint!("\r\x1b[2K");
            eprintln!("[{secs:>4}s] block {block:>5} epoch {epoch}: {what}");
            self.tick(block, epoch);
        } else {
            eprintln!("[{secs:>4}s] block {block:>5} epoch {epoch}: {what}");
        }
    }

    /// Redraws the bar at `block` (only on a terminal).
    pub fn tick(&mut self, block: u64, epoch: u64) {
        if !self.tty {
            return;
        }
        let width = 30u64;
        let done = (block.min(self.target_block) * width)
            .checked_div(self.target_block)
            .unwrap_or(0);
        let bar: String = (0..width)
            .map(|i| if i < done { '#' } else { '.' })
            .collect();
        eprint!(
            "\r\x1b[2K[{bar}] block {block}/{} epoch {epoch} | {}",
            self.target_block, self.last
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the bar's line.
    pub fn finish(&mut self) {
        if self.tty {
            eprintln!();
        }
    }
}
