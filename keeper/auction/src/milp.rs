//! Winner selection as a good_lp MILP, the independent cross-check of the exact engine.
//!
//! The model is [`crate::solve::Model`]: one integer count variable per identical item type,
//! `0 <= x_t <= count_t`, solved in two phases: (1) maximise `sum(value_t x_t)` subject to
//! `sum(cost_t x_t) <= capacity`; (2) fix `sum(value_t x_t) >= V1` and minimise the cost. The
//! MIP gap is set to zero. Coefficients reach the solver as `f64`, which is exact only up to
//! 2^53: every coefficient and every total (value, cost, capacity) is checked against 2^53 first,
//! and a model beyond it is refused ([`Error::Invalid`]) rather than rounded; the model's integer
//! units (hashrate gcd, cost gcd) keep realistic auctions far below that. The solver's answer is
//! rounded to integers and re-checked in integer arithmetic (offers, capacity); the caller compares
//! it with the exact engine.
//!
//! The backend is microlp (pure Rust) unless the `highs` or `coin_cbc` feature selects another.

use alloy_primitives::U256;
use good_lp::solvers::{Solver, WithMipGap};
use good_lp::{constraint, variable, variables, Expression, Solution, SolverModel, Variable};

use crate::solve::Model;
use crate::{Error, Result};

/// The largest integer `f64` holds exactly.
pub const F64_EXACT_LIMIT: u128 = 1 << 53;

/// The MILP's answer, in integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilpOutcome {
    /// Units chosen per type (the model's type order).
    pub counts: Vec<u64>,
    /// Total value in model units.
    pub value: u128,
    /// Total cost in model units.
    pub cost: U256,
}

#[cfg(feature = "coin_cbc")]
fn backend() -> impl Solver<Model = impl SolverModel + WithMipGap> + Copy {
    good_lp::coin_cbc
}
#[cfg(all(feature = "highs", not(feature = "coin_cbc")))]
fn backend() -> impl Solver<Model = impl SolverModel + WithMipGap> + Copy {
    good_lp::highs
}
#[cfg(not(any(feature = "highs", feature = "coin_cbc")))]
fn backend() -> impl Solver<Model = impl SolverModel + WithMipGap> + Copy {
    good_lp::microlp
}

fn exact_f64(x: u128, what: &str) -> Result<f64> {
    exact_wide_f64(U256::from(x), what)
}

fn exact_wide_f64(x: U256, what: &str) -> Result<f64> {
    let small = u128::try_from(x)
        .ok()
        .filter(|&x| x <= F64_EXACT_LIMIT)
        .ok_or_else(|| {
            Error::invalid(
                "model",
                format!("{what} {x} exceeds 2^53 and cannot reach a floating-point MILP exactly"),
            )
        })?;
    // small <= 2^53, so the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    Ok(small as f64)
}

fn solver_error(e: impl std::fmt::Display) -> Error {
    Error::SolverLimit(format!("MILP backend: {e}"))
}

/// Solves `model` with the MILP backend in two phases; see the module documentation.
pub fn solve_milp(model: &Model) -> Result<MilpOutcome> {
    let n = model.types.len();
    if n == 0 {
        return Ok(MilpOutcome {
            counts: Vec::new(),
            value: 0,
            cost: U256::ZERO,
        });
    }
    let mut total_value = 0u128;
    for t in &model.types {
        total_value = total_value.saturating_add(t.value.saturating_mul(u128::from(t.count)));
    }
    exact_f64(total_value, "total value")?;
    exact_wide_f64(model.total_cost(), "total cost")?;
    let capacity = exact_wide_f64(model.capacity, "capacity")?;

    let mut vars = variables!();
    let x: Vec<Variable> = model
        .types
        .iter()
        .map(|t| {
            let max = exact_f64(u128::from(t.count), "count")?;
            Ok(vars.add(variable().integer().min(0).max(max)))
        })
        .collect::<Result<_>>()?;
    let mut value = Expression::from(0.0);
    let mut cost = Expression::from(0.0);
    for (t, &v) in model.types.iter().zip(&x) {
        value += exact_f64(t.value, "value")? * v;
        cost += exact_wide_f64(t.cost, "cost")? * v;
    }

    // Phase 1: the largest value within the capacity.
    let phase1 = vars
        .clone()
        .maximise(value.clone())
        .using(backend())
        .with_mip_gap(0.0)
        .map_err(solver_error)?
        .with(constraint!(cost.clone() <= capacity))
        .solve()
        .map_err(solver_error)?;
    let counts1 = round_counts(model, &x, |v| phase1.value(v))?;
    let (v1, _) = totals(model, &counts1)?;

    // Phase 2: the cheapest way to keep that value.
    let target = exact_f64(v1, "phase-1 value")?;
    let phase2 = vars
        .minimise(cost.clone())
        .using(backend())
        .with_mip_gap(0.0)
        .map_err(solver_error)?
        .with(constraint!(cost <= capacity))
        .with(constraint!(value >= target))
        .solve()
        .map_err(solver_error)?;
    let counts = round_counts(model, &x, |v| phase2.value(v))?;
    let (value, cost) = totals(model, &counts)?;
    if value < v1 || cost > model.capacity {
        return Err(Error::SolverLimit(
            "MILP phase 2 broke the phase-1 value or the capacity".to_owned(),
        ));
    }
    Ok(MilpOutcome {
        counts,
        value,
        cost,
    })
}

