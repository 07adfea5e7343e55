//! The index methodology (PROTOCOL.md, "Epochs, index and creation file"), every parameter
//! configurable through [`IndexParams`].
//!
//! 1. **Eligibility**: `netuid != 0`, trading, transfers enabled, and a market cap of at least one
//!    rao (a subnet without price or alpha has no weight to give).
//! 2. **Ranking** by market cap `value(alphaOutstanding) = floor(alpha x price / 1e18)` rao,
//!    descending, ties by netuid ascending; the first `topN` (20) are selected.
//! 3. **Capped weights**: weights proportional to market cap, capped at `capBps` (1500) with
//!    iterative redistribution: every subnet whose proportional share of the remaining budget
//!    exceeds the cap is pinned at the cap and the rest is shared again among the others, until
//!    none exceeds it (pinning all offenders at once gives the same result as one at a time,
//!    because pinning only raises the others' shares). When fewer than `smallSetThreshold` (7)
//!    subnets are selected the cap is lifted to `max(capBps, ceil(10 000 / n))`.
//! 4. **Basis points** sum to exactly 10 000: capped subnets get the cap, the others
//!    `floor(budget x cap_i / sumCaps)` plus one point each, in order of largest remainder (ties
//!    by netuid ascending), until the budget is spent; a subnet never rises above the cap this way
//!    (only subnets with a non-zero remainder receive a point).
//! 5. **Quantities**: `unitValue = floor(sharesPerUnit x navPerShare / 1e18)` rao and
//!    `qtyPerUnit(n) = floor(unitValue x weightBps(n) x 1e18 / (10 000 x price(n)))` rao of alpha.
//! 6. **Minimum value**: a subnet whose `qtyPerUnit x minUnits` is worth less than
//!    `minValueMultiple x minStakeRao` (10 x the runtime's minimum stake) is dropped and the
//!    weights are recomputed from step 3 over the remaining subnets. Failing subnets are dropped
//!    one at a time, the lowest-ranked first, because each drop raises the others' weights and may
//!    lift them over the line.
//! 7. At most `topN <= 64` assets; the creation file lists them sorted by netuid.
//!
//! The input is sorted by netuid first (duplicates rejected), so the output is the same for any
//! permutation of the subnets.

use alloy_primitives::{B256, U256};
use serde::{Deserialize, Serialize};
use tao20_core::math::mul_div;
use tao20_core::Rounding;

use crate::eip712::{creation_file_hash, Asset, CreationFile};
use crate::nav::ONE_SHARE;
use crate::{Error, Result, BPS};

/// The protocol's ceiling on the number of assets in a creation file.
pub const MAX_ASSETS: u16 = 64;
/// The default epoch length: 100 800 blocks (14 days).
pub const DEFAULT_EPOCH_LENGTH: u64 = 100_800;

fn default_top_n() -> u16 {
    20
}
fn default_cap_bps() -> u16 {
    1500
}
fn default_small_set_threshold() -> u16 {
    7
}
fn default_shares_per_unit() -> U256 {
    U256::from(1000u64) * U256::from(ONE_SHARE)
}
fn default_min_units() -> u32 {
    1
}
fn default_tolerance_bps() -> u16 {
    10
}
fn default_min_stake_rao() -> u64 {
    2_000_000
}
fn default_min_value_multiple() -> u64 {
    10
}

