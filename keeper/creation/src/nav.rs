//! Share maths: the same integers the contract computes (PROTOCOL.md "Units", "Creation" step 4-5,
//! "Redemption", "Fees").
//!
//! Rounding, each named where it happens:
//! - `value(amount) = floor(amount x price / 1e18)` rao: a delivery is never over-valued.
//! - management fee `floor(S x bps x blocks / (10 000 x 2 629 800))` shares.
//! - `navPerShare = ceil(V x 1e18 / S)` rao per share, 1e9 when `S == 0` (rounded up for the fund;
//!   PROTOCOL.md says floor, see docs/protocol-deviations.md).
//! - `gross = floor(valueRao x 1e18 / navPerShare)`, `fee = ceil(gross x mintFeeBps / 10 000)`,
//!   `sharesOut = gross - fee`: the depositor never receives more than `valueRao` at `navPerShare`.
//! - redemption `fee = ceil(shares x redeemFeeBps / 10 000)`, `burned = shares - fee`,
//!   `amount_i = floor(stake_i x burned / S)`: a holder never takes more than its share; native TAO
//!   is paid in whole rao (`floor(.. / 1e9) x 1e9` wei), the only amounts the runtime moves.
//! - `V` counts each fund position net of the claims booked against it (`getStake - reserved`,
//!   saturating at zero), plus the fund's native TAO in whole rao: booked claims are the redeemers'.
//! - dust: an amount worth less than the runtime's minimum stake at the Alpha precompile's price
//!   (`amount x price < minStake x 1e18`; the price is wei per alpha, i.e. FP18) is never moved.
//!
//! Known edge (PROTOCOL.md's own choice, documented): `navPerShare` is floored, so the depositor's
//! shares are computed against a NAV up to 1 rao per share below the exact one, a relative
//! advantage below `1 / navPerShare` (about 1e-9 at 1 TAO per share), which any mint fee of at
//! least one share-wei exceeds only for small deliveries; see the crate README.

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};
use tao20_core::math::mul_div;
use tao20_core::{Fp18, Rounding};

use crate::{Error, Result, BPS};

/// Blocks per year in the management-fee formula (365.25 days of 7200 blocks).
pub const BLOCKS_PER_YEAR: u64 = 2_629_800;
/// NAV per share of an empty fund: 1 TAO (1e9 rao) per share.
pub const INITIAL_NAV_PER_SHARE: u64 = 1_000_000_000;
/// 1e18, one whole share.
pub const ONE_SHARE: u128 = 1_000_000_000_000_000_000;
/// Shares the first mint ever locks at the dead address (1e15), taken from the miner's shares.
pub const DEAD_SHARES: u128 = 1_000_000_000_000_000;
/// Largest mint or redeem fee, basis points.
pub const MAX_TRADE_FEE_BPS: u16 = 100;
/// Largest management fee, basis points a year.
pub const MAX_MANAGEMENT_FEE_BPS: u16 = 200;
/// Wei in one rao of TAO (BEVM balances are 18-decimal wei; the runtime holds whole rao).
pub const WEI_PER_RAO: u64 = 1_000_000_000;

fn u(x: u128) -> U256 {
    U256::from(x)
}

/// `floor(amount x price / 1e18)` rao: the value of `amount` rao of alpha at FP18 `price`.
pub fn position_value(amount: U256, price: Fp18) -> Result<U256> {
    Ok(mul_div(
        amount,
        u(price.raw()),
        u(ONE_SHARE),
        Rounding::Floor,
    )?)
}

/// `floor(supply x bps x blocks / (10 000 x 2 629 800))`: shares accrued to the fee recipient.
pub fn management_fee(supply: U256, bps: u16, blocks: u64) -> Result<U256> {
    let rate = U256::from(bps) * U256::from(blocks);
    Ok(mul_div(
        supply,
        rate,
        U256::from(BPS) * U256::from(BLOCKS_PER_YEAR),
        Rounding::Floor,
    )?)
}

