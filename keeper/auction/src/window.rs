//! Subnet epochs and the six validation windows of each.
//!
//! With tempo `T` a subnet epoch starts at every block `E` with `(E + netuid + 1) % (T + 1) == T`,
//! so epochs are `T + 1` blocks apart. Validation windows start one window before `E`: windows
//! `k = 0..4` are `[E - 60 + 60k, E - 60 + 60k + 59]` and window 5 is `[E + 240, E + T - 60]`, so
//! with `T = 360` window 5 has 61 blocks, and the windows of consecutive epochs tile the chain.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::{Error, Result};

/// Blocks per validation window (window 5 absorbs the remainder).
pub const WINDOW_BLOCKS: u64 = 60;
/// Validation windows per subnet epoch.
pub const WINDOWS_PER_EPOCH: u8 = 6;

/// One validation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Window {
    /// Start block of the subnet epoch the window belongs to (for window 0 it is after the window).
    pub subnet_epoch_start: u64,
    /// Window index within the epoch, 0..=5.
    pub index: u8,
    /// First block of the window.
    pub start: u64,
    /// Last block of the window (inclusive).
    pub end: u64,
}

impl Window {
    /// Number of blocks in the window.
    pub fn blocks(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// The subnet's schedule: its netuid and tempo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The subnet.
    pub netuid: u16,
    /// Tempo `T`; at least 300 so that window 5 is not empty.
    pub tempo: u64,
}

impl Schedule {
    /// A schedule; errors when the tempo leaves no room for window 5 (`T < 300`).
    pub fn new(netuid: u16, tempo: u64) -> Result<Self> {
        if tempo < 5 * WINDOW_BLOCKS {
            return Err(Error::invalid(
                "tempo",
                format!(
                    "{tempo} is below {}: window 5 would be empty",
                    5 * WINDOW_BLOCKS
                ),
            ));
        }
        Ok(Self { netuid, tempo })
    }

    /// The start `E <= block` of the subnet epoch containing `block`; errors when the chain is too
    /// young for that epoch to have started.
    pub fn epoch_start(&self, block: u64) -> Result<u64> {
        let period = self.tempo + 1;
        let rem = (u128::from(block) + u128::from(self.netuid) + 1) % u128::from(period);
        // rem < period <= u64::MAX, so the conversion cannot fail.
        let rem = u64::try_from(rem).unwrap_or(0);
        if rem == self.tempo {
            return Ok(block);
        }
        block
            .checked_sub(rem + 1)
            .ok_or_else(|| Error::invalid("block", format!("{block} precedes the first epoch")))
    }

    /// Window `index` (0..=5) of the epoch starting at `epoch_start`.
    pub fn window(&self, epoch_start: u64, index: u8) -> Result<Window> {
        let bad = || Error::invalid("window", format!("epoch {epoch_start} window {index}"));
        if index >= WINDOWS_PER_EPOCH {
            return Err(bad());
        }
        let first = epoch_start.checked_sub(WINDOW_BLOCKS).ok_or_else(bad)?;
        let start = first + WINDOW_BLOCKS * u64::from(index);
        let end = if index == WINDOWS_PER_EPOCH - 1 {
            epoch_start
                .checked_add(self.tempo - WINDOW_BLOCKS)
                .ok_or_else(bad)?
        } else {
            start + WINDOW_BLOCKS - 1
        };
        Ok(Window {
            subnet_epoch_start: epoch_start,
            index,
            start,
            end,
        })
    }

    /// The six windows of the epoch starting at `epoch_start`.
    pub fn windows(&self, epoch_start: u64) -> Result<Vec<Window>> {
        (0..WINDOWS_PER_EPOCH)
            .map(|k| self.window(epoch_start, k))
            .collect()
    }

    /// The window that contains `block`.
    pub fn window_at(&self, block: u64) -> Result<Window> {
        let e = self.epoch_start(block)?;
        let offset = block - e;
        // The last 60 blocks of an epoch are window 0 of the next one.
        if offset > self.tempo - WINDOW_BLOCKS {
            return self.window(e + self.tempo + 1, 0);
        }
        let index = (offset / WINDOW_BLOCKS + 1).min(u64::from(WINDOWS_PER_EPOCH - 1));
        self.window(e, u8::try_from(index).unwrap_or(WINDOWS_PER_EPOCH - 1))
    }

    /// Every window that has ended before `block` (its end < `block`), belongs to one of the last
    /// `epochs_back` epochs before the current window's epoch or to the current epoch, and has no
    /// stored result (its start is not in `processed`), ascending: what a restarted validator must
    /// catch up on.
    pub fn pending_windows(
        &self,
        block: u64,
        epochs_back: u64,
        processed: &BTreeSet<u64>,
    ) -> Result<Vec<Window>> {
        let current = self.window_at(block)?;
        let period = self.tempo + 1;
        let mut out = Vec::new();
        for back in (0..=epochs_back).rev() {
            let Some(e) = current
                .subnet_epoch_start
                .checked_sub(back.saturating_mul(period))
            else {
                continue;
            };
            let Ok(windows) = self.windows(e) else {
                continue;
            };
            out.extend(
                windows
                    .into_iter()
                    .filter(|w| w.end < block && !processed.contains(&w.start)),
            );
        }
        Ok(out)
    }