/// Every parameter of the methodology; each field defaults to the protocol's value when absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexParams {
    /// How many subnets the index holds at most (20; at most 64).
    #[serde(default = "default_top_n", with = "crate::dec")]
    pub top_n: u16,
    /// The weight cap, basis points (1500).
    #[serde(default = "default_cap_bps", with = "crate::dec")]
    pub cap_bps: u16,
    /// Below this many subnets the cap is lifted to `ceil(10 000 / n)` (7).
    #[serde(default = "default_small_set_threshold", with = "crate::dec")]
    pub small_set_threshold: u16,
    /// Shares per creation unit, 18 decimals (1000e18).
    #[serde(default = "default_shares_per_unit", with = "crate::dec")]
    pub shares_per_unit: U256,
    /// Smallest request, in units (1).
    #[serde(default = "default_min_units", with = "crate::dec")]
    pub min_units: u32,
    /// Delivery tolerance written into the creation file, basis points (10).
    #[serde(default = "default_tolerance_bps", with = "crate::dec")]
    pub tolerance_bps: u16,
    /// The runtime's minimum stake (`DefaultMinStake`), rao (2 000 000 = 0.002 TAO).
    #[serde(default = "default_min_stake_rao", with = "crate::dec")]
    pub min_stake_rao: u64,
    /// An asset's `qtyPerUnit x minUnits` must be worth this many minimum stakes (10).
    #[serde(default = "default_min_value_multiple", with = "crate::dec")]
    pub min_value_multiple: u64,
}

impl Default for IndexParams {
    fn default() -> Self {
        Self {
            top_n: default_top_n(),
            cap_bps: default_cap_bps(),
            small_set_threshold: default_small_set_threshold(),
            shares_per_unit: default_shares_per_unit(),
            min_units: default_min_units(),
            tolerance_bps: default_tolerance_bps(),
            min_stake_rao: default_min_stake_rao(),
            min_value_multiple: default_min_value_multiple(),
        }
    }
}

impl IndexParams {
    /// Rejects parameters under which the methodology is undefined.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, reason: String| Err(Error::InvalidParam { name, reason });
        if self.top_n == 0 || self.top_n > MAX_ASSETS {
            return bad("topN", format!("{} is not in 1..={MAX_ASSETS}", self.top_n));
        }
        if self.cap_bps == 0 || u32::from(self.cap_bps) > BPS {
            return bad("capBps", format!("{} is not in 1..=10000", self.cap_bps));
        }
        if self.small_set_threshold == 0
            || u32::from(self.small_set_threshold) * u32::from(self.cap_bps) < BPS
        {
            return bad(
                "smallSetThreshold",
                format!(
                    "{} x capBps {} must reach 10000, or a full set could not be weighted",
                    self.small_set_threshold, self.cap_bps
                ),
            );
        }
        if self.shares_per_unit.is_zero() {
            return bad("sharesPerUnit", "must be positive".into());
        }
        if self.min_units == 0 {
            return bad("minUnits", "must be at least 1".into());
        }
        if u32::from(self.tolerance_bps) > BPS {
            return bad(
                "toleranceBps",
                format!("{} exceeds 10000", self.tolerance_bps),
            );
        }
        Ok(())
    }
}

/// One subnet's state at the boundary block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubnetSnapshot {
    /// The subnet.
    #[serde(with = "crate::dec")]
    pub netuid: u16,
    /// Official price, FP18 TAO per alpha, raw (see [`crate::pricing`]).
    #[serde(with = "crate::dec")]
    pub price: u128,
    /// Alpha outstanding, rao.
    #[serde(with = "crate::dec")]
    pub alpha_outstanding: u128,
    /// Whether the subnet's pool is trading (subtoken enabled).
    pub trading: bool,
    /// Whether its owner allows stake transfers.
    pub transfers_enabled: bool,
}

/// Why a subnet is not in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "reason")]
pub enum Exclusion {
    /// netuid 0 (the root network) is never eligible.
    RootNetwork,
    /// The pool is not trading.
    NotTrading,
    /// Transfers are disabled by the subnet owner.
    TransfersDisabled,
    /// Price or alpha outstanding is zero, so the market cap is zero.
    ZeroMarketCap,
    /// Ranked below the top `topN`.
    BelowTopN {
        /// The subnet's rank (1 = largest market cap).
        rank: u16,
    },
    /// Dropped by the minimum-value rule.
    #[serde(rename_all = "camelCase")]
    MinimumValue {
        /// What `qtyPerUnit x minUnits` was worth, rao, when it was dropped.
        #[serde(with = "crate::dec")]
        value_rao: U256,
    },
}

