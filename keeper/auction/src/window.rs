//! Validation windows: six per subnet epoch, placed on the blocks where the chain actually ran the
//! subnet's epochs (subtensor's stateful tempo model, spec 423 and later), so every honest
//! validator that reads the same finalized chain gets the same windows.
//!
//! Let `E` be the block an epoch runs at, `P` the one before and `N` the one after, and
//! `a(P, E) = min(E, max(E - 60, P + 240))` the first block of `E`'s window 0. The windows of
//! epoch `E` tile `[a(P, E), a(E, N) - 1]`:
//! - window 0: `[a(P, E), E - 1]`, the 60 blocks before the epoch runs;
//! - windows 1-4: `[E + 60(k - 1), E + 60k - 1]`, cut at `a(E, N) - 1`;
//! - window 5: `[E + 240, a(E, N) - 1]`, the rest (60 blocks at tempo 360, more at a longer tempo
//!   or when the next epoch is deferred or re-anchored later).
//!
//! An early next epoch (an owner's `trigger_epoch`) never takes blocks from windows 1-4 unless it
//! runs inside them: window 0 of `N` starts no earlier than `E + 240`, and when `N <= E + 240` it
//! is empty and the window holding `N - 1` ends there. Windows left without blocks do not exist
//! (they would have no budget). So windows 1-4 of the current epoch are final once their last
//! block is finalized with no epoch before it; window 5 of an epoch and window 0 of the next are
//! final once the next epoch's block is finalized ([`final_windows`]).
//!
//! [`Schedule`] predicts windows from one schedule state (tempo, `LastEpochBlock`,
//! `PendingEpochAt`) for operators and for scheduling work ahead; only [`final_windows`] may be
//! settled.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Blocks per validation window (window 5 absorbs the remainder).
pub const WINDOW_BLOCKS: u64 = 60;
/// Validation windows per subnet epoch.
pub const WINDOWS_PER_EPOCH: u8 = 6;
/// Window 5 starts this many blocks after its epoch runs (after windows 1-4).
const WINDOW_5_OFFSET: u64 = 4 * WINDOW_BLOCKS;

/// One validation window (never empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    /// The block the window's subnet epoch runs at (for window 0 it is after the window).
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
        self.end.saturating_sub(self.start).saturating_add(1)
    }
}

/// The first block of window 0 of the epoch at `epoch`, the one before having run at `previous`.
pub fn window_0_start(previous: u64, epoch: u64) -> u64 {
    epoch.min(
        epoch
            .saturating_sub(WINDOW_BLOCKS)
            .max(previous.saturating_add(WINDOW_5_OFFSET)),
    )
}

/// The non-empty windows of the epoch at `epoch` whose window 0 starts at `start` and whose
/// successor's window 0 starts at `next_start`, or (`None`) whose successor is not known: then
/// only window 0 and windows 1-4 up to `through`, uncut, are returned.
fn epoch_windows(start: u64, epoch: u64, next_start: Option<u64>, through: u64) -> Vec<Window> {
    let mut out = Vec::with_capacity(usize::from(WINDOWS_PER_EPOCH));
    let window = |index: u8, start: u64, end: u64| Window {
        subnet_epoch_start: epoch,
        index,
        start,
        end,
    };
    if start < epoch {
        out.push(window(0, start, epoch - 1));
    }
    for k in 1..WINDOWS_PER_EPOCH {
        let first = epoch.saturating_add(WINDOW_BLOCKS.saturating_mul(u64::from(k - 1)));
        let natural = if k == WINDOWS_PER_EPOCH - 1 {
            None
        } else {
            Some(first.saturating_add(WINDOW_BLOCKS))
        };
        let limit = match (natural, next_start) {
            (Some(n), Some(next)) => n.min(next),
            (None, Some(next)) => next,
            (Some(n), None) if n <= through.saturating_add(1) => n,
            _ => break,
        };
        if first < limit {
            out.push(window(k, first, limit - 1));
        }
    }
    out
}

