//! `floor((a / b)^(p / q) x scale)` as the runtime computes it: `SafeInt::pow_ratio_scaled` of
//! safe-bigmath 0.4.1 (<https://github.com/sam0x17/safe-bigmath>, rev 013c4998, MIT licence,
//! copyright sam0x17), the revision subtensor's swap pallet builds with. The algorithm, its
//! precision floor, guard bits, iteration caps and every rounding step are carried over unchanged
//! (only the `SafeInt` wrapper is dropped), so the balancer's swaps round exactly as the runtime's.
//!
//! Two paths: when the reduced exponent's numerator and denominator are both at most 1024 (equal
//! pool weights reduce to 1/1), the exact integer root `floor(root_q(a^p x scale^q / b^p))`;
//! otherwise `exp(p / q x (ln a - ln b))` in fixed point with 24 guard bits, by Taylor series that
//! stop once the rounded digits no longer change.

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// The series' iteration cap (`DEFAULT_MAX_ITERS`).
const DEFAULT_MAX_ITERS: usize = 4_096;
/// Largest exponent numerator and denominator the exact root path takes (`MAX_EXACT_EXPONENT`).
const MAX_EXACT_EXPONENT: u32 = 1_024;

/// `floor((a / b)^(p / q) x scale)`; `None` when `b` or `q` is zero or the result exceeds u128.
pub fn pow_ratio_scaled(
    a: u128,
    b: u128,
    p: u128,
    q: u128,
    precision: u32,
    scale: u128,
) -> Option<u128> {
    if b == 0 || q == 0 {
        return None;
    }
    if a == 0 {
        return Some(0);
    }
    let base_num = BigUint::from(a);
    let base_den = BigUint::from(b);
    let mut exp_num = BigUint::from(p);
    let mut exp_den = BigUint::from(q);
    if exp_num.is_zero() {
        return Some(scale);
    }
    let g = exp_num.gcd(&exp_den);
    if g > BigUint::one() {
        exp_num /= &g;
        exp_den /= &g;
    }
    let scale_abs = BigUint::from(scale);
    let scale_bits = u32::try_from(scale_abs.bits()).unwrap_or(u32::MAX);

    if exp_num.bits() <= 32 && exp_den.bits() <= 32 {
        let n = exp_num.to_u32()?;
        let d = exp_den.to_u32()?;
        if n <= MAX_EXACT_EXPONENT && d <= MAX_EXACT_EXPONENT {
            let target_num = base_num.pow(n) * scale_abs.pow(d);
            let target_den = base_den.pow(n);
            return nth_root_ratio_floor(&target_num, &target_den, d).to_u128();
        }
    }

    let requested_precision = precision.max(32).max(scale_bits.saturating_add(8));
    let guard_bits: u32 = 24;
    let internal_precision = requested_precision.saturating_add(guard_bits);
    let max_iters = DEFAULT_MAX_ITERS
        .min(internal_precision as usize + 128)
        .max(1);

    let target_scale_uint = BigUint::one() << requested_precision;
    let guard_factor_uint = BigUint::one() << guard_bits;
    let internal_scale_uint = &target_scale_uint << guard_bits;
    let target_scale = BigInt::from_biguint(Sign::Plus, target_scale_uint);
    let guard_factor = BigInt::from_biguint(Sign::Plus, guard_factor_uint);
    let internal_scale = BigInt::from_biguint(Sign::Plus, internal_scale_uint.clone());

    let ln_half = ln1p_fixed(
        &(-(&internal_scale >> 1usize)),
        &internal_scale,
        &guard_factor,
        max_iters,
    );
    let ln_two = -ln_half;
    let ln = |v: &BigUint| {
        ln_biguint(
            v,
            internal_precision,
            &internal_scale_uint,
            &internal_scale,
            &guard_factor,
            &ln_two,
            max_iters,
        )
    };
    let ln_base = ln(&base_num) - ln(&base_den);
    let ln_scaled = (ln_base * BigInt::from_biguint(Sign::Plus, exp_num))
        .div_floor(&BigInt::from_biguint(Sign::Plus, exp_den));
    let exp_fp = exp_fixed(&ln_scaled, &internal_scale, &guard_factor, max_iters);
    let exp_requested = round_to_precision(&exp_fp, &guard_factor);
    let result =
        (exp_requested * BigInt::from_biguint(Sign::Plus, scale_abs)).div_floor(&target_scale);
    result.to_u128()
}

fn nth_root_ratio_floor(target_num: &BigUint, target_den: &BigUint, q: u32) -> BigUint {
    if q == 0 {
        return BigUint::zero();
    }
    let mut low = BigUint::zero();
    let mut high = BigUint::one();
    while high.pow(q) * target_den <= *target_num {
        high <<= 1;
    }
    while low < high {
        let mid: BigUint = (&low + &high + 1u32) >> 1;
        if mid.pow(q) * target_den <= *target_num {
            low = mid;
        } else {
            high = mid - BigUint::one();
        }
    }
    low
}

