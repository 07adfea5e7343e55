//! FP18: unsigned fixed point with 18 decimals, the number type of every consensus path.
//!
//! A value is an integer `raw` standing for `raw / 1e18`. Text is exact both ways: parsing accepts
//! `digits`, `digits.digits` and `.digits` with at most 18 fractional digits and nothing else (no
//! sign, exponent, blank or trailing dot); formatting gives the shortest decimal (no exponent, no
//! trailing zeros, `0.5` rather than `.5`), so `parse(format(x)) == x` and `format(parse(s))` is the
//! canonical form of `s`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::math::mul_div_u128;
use crate::{Error, Result};

/// The direction an inexact integer quotient is rounded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Towards zero (all values are unsigned).
    Floor,
    /// Away from zero.
    Ceil,
}

/// An unsigned FP18 number: `raw / 1e18`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fp18(u128);

/// 10^18, the FP18 scale.
pub const SCALE: u128 = 1_000_000_000_000_000_000;
const DECIMALS: usize = 18;

impl Fp18 {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// One (`raw == 1e18`).
    pub const ONE: Self = Self(SCALE);
    /// The largest representable value.
    pub const MAX: Self = Self(u128::MAX);

    /// The value whose raw integer is `raw`.
    pub const fn from_raw(raw: u128) -> Self {
        Self(raw)
    }

    /// The raw integer (`value x 1e18`).
    pub const fn raw(self) -> u128 {
        self.0
    }

    /// The whole number `n`; errors past `u128::MAX / 1e18`.
    pub fn from_int(n: u128) -> Result<Self> {
        n.checked_mul(SCALE)
            .map(Self)
            .ok_or_else(|| Error::Overflow {
                op: "from_int",
                lhs: n.to_string(),
                rhs: SCALE.to_string(),
            })
    }

    /// `numerator / denominator` rounded as asked.
    pub fn from_ratio(numerator: u128, denominator: u128, rounding: Rounding) -> Result<Self> {
        mul_div_u128(numerator, SCALE, denominator, rounding).map(Self)
    }

    /// Whether the value is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + rhs`, or an overflow error.
    pub fn checked_add(self, rhs: Self) -> Result<Self> {
        self.0
            .checked_add(rhs.0)
            .map(Self)
            .ok_or_else(|| self.err_overflow("add", rhs))
    }

    /// `self - rhs`, or an underflow error.
    pub fn checked_sub(self, rhs: Self) -> Result<Self> {
        self.0
            .checked_sub(rhs.0)
            .map(Self)
            .ok_or_else(|| Error::Underflow {
                op: "sub",
                lhs: self.to_string(),
                rhs: rhs.to_string(),
            })
    }

    /// `self x rhs`, the 36-decimal product brought back to 18 decimals in the named direction.
    pub fn mul(self, rhs: Self, rounding: Rounding) -> Result<Self> {
        mul_div_u128(self.0, rhs.0, SCALE, rounding)
            .map(Self)
            .map_err(|_| self.err_overflow("mul", rhs))
    }

    /// `self / rhs` in the named direction; errors on a zero divisor or overflow.
    pub fn div(self, rhs: Self, rounding: Rounding) -> Result<Self> {
        if rhs.is_zero() {
            return Err(Error::DivisionByZero {
                op: "div",
                lhs: self.to_string(),
            });
        }
        mul_div_u128(self.0, SCALE, rhs.0, rounding)
            .map(Self)
            .map_err(|_| self.err_overflow("div", rhs))
    }

    /// `self x n` for an integer `n`, exact.
    pub fn mul_int(self, n: u128) -> Result<Self> {
        self.0
            .checked_mul(n)
            .map(Self)
            .ok_or_else(|| Error::Overflow {
                op: "mul_int",
                lhs: self.to_string(),
                rhs: n.to_string(),
            })
    }

    /// The integer part, rounded as asked.
    pub fn to_int(self, rounding: Rounding) -> u128 {
        match rounding {
            Rounding::Floor => self.0 / SCALE,
            Rounding::Ceil => self.0.div_ceil(SCALE),
        }
    }

    fn err_overflow(self, op: &'static str, rhs: Self) -> Error {
        Error::Overflow {
            op,
            lhs: self.to_string(),
            rhs: rhs.to_string(),
        }
    }

