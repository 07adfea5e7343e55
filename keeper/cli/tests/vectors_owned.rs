//! Every case of the shared vectors file that names the Rust suite is asserted by some crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

#[test]
fn every_rust_vector_has_an_owner() {
    let owned: BTreeSet<&str> = [
        tao20_core::vectors::VECTOR_KINDS,
        tao20_creation::vectors::VECTOR_KINDS,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    let file = tao20_core::vectors::load().unwrap();
    let orphans: Vec<String> = file
        .cases
        .iter()
        .filter(|(_, c)| {
            c.asserted_by.iter().any(|s| s == "rust") && !owned.contains(c.kind.as_str())
        })
        .map(|(n, c)| format!("{n} ({})", c.kind))
        .collect();
    assert!(
        orphans.is_empty(),
        "vector cases no Rust suite asserts: {orphans:?}"
    );
    for (name, case) in &file.cases {
        for suite in &case.asserted_by {
            assert!(
                suite == "rust" || suite == "forge",
                "{name}: unknown suite {suite}"
            );
        }
    }
}
