//! Asserts the core's share of the shared vectors file (the forge suite asserts the same file).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::Address;
use tao20_core::domain::domain_separator;
use tao20_core::vectors::{load, str_field, VECTOR_KINDS};
use tao20_core::{Error, Fp18, Rounding};

fn rounding(s: &str) -> Rounding {
    match s {
        "floor" => Rounding::Floor,
        "ceil" => Rounding::Ceil,
        other => panic!("unknown rounding {other}"),
    }
}

#[test]
fn core_vectors_hold() {
    let file = load().unwrap();
    assert_eq!(file.schema, 1);
    let mut asserted = 0;
    for kind in VECTOR_KINDS {
        for (name, case) in file.rust_cases(kind) {
            let (i, e) = (&case.input, &case.expected);
            match *kind {
                "eip712_domain" => {
                    let chain = i["chainId"].as_u64().unwrap();
                    let addr: Address = str_field(i, "verifyingContract", name)
                        .unwrap()
                        .parse()
                        .unwrap();
                    let want = str_field(e, "domainSeparator", name).unwrap();
                    assert_eq!(domain_separator(chain, addr).to_string(), want, "{name}");
                }
                "fp18_parse" => {
                    let v = Fp18::parse(str_field(i, "text", name).unwrap()).unwrap();
                    assert_eq!(
                        v.raw().to_string(),
                        str_field(e, "raw", name).unwrap(),
                        "{name}"
                    );
                    assert_eq!(
                        v.to_string(),
                        str_field(e, "canonical", name).unwrap(),
                        "{name}"
                    );
                }
                "fp18_parse_error" => match Fp18::parse(str_field(i, "text", name).unwrap()) {
                    Err(Error::Parse { offset, .. }) => {
                        assert_eq!(offset as u64, e["offset"].as_u64().unwrap(), "{name}")
                    }
                    other => panic!("{name}: expected a parse error, got {other:?}"),
                },
                "fp18_mul" | "fp18_div" => {
                    let a = Fp18::from_raw(str_field(i, "a", name).unwrap().parse().unwrap());
                    let b = Fp18::from_raw(str_field(i, "b", name).unwrap().parse().unwrap());
                    let r = rounding(str_field(i, "rounding", name).unwrap());
                    let got = if *kind == "fp18_mul" {
                        a.mul(b, r)
                    } else {
                        a.div(b, r)
                    }
                    .unwrap();
                    assert_eq!(
                        got.raw().to_string(),
                        str_field(e, "result", name).unwrap(),
                        "{name}"
                    );
                }
                other => panic!("VECTOR_KINDS lists {other} but this test has no handler"),
            }
            asserted += 1;
        }
    }
    assert!(asserted >= 40, "only {asserted} core vector cases asserted");
}
