//! What the creation miner sees each block: the fund's NAV per share as the keepers will value a
//! request made now, the TAO20 pool's price, and the subnet pools the basket is bought from.
//!
//! NAV uses the keeper's own library (`tao20_creation::nav`) with **official prices**: the floor
//! of the mean of the runtime's spot price over the `price_window` blocks before the valuation
//! block, computed as the keepers compute them (`tao20_creation::pricing::official_price`) from
//! spot prices the miner reads once per block and keeps. A request included at the next block is
//! valued at exactly these prices (NAV, and the basket's value that decides the shares), so the
//! premium is measured against what a creation will really be paid. The Alpha precompile's spot
//! price would lag nothing but would not be what the mint pays; it is used only where the
//! contract uses it (the dust rule of a redemption).

use std::collections::BTreeMap;

use alloy::primitives::U256;
use serde::Serialize;
use tao20_bevm::reader::FundSnapshot;
use tao20_bevm::Reader;
use tao20_chain::Subtensor;
use tao20_core::Fp18;
use tao20_creation::nav::{self, Nav, Price};
use tao20_creation::pricing::{official_price, SpotSample};

use crate::sizing::{PairReserves, SubnetPool};
use crate::Result;

/// Spot prices per netuid per block, the last `window` blocks.
#[derive(Debug, Clone, Default)]
pub struct PriceHistory {
    window: u64,
    samples: BTreeMap<u16, BTreeMap<u64, u64>>,
}

impl PriceHistory {
    /// A history for the official price window `window`.
    pub fn new(window: u64) -> Self {
        Self {
            window,
            samples: BTreeMap::new(),
        }
    }

    /// Reads every missing spot price of `netuids` in `[head + 1 - window, head]` (the window of a
    /// request valued at `head + 1`) and forgets older ones.
    pub async fn update<S: Subtensor>(
        &mut self,
        sub: &S,
        netuids: &[u16],
        head: u64,
    ) -> Result<()> {
        let from = (head + 1).saturating_sub(self.window);
        for &n in netuids {
            let known = self.samples.entry(n).or_default();
            for b in from..=head {
                if let std::collections::btree_map::Entry::Vacant(e) = known.entry(b) {
                    e.insert(sub.current_alpha_price(b, n).await?);
                }
            }
            *known = known.split_off(&from);
        }
        Ok(())
    }

    /// The latest spot price of `netuid` (rao per alpha).
    pub fn spot(&self, netuid: u16) -> Option<u64> {
        self.samples
            .get(&netuid)
            .and_then(|m| m.last_key_value())
            .map(|(_, p)| *p)
    }

    /// The lowest spot price of `netuid` in the window (rao per alpha).
    pub fn lowest(&self, netuid: u16) -> Option<u64> {
        self.samples
            .get(&netuid)
            .and_then(|m| m.values().min().copied())
    }

    /// The official price of `netuid` for valuation block `valuation_block`.
    pub fn official(&self, netuid: u16, valuation_block: u64) -> Result<Fp18> {
        let from = valuation_block.saturating_sub(self.window);
        let samples: Vec<SpotSample> = self
            .samples
            .get(&netuid)
            .map(|m| {
                m.range(from..valuation_block)
                    .map(|(b, p)| SpotSample {
                        block: *b,
                        rao_per_alpha: *p,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(official_price(
            netuid,
            valuation_block,
            self.window,
            &samples,
        )?)
    }
}

/// One block's view.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// The block (both chains).
    pub block: u64,
    /// NAV for a request valued at `block + 1`.
    pub nav: Nav,
    /// Official prices at `block + 1` of every netuid of the fund and the creation file.
    pub prices: Vec<Price>,
    /// The TAO20/WTAO pair.
    pub pair: PairReserves,
    /// The pair's price of a share, rao.
    pub pool_price_rao: U256,
    /// `(pool price - NAV) / NAV`, basis points.
    pub premium_bps: i128,
    /// Subnet pools by netuid (spot at `block`).
    pub pools: BTreeMap<u16, SubnetPool>,
    /// The fund at `block`.
    #[serde(skip)]
    pub fund: FundSnapshot,
}

/// `(price - nav) x 10 000 / nav`, rounded toward zero.
pub fn premium_bps(price: U256, nav: U256) -> i128 {
    if nav.is_zero() {
        return 0;
    }
    let (diff, negative) = if price >= nav {
        (price - nav, false)
    } else {
        (nav - price, true)
    };
    let bps = diff * U256::from(10_000u32) / nav;
    let bps = i128::try_from(bps).unwrap_or(i128::MAX);
    if negative {
        -bps
    } else {
        bps
    }
}

/// Reads everything the decision needs at `block`.
pub async fn observe<S: Subtensor>(
    sub: &S,
    reader: &Reader,
    history: &mut PriceHistory,
    pair: alloy::primitives::Address,
    block: u64,
) -> Result<Observation> {
    let fund = reader.fund(block).await?;
    let mut netuids: Vec<u16> = fund.positions.iter().map(|p| p.netuid).collect();
    if let Some(file) = &fund.creation_file {
        netuids.extend(file.assets.iter().map(|a| a.netuid));
    }
    netuids.sort_unstable();
    netuids.dedup();
    history.update(sub, &netuids, block).await?;
    let mut prices = Vec::with_capacity(netuids.len());
    let mut pools = BTreeMap::new();
    for &n in &netuids {
        prices.push(Price {
            netuid: n,
            price: history.official(n, block + 1)?.raw(),
        });
        let pool = sub.swap_pool(block, n).await?;
        pools.insert(n, SubnetPool::from_chain(&pool));
    }
    let nav = nav::nav(&fund.fund_state(), &prices, block + 1)?;
    let pair_reserves =
        crate::market::reserves(reader.provider(), pair, reader.address(), block).await?;
    let pool_price_rao = pair_reserves.price_rao();
    Ok(Observation {
        block,
        premium_bps: premium_bps(pool_price_rao, nav.nav_per_share),
        nav,
        prices,
        pair: pair_reserves,
        pool_price_rao,
        pools,
        fund,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premium_is_signed_basis_points() {
        let n = |x: u64| U256::from(x);
        assert_eq!(premium_bps(n(1_010), n(1_000)), 100);
        assert_eq!(premium_bps(n(990), n(1_000)), -100);
        assert_eq!(premium_bps(n(1_000), n(0)), 0);
    }
}