fn check_history(epoch_blocks: &[u64], finalized: u64) -> Result<()> {
    if let Some(w) = epoch_blocks.windows(2).find(|w| w[0] >= w[1]) {
        return Err(Error::invalid(
            "epoch_blocks",
            format!("not strictly increasing at {} then {}", w[0], w[1]),
        ));
    }
    match epoch_blocks.last() {
        Some(last) if *last > finalized => Err(Error::invalid(
            "epoch_blocks",
            format!("epoch at {last} is after the finalized block {finalized}"),
        )),
        _ => Ok(()),
    }
}

/// Every window whose bounds are certain from the finalized chain, ascending.
///
/// `epoch_blocks` lists every block at which the subnet's epoch ran (its `SubnetEpochIndex` rose
/// over the previous block; `LastEpochBlock` then equals the block), ascending, complete from its
/// first entry up to `finalized`. The windows of an epoch need the epoch before it, so the first
/// entry only anchors. Windows of an epoch whose successor is listed are final; of the last
/// listed epoch, window 0 and each of windows 1-4 whose last block is at most `finalized` (no
/// epoch ran before it, so no later epoch can cut it). Window 5 of the last epoch is never final:
/// its end waits for the next epoch's block. Every validator with the same finalized chain gets the
/// same list, and a window once final keeps its bounds at every later finalized block.
pub fn final_windows(epoch_blocks: &[u64], finalized: u64) -> Result<Vec<Window>> {
    check_history(epoch_blocks, finalized)?;
    let mut out = Vec::new();
    for (i, pair) in epoch_blocks.windows(2).enumerate() {
        let (previous, epoch) = (pair[0], pair[1]);
        let next_start = epoch_blocks
            .get(i + 2)
            .map(|next| window_0_start(epoch, *next));
        out.extend(epoch_windows(
            window_0_start(previous, epoch),
            epoch,
            next_start,
            finalized,
        ));
    }
    Ok(out)
}

/// The final windows ([`final_windows`]) with no stored result (their start not in `processed`),
/// ascending: what a validator settles next, or catches up on after a restart.
pub fn pending_windows(
    epoch_blocks: &[u64],
    finalized: u64,
    processed: &BTreeSet<u64>,
) -> Result<Vec<Window>> {
    Ok(final_windows(epoch_blocks, finalized)?
        .into_iter()
        .filter(|w| !processed.contains(&w.start))
        .collect())
}

/// Whether the epoch that ran at `epoch` is settled: its successor is in `epoch_blocks` (so all
/// its windows are final) and every one of its windows has a stored result. The condition for
/// setting weights for that epoch.
pub fn epoch_settled(
    epoch_blocks: &[u64],
    finalized: u64,
    epoch: u64,
    processed: &BTreeSet<u64>,
) -> Result<bool> {
    check_history(epoch_blocks, finalized)?;
    let Some(i) = epoch_blocks.iter().position(|b| *b == epoch) else {
        return Err(Error::invalid(
            "epoch",
            format!("{epoch} is not in epoch_blocks"),
        ));
    };
    let (Some(previous), Some(next)) = (
        i.checked_sub(1).and_then(|p| epoch_blocks.get(p)),
        epoch_blocks.get(i + 1),
    ) else {
        return Ok(false);
    };
    Ok(epoch_windows(
        window_0_start(*previous, epoch),
        epoch,
        Some(window_0_start(epoch, *next)),
        finalized,
    )
    .iter()
    .all(|w| processed.contains(&w.start)))
}

/// A prediction from one schedule state: the epoch at `last_epoch_block`, the next at
/// `get_next_epoch_start_block` (the pending epoch if it comes first), then one every `tempo`
/// blocks, with no deferral, no re-anchoring and no further trigger. The epoch before
/// `last_epoch_block` is taken to be at least 300 blocks earlier (its window 0 is uncut). After a
/// `set_tempo`, `LastEpochBlock` is the re-anchoring block, not an epoch; pass the last epoch's
/// block instead if the window before it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// `Tempo` (at least 1).
    pub tempo: u64,
    /// `LastEpochBlock`.
    pub last_epoch_block: u64,
    /// `PendingEpochAt` (0: none).
    pub pending_epoch_at: u64,
}

impl Schedule {
    /// A schedule; errors at tempo 0 (the subnet runs no epochs).
    pub fn new(tempo: u64, last_epoch_block: u64, pending_epoch_at: u64) -> Result<Self> {
        if tempo == 0 {
            return Err(Error::invalid("tempo", "0: the subnet runs no epochs"));
        }
        Ok(Self {
            tempo,
            last_epoch_block,
            pending_epoch_at,
        })
    }