/// A subnet left out of the index, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Excluded {
    /// The subnet.
    pub netuid: u16,
    /// Why.
    #[serde(flatten)]
    pub why: Exclusion,
}

/// One asset of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexAsset {
    /// The subnet.
    pub netuid: u16,
    /// Rank by market cap, 1-based.
    pub rank: u16,
    /// Market cap, rao.
    #[serde(with = "crate::dec")]
    pub market_cap_rao: U256,
    /// Official price, FP18 raw.
    #[serde(with = "crate::dec")]
    pub price: u128,
    /// Weight, basis points.
    pub weight_bps: u16,
    /// Rao of alpha per creation unit.
    #[serde(with = "crate::dec")]
    pub qty_per_unit: u64,
}

/// The index at a boundary block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// The cap applied, basis points (lifted for small sets).
    pub cap_bps: u16,
    /// `floor(sharesPerUnit x navPerShare / 1e18)` rao.
    #[serde(with = "crate::dec")]
    pub unit_value_rao: U256,
    /// The assets, sorted by netuid; weights sum to 10 000.
    pub assets: Vec<IndexAsset>,
    /// Subnets left out, sorted by netuid.
    pub excluded: Vec<Excluded>,
}

#[derive(Debug, Clone, Copy)]
struct Ranked {
    netuid: u16,
    rank: u16,
    cap: U256,
    price: u128,
}

/// The cap for a set of `n` subnets: `capBps`, lifted to `ceil(10 000 / n)` below the threshold.
pub fn effective_cap(params: &IndexParams, n: usize) -> u16 {
    let n32 = u32::try_from(n).unwrap_or(u32::MAX).max(1);
    if n < usize::from(params.small_set_threshold) {
        let lifted = u16::try_from(BPS.div_ceil(n32)).unwrap_or(u16::MAX);
        params.cap_bps.max(lifted)
    } else {
        params.cap_bps
    }
}

/// Capped proportional basis points of `caps` (market caps, all positive) under `cap` bps;
/// `netuids` break remainder ties. The result sums to exactly 10 000.
pub fn capped_bps(netuids: &[u16], caps: &[U256], cap: u16) -> Result<Vec<u16>> {
    let n = caps.len();
    if n == 0 || netuids.len() != n {
        return Err(Error::EmptyIndex("no subnet to weight".into()));
    }
    if u64::from(cap) * (n as u64) < u64::from(BPS) {
        return Err(Error::InvalidParam {
            name: "capBps",
            reason: format!("{n} subnets capped at {cap} cannot reach 10000"),
        });
    }
    let cap_u = U256::from(cap);
    let mut pinned = vec![false; n];
    let (budget, total) = loop {
        let pinned_count = pinned.iter().filter(|p| **p).count() as u64;
        // Pinning only happens where c x budget > cap x total, so the pinned caps stay below the
        // budget they came from; checked all the same.
        let budget = u64::from(BPS)
            .checked_sub(pinned_count * u64::from(cap))
            .ok_or_else(|| {
                Error::range("pinned weight", pinned_count * u64::from(cap), "10000 bps")
            })?;
        let total = caps
            .iter()
            .zip(&pinned)
            .filter(|(_, p)| !**p)
            .fold(U256::ZERO, |acc, (c, _)| acc.saturating_add(*c));
        let b = U256::from(budget);
        let mut changed = false;
        for (c, p) in caps.iter().zip(pinned.iter_mut()) {
            // c x budget / total > cap, compared exactly.
            if !*p && c.saturating_mul(b) > cap_u.saturating_mul(total) {
                *p = true;
                changed = true;
            }
        }
        if !changed {
            break (budget, total);
        }
    };
    let mut bps = vec![0u16; n];
    let mut remainders = Vec::new();
    let mut spent = 0u64;
    for i in 0..n {
        if pinned[i] {
            bps[i] = cap;
            continue;
        }
        if total.is_zero() {
            return Err(Error::EmptyIndex("market caps sum to zero".into()));
        }
        let num = caps[i] * U256::from(budget);
        let (q, r) = num.div_rem(total);
        let q = u16::try_from(q).map_err(|_| Error::range("weight", q, "uint16"))?;
        bps[i] = q;
        spent += u64::from(q);
        remainders.push((r, netuids[i], i));
    }
    // Largest remainder first, ties by netuid ascending.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let leftover = budget.saturating_sub(spent);
    for &(_, _, i) in remainders
        .iter()
        .take(usize::try_from(leftover).unwrap_or(0))
    {
        bps[i] += 1;
    }
    Ok(bps)
}

