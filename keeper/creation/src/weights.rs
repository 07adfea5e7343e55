//! Mechanism-0 weights: miners are paid in proportion to the value they created.
//!
//! Inputs are `CreationMinted` records ([`MintRecord`]) in a block range (an epoch, or a rolling
//! window of the last N blocks) and the registry of miners (EVM address -> uid). Each uid's score is
//! the sum of `valueRao` of its records in the range. When a `targetValueRao` is set and the total
//! falls short of it, the shortfall is scored to the burn uid (the emission a missing volume would
//! have earned is burned rather than handed to the few who created); with no volume at all the
//! burn uid takes everything. Records of miners without a uid also go to the burn uid.
//!
//! Weights are u16 and **max-based**, as for mechanism 1: `w_uid = round_half_up(score x 65 535 /
//! maxScore)` computed as `(2 x score x 65 535 + maxScore) / (2 x maxScore)` in integers, so the
//! largest score gets 65 535. Scores are summed in `U256` and the output is sorted by uid, so the
//! result is independent of the order of the records.

use alloy_primitives::{Address, U256, U512};
use serde::{Deserialize, Serialize};

use crate::lifecycle::MintRecord;
use crate::{Error, Result};

/// Which records count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightParams {
    /// First block counted (inclusive).
    pub from_block: u64,
    /// Last block counted (inclusive).
    pub to_block: u64,
    /// The burn uid (the earliest-registered neuron of the subnet owner's coldkey).
    pub burn_uid: u16,
    /// Value the window should see; a shortfall is scored to the burn uid. `None`: no target.
    #[serde(default, with = "opt_dec")]
    pub target_value_rao: Option<U256>,
}

mod opt_dec {
    use alloy_primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "crate::dec")] U256);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

/// A miner's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Miner {
    /// The EVM address that requests creations.
    pub address: Address,
    /// Its uid on the subnet.
    pub uid: u16,
}

/// One uid's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UidWeight {
    /// The uid.
    pub uid: u16,
    /// Its score (value created, rao; the burn uid's includes the shortfall).
    #[serde(with = "crate::dec")]
    pub score: U256,
    /// Its u16 weight, max-based.
    pub weight: u16,
}