    /// The block the next epoch runs at: the first block after `last_epoch_block` at which it
    /// is due (`LastEpochBlock + tempo`, or `PendingEpochAt` if that comes first).
    pub fn next_epoch_block(&self) -> u64 {
        let auto = self.last_epoch_block.saturating_add(self.tempo);
        let due = if self.pending_epoch_at > 0 {
            auto.min(self.pending_epoch_at)
        } else {
            auto
        };
        due.max(self.last_epoch_block.saturating_add(1))
    }

    /// The predicted block of epoch `k` (0: `last_epoch_block`).
    fn epoch(&self, k: u64) -> u64 {
        match k {
            0 => self.last_epoch_block,
            k => self
                .next_epoch_block()
                .saturating_add(self.tempo.saturating_mul(k - 1)),
        }
    }

    /// The first block of window 0 of predicted epoch `k`.
    fn start(&self, k: u64) -> u64 {
        match k {
            0 => self.last_epoch_block.saturating_sub(WINDOW_BLOCKS),
            k => window_0_start(self.epoch(k - 1), self.epoch(k)),
        }
    }

    /// The predicted window holding `block`; errors when `block` precedes window 0 of the epoch
    /// at `last_epoch_block`.
    pub fn window_at(&self, block: u64) -> Result<Window> {
        if block < self.start(0) {
            return Err(Error::invalid(
                "block",
                format!(
                    "{block} precedes window 0 of the epoch at {} (it starts at {})",
                    self.last_epoch_block,
                    self.start(0)
                ),
            ));
        }
        // From epoch 2 on, window-0 starts are exactly `tempo` apart.
        let k = if block >= self.start(2) {
            2 + (block - self.start(2)) / self.tempo
        } else if block >= self.start(1) {
            1
        } else {
            0
        };
        epoch_windows(
            self.start(k),
            self.epoch(k),
            Some(self.start(k + 1)),
            u64::MAX,
        )
        .into_iter()
        .find(|w| w.start <= block && block <= w.end)
        .ok_or_else(|| Error::invalid("block", format!("{block}: no window holds it")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bounds(ws: &[Window]) -> Vec<(u64, u8, u64, u64)> {
        ws.iter()
            .map(|w| (w.subnet_epoch_start, w.index, w.start, w.end))
            .collect()
    }

    #[test]
    fn six_windows_of_sixty_blocks_at_tempo_360() {
        let ws = final_windows(&[640, 1000, 1360], 2000).unwrap();
        assert_eq!(
            bounds(&ws)[..6],
            [
                (1000, 0, 940, 999),
                (1000, 1, 1000, 1059),
                (1000, 2, 1060, 1119),
                (1000, 3, 1120, 1179),
                (1000, 4, 1180, 1239),
                (1000, 5, 1240, 1299),
            ]
        );
        assert!(ws[..6].iter().all(|w| w.blocks() == 60));
        // Then the epoch at 1360: its window 0 right after window 5, windows 1-4 (finalized),
        // never its window 5.
        assert_eq!((ws[6].index, ws[6].start, ws[6].end), (0, 1300, 1359));
        assert_eq!(ws.len(), 11);
        assert_eq!(
            ws[10],
            Window {
                subnet_epoch_start: 1360,
                index: 4,
                start: 1540,
                end: 1599
            }
        );
    }

    #[test]
    fn a_longer_tempo_or_a_deferral_lengthens_window_5() {
        let ws = final_windows(&[0, 1000, 1500], 1500).unwrap();
        let w5 = ws
            .iter()
            .find(|w| w.subnet_epoch_start == 1000 && w.index == 5)
            .unwrap();
        assert_eq!((w5.start, w5.end), (1240, 1439));
        // Deferred by 2 blocks (the per-block cap): window 5 gets them, window 0 moves with E.
        let ws = final_windows(&[640, 1000, 1362], 1362).unwrap();
        let w5 = ws.iter().find(|w| w.index == 5).unwrap();
        assert_eq!((w5.start, w5.end), (1240, 1301));
        let w0 = ws.iter().find(|w| w.subnet_epoch_start == 1362).unwrap();
        assert_eq!((w0.index, w0.start, w0.end), (0, 1302, 1361));
    }

    #[test]
    fn a_triggered_epoch_cuts_the_windows_it_runs_in() {
        // A trigger makes the next epoch run at 1270: its window 0 starts at max(1210, 1240) =
        // 1240, so windows 1-4 keep their blocks and window 5 has none.
        let ws = final_windows(&[640, 1000, 1270], 1270).unwrap();
        let of_1000: Vec<u8> = ws
            .iter()
            .filter(|w| w.subnet_epoch_start == 1000)
            .map(|w| w.index)
            .collect();
        assert_eq!(of_1000, vec![0, 1, 2, 3, 4]);
        let w0 = ws.iter().find(|w| w.subnet_epoch_start == 1270).unwrap();
        assert_eq!((w0.start, w0.end), (1240, 1269));
        // Running at 1100, inside window 2: window 2 ends at 1099; 3, 4, 5 and the next window 0
        // have no blocks.
        let ws = final_windows(&[640, 1000, 1100], 1100).unwrap();
        let of_1000: Vec<(u8, u64, u64)> = ws
            .iter()
            .filter(|w| w.subnet_epoch_start == 1000)
            .map(|w| (w.index, w.start, w.end))
            .collect();
        assert_eq!(
            of_1000,
            vec![(0, 940, 999), (1, 1000, 1059), (2, 1060, 1099)]
        );
        assert!(!ws
            .iter()
            .any(|w| w.subnet_epoch_start == 1100 && w.index == 0));
    }

    #[test]
    fn windows_become_final_as_the_chain_finalizes() {
        // Last epoch at 1000: at 1058 only window 0 is final; at 1059 window 1 too.
        let at = |f| bounds(&final_windows(&[640, 1000], f).unwrap());
        assert_eq!(at(1058), vec![(1000, 0, 940, 999)]);
        assert_eq!(at(1059).len(), 2);
        assert_eq!(
            at(1299).len(),
            5,
            "windows 0-4, never window 5 before the next epoch"
        );
        assert_eq!(at(5000).len(), 5);
        assert!(final_windows(&[1000, 640], 2000).is_err());
        assert!(final_windows(&[640, 1000], 999).is_err());
        assert!(final_windows(&[], 10).unwrap().is_empty());
    }

    #[test]
    fn pending_windows_skip_processed_and_epoch_settled_waits_for_the_next_epoch() {
        let history = [640, 1000, 1360];
        let mut processed = BTreeSet::new();
        let all = pending_windows(&history, 1400, &processed).unwrap();
        assert_eq!(all.first().map(|w| w.start), Some(940));
        processed.extend([940, 1000, 1120]);
        let starts: Vec<u64> = pending_windows(&history, 1400, &processed)
            .unwrap()
            .iter()
            .map(|w| w.start)
            .collect();
        // Window 1 of the epoch at 1360 ends at 1419, after the finalized block.
        assert_eq!(starts, vec![1060, 1180, 1240, 1300]);
        assert!(!epoch_settled(&history, 1400, 1000, &processed).unwrap());
        processed.extend([1060, 1180, 1240]);
        assert!(epoch_settled(&history, 1400, 1000, &processed).unwrap());
        // The last epoch is never settled (its window 5 is open), the first has no window 0.
        assert!(!epoch_settled(&history, 1400, 1360, &processed).unwrap());
        assert!(!epoch_settled(&history, 1400, 640, &processed).unwrap());
        assert!(epoch_settled(&history, 1400, 999, &processed).is_err());
    }

    #[test]
    fn the_prediction_follows_the_schedule_state() {
        let s = Schedule::new(360, 1000, 0).unwrap();
        assert_eq!(s.next_epoch_block(), 1360);
        let w = s.window_at(1300).unwrap();
        assert_eq!(
            (w.subnet_epoch_start, w.index, w.start, w.end),
            (1360, 0, 1300, 1359)
        );
        let w = s.window_at(1299).unwrap();
        assert_eq!(
            (w.subnet_epoch_start, w.index, w.start, w.end),
            (1000, 5, 1240, 1299)
        );
        let w = s.window_at(940).unwrap();
        assert_eq!((w.subnet_epoch_start, w.index), (1000, 0));
        assert!(s.window_at(939).is_err());
        // Far ahead: epochs every 360 blocks.
        let w = s.window_at(1000 + 360 * 1000 + 5).unwrap();
        assert_eq!((w.subnet_epoch_start, w.index), (1000 + 360 * 1000, 1));
        // A pending epoch first, then the cycle from it.
        let p = Schedule::new(360, 1000, 1100).unwrap();
        assert_eq!(p.next_epoch_block(), 1100);
        let w = p.window_at(1099).unwrap();
        assert_eq!(
            (w.subnet_epoch_start, w.index, w.start, w.end),
            (1000, 2, 1060, 1099)
        );
        let w = p.window_at(1459).unwrap();
        assert_eq!(
            (w.subnet_epoch_start, w.index, w.start, w.end),
            (1460, 0, 1400, 1459)
        );
        assert!(Schedule::new(0, 1000, 0).is_err());
    }

    /// A random run of epoch blocks: regular gaps, deferrals, triggers and re-anchorings.
    fn arb_history() -> impl Strategy<Value = Vec<u64>> {
        (
            0u64..5_000,
            prop::collection::vec(
                prop_oneof![
                    4 => Just(360u64),
                    2 => 360u64..365,
                    2 => 11u64..360,
                    1 => 1u64..11,
                    2 => 361u64..3_000,
                ],
                2..30,
            ),
        )
            .prop_map(|(first, gaps)| {
                let mut out = vec![first];
                for g in gaps {
                    let next = out.last().copied().unwrap_or(0) + g;
                    out.push(next);
                }
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn windows_tile_the_chain_without_gaps_or_overlaps(history in arb_history()) {
            let last = *history.last().unwrap();
            let ws: Vec<Window> = final_windows(&history, last)
                .unwrap()
                .into_iter()
                .filter(|w| w.subnet_epoch_start < last)
                .collect();
            // From window 0 of the second epoch to the block before window 0 of the last.
            let first = window_0_start(history[0], history[1]);
            let end = window_0_start(history[history.len() - 2], last);
            let mut cursor = first;
            for w in &ws {
                prop_assert_eq!(w.start, cursor, "{:?}", w);
                prop_assert!(w.start <= w.end);
                if w.index < 5 {
                    prop_assert!(w.blocks() <= WINDOW_BLOCKS);
                }
                if w.index == 0 {
                    prop_assert_eq!(w.end + 1, w.subnet_epoch_start);
                } else {
                    prop_assert!(w.start >= w.subnet_epoch_start);
                }
                cursor = w.end + 1;
            }
            prop_assert_eq!(cursor, end);
        }

        #[test]
        fn a_final_window_keeps_its_bounds_at_every_later_finalized_block(history in arb_history(), cut in 0usize..30, extra in 0u64..400) {
            let full = final_windows(&history, *history.last().unwrap()).unwrap();
            let n = (cut % history.len()).max(1);
            let known = &history[..n];
            let finalized = (known[n - 1] + extra).min(history.get(n).map_or(u64::MAX, |b| b - 1));
            for w in final_windows(known, finalized).unwrap() {
                prop_assert!(w.end <= finalized);
                prop_assert!(full.contains(&w) || w.subnet_epoch_start == *history.last().unwrap(), "{:?} changed", w);
            }
        }

        #[test]
        fn the_prediction_matches_the_windows_of_the_predicted_epochs(tempo in 1u64..2_000, last in 1_000u64..100_000, pending in prop_oneof![Just(0u64), 1u64..3_000], offset in 0u64..20_000) {
            let s = Schedule::new(tempo, last, if pending > 0 { last + pending } else { 0 }).unwrap();
            let mut epochs = vec![last.saturating_sub(100_000), last, s.next_epoch_block()];
            while *epochs.last().unwrap() < last + offset + 2 * tempo + 400 {
                let next = epochs.last().unwrap() + tempo;
                epochs.push(next);
            }
            let block = last + offset;
            let w = s.window_at(block).unwrap();
            let expected = final_windows(&epochs, *epochs.last().unwrap())
                .unwrap()
                .into_iter()
                .find(|x| x.start <= block && block <= x.end)
                .unwrap();
            prop_assert_eq!(w, expected);
        }
    }
}
