//! Integer `a x b / c` with an explicit rounding direction and no intermediate overflow.
//!
//! The contracts compute the same quantities with OpenZeppelin's `Math.mulDiv` (512-bit
//! intermediate); these functions are their bit-exact counterparts.

use alloy_primitives::{U256, U512};

use crate::{Error, Result, Rounding};

/// `floor(a x b / c)` or `ceil(a x b / c)` for `u128` operands, through a 256-bit product.
///
/// Errors when `c == 0` or the quotient does not fit `u128`.
pub fn mul_div_u128(a: u128, b: u128, c: u128, rounding: Rounding) -> Result<u128> {
    let q = mul_div(U256::from(a), U256::from(b), U256::from(c), rounding)?;
    u128::try_from(q).map_err(|_| Error::Overflow {
        op: "mul_div",
        lhs: format!("{a} x {b}"),
        rhs: c.to_string(),
    })
}

/// `floor(a x b / c)` or `ceil(a x b / c)` for 256-bit operands, through a 512-bit product.
///
/// Errors when `c == 0` or the quotient does not fit 256 bits.
pub fn mul_div(a: U256, b: U256, c: U256, rounding: Rounding) -> Result<U256> {
    if c.is_zero() {
        return Err(Error::DivisionByZero {
            op: "mul_div",
            lhs: format!("{a} x {b}"),
        });
    }
    let product = U512::from(a) * U512::from(b);
    let divisor = U512::from(c);
    let (q, r) = product.div_rem(divisor);
    let q = match rounding {
        Rounding::Floor => q,
        Rounding::Ceil if r.is_zero() => q,
        // q < 2^512 / 1 and q + 1 cannot wrap: q <= product / c and product < 2^512 - 1.
        Rounding::Ceil => q + U512::from(1u8),
    };
    let limbs = q.as_limbs();
    match limbs.split_at(4) {
        (low, high) if high.iter().all(|&l| l == 0) => Ok(U256::from_limbs_slice(low)),
        _ => Err(Error::Overflow {
            op: "mul_div",
            lhs: format!("{a} x {b}"),
            rhs: c.to_string(),
        }),
    }
}

/// `ceil(a / b)` for `u128`; errors when `b == 0`.
pub fn div_ceil_u128(a: u128, b: u128) -> Result<u128> {
    if b == 0 {
        return Err(Error::DivisionByZero {
            op: "div_ceil",
            lhs: a.to_string(),
        });
    }
    Ok(a.div_ceil(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_in_the_named_direction() {
        assert_eq!(mul_div_u128(7, 3, 2, Rounding::Floor).unwrap(), 10);
        assert_eq!(mul_div_u128(7, 3, 2, Rounding::Ceil).unwrap(), 11);
        assert_eq!(mul_div_u128(8, 3, 2, Rounding::Ceil).unwrap(), 12);
    }

    #[test]
    fn survives_products_beyond_256_bits() {
        let max = U256::MAX;
        assert_eq!(mul_div(max, max, max, Rounding::Floor).unwrap(), max);
        assert_eq!(
            mul_div(max, max - U256::from(1u8), max, Rounding::Ceil).unwrap(),
            max - U256::from(1u8)
        );
    }

    #[test]
    fn reports_overflow_and_zero_divisor() {
        assert!(matches!(
            mul_div_u128(u128::MAX, 2, 1, Rounding::Floor),
            Err(Error::Overflow { .. })
        ));
        assert!(matches!(
            mul_div_u128(1, 2, 0, Rounding::Floor),
            Err(Error::DivisionByZero { .. })
        ));
        assert!(matches!(
            div_ceil_u128(1, 0),
            Err(Error::DivisionByZero { .. })
        ));
        assert_eq!(div_ceil_u128(7, 2).unwrap(), 4);
    }
}
