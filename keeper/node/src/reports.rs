//! The pure rules about reports the keeper shares with its peers: the signer-set version a
//! message carries and OCR2's transmission order and turns. The reports and their signatures are
//! stored by [`crate::store::reports`], the outbox by [`crate::store::outbox`].

use alloy_primitives::{keccak256, Address, B256};
use tao20_creation::eip712::Eip712Message;

/// The signer-set version a message carries.
pub fn version_of(message: &Eip712Message) -> u64 {
    match message {
        Eip712Message::CreationFile(f) => f.signer_set_version,
        Eip712Message::CreationReport(r) => r.signer_set_version,
        Eip712Message::RefundReport(r) => r.signer_set_version,
        Eip712Message::Sweep(s) => s.signer_set_version,
        Eip712Message::Asset(_) | Eip712Message::Position(_) => 0,
    }
}

/// OCR2's transmission order: the signers sorted by `keccak256(digest ‖ signer)`. Every keeper
/// computes the same order, so the first in it transmits first and the others only if it has
/// not done so `stage` blocks later.
pub fn transmission_rank(digest: &B256, signers: &[Address], me: &Address) -> Option<usize> {
    let mut order: Vec<(B256, Address)> = signers
        .iter()
        .map(|s| {
            let mut buf = [0u8; 52];
            buf[..32].copy_from_slice(digest.as_slice());
            buf[32..].copy_from_slice(s.as_slice());
            (keccak256(buf), *s)
        })
        .collect();
    order.sort();
    order.iter().position(|(_, s)| s == me)
}

/// The first block at or after `now` inside the transmission turn of `rank` among `slots`, each
/// turn `stage` blocks long and the first starting at `anchor` (the block the report was decided
/// at, which every keeper shares): turns repeat every `slots x stage` blocks, so at most one
/// keeper's turn is open at any block whatever moment each keeper saw the quorum, and a keeper
/// that is down only costs its own turn.
///
/// A keeper starts no send in the last [`turn_guard`] blocks of its turn: keepers see the head a
/// little apart and a send takes a few round trips, and a send begun at the very end of one turn
/// would race the next keeper's simulation, which cannot see it in the pool yet.
pub fn turn_start(anchor: u64, rank: usize, slots: usize, stage: u64, now: u64) -> u64 {
    let stage = stage.max(1);
    let open = stage - turn_guard(stage);
    let slots = u64::try_from(slots.max(1)).unwrap_or(u64::MAX);
    let rank = u64::try_from(rank).unwrap_or(u64::MAX) % slots;
    let period = slots.saturating_mul(stage);
    let first = anchor.saturating_add(rank.saturating_mul(stage));
    if now <= first {
        return first;
    }
    let start = first.saturating_add((now - first) / period * period);
    if now < start.saturating_add(open) {
        now
    } else {
        start.saturating_add(period)
    }
}

/// The blocks at the end of a `stage`-block turn in which no send starts: a quarter of the turn
/// (none for turns shorter than 4 blocks, whose blocks are long enough by themselves).
pub fn turn_guard(stage: u64) -> u64 {
    stage.max(1) / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_turn_is_open_at_every_block_and_each_keeper_waits_for_its_own() {
        let (anchor, slots, stage) = (1_000u64, 5usize, 4u64);
        for now in anchor..anchor + 3 * 5 * 4 {
            let open: Vec<usize> = (0..slots)
                .filter(|&r| turn_start(anchor, r, slots, stage, now) == now)
                .collect();
            let in_turn = (now - anchor) % stage;
            if in_turn >= stage - turn_guard(stage) {
                assert!(open.is_empty(), "block {now} ends a turn: open {open:?}");
                continue;
            }
            assert_eq!(open.len(), 1, "block {now}: turns open {open:?}");
            assert_eq!(
                open[0],
                usize::try_from((now - anchor) / stage).unwrap() % slots
            );
            for r in 0..slots {
                let t = turn_start(anchor, r, slots, stage, now);
                assert!(t >= now && t < now + 5 * 4, "rank {r} at {now}: {t}");
                assert_eq!((t - anchor) / stage % 5, u64::try_from(r).unwrap());
            }
        }
        // Before the anchor, each waits for its first turn.
        assert_eq!(turn_start(anchor, 3, slots, stage, 0), anchor + 12);
    }

    #[test]
    fn every_signer_gets_a_distinct_rank_and_the_order_depends_on_the_digest() {
        let signers: Vec<Address> = (1..=5u8).map(Address::repeat_byte).collect();
        let ranks = |d: B256| -> Vec<usize> {
            signers
                .iter()
                .map(|s| transmission_rank(&d, &signers, s).unwrap())
                .collect()
        };
        let a = ranks(B256::repeat_byte(1));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        // Some digest puts a different signer first (the load spreads over the set).
        let firsts: std::collections::BTreeSet<usize> = (0..32u8)
            .map(|i| {
                let r = ranks(B256::repeat_byte(i));
                r.iter().position(|x| *x == 0).unwrap()
            })
            .collect();
        assert!(firsts.len() > 1, "{firsts:?}");
        assert_eq!(
            transmission_rank(&B256::ZERO, &signers, &Address::repeat_byte(9)),
            None
        );
    }
}