fn ln1p_fixed(x_fp: &BigInt, scale: &BigInt, guard_factor: &BigInt, max_iters: usize) -> BigInt {
    let mut term = x_fp.clone();
    let mut result = term.clone();
    let mut prev_rounded = round_to_precision(&result, guard_factor);
    for n in 2..=max_iters {
        term = (&term * x_fp).div_floor(scale);
        if term.is_zero() {
            break;
        }
        let next = term.div_floor(&BigInt::from(n));
        if next.is_zero() {
            break;
        }
        if n % 2 == 0 {
            result -= &next;
        } else {
            result += &next;
        }
        let rounded = round_to_precision(&result, guard_factor);
        if next.abs() < guard_factor.abs() || rounded == prev_rounded {
            break;
        }
        prev_rounded = rounded;
    }
    result
}

fn exp_fixed(x_fp: &BigInt, scale: &BigInt, guard_factor: &BigInt, max_iters: usize) -> BigInt {
    let mut term = scale.clone();
    let mut result = term.clone();
    let mut prev_rounded = round_to_precision(&result, guard_factor);
    for n in 1..=max_iters {
        term = (&term * x_fp).div_floor(&(scale * BigInt::from(n)));
        if term.is_zero() {
            break;
        }
        result += &term;
        let rounded = round_to_precision(&result, guard_factor);
        if term.abs() < guard_factor.abs() || rounded == prev_rounded {
            break;
        }
        prev_rounded = rounded;
    }
    result
}

fn ln_biguint(
    value: &BigUint,
    internal_precision: u32,
    internal_scale_uint: &BigUint,
    internal_scale: &BigInt,
    guard_factor: &BigInt,
    ln_two: &BigInt,
    max_iters: usize,
) -> BigInt {
    if value.is_zero() {
        return BigInt::zero();
    }
    let mut shift = value.bits().saturating_sub(1);
    let mut mantissa = value.clone() << internal_precision as usize;
    mantissa >>= shift;
    // The mantissa in [0.5, 1.5) keeps ln(1 + x) converging fast.
    let half_scale = internal_scale_uint >> 1;
    let scale_plus_half = internal_scale_uint + &half_scale;
    if mantissa >= scale_plus_half {
        mantissa >>= 1;
        shift = shift.saturating_add(1);
    }
    let mantissa_int = BigInt::from_biguint(Sign::Plus, mantissa);
    let ln_mantissa = ln1p_fixed(
        &(mantissa_int - internal_scale),
        internal_scale,
        guard_factor,
        max_iters,
    );
    ln_mantissa + ln_two * BigInt::from(shift)
}

fn round_to_precision(value: &BigInt, guard_factor: &BigInt) -> BigInt {
    let (mut truncated, remainder) = value.div_rem(guard_factor);
    if !remainder.is_zero() && (remainder.abs() << 1) >= guard_factor.abs() {
        truncated += remainder.signum();
    }
    truncated
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERQUINTILL: u128 = 1_000_000_000_000_000_000;

    // The vectors below are safe-bigmath's own tests (`test_perquintill_power`,
    // `pow_ratio_scaled_handles_large_weight_denominators`), also subtensor's
    // `balancer.rs::test_perquintill_power`: computed by the library the runtime links.

    #[test]
    fn matches_the_librarys_perquintill_vector() {
        let x = 21_000_000_000_000_000u128;
        let r = pow_ratio_scaled(
            x,
            x + 7_000_000_000_000_000,
            600_000_000_000_000_000,
            400_000_000_000_000_000,
            256,
            PERQUINTILL,
        );
        assert_eq!(r, Some(649_519_052_838_328_985));
    }

    #[test]
    fn matches_the_librarys_near_equal_weights_vector() {
        let x = 21_000_000_000_000_000u128;
        for (w1, w2) in [
            (500_000_000_000_000_000u128, 500_000_000_000_000_000u128),
            (499_999_999_999_500_000, 500_000_000_000_500_000),
            (500_000_000_000_250_000, 499_999_999_999_750_000),
        ] {
            let r = pow_ratio_scaled(x, x + 100, w1, w2, 256, PERQUINTILL);
            assert_eq!(r, Some(999_999_999_999_995_238), "{w1}/{w2}");
        }
    }

    #[test]
    fn the_exact_path_is_the_floor_of_the_root() {
        // (2/3)^(1/2) x 1000 = 816.49...
        assert_eq!(pow_ratio_scaled(2, 3, 1, 2, 0, 1_000), Some(816));
        // (1/4)^(3/2) x 1e6 = 125000 exactly.
        assert_eq!(pow_ratio_scaled(1, 4, 3, 2, 0, 1_000_000), Some(125_000));
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(pow_ratio_scaled(1, 0, 1, 1, 256, 10), None);
        assert_eq!(pow_ratio_scaled(1, 2, 1, 0, 256, 10), None);
        assert_eq!(pow_ratio_scaled(0, 2, 1, 3, 256, 10), Some(0));
        assert_eq!(pow_ratio_scaled(5, 7, 0, 3, 256, 10), Some(10));
    }
}
