//! From the chain's commitments to the auction's bid rows, and from failed deliveries to the ban
//! bitmap a validator publishes.

use std::collections::BTreeSet;

use crate::commitment::{BanBitmap, BidPolicy, Commitment};
use crate::solve::BidRow;
use crate::Error;

/// One hotkey's commitment as read from the Commitments pallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedCommitment {
    /// The miner.
    pub hotkey: String,
    /// The whole payload.
    pub payload: Vec<u8>,
    /// The block the commitment was made at.
    pub block: u64,
}

/// Why a posted commitment contributed no bids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// The payload does not decode.
    Invalid(Error),
    /// It is a price commitment, not a bid.
    NotABid,
    /// It is stale, or a v1 bid after the v2-only switch.
    NotAccepted,
    /// The hotkey is banned by consensus.
    Banned,
}

/// The bid rows of a window starting at `window_start`: every decodable, fresh, accepted bid
/// of a hotkey not in `banned`, plus the reason each other commitment was skipped.
pub fn collect_bids(
    posted: &[PostedCommitment],
    window_start: u64,
    policy: &BidPolicy,
    banned: &BTreeSet<String>,
) -> (Vec<BidRow>, Vec<(String, Skipped)>) {
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for p in posted {
        let bid = match Commitment::decode(&p.payload) {
            Err(e) => {
                skipped.push((p.hotkey.clone(), Skipped::Invalid(e)));
                continue;
            }
            Ok(Commitment::Price(_)) => {
                skipped.push((p.hotkey.clone(), Skipped::NotABid));
                continue;
            }
            Ok(Commitment::Bid(bid)) => bid,
        };
        if banned.contains(&p.hotkey) {
            skipped.push((p.hotkey.clone(), Skipped::Banned));
        } else if !policy.accepts(&bid, window_start, p.block) {
            skipped.push((p.hotkey.clone(), Skipped::NotAccepted));
        } else {
            rows.extend(bid.lines().into_iter().map(|l| BidRow {
                hotkey: p.hotkey.clone(),
                hashrate: l.hashrate,
                price: l.price,
                count: u64::from(l.count),
            }));
        }
    }
    (rows, skipped)
}

/// The bitmap of the uids banned at or after `now_block - lookback_blocks` (3600 blocks = 12
/// hours at 12 s), for the validator's price commitment.
pub fn recent_ban_bitmap(bans: &[(u8, u64)], now_block: u64, lookback_blocks: u64) -> BanBitmap {
    let since = now_block.saturating_sub(lookback_blocks);
    BanBitmap::from_uids(
        bans.iter()
            .filter(|&&(_, at)| at >= since && at <= now_block)
            .map(|&(uid, _)| uid),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tao20_core::Fp18;

    fn posted(hotkey: &str, payload: &str, block: u64) -> PostedCommitment {
        PostedCommitment {
            hotkey: hotkey.into(),
            payload: payload.as_bytes().to_vec(),
            block,
        }
    }

    #[test]
    fn collects_fresh_accepted_unbanned_bids() {
        let policy = BidPolicy {
            v2_only_from_block: Some(5000),
            ..BidPolicy::default()
        };
        let all = [
            posted("a", "2;b;BTC,1=0.1:3", 4990),
            posted("b", "1;b;1=0.4", 4990),
            posted("c", "2;b;BTC,1=0.1:1", 4000),
            posted("d", "2;b;BTC,1=0.1:1", 4990),
            posted("e", "1;p;cap=1", 4990),
            posted("f", "2;b;ETH,1=0.1:1", 4990),
        ];
        let banned = BTreeSet::from(["d".to_owned()]);
        let (rows, skipped) = collect_bids(&all, 5000, &policy, &banned);
        assert_eq!(
            rows,
            vec![BidRow {
                hotkey: "a".into(),
                hashrate: Fp18::parse("0.1").unwrap(),
                price: Fp18::ONE,
                count: 3
            }]
        );
        let reasons: Vec<(&str, bool)> = skipped
            .iter()
            .map(|(h, s)| (h.as_str(), matches!(s, Skipped::Invalid(_))))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("b", false),
                ("c", false),
                ("d", false),
                ("e", false),
                ("f", true)
            ]
        );
        assert_eq!(skipped[2].1, Skipped::Banned);
        assert_eq!(skipped[1].1, Skipped::NotAccepted);
    }

    #[test]
    fn ban_bitmap_keeps_the_last_12_hours() {
        let bans = [(1u8, 100u64), (2, 3700), (3, 5000), (4, 9000)];
        let bitmap = recent_ban_bitmap(&bans, 7300, 3600);
        assert_eq!(bitmap.uids(), vec![2, 3]);
    }
}
