//! Exact decimal text to integers, without floating point.
//!
//! The grammar is JSON's number grammar without the sign, plus a leading dot: `digits`,
//! `digits.digits` or `.digits`, optionally followed by `e` or `E`, an optional sign and digits.
//! `12`, `0.5`, `.5`, `4.005e2` and `1E-3` are accepted; `-1`, `+1`, `1.`, `0x10`, blanks and
//! an empty string are refused. [`scaled_floor`] computes `floor(value x 10^shift)` exactly:
//! digits beyond the target precision are dropped (rounded towards zero, never up), and a value
//! that does not fit a `u128` is an error.

/// `floor(value(text) x 10^shift)` as an integer, or why `text` is refused.
pub fn scaled_floor(text: &str, shift: i32) -> Result<u128, &'static str> {
    if text.starts_with('-') {
        return Err("negative");
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((_, "")) => return Err("'.' must be followed by digits"),
        Some((int, frac)) => (int, frac),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Err("not a decimal number");
    }
    let exponent = match exponent {
        Some(e) => parse_exponent(e)?,
        None => 0,
    };
    // value = D x 10^e, with D the digits of `int` and `frac` read as one integer.
    let frac_len = i64::try_from(frac.len()).unwrap_or(i64::MAX);
    let e = exponent
        .saturating_sub(frac_len)
        .saturating_add(i64::from(shift));
    let digits = int.bytes().chain(frac.bytes());
    let n = int.len() + frac.len();
    let keep = if e >= 0 {
        n
    } else {
        let drop = usize::try_from(e.unsigned_abs()).unwrap_or(usize::MAX);
        n.saturating_sub(drop)
    };
    let mut value: u128 = 0;
    for b in digits.take(keep) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(b - b'0')))
            .ok_or("too large")?;
    }
    if e > 0 && value != 0 {
        let pow = u32::try_from(e)
            .ok()
            .and_then(|e| 10u128.checked_pow(e))
            .ok_or("too large")?;
        value = value.checked_mul(pow).ok_or("too large")?;
    }
    Ok(value)
}

/// The exponent, saturated far beyond any length a bounded body can have: the saturation never
/// changes a result (such exponents make any non-zero value overflow or floor to zero).
fn parse_exponent(text: &str) -> Result<i64, &'static str> {
    const LIMIT: i64 = 1 << 50;
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("malformed exponent");
    }
    let mut e: i64 = 0;
    for b in digits.bytes() {
        e = (e * 10 + i64::from(b - b'0')).min(LIMIT);
    }
    Ok(if negative { -e } else { e })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_at_fp18_precision() {
        let fp = |s: &str| scaled_floor(s, 18);
        assert_eq!(
            fp("401.123456789012345678"),
            Ok(401_123_456_789_012_345_678)
        );
        assert_eq!(fp("0.5"), Ok(500_000_000_000_000_000));
        assert_eq!(fp(".5"), Ok(500_000_000_000_000_000));
        assert_eq!(fp("4.005e2"), Ok(400_500_000_000_000_000_000));
        assert_eq!(fp("4005E-1"), Ok(400_500_000_000_000_000_000));
        assert_eq!(fp("1e-18"), Ok(1));
        assert_eq!(fp("1e+2"), Ok(100_000_000_000_000_000_000));
        assert_eq!(fp("000012.50"), Ok(12_500_000_000_000_000_000));
        assert_eq!(fp("0"), Ok(0));
        assert_eq!(fp("0e999999999999999999999"), Ok(0));
    }

    #[test]
    fn digits_beyond_the_precision_round_down() {
        assert_eq!(
            scaled_floor("0.1234567890123456789", 18),
            Ok(123_456_789_012_345_678)
        );
        assert_eq!(scaled_floor("9.99", 0), Ok(9));
        assert_eq!(scaled_floor("1e-19", 18), Ok(0));
        assert_eq!(scaled_floor("5e-999999999999999999999", 18), Ok(0));
        assert_eq!(scaled_floor("1234.5", -3), Ok(1));
    }

    #[test]
    fn scale_shifts_exactly() {
        assert_eq!(
            scaled_floor("123456789", 18 - 6),
            Ok(123_456_789_000_000_000_000)
        );
        assert_eq!(
            scaled_floor("0.0505", 18 + 3),
            Ok(50_500_000_000_000_000_000)
        );
    }

    #[test]
    fn u128_range_is_exact_and_bounded() {
        let max = u128::MAX.to_string();
        assert_eq!(scaled_floor(&max, 0), Ok(u128::MAX));
        assert_eq!(
            scaled_floor("340282366920938463463374607431768211456", 0),
            Err("too large")
        );
        assert_eq!(scaled_floor("1e39", 0), Err("too large"));
        assert_eq!(scaled_floor("1e38", 0), Ok(10u128.pow(38)));
        assert_eq!(scaled_floor("1e99999999999999999999", 0), Err("too large"));
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for bad in [
            "", "-1", "+1", "1.", ".", "e5", "1e", "1e+", "0x10", " 1", "1 ", "1,5", "NaN",
        ] {
            assert!(scaled_floor(bad, 18).is_err(), "{bad:?} accepted");
        }
        assert_eq!(scaled_floor("-0.5", 18), Err("negative"));
    }
}
