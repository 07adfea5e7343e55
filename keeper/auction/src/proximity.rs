//! Winner selection when every item's value is small: an exact search whose work depends only on
//! the largest value, not on the number of workers, the prices or the budget.
//!
//! # Why it is exact
//! Order the items (units) by cost per unit of value, as [`crate::solve::Model`] orders its
//! types, and let `P` be the longest prefix that fits the capacity (the greedy prefix). Take a
//! lexicographic optimum `x` (maximum value, then minimum cost) that differs from `P` in as few
//! items as possible: it drops the items `D-` of `P` and adds the items `D+` from after `P`. With
//! `w` the largest item value, if `D-` and `D+` both had `w` items or more, two non-empty
//! subsets of equal value would exist, one in each (the running difference of a sequence that
//! adds from `D-` while it is not positive and subtracts from `D+` otherwise stays in
//! `(-w, w]`, so it repeats before either list runs out). Swapping them back keeps the value and
//! does not raise the cost (every item of `D-` costs at most as much per unit of value as every
//! item of `D+`), which contradicts the choice of `x`. So one of them has fewer than `w` items,
//! and since `value(P) <= value(x) < value(P) + w` (the LP bound is below the prefix plus the
//! first item that did not fit):
//! - `value(D-) <= w (w - 1)`,
//! - `value(D+) <= w^2 - 1`.
//!
//! # The search
//! For every `a` up to `w (w - 1)` the dearest way to drop exactly `a` from `P`, and for every
//! `b` up to `w^2 - 1` the cheapest way to add exactly `b` after it: two dynamic programmes over
//! the values, where only the dearest (respectively cheapest) `floor(limit / v)` units of each
//! value `v` can matter. Then the best pair `(a, b)` that fits. That takes
//! `O(w^4 log w / w)`-ish steps, about 2 x 10^7 at `w = 45`, plus one pass over the types.
//!
//! # Canonical choice
//! Among optimal pairs the one with the least value dropped from `P`; within a value, the units
//! are taken dearest first to drop and cheapest first to add, and each programme keeps the
//! smallest count of a value on a tie. The answer depends only on the model, so it is the same on
//! every validator and for every order of the bids.

use crate::solve::{Cost, Model};

/// The largest item value (hashrate over the gcd of all hashrates) the search takes. Bids within
/// the bid rule ([`crate::commitment::BidRule`]) have at most 45 (0.45 PH over 0.01 PH); beyond
/// this the Pareto programme of [`crate::solve`] answers.
pub const MAX_VALUE: u128 = 64;

/// What the search found: units per type, and their value and cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found<C> {
    /// Units of each type.
    pub counts: Vec<u64>,
    /// Total value, in model units.
    pub value: u128,
    /// Total cost, in model units.
    pub cost: C,
}

/// One value's units on one side of the search, in the order that side takes them.
struct Group<C> {
    value: usize,
    /// (type, units) runs, dearest first to drop, cheapest first to add.
    runs: Vec<(usize, u64)>,
    /// `top[k]`: the cost of the first `k` units.
    top: Vec<C>,
    /// `choice[s]`: the units of this value in the best way to reach `s` with the groups so far.
    choice: Vec<u16>,
}

/// The best cost of each total value `0..=limit` over units of `avail`, the dearest when
/// `dearest`, else the cheapest, with the groups to rebuild the choice.
struct Side<C> {
    best: Vec<Option<C>>,
    groups: Vec<Group<C>>,
}

impl<C: Cost> Side<C> {
    fn new(model: &Model, costs: &[C], avail: &[u64], limit: usize, dearest: bool) -> Self {
        let mut by_value: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (i, t) in model.types.iter().enumerate() {
            let units = avail.get(i).copied().unwrap_or(0);
            if let (true, Ok(v)) = (units > 0, usize::try_from(t.value)) {
                if v >= 1 && v <= limit {
                    by_value.entry(v).or_default().push(i);
                }
            }
        }
        let mut best: Vec<Option<C>> = vec![None; limit + 1];
        if let Some(b) = best.first_mut() {
            *b = Some(C::ZERO);
        }
        let better = |x: C, y: C| if dearest { x > y } else { x < y };
        let mut groups = Vec::new();
        for (v, mut types) in by_value {
            let cost = |i: usize| costs.get(i).copied().unwrap_or(C::ZERO);
            // Equal value and cost means the same type, so this order is total.
            types.sort_by(|&i, &j| {
                let by_cost = if dearest {
                    cost(j).cmp(&cost(i))
                } else {
                    cost(i).cmp(&cost(j))
                };
                by_cost.then(i.cmp(&j))
            });
            // More units of value v than limit / v never fit in a total of at most limit.
            let mut room = (limit / v) as u64;
            let mut runs = Vec::new();
            let mut top = vec![C::ZERO];
            let mut sum = C::ZERO;
            for i in types {
                let take = avail.get(i).copied().unwrap_or(0).min(room);
                for _ in 0..take {
                    sum = sum + cost(i);
                    top.push(sum);
                }
                runs.push((i, take));
                room -= take;
                if room == 0 {
                    break;
                }
            }
            let mut next: Vec<Option<C>> = vec![None; limit + 1];
            let mut choice = vec![0u16; limit + 1];
            for (s, slot) in next.iter_mut().enumerate() {
                for (k, &add) in top.iter().enumerate().take(s / v + 1) {
                    let Some(prev) = best.get(s - k * v).copied().flatten() else {
                        continue;
                    };
                    let cand = prev + add;
                    if slot.is_none_or(|cur| better(cand, cur)) {
                        *slot = Some(cand);
                        // k <= limit / v <= limit, which fits u16 (limit < 2^13).
                        if let (Some(c), Ok(k)) = (choice.get_mut(s), u16::try_from(k)) {
                            *c = k;
                        }
                    }
                }
            }
            best = next;
            groups.push(Group {
                value: v,
                runs,
                top,
                choice,
            });
        }
        Self { best, groups }
    }