/// `ceil(value x 1e18 / supply)` rao per whole share; 1e9 when `supply == 0`.
pub fn nav_per_share(value_rao: U256, supply: U256) -> Result<U256> {
    if supply.is_zero() {
        return Ok(U256::from(INITIAL_NAV_PER_SHARE));
    }
    // Rounded up, unlike PROTOCOL.md's floor: a floored NAV would hand each minter up to
    // 1/navPerShare of extra value at the holders' expense (docs/protocol-deviations.md).
    Ok(mul_div(value_rao, u(ONE_SHARE), supply, Rounding::Ceil)?)
}

/// Shares of a creation: what `mint` computes from a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shares {
    /// `floor(valueRao x 1e18 / navPerShare)`.
    #[serde(with = "crate::dec")]
    pub gross: U256,
    /// `ceil(gross x mintFeeBps / 10 000)`.
    #[serde(with = "crate::dec")]
    pub fee: U256,
    /// `gross - fee`.
    #[serde(with = "crate::dec")]
    pub shares_out: U256,
}

/// The shares `mint` creates for `value_rao` at `nav_per_share` with a mint fee of `mint_fee_bps`.
/// Errors where the contract reverts: a zero NAV, `gross == 0`, or a fee above 100 %.
pub fn shares(value_rao: U256, nav_per_share: U256, mint_fee_bps: u16) -> Result<Shares> {
    let s = mint_shares(value_rao, nav_per_share, mint_fee_bps)?;
    if s.gross.is_zero() {
        return Err(Error::Rejected(format!(
            "value {value_rao} rao at navPerShare {nav_per_share} mints zero shares"
        )));
    }
    Ok(s)
}

/// The share arithmetic alone (the contract's `SharesMathLib.mintShares`): like [`shares`] but
/// `gross == 0` is returned rather than refused.
pub fn mint_shares(value_rao: U256, nav_per_share: U256, mint_fee_bps: u16) -> Result<Shares> {
    if nav_per_share.is_zero() {
        return Err(Error::Rejected("navPerShare is zero".into()));
    }
    if u32::from(mint_fee_bps) > BPS {
        return Err(Error::InvalidParam {
            name: "mintFeeBps",
            reason: format!("{mint_fee_bps} exceeds 10 000"),
        });
    }
    let gross = mul_div(value_rao, u(ONE_SHARE), nav_per_share, Rounding::Floor)?;
    let fee = mul_div(
        gross,
        U256::from(mint_fee_bps),
        U256::from(BPS),
        Rounding::Ceil,
    )?;
    Ok(Shares {
        gross,
        fee,
        shares_out: gross - fee,
    })
}

/// Whether `amount` rao of alpha at `price` (the Alpha precompile's answer: wei of TAO per alpha,
/// which is FP18 TAO per alpha) is worth less than `min_stake_rao`: the contract's dust rule
/// (`SharesMathLib.isDust`), under which it books an amount instead of asking the runtime to move it.
pub fn is_dust(amount: U256, price: Fp18, min_stake_rao: U256) -> Result<bool> {
    let value = amount
        .checked_mul(u(price.raw()))
        .ok_or_else(|| Error::range("amount x price", amount, "uint256"))?;
    let floor = min_stake_rao
        .checked_mul(u(ONE_SHARE))
        .ok_or_else(|| Error::range("minStake x 1e18", min_stake_rao, "uint256"))?;
    Ok(value < floor)
}

/// `wei` rounded down to whole rao, the only native amounts the runtime holds and moves.
pub fn whole_rao(wei: U256) -> U256 {
    wei - wei % U256::from(WEI_PER_RAO)
}

/// The native TAO `redeem` pays for `burned` of `supply` shares out of the fund's `native_wei`:
/// `floor(native x burned / supply)` rounded down to whole rao, in wei.
pub fn native_redemption(native_wei: U256, burned: U256, supply: U256) -> Result<U256> {
    if supply.is_zero() {
        return Err(Error::Rejected(
            "cannot redeem from a supply of zero".into(),
        ));
    }
    Ok(whole_rao(mul_div(
        native_wei,
        burned,
        supply,
        Rounding::Floor,
    )?))
}