fn sorted_unique(subnets: &[SubnetSnapshot]) -> Result<Vec<SubnetSnapshot>> {
    let mut s = subnets.to_vec();
    s.sort_by_key(|x| x.netuid);
    for w in s.windows(2) {
        if let [a, b] = w {
            if a.netuid == b.netuid {
                return Err(Error::DuplicateNetuid {
                    netuid: a.netuid,
                    list: "subnets",
                });
            }
        }
    }
    Ok(s)
}

/// `floor(sharesPerUnit x navPerShare / 1e18)` rao.
pub fn unit_value(shares_per_unit: U256, nav_per_share: U256) -> Result<U256> {
    Ok(mul_div(
        shares_per_unit,
        nav_per_share,
        U256::from(ONE_SHARE),
        Rounding::Floor,
    )?)
}

/// `floor(unitValue x weightBps x 1e18 / (10 000 x price))` rao of alpha, as a `uint64`.
pub fn qty_per_unit(
    netuid: u16,
    unit_value_rao: U256,
    weight_bps: u16,
    price: u128,
) -> Result<u64> {
    if price == 0 {
        return Err(Error::MissingPrice { netuid });
    }
    let scaled = unit_value_rao
        .checked_mul(U256::from(weight_bps))
        .ok_or_else(|| Error::range("unitValue x weightBps", unit_value_rao, "uint256"))?;
    let q = mul_div(
        scaled,
        U256::from(ONE_SHARE),
        U256::from(BPS) * U256::from(price),
        Rounding::Floor,
    )?;
    u64::try_from(q)
        .map_err(|_| Error::range(format!("qtyPerUnit of netuid {netuid}"), q, "uint64"))
}

