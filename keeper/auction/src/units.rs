//! Small exact-number helpers shared by the modules: unsigned integer text, wide decimal text, and
//! checked conversions out of the wide integer types.

use alloy_primitives::{U256, U512};

use crate::{Error, Result};

/// Parses an unsigned decimal integer (`digits` only, no sign, blank or exponent) into `u128`.
///
/// `input` names the value in errors.
pub fn parse_u128(text: &str, input: &str) -> Result<u128> {
    if text.is_empty() {
        return Err(Error::invalid(input, "empty integer"));
    }
    let mut value: u128 = 0;
    for (i, b) in text.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return Err(Error::invalid(
                input,
                format!("expected a digit at byte {i} of {text:?}"),
            ));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(b - b'0')))
            .ok_or_else(|| Error::invalid(input, format!("{text:?} exceeds 128 bits")))?;
    }
    Ok(value)
}

/// Formats `raw / 10^decimals` as the shortest decimal (no exponent, no trailing zeros).
pub fn format_scaled(raw: U256, decimals: usize) -> String {
    let digits = raw.to_string();
    if decimals == 0 {
        return digits;
    }
    let padded = if digits.len() <= decimals {
        format!("{}{digits}", "0".repeat(decimals + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - decimals);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    }
}

/// The low 256 bits of `x`, or an overflow error naming `what` if higher bits are set.
pub fn u512_to_u256(x: U512, what: &str) -> Result<U256> {
    let limbs = x.as_limbs();
    match limbs.split_at(4) {
        (low, high) if high.iter().all(|&l| l == 0) => Ok(U256::from_limbs_slice(low)),
        _ => Err(Error::overflow(what)),
    }
}

/// `x` as `u128`, or an overflow error naming `what`.
pub fn u256_to_u128(x: U256, what: &str) -> Result<u128> {
    u128::try_from(x).map_err(|_| Error::overflow(what))
}

/// `x` as `u128`, or an overflow error naming `what`.
pub fn u512_to_u128(x: U512, what: &str) -> Result<u128> {
    u256_to_u128(u512_to_u256(x, what)?, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_integers_only() {
        assert_eq!(parse_u128("0", "x").unwrap(), 0);
        assert_eq!(parse_u128("0040", "x").unwrap(), 40);
        assert_eq!(parse_u128(&u128::MAX.to_string(), "x").unwrap(), u128::MAX);
        for bad in [
            "",
            "-1",
            "+1",
            "1e3",
            " 1",
            "1.0",
            "340282366920938463463374607431768211456",
        ] {
            assert!(parse_u128(bad, "x").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formats_shortest_decimals() {
        assert_eq!(format_scaled(U256::from(0u8), 36), "0");
        assert_eq!(format_scaled(U256::from(5u8), 1), "0.5");
        assert_eq!(format_scaled(U256::from(1500u16), 3), "1.5");
        assert_eq!(
            format_scaled(U256::from(1u8), 36),
            format!("0.{}1", "0".repeat(35))
        );
        assert_eq!(format_scaled(U256::from(12u8), 0), "12");
        assert_eq!(format_scaled(U256::from(120u8), 1), "12");
    }

    #[test]
    fn narrowing_reports_overflow() {
        assert!(u512_to_u256(U512::MAX, "x").is_err());
        assert!(u256_to_u128(U256::MAX, "x").is_err());
        assert_eq!(u512_to_u128(U512::from(7u8), "x").unwrap(), 7);
    }
}