    /// Parses a decimal string exactly; see the module documentation for the grammar.
    pub fn parse(input: &str) -> Result<Self> {
        let err = |offset: usize, reason: &'static str| Error::Parse {
            input: input.to_owned(),
            offset,
            reason,
        };
        if input.is_empty() {
            return Err(err(0, "empty string"));
        }
        let (int_part, frac_part) = match input.find('.') {
            Some(dot) => (&input[..dot], Some((dot, &input[dot + 1..]))),
            None => (input, None),
        };
        if let Some(pos) = int_part.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(err(pos, "expected a digit or '.'"));
        }
        let mut raw: u128 = 0;
        for b in int_part.bytes() {
            raw = raw
                .checked_mul(10)
                .and_then(|r| r.checked_add(u128::from(b - b'0')))
                .ok_or_else(|| err(0, "value too large for FP18"))?;
        }
        raw = raw
            .checked_mul(SCALE)
            .ok_or_else(|| err(0, "value too large for FP18"))?;
        if let Some((dot, frac)) = frac_part {
            if frac.is_empty() {
                return Err(err(dot, "'.' must be followed by digits"));
            }
            if let Some(pos) = frac.bytes().position(|b| !b.is_ascii_digit()) {
                return Err(err(dot + 1 + pos, "expected a digit"));
            }
            if frac.len() > DECIMALS {
                return Err(err(dot + 1 + DECIMALS, "more than 18 fractional digits"));
            }
            let mut f: u128 = 0;
            for b in frac.bytes() {
                f = f * 10 + u128::from(b - b'0');
            }
            let pad = 10u128.pow(u32::try_from(DECIMALS - frac.len()).unwrap_or(0));
            raw = raw
                .checked_add(f * pad)
                .ok_or_else(|| err(0, "value too large for FP18"))?;
        } else if int_part.is_empty() {
            return Err(err(0, "empty string"));
        }
        Ok(Self(raw))
    }
}

impl fmt::Display for Fp18 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / SCALE;
        let frac = self.0 % SCALE;
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:018}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

impl FromStr for Fp18 {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Fp18 {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fp18 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    #[test]
    fn parses_the_accepted_forms() {
        assert_eq!(p("1.5").raw(), 1_500_000_000_000_000_000);
        assert_eq!(p("2").raw(), 2 * SCALE);
        assert_eq!(p(".5").raw(), SCALE / 2);
        assert_eq!(p("0.000000000000000001").raw(), 1);
        assert_eq!(p("007.10").raw(), 7_100_000_000_000_000_000);
        assert_eq!(p("0").raw(), 0);
    }

    #[test]
    fn rejects_everything_else_naming_the_offset() {
        for (input, offset) in [
            ("", 0),
            (".", 0),
            ("1.", 1),
            ("-1", 0),
            ("+1", 0),
            ("1e3", 1),
            (" 1", 0),
            ("1 ", 1),
            ("1.2.3", 3),
            ("0.0000000000000000001", 20),
            ("1,5", 1),
            ("١", 0),
        ] {
            match Fp18::parse(input) {
                Err(Error::Parse {
                    input: got,
                    offset: at,
                    ..
                }) => {
                    assert_eq!(got, input);
                    assert_eq!(at, offset, "offset for {input:?}");
                }
                other => panic!("{input:?} parsed as {other:?}"),
            }
        }
        assert!(Fp18::parse("340282366920938463464").is_err());
    }

    #[test]
    fn formats_shortest() {
        assert_eq!(p("1.50").to_string(), "1.5");
        assert_eq!(p(".5").to_string(), "0.5");
        assert_eq!(p("10").to_string(), "10");
        assert_eq!(Fp18::from_raw(1).to_string(), "0.000000000000000001");
        assert_eq!(
            Fp18::MAX.to_string(),
            "340282366920938463463.374607431768211455"
        );
    }

    #[test]
    fn multiplies_and_divides_with_named_rounding() {
        let third = p("1").div(p("3"), Rounding::Floor).unwrap();
        assert_eq!(third.to_string(), "0.333333333333333333");
        assert_eq!(
            p("1").div(p("3"), Rounding::Ceil).unwrap().to_string(),
            "0.333333333333333334"
        );
        let tiny = Fp18::from_raw(1);
        assert_eq!(tiny.mul(tiny, Rounding::Floor).unwrap(), Fp18::ZERO);
        assert_eq!(tiny.mul(tiny, Rounding::Ceil).unwrap(), tiny);
        assert_eq!(p("1.5").mul(p("2"), Rounding::Floor).unwrap(), p("3"));
        assert!(p("1").div(Fp18::ZERO, Rounding::Floor).is_err());
        assert!(Fp18::MAX.mul(p("2"), Rounding::Floor).is_err());
        // The intermediate exceeds 128 bits, the result does not.
        let big = p("100000000000000000000");
        assert_eq!(
            big.mul(p("3"), Rounding::Floor).unwrap(),
            p("300000000000000000000")
        );
    }

    #[test]
    fn serde_uses_canonical_strings() {
        let v: Fp18 = serde_json::from_str("\"1.50\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1.5\"");
        assert!(serde_json::from_str::<Fp18>("1.5").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(raw in any::<u128>()) {
            let x = Fp18::from_raw(raw);
            prop_assert_eq!(Fp18::parse(&x.to_string()).unwrap(), x);
        }

        #[test]
        fn floor_and_ceil_bracket_the_exact_product(a in any::<u64>(), b in any::<u64>()) {
            let exact = u128::from(a) * u128::from(b);
            let (a, b) = (Fp18::from_raw(a.into()), Fp18::from_raw(b.into()));
            let lo = a.mul(b, Rounding::Floor).unwrap().raw();
            let hi = a.mul(b, Rounding::Ceil).unwrap().raw();
            prop_assert!(lo * SCALE <= exact && exact <= hi * SCALE);
            prop_assert!(hi - lo <= 1);
        }

        #[test]
        fn parse_never_panics(s in ".{0,48}") {
            let _ = Fp18::parse(&s);
        }
    }
}