/// Computes the index from the subnets' state at the boundary block and the fund's NAV per share.
pub fn compute_index(
    params: &IndexParams,
    nav_per_share: U256,
    subnets: &[SubnetSnapshot],
) -> Result<Index> {
    params.validate()?;
    if nav_per_share.is_zero() {
        return Err(Error::InvalidParam {
            name: "navPerShare",
            reason: "must be positive".into(),
        });
    }
    let subnets = sorted_unique(subnets)?;
    let mut excluded = Vec::new();
    let mut eligible = Vec::new();
    for s in &subnets {
        let cap = crate::nav::position_value(
            U256::from(s.alpha_outstanding),
            tao20_core::Fp18::from_raw(s.price),
        )?;
        let why = if s.netuid == 0 {
            Some(Exclusion::RootNetwork)
        } else if !s.trading {
            Some(Exclusion::NotTrading)
        } else if !s.transfers_enabled {
            Some(Exclusion::TransfersDisabled)
        } else if cap.is_zero() {
            Some(Exclusion::ZeroMarketCap)
        } else {
            None
        };
        match why {
            Some(why) => excluded.push(Excluded {
                netuid: s.netuid,
                why,
            }),
            None => eligible.push(Ranked {
                netuid: s.netuid,
                rank: 0,
                cap,
                price: s.price,
            }),
        }
    }
    eligible.sort_by(|a, b| b.cap.cmp(&a.cap).then(a.netuid.cmp(&b.netuid)));
    for (i, r) in eligible.iter_mut().enumerate() {
        r.rank = u16::try_from(i + 1).unwrap_or(u16::MAX);
    }
    let top = usize::from(params.top_n);
    for r in eligible.iter().skip(top) {
        excluded.push(Excluded {
            netuid: r.netuid,
            why: Exclusion::BelowTopN { rank: r.rank },
        });
    }
    let mut selected: Vec<Ranked> = eligible.into_iter().take(top).collect();
    let unit_value_rao = unit_value(params.shares_per_unit, nav_per_share)?;
    let floor_value = U256::from(params.min_value_multiple) * U256::from(params.min_stake_rao);
    loop {
        if selected.is_empty() {
            return Err(Error::EmptyIndex(
                "every eligible subnet failed the minimum-value rule or none is eligible".into(),
            ));
        }
        let cap = effective_cap(params, selected.len());
        let netuids: Vec<u16> = selected.iter().map(|r| r.netuid).collect();
        let caps: Vec<U256> = selected.iter().map(|r| r.cap).collect();
        let bps = capped_bps(&netuids, &caps, cap)?;
        let mut assets = Vec::with_capacity(selected.len());
        let mut worst: Option<(usize, U256)> = None;
        for (i, (r, w)) in selected.iter().zip(&bps).enumerate() {
            let qty = qty_per_unit(r.netuid, unit_value_rao, *w, r.price)?;
            let min_basket = U256::from(qty) * U256::from(params.min_units);
            let worth =
                crate::nav::position_value(min_basket, tao20_core::Fp18::from_raw(r.price))?;
            if worth < floor_value {
                // `selected` is in rank order, so the last failure is the lowest-ranked one.
                worst = Some((i, worth));
            }
            assets.push(IndexAsset {
                netuid: r.netuid,
                rank: r.rank,
                market_cap_rao: r.cap,
                price: r.price,
                weight_bps: *w,
                qty_per_unit: qty,
            });
        }
        match worst {
            Some((i, value_rao)) => {
                let r = selected.remove(i);
                excluded.push(Excluded {
                    netuid: r.netuid,
                    why: Exclusion::MinimumValue { value_rao },
                });
            }
            None => {
                assets.sort_by_key(|a| a.netuid);
                excluded.sort_by_key(|e| e.netuid);
                return Ok(Index {
                    cap_bps: cap,
                    unit_value_rao,
                    assets,
                    excluded,
                });
            }
        }
    }
}

/// Where an epoch lies: epoch `e` covers `[genesis + e x length, genesis + (e + 1) x length - 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Epoch {
    /// The epoch id.
    #[serde(with = "crate::dec")]
    pub epoch_id: u64,
    /// The protocol's genesis block.
    #[serde(with = "crate::dec")]
    pub genesis_block: u64,
    /// Epoch length, blocks (100 800).
    #[serde(with = "crate::dec")]
    pub epoch_length: u64,
}

impl Epoch {
    /// First block of the epoch (the boundary block the index is computed at).
    pub fn start(&self) -> Result<u64> {
        self.epoch_id
            .checked_mul(self.epoch_length)
            .and_then(|x| x.checked_add(self.genesis_block))
            .ok_or_else(|| Error::range("epoch start", self.epoch_id, "uint64"))
    }

    /// Last block of the epoch, inclusive.
    pub fn end(&self) -> Result<u64> {
        if self.epoch_length == 0 {
            return Err(Error::InvalidParam {
                name: "epochLength",
                reason: "must be positive".into(),
            });
        }
        self.start()?
            .checked_add(self.epoch_length - 1)
            .ok_or_else(|| Error::range("epoch end", self.epoch_id, "uint64"))
    }
}

/// The epoch a block belongs to (`None` before genesis).
pub fn epoch_of(block: u64, genesis_block: u64, epoch_length: u64) -> Option<u64> {
    block
        .checked_sub(genesis_block)
        .and_then(|d| d.checked_div(epoch_length))
}