    /// Whether every window of the epoch starting at `epoch_start` has a stored result: the
    /// condition for setting weights for that epoch.
    pub fn epoch_settled(&self, epoch_start: u64, processed: &BTreeSet<u64>) -> Result<bool> {
        Ok(self
            .windows(epoch_start)?
            .iter()
            .all(|w| processed.contains(&w.start)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn epoch_start_follows_the_formula() {
        let s = Schedule::new(0, 360).unwrap();
        // (E + 1) % 361 == 360 -> E = 359, 720, 1081, ...
        assert_eq!(s.epoch_start(359).unwrap(), 359);
        assert_eq!(s.epoch_start(360).unwrap(), 359);
        assert_eq!(s.epoch_start(719).unwrap(), 359);
        assert_eq!(s.epoch_start(720).unwrap(), 720);
        assert!(s.epoch_start(100).is_err());
    }

    #[test]
    fn six_windows_tile_the_epoch() {
        let s = Schedule::new(0, 360).unwrap();
        let w = s.windows(720).unwrap();
        assert_eq!((w[0].start, w[0].end), (660, 719));
        assert_eq!((w[1].start, w[1].end), (720, 779));
        assert_eq!((w[4].start, w[4].end), (900, 959));
        assert_eq!((w[5].start, w[5].end), (960, 1020));
        assert_eq!(w[5].blocks(), 61);
        // The next epoch starts at 1081, its window 0 right after window 5.
        assert_eq!(s.window(1081, 0).unwrap().start, 1021);
    }

    #[test]
    fn window_at_maps_blocks_to_their_window() {
        let s = Schedule::new(0, 360).unwrap();
        let w = s.window_at(1021).unwrap();
        assert_eq!(
            (w.subnet_epoch_start, w.index, w.start, w.end),
            (1081, 0, 1021, 1080)
        );
        let w = s.window_at(1020).unwrap();
        assert_eq!((w.subnet_epoch_start, w.index), (720, 5));
        let w = s.window_at(720).unwrap();
        assert_eq!((w.index, w.start), (1, 720));
        let w = s.window_at(719).unwrap();
        assert_eq!((w.subnet_epoch_start, w.index), (720, 0));
    }

    #[test]
    fn general_tempo_window_five_ends_at_t_minus_60() {
        let s = Schedule::new(0, 400).unwrap();
        let e = s.epoch_start(10_000).unwrap();
        let w5 = s.window(e, 5).unwrap();
        assert_eq!((w5.start, w5.end), (e + 240, e + 340));
        assert!(Schedule::new(0, 299).is_err());
        let short = Schedule::new(0, 300).unwrap();
        assert_eq!(short.window(1000, 5).unwrap().blocks(), 1);
    }

    #[test]
    fn pending_windows_skip_processed_and_unfinished() {
        let s = Schedule::new(0, 360).unwrap();
        // Block 1030: window 0 of epoch 1081 is running; epoch 720's windows are all finished.
        let mut processed = BTreeSet::new();
        let pending = s.pending_windows(1030, 2, &processed).unwrap();
        let starts: Vec<u64> = pending.iter().map(|w| w.start).collect();
        assert_eq!(
            starts,
            vec![299, 359, 419, 479, 539, 599, 660, 720, 780, 840, 900, 960]
        );
        processed.extend([660, 720, 840]);
        let pending = s.pending_windows(1030, 1, &processed).unwrap();
        let starts: Vec<u64> = pending.iter().map(|w| w.start).collect();
        assert_eq!(starts, vec![780, 900, 960]);
        assert!(!s.epoch_settled(720, &processed).unwrap());
        processed.extend([780, 900, 960]);
        assert!(s.epoch_settled(720, &processed).unwrap());
    }

    proptest! {
        #[test]
        fn every_block_is_in_its_window(netuid in 0u16..100, tempo in 300u64..1000, block in 5_000u64..10_000_000) {
            let s = Schedule::new(netuid, tempo).unwrap();
            let w = s.window_at(block).unwrap();
            prop_assert!(w.start <= block && block <= w.end);
            prop_assert_eq!(s.window(w.subnet_epoch_start, w.index).unwrap(), w);
            if w.index == 0 {
                prop_assert!(w.subnet_epoch_start > block);
            }
            // The next block is in the same window or the next one, which starts right after.
            let n = s.window_at(w.end + 1).unwrap();
            prop_assert_eq!(n.start, w.end + 1);
        }
    }
}