/// The outcome of `redeem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redemption {
    /// Fee shares, `ceil(shares x redeemFeeBps / 10 000)`.
    #[serde(with = "crate::dec")]
    pub fee: U256,
    /// Shares burned, `shares - fee`.
    #[serde(with = "crate::dec")]
    pub burned: U256,
    /// Per position, `floor(stake_i x burned / supply)`.
    #[serde(with = "crate::dec::vec")]
    pub amounts: Vec<U256>,
}

/// What `redeem(shares, ...)` pays out of `stakes` when the supply after fee accrual is `supply`.
pub fn redemption(
    shares: U256,
    redeem_fee_bps: u16,
    supply: U256,
    stakes: &[U256],
) -> Result<Redemption> {
    if u32::from(redeem_fee_bps) > BPS {
        return Err(Error::InvalidParam {
            name: "redeemFeeBps",
            reason: format!("{redeem_fee_bps} exceeds 10 000"),
        });
    }
    if shares > supply {
        return Err(Error::Rejected(format!(
            "cannot redeem {shares} shares of a supply of {supply}"
        )));
    }
    let fee = mul_div(
        shares,
        U256::from(redeem_fee_bps),
        U256::from(BPS),
        Rounding::Ceil,
    )?;
    let burned = shares - fee;
    let amounts = stakes
        .iter()
        .map(|s| mul_div(*s, burned, supply, Rounding::Floor).map_err(Error::from))
        .collect::<Result<Vec<_>>>()?;
    Ok(Redemption {
        fee,
        burned,
        amounts,
    })
}

/// Everything needed to value the fund at a valuation block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FundState {
    /// The vault's stake under each fund hotkey (`getStake(fundHotkey, vault, netuid)`), rao of
    /// alpha per netuid.
    pub positions: Vec<Holding>,
    /// Alpha under the fund hotkeys booked to redeemers (`reserved(netuid)`), not the fund's: the
    /// fund's position is the stake less this, at least zero.
    #[serde(default)]
    pub reserved: Vec<Holding>,
    /// The fund's native TAO in whole rao: `fundNativeBalance() / 1e9` (bonds and native claims
    /// already excluded by the contract).
    #[serde(default, with = "crate::dec")]
    pub native_tao_rao: U256,
    /// `totalSupply()` at the valuation block, before accruing the management fee.
    #[serde(with = "crate::dec")]
    pub total_supply: U256,
    /// Management fee, basis points a year.
    #[serde(with = "crate::dec")]
    pub management_fee_bps: u16,
    /// The block the management fee was last accrued at.
    #[serde(with = "crate::dec")]
    pub last_accrual_block: u64,
}

/// Rao of alpha of one subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Holding {
    /// The subnet.
    #[serde(with = "crate::dec")]
    pub netuid: u16,
    /// Rao of alpha.
    #[serde(with = "crate::dec")]
    pub amount: u64,
}

/// An official price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    /// The subnet.
    #[serde(with = "crate::dec")]
    pub netuid: u16,
    /// FP18 TAO per alpha, raw (1e18 = 1 TAO per alpha).
    #[serde(with = "crate::dec")]
    pub price: u128,
}

/// NAV at a valuation block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nav {
    /// `V`: the fund's value, rao (sum of per-position floors, plus native TAO).
    #[serde(with = "crate::dec")]
    pub value_rao: U256,
    /// Management fee accrued from the last accrual to the valuation block, shares.
    #[serde(with = "crate::dec")]
    pub accrued_fee: U256,
    /// `S = totalSupply + accruedFee`.
    #[serde(with = "crate::dec")]
    pub supply: U256,
    /// `ceil(V x 1e18 / S)`, 1e9 when `S == 0`.
    #[serde(with = "crate::dec")]
    pub nav_per_share: U256,
}

fn price_of(prices: &[Price], netuid: u16) -> Result<Fp18> {
    prices
        .iter()
        .find(|p| p.netuid == netuid)
        .filter(|p| p.price > 0)
        .map(|p| Fp18::from_raw(p.price))
        .ok_or(Error::MissingPrice { netuid })
}