fn round_counts(
    model: &Model,
    x: &[Variable],
    value_of: impl Fn(Variable) -> f64,
) -> Result<Vec<u64>> {
    model
        .types
        .iter()
        .zip(x)
        .map(|(t, &v)| {
            let r = value_of(v).round();
            // The bounds are within 0..=count <= 2^53, so a finite rounded value converts exactly.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = r as u64;
            if !r.is_finite() || r < 0.0 || n > t.count {
                return Err(Error::SolverLimit(format!("MILP count {r} out of bounds")));
            }
            Ok(n)
        })
        .collect()
}

fn totals(model: &Model, counts: &[u64]) -> Result<(u128, U256)> {
    let mut value = 0u128;
    let mut cost = U256::ZERO;
    for (t, &n) in model.types.iter().zip(counts) {
        value = t
            .value
            .checked_mul(u128::from(n))
            .and_then(|v| v.checked_add(value))
            .ok_or_else(|| Error::overflow("MILP value"))?;
        cost = t
            .cost
            .checked_mul(U256::from(n))
            .and_then(|c| c.checked_add(cost))
            .ok_or_else(|| Error::overflow("MILP cost"))?;
    }
    if cost > model.capacity {
        return Err(Error::SolverLimit(
            "MILP answer exceeds the capacity".to_owned(),
        ));
    }
    Ok((value, cost))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::{BidRow, DEFAULT_MAX_PRICE};
    use proptest::prelude::*;
    use tao20_core::Fp18;

    #[test]
    fn agrees_with_the_exact_engine_on_a_known_instance() {
        let fp = |s: &str| Fp18::parse(s).unwrap();
        let rows = [
            BidRow {
                hotkey: "a".into(),
                hashrate: fp("0.2"),
                price: fp("0.5"),
                count: 1,
            },
            BidRow {
                hotkey: "b".into(),
                hashrate: fp("1"),
                price: fp("0.9"),
                count: 1,
            },
        ];
        let model = Model::new(&rows, fp("0.9"), DEFAULT_MAX_PRICE).unwrap();
        let milp = solve_milp(&model).unwrap();
        let (counts, cert) = model.solve_counts().unwrap();
        assert_eq!((milp.value, milp.cost), (cert.value, cert.cost));
        assert_eq!(milp.counts, counts);
    }

    #[test]
    fn refuses_coefficients_beyond_2_pow_53() {
        // Costs 1e18 - 1 and 1e18 - 2 share no factor, so they stay beyond 2^53.
        let row = |price: u128| BidRow {
            hotkey: "a".into(),
            hashrate: Fp18::from_raw(1),
            price: Fp18::from_raw(price),
            count: 1,
        };
        let rows = [row(999_999_999_999_999_999), row(999_999_999_999_999_998)];
        let model = Model::new(&rows, Fp18::ONE, DEFAULT_MAX_PRICE).unwrap();
        assert!(matches!(solve_milp(&model), Err(Error::Invalid { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn milp_and_exact_agree_on_value_and_cost(
            rows in prop::collection::vec((0u8..5, 2u64..=18, 90u64..=106, 1u64..=4), 0..10),
            budget in 0u128..4_000,
        ) {
            let rows: Vec<BidRow> = rows.into_iter().map(|(h, hr, p, c)| BidRow {
                hotkey: format!("hk{h}"),
                hashrate: Fp18::from_raw(u128::from(hr) * 25_000_000_000_000_000),
                price: Fp18::from_raw(u128::from(p) * 10_000_000_000_000_000),
                count: c,
            }).collect();
            let model = Model::new(&rows, Fp18::from_raw(budget * 1_000_000_000_000_000), DEFAULT_MAX_PRICE).unwrap();
            let milp = solve_milp(&model).unwrap();
            let (_, cert) = model.solve_counts().unwrap();
            prop_assert_eq!((milp.value, milp.cost), (cert.value, cert.cost));
        }
    }
}