/// Mechanism-0 weights for the records in `params`' block range, sorted by uid.
pub fn mechanism0_weights(
    records: &[MintRecord],
    miners: &[Miner],
    params: &WeightParams,
) -> Result<Vec<UidWeight>> {
    if params.from_block > params.to_block {
        return Err(Error::InvalidParam {
            name: "fromBlock",
            reason: format!("{} is after toBlock {}", params.from_block, params.to_block),
        });
    }
    let mut registry: Vec<Miner> = miners.to_vec();
    registry.sort_by_key(|m| m.address);
    for w in registry.windows(2) {
        if let [a, b] = w {
            if a.address == b.address {
                return Err(Error::InvalidParam {
                    name: "miners",
                    reason: format!("{} is registered twice", a.address),
                });
            }
        }
    }
    let mut scores: Vec<(u16, U256)> = Vec::new();
    let mut add = |uid: u16, v: U256| -> Result<()> {
        match scores.iter_mut().find(|(u, _)| *u == uid) {
            Some((_, s)) => {
                *s = s
                    .checked_add(v)
                    .ok_or_else(|| Error::range("score", "sum", "uint256"))?
            }
            None => scores.push((uid, v)),
        }
        Ok(())
    };
    let mut total = U256::ZERO;
    for r in records
        .iter()
        .filter(|r| r.block >= params.from_block && r.block <= params.to_block)
    {
        let uid = registry
            .binary_search_by_key(&r.miner, |m| m.address)
            .ok()
            .and_then(|i| registry.get(i))
            .map_or(params.burn_uid, |m| m.uid);
        add(uid, r.value_rao)?;
        total = total
            .checked_add(r.value_rao)
            .ok_or_else(|| Error::range("total value", "sum", "uint256"))?;
    }
    let shortfall = match params.target_value_rao {
        Some(t) if t > total => t - total,
        _ => U256::ZERO,
    };
    if total.is_zero() {
        // No volume: everything to the burn uid.
        return Ok(vec![UidWeight {
            uid: params.burn_uid,
            score: shortfall,
            weight: u16::MAX,
        }]);
    }
    if !shortfall.is_zero() {
        add(params.burn_uid, shortfall)?;
    }
    scores.sort_by_key(|(u, _)| *u);
    let max = scores.iter().map(|(_, s)| *s).max().unwrap_or(U256::ZERO);
    // 512-bit intermediates: scores are sums of on-chain values and may be as wide as U256.
    let scale = U512::from(u16::MAX);
    let two = U512::from(2u8);
    let max_wide = U512::from(max);
    scores
        .into_iter()
        .map(|(uid, score)| {
            let w = (two * U512::from(score) * scale + max_wide) / (two * max_wide);
            let weight = u16::try_from(w).map_err(|_| Error::range("weight", w, "uint16"))?;
            Ok(UidWeight { uid, score, weight })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;

    fn rec(miner: u8, value: u64, block: u64) -> MintRecord {
        MintRecord {
            request_id: B256::repeat_byte(miner),
            miner: Address::repeat_byte(miner),
            epoch_id: 0,
            units: 1,
            value_rao: U256::from(value),
            shares_out: U256::ZERO,
            block,
        }
    }

    #[test]
    fn proportional_max_based_with_burn_shortfall() {
        let miners = [
            Miner {
                address: Address::repeat_byte(1),
                uid: 3,
            },
            Miner {
                address: Address::repeat_byte(2),
                uid: 5,
            },
        ];
        let records = [
            rec(1, 300, 10),
            rec(2, 100, 11),
            rec(1, 100, 12),
            rec(2, 999, 99),
        ];
        let p = WeightParams {
            from_block: 10,
            to_block: 20,
            burn_uid: 0,
            target_value_rao: Some(U256::from(1000)),
        };
        let w = mechanism0_weights(&records, &miners, &p).unwrap();
        let pairs: Vec<(u16, u16)> = w.iter().map(|x| (x.uid, x.weight)).collect();
        // Scores: uid 3 = 400, uid 5 = 100, burn = 1000 - 500 = 500 (the max).
        assert_eq!(pairs, vec![(0, 65535), (3, 52428), (5, 13107)]);
        let no_target = WeightParams {
            target_value_rao: None,
            ..p.clone()
        };
        let w = mechanism0_weights(&records, &miners, &no_target).unwrap();
        assert_eq!(
            w.iter().map(|x| (x.uid, x.weight)).collect::<Vec<_>>(),
            vec![(3, 65535), (5, 16384)]
        );
        let empty = mechanism0_weights(&[], &miners, &p).unwrap();
        assert_eq!(
            empty,
            vec![UidWeight {
                uid: 0,
                score: U256::from(1000),
                weight: 65535
            }]
        );
        // Scores as wide as U256 neither overflow nor panic ((2^254 - 1) / (2^255 - 1) is just
        // under one half, so 32 767.49.. rounds down).
        let mut huge = [rec(1, 0, 10), rec(2, 0, 10)];
        huge[0].value_rao = U256::MAX / U256::from(2u8);
        huge[1].value_rao = U256::MAX / U256::from(4u8);
        let w = mechanism0_weights(&huge, &miners, &no_target).unwrap();
        assert_eq!(
            w.iter().map(|x| x.weight).collect::<Vec<_>>(),
            vec![65535, 32767]
        );
        // An unregistered miner's value is burned.
        let w = mechanism0_weights(&[rec(7, 10, 10)], &miners, &no_target).unwrap();
        assert_eq!(
            w,
            vec![UidWeight {
                uid: 0,
                score: U256::from(10),
                weight: 65535
            }]
        );
    }
}