/// The creation file of `epoch` for a computed index.
pub fn creation_file(
    epoch: &Epoch,
    params: &IndexParams,
    index: &Index,
    signer_set_version: u64,
) -> Result<CreationFile> {
    Ok(CreationFile {
        epoch_id: epoch.epoch_id,
        valid_from_block: epoch.start()?,
        valid_until_block: epoch.end()?,
        shares_per_unit: params.shares_per_unit,
        tolerance_bps: params.tolerance_bps,
        min_units: params.min_units,
        assets: index
            .assets
            .iter()
            .map(|a| Asset {
                netuid: a.netuid,
                qty_per_unit: a.qty_per_unit,
                weight_bps: a.weight_bps,
            })
            .collect(),
        signer_set_version,
    })
}

/// The input of `tao20 index compute`: everything a keeper reads at the boundary block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexInput {
    /// Which epoch the file is for.
    pub epoch: Epoch,
    /// Methodology parameters (absent fields take the protocol defaults).
    #[serde(default)]
    pub params: IndexParams,
    /// NAV per share at the boundary block, rao per whole share.
    #[serde(with = "crate::dec")]
    pub nav_per_share: U256,
    /// The signer set version the file is signed under.
    #[serde(with = "crate::dec")]
    pub signer_set_version: u64,
    /// Every subnet at the boundary block.
    pub subnets: Vec<SubnetSnapshot>,
}

/// The index, its creation file and the file's struct hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexOutput {
    /// The index.
    pub index: Index,
    /// The creation file.
    pub creation_file: CreationFile,
    /// `hashStruct(creationFile)`, the `creationFileHash` of creation reports.
    pub creation_file_hash: B256,
}