fn check_unique_prices(prices: &[Price]) -> Result<()> {
    let mut seen: Vec<u16> = prices.iter().map(|p| p.netuid).collect();
    seen.sort_unstable();
    for w in seen.windows(2) {
        if let [a, b] = w {
            if a == b {
                return Err(Error::DuplicateNetuid {
                    netuid: *a,
                    list: "prices",
                });
            }
        }
    }
    Ok(())
}

/// The value of `holdings` at `prices`: the sum of each holding's floored value.
pub fn holdings_value(holdings: &[Holding], prices: &[Price]) -> Result<U256> {
    check_unique_prices(prices)?;
    holdings.iter().try_fold(U256::ZERO, |acc, h| {
        let v = position_value(U256::from(h.amount), price_of(prices, h.netuid)?)?;
        acc.checked_add(v)
            .ok_or_else(|| Error::range("value", "sum", "uint256"))
    })
}

/// `V`: the sum over fund positions of `value(stake - reserved)` (saturating at zero, as `redeem`
/// does), plus native TAO. A netuid may appear at most once in `positions` and in `reserved`.
pub fn fund_value(fund: &FundState, prices: &[Price]) -> Result<U256> {
    for (list, name) in [(&fund.positions, "positions"), (&fund.reserved, "reserved")] {
        let mut netuids: Vec<u16> = list.iter().map(|h| h.netuid).collect();
        netuids.sort_unstable();
        if let Some(w) = netuids.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(Error::DuplicateNetuid {
                netuid: w.first().copied().unwrap_or_default(),
                list: name,
            });
        }
    }
    let net: Vec<Holding> = fund
        .positions
        .iter()
        .map(|h| {
            let held = fund
                .reserved
                .iter()
                .find(|r| r.netuid == h.netuid)
                .map_or(0, |r| r.amount);
            Holding {
                netuid: h.netuid,
                amount: h.amount.saturating_sub(held),
            }
        })
        .collect();
    holdings_value(&net, prices)?
        .checked_add(fund.native_tao_rao)
        .ok_or_else(|| Error::range("value", "sum", "uint256"))
}

