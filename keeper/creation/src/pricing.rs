//! The official price of a subnet's alpha (PROTOCOL.md, Creation step 4).
//!
//! The runtime's spot price at a block is the swap runtime API `current_alpha_price(netuid)`: TAO
//! per alpha scaled by 1e9 (rao per alpha), the pool's reserve ratio scaled by its balancer
//! weights. It becomes FP18 by an exact multiplication by 1e9. The official price at valuation
//! block `v` is the **floor of the mean** of the FP18 spot prices over the `W` blocks
//! `[v - W, v - 1]` (W = 240 by default, inside a pruned node's 256-block state window): the sum is
//! exact in `u128` and divided once, so the result does not depend on the order of the samples.

use serde::{Deserialize, Serialize};
use tao20_core::Fp18;

use crate::{Error, Result};

/// The default averaging window, in blocks.
pub const DEFAULT_PRICE_WINDOW: u64 = 240;

/// 1e9: the scale between the runtime's rao-per-alpha price and FP18.
const SPOT_TO_FP18: u128 = 1_000_000_000;

/// One sample of the runtime's spot price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpotSample {
    /// The block the price was read at.
    pub block: u64,
    /// `current_alpha_price(netuid)` at that block: rao of TAO per alpha (TAO per alpha x 1e9).
    #[serde(with = "crate::dec")]
    pub rao_per_alpha: u64,
}

/// The FP18 price of a spot reading: `rao_per_alpha x 1e9`, exact.
pub fn spot_to_fp18(rao_per_alpha: u64) -> Fp18 {
    Fp18::from_raw(u128::from(rao_per_alpha) * SPOT_TO_FP18)
}

/// The official price of `netuid` for valuation block `valuation_block`: the floor of the mean of
/// the FP18 spot prices over `[valuation_block - window, valuation_block - 1]`.
///
/// `samples` must hold exactly one sample for every block of that range, in any order; a missing,
/// repeated or out-of-range block is an error (a keeper never averages over a partial window, or
/// two keepers could disagree).
pub fn official_price(
    netuid: u16,
    valuation_block: u64,
    window: u64,
    samples: &[SpotSample],
) -> Result<Fp18> {
    if window == 0 {
        return Err(Error::InvalidParam {
            name: "priceWindow",
            reason: "must be at least one block".into(),
        });
    }
    let first = valuation_block
        .checked_sub(window)
        .ok_or_else(|| Error::PriceWindow {
            netuid,
            reason: format!(
                "valuation block {valuation_block} is earlier than the window {window}"
            ),
        })?;
    let len = usize::try_from(window).map_err(|_| Error::range("priceWindow", window, "usize"))?;
    if samples.len() != len {
        return Err(Error::PriceWindow {
            netuid,
            reason: format!(
                "{} samples given for the {window} blocks [{first}, {}]",
                samples.len(),
                valuation_block - 1
            ),
        });
    }
    let mut seen = vec![false; len];
    let mut sum: u128 = 0;
    for s in samples {
        let offset = s
            .block
            .checked_sub(first)
            .filter(|o| *o < window)
            .ok_or_else(|| Error::PriceWindow {
                netuid,
                reason: format!(
                    "sample at block {} is outside [{first}, {}]",
                    s.block,
                    valuation_block - 1
                ),
            })?;
        // offset < window == len, so the index is in range.
        let slot = seen
            .get_mut(usize::try_from(offset).unwrap_or(usize::MAX))
            .ok_or_else(|| Error::range("sample offset", offset, "usize"))?;
        if *slot {
            return Err(Error::PriceWindow {
                netuid,
                reason: format!("two samples for block {}", s.block),
            });
        }
        *slot = true;
        sum = sum
            .checked_add(spot_to_fp18(s.rao_per_alpha).raw())
            .ok_or_else(|| Error::range("sum of spot prices", "> u128::MAX", "u128"))?;
    }
    Ok(Fp18::from_raw(sum / u128::from(window)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(v: u64, prices: &[u64]) -> Vec<SpotSample> {
        let first = v - prices.len() as u64;
        prices
            .iter()
            .enumerate()
            .map(|(i, p)| SpotSample {
                block: first + i as u64,
                rao_per_alpha: *p,
            })
            .collect()
    }

    #[test]
    fn mean_is_floored_and_exact() {
        // (1 + 2 + 2) x 1e18 / 3 rao per alpha = 1.666..e18 -> floor 1666666666666666666.
        let s = window(100, &[1_000_000_000, 2_000_000_000, 2_000_000_000]);
        let p = official_price(1, 100, 3, &s).unwrap();
        assert_eq!(p.raw(), 1_666_666_666_666_666_666);
        let mut r = s.clone();
        r.reverse();
        assert_eq!(official_price(1, 100, 3, &r).unwrap(), p);
        assert_eq!(spot_to_fp18(1).raw(), 1_000_000_000);
    }

    #[test]
    fn rejects_partial_or_repeated_windows() {
        let s = window(100, &[1, 2, 3]);
        assert!(matches!(
            official_price(1, 100, 4, &s),
            Err(Error::PriceWindow { .. })
        ));
        let mut dup = s.clone();
        dup[0].block = dup[1].block;
        assert!(official_price(1, 100, 3, &dup).is_err());
        let mut late = s.clone();
        late[2].block = 100; // the valuation block itself is outside the window
        assert!(official_price(1, 100, 3, &late).is_err());
        assert!(official_price(1, 2, 3, &s).is_err());
        assert!(official_price(1, 100, 0, &[]).is_err());
    }
}