/// Computes the index and the creation file for an [`IndexInput`].
pub fn compute(input: &IndexInput) -> Result<IndexOutput> {
    let index = compute_index(&input.params, input.nav_per_share, &input.subnets)?;
    let creation_file = creation_file(
        &input.epoch,
        &input.params,
        &index,
        input.signer_set_version,
    )?;
    Ok(IndexOutput {
        creation_file_hash: creation_file_hash(&creation_file),
        index,
        creation_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAO: u128 = 1_000_000_000;

    fn subnet(netuid: u16, price_tao: u128, alpha_tao: u128) -> SubnetSnapshot {
        SubnetSnapshot {
            netuid,
            price: price_tao * ONE_SHARE,
            alpha_outstanding: alpha_tao * TAO,
            trading: true,
            transfers_enabled: true,
        }
    }

    fn weights(index: &Index) -> Vec<(u16, u16)> {
        index
            .assets
            .iter()
            .map(|a| (a.netuid, a.weight_bps))
            .collect()
    }

    #[test]
    fn caps_and_redistributes() {
        // Caps 50, 20, 10, 5, 5, 5, 5: 50 and 20 are over 15 %; the rest share 7000 by cap.
        let caps = [50u128, 20, 10, 5, 5, 5, 5];
        let subnets: Vec<_> = caps
            .iter()
            .enumerate()
            .map(|(i, c)| subnet(u16::try_from(i).unwrap() + 1, 1, c * 1_000_000))
            .collect();
        let idx = compute_index(&IndexParams::default(), U256::from(TAO), &subnets).unwrap();
        assert_eq!(idx.cap_bps, 1500);
        // 10/35 x 7000 = 2000 > 1500 -> capped too; then 4 x 5 share 5500: 1375 each.
        assert_eq!(
            weights(&idx),
            vec![
                (1, 1500),
                (2, 1500),
                (3, 1500),
                (4, 1375),
                (5, 1375),
                (6, 1375),
                (7, 1375)
            ]
        );
    }

    #[test]
    fn small_sets_lift_the_cap_and_remainders_go_by_netuid() {
        let subnets = vec![
            subnet(9, 1, 1_000_000),
            subnet(4, 1, 1_000_000),
            subnet(6, 1, 1_000_000),
        ];
        let idx = compute_index(&IndexParams::default(), U256::from(TAO), &subnets).unwrap();
        assert_eq!(idx.cap_bps, 3334);
        assert_eq!(weights(&idx), vec![(4, 3334), (6, 3333), (9, 3333)]);
    }

    #[test]
    fn eligibility_and_top_n() {
        let mut subnets: Vec<_> = (1..=25u16)
            .map(|n| subnet(n, 1, 1_000_000 + u128::from(n)))
            .collect();
        subnets.push(subnet(0, 1, 9_000_000));
        subnets[0].trading = false;
        subnets[1].transfers_enabled = false;
        subnets[2].price = 0;
        let idx = compute_index(&IndexParams::default(), U256::from(TAO), &subnets).unwrap();
        assert_eq!(idx.assets.len(), 20);
        assert_eq!(idx.assets.first().unwrap().netuid, 6);
        assert_eq!(
            idx.assets
                .iter()
                .map(|a| u32::from(a.weight_bps))
                .sum::<u32>(),
            10_000
        );
        let why = |n: u16| idx.excluded.iter().find(|e| e.netuid == n).unwrap().why;
        assert_eq!(why(0), Exclusion::RootNetwork);
        assert_eq!(why(1), Exclusion::NotTrading);
        assert_eq!(why(2), Exclusion::TransfersDisabled);
        assert_eq!(why(3), Exclusion::ZeroMarketCap);
        assert_eq!(why(5), Exclusion::BelowTopN { rank: 21 });
    }

    #[test]
    fn minimum_value_drops_the_lowest_ranked_and_redistributes() {
        // A tiny NAV makes the smallest subnet's slice of a unit worth less than 0.02 TAO.
        let mut subnets: Vec<_> = (1..=8u16).map(|n| subnet(n, 1, 1_000_000)).collect();
        subnets.push(subnet(9, 1, 1));
        let nav = U256::from(TAO / 4); // unit value 250 TAO
        let idx = compute_index(&IndexParams::default(), nav, &subnets).unwrap();
        assert!(idx.assets.iter().all(|a| a.netuid != 9));
        assert!(matches!(
            idx.excluded.iter().find(|e| e.netuid == 9).unwrap().why,
            Exclusion::MinimumValue { .. }
        ));
        assert_eq!(
            idx.assets
                .iter()
                .map(|a| u32::from(a.weight_bps))
                .sum::<u32>(),
            10_000
        );
        assert_eq!(idx.unit_value_rao, U256::from(250 * TAO));
        // 1250 bps of 250 TAO at 1 TAO/alpha = 31.25 alpha.
        assert_eq!(idx.assets[0].qty_per_unit, 31_250_000_000);
    }

    #[test]
    fn rejects_bad_input() {
        let s = vec![subnet(1, 1, 1), subnet(1, 2, 2)];
        assert!(matches!(
            compute_index(&IndexParams::default(), U256::from(TAO), &s),
            Err(Error::DuplicateNetuid { netuid: 1, .. })
        ));
        let p = IndexParams {
            top_n: 65,
            ..IndexParams::default()
        };
        assert!(compute_index(&p, U256::from(TAO), &[]).is_err());
        assert!(matches!(
            compute_index(&IndexParams::default(), U256::from(TAO), &[subnet(0, 1, 1)]),
            Err(Error::EmptyIndex(_))
        ));
        // An absurd unit value is an error, not an overflow.
        let p = IndexParams {
            shares_per_unit: U256::MAX,
            ..IndexParams::default()
        };
        assert!(compute_index(&p, U256::from(ONE_SHARE), &[subnet(1, 1, 1)]).is_err());
    }

    #[test]
    fn epochs_are_inclusive_ranges() {
        let e = Epoch {
            epoch_id: 2,
            genesis_block: 1000,
            epoch_length: 100,
        };
        assert_eq!((e.start().unwrap(), e.end().unwrap()), (1200, 1299));
        assert_eq!(epoch_of(1299, 1000, 100), Some(2));
        assert_eq!(epoch_of(1300, 1000, 100), Some(3));
        assert_eq!(epoch_of(999, 1000, 100), None);
    }
}