/// NAV per share at `valuation_block`: fund positions net of booked claims, management fee accrued
/// to that block.
pub fn nav(fund: &FundState, prices: &[Price], valuation_block: u64) -> Result<Nav> {
    if fund.management_fee_bps > MAX_MANAGEMENT_FEE_BPS {
        return Err(Error::InvalidParam {
            name: "managementFeeBps",
            reason: format!(
                "{} exceeds {MAX_MANAGEMENT_FEE_BPS}",
                fund.management_fee_bps
            ),
        });
    }
    let blocks = valuation_block
        .checked_sub(fund.last_accrual_block)
        .ok_or_else(|| Error::InvalidParam {
            name: "lastAccrualBlock",
            reason: format!(
                "{} is after the valuation block {valuation_block}",
                fund.last_accrual_block
            ),
        })?;
    let value_rao = fund_value(fund, prices)?;
    let accrued_fee = management_fee(fund.total_supply, fund.management_fee_bps, blocks)?;
    let supply = fund
        .total_supply
        .checked_add(accrued_fee)
        .ok_or_else(|| Error::range("supply", "sum", "uint256"))?;
    Ok(Nav {
        value_rao,
        accrued_fee,
        supply,
        nav_per_share: nav_per_share(value_rao, supply)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: u128) -> U256 {
        U256::from(x)
    }

    #[test]
    fn share_maths_round_against_the_depositor() {
        let s = shares(n(1_000_000_001), n(3), 30).unwrap();
        // gross = floor(1_000_000_001e18 / 3)
        assert_eq!(s.gross, n(333_333_333_666_666_666_666_666_666));
        assert_eq!(s.fee, n(1_000_000_001_000_000_000_000_000)); // ceil(gross x 30 / 1e4)
        assert_eq!(s.shares_out, s.gross - s.fee);
        assert!(shares(n(1), n(1_000_000_000_000_000_001), 0).is_err());
        assert!(shares(n(1), n(0), 0).is_err());
    }

    #[test]
    fn nav_accrues_the_fee_before_dividing() {
        let fund = FundState {
            positions: vec![Holding {
                netuid: 1,
                amount: 3_000_000_000,
            }],
            reserved: vec![],
            native_tao_rao: n(5),
            total_supply: n(2 * ONE_SHARE),
            management_fee_bps: 200,
            last_accrual_block: 0,
        };
        let prices = [Price {
            netuid: 1,
            price: ONE_SHARE / 2,
        }];
        let nav = nav(&fund, &prices, BLOCKS_PER_YEAR).unwrap();
        assert_eq!(nav.value_rao, n(1_500_000_005));
        assert_eq!(nav.accrued_fee, n(2 * ONE_SHARE / 50)); // 2 % of the supply over a year
        assert_eq!(nav.supply, n(2_040_000_000_000_000_000));
        assert_eq!(
            nav.nav_per_share,
            n((1_500_000_005u128 * ONE_SHARE).div_ceil(2_040_000_000_000_000_000))
        );
        assert_eq!(
            super::nav(&fund, &[], 1),
            Err(Error::MissingPrice { netuid: 1 })
        );
        let empty = FundState {
            positions: vec![],
            reserved: vec![],
            native_tao_rao: U256::ZERO,
            total_supply: U256::ZERO,
            management_fee_bps: 0,
            last_accrual_block: 0,
        };
        assert_eq!(
            super::nav(&empty, &[], 9).unwrap().nav_per_share,
            n(1_000_000_000)
        );
    }

    #[test]
    fn booked_claims_are_not_the_funds_value() {
        let fund = FundState {
            positions: vec![
                Holding {
                    netuid: 1,
                    amount: 1_000,
                },
                Holding {
                    netuid: 2,
                    amount: 10,
                },
            ],
            reserved: vec![
                Holding {
                    netuid: 1,
                    amount: 400,
                },
                Holding {
                    netuid: 2,
                    amount: 11,
                },
            ],
            native_tao_rao: n(7),
            total_supply: n(ONE_SHARE),
            management_fee_bps: 0,
            last_accrual_block: 0,
        };
        let prices = [
            Price {
                netuid: 1,
                price: ONE_SHARE,
            },
            Price {
                netuid: 2,
                price: ONE_SHARE,
            },
        ];
        // (1000 - 400) + max(10 - 11, 0) + 7 native.
        assert_eq!(fund_value(&fund, &prices).unwrap(), n(607));
        let twice = FundState {
            reserved: vec![fund.reserved[0], fund.reserved[0]],
            ..fund.clone()
        };
        assert_eq!(
            fund_value(&twice, &prices),
            Err(Error::DuplicateNetuid {
                netuid: 1,
                list: "reserved"
            })
        );
    }

    #[test]
    fn dust_and_whole_rao() {
        let one_tao = Fp18::from_raw(ONE_SHARE);
        assert!(!is_dust(n(2_000_000), one_tao, n(2_000_000)).unwrap());
        assert!(is_dust(n(1_999_999), one_tao, n(2_000_000)).unwrap());
        assert!(is_dust(n(0), one_tao, n(1)).unwrap());
        assert!(is_dust(U256::MAX, one_tao, n(1)).is_err());
        assert_eq!(whole_rao(n(3_999_999_999)), n(3_000_000_000));
        assert_eq!(
            native_redemption(n(ONE_SHARE), n(1), n(3)).unwrap(),
            n(333_333_333_000_000_000)
        );
        assert!(native_redemption(n(1), n(1), n(0)).is_err());
    }

    #[test]
    fn redemption_pays_floor_shares() {
        let r = redemption(n(100), 50, n(1000), &[n(999), n(5)]).unwrap();
        assert_eq!(r.fee, n(1)); // ceil(0.5)
        assert_eq!(r.burned, n(99));
        assert_eq!(r.amounts, vec![n(98), n(0)]);
        assert!(redemption(n(1001), 0, n(1000), &[]).is_err());
    }
}