    /// The units per type of the best way to reach `s`.
    fn units(&self, mut s: usize, types: usize) -> Vec<u64> {
        let mut out = vec![0u64; types];
        for g in self.groups.iter().rev() {
            let k = g.choice.get(s).copied().unwrap_or(0);
            debug_assert!(usize::from(k) < g.top.len());
            let mut left = u64::from(k);
            for &(i, units) in &g.runs {
                let take = units.min(left);
                if let Some(o) = out.get_mut(i) {
                    *o += take;
                }
                left -= take;
            }
            s -= usize::from(k) * g.value;
        }
        out
    }
}

/// The lexicographic optimum of `model` within `capacity`, when its largest item value is at
/// most [`MAX_VALUE`]; `None` otherwise. `capacity` and every type's cost must fit `C`.
pub(crate) fn solve<C: Cost>(model: &Model, capacity: C) -> Option<Found<C>> {
    let w = model.types.iter().map(|t| t.value).max().unwrap_or(0);
    if w == 0 || w > MAX_VALUE {
        return None;
    }
    let costs: Vec<C> = model
        .types
        .iter()
        .map(|t| C::narrow(t.cost))
        .collect::<Option<_>>()?;
    // The greedy prefix: whole types while they fit, then what fits of the first that does not.
    let mut prefix = vec![0u64; model.types.len()];
    let (mut value, mut cost) = (0u128, C::ZERO);
    for ((t, &c), p) in model.types.iter().zip(&costs).zip(prefix.iter_mut()) {
        let fit = if c == C::ZERO {
            t.count
        } else {
            let room = (capacity - cost).widen() / c.widen();
            u64::try_from(room.min(alloy_primitives::U256::from(t.count))).unwrap_or(t.count)
        };
        *p = fit;
        value += t.value * u128::from(fit);
        cost = cost + c.times(fit)?;
        if fit < t.count {
            break;
        }
    }
    let w = usize::try_from(w).ok()?;
    let (drop_limit, add_limit) = (w * (w - 1), w * w - 1);
    let rest: Vec<u64> = model
        .types
        .iter()
        .zip(&prefix)
        .map(|(t, &p)| t.count - p)
        .collect();
    let drop = Side::new(model, &costs, &prefix, drop_limit, true);
    let add = Side::new(model, &costs, &rest, add_limit, false);
    // For each amount dropped, the most that can then be added; the best pair, the least
    // dropped on a tie. Nothing is worth w more than the prefix (the LP bound is below the
    // prefix plus one item), so only b < a + w can fit.
    let mut best: Option<(u128, C, usize, usize)> = None;
    for (a, dropped) in drop.best.iter().enumerate() {
        let Some(dropped) = *dropped else { continue };
        let kept = cost - dropped;
        let reach = add.best.get(..(a + w).min(add.best.len())).unwrap_or(&[]);
        for (b, added) in reach.iter().enumerate().rev() {
            let Some(added) = *added else { continue };
            let total = kept + added;
            if total > capacity {
                continue;
            }
            let v = value - a as u128 + b as u128;
            if best.is_none_or(|(bv, bc, _, _)| {
                (v, std::cmp::Reverse(total)) > (bv, std::cmp::Reverse(bc))
            }) {
                best = Some((v, total, a, b));
            }
            break;
        }
    }
    let (v, c, a, b) = best?;
    let removed = drop.units(a, model.types.len());
    let added = add.units(b, model.types.len());
    let counts = prefix
        .iter()
        .zip(&removed)
        .zip(&added)
        .map(|((&p, &r), &n)| p - r + n)
        .collect();
    Some(Found {
        counts,
        value: v,
        cost: c,
    })
}
