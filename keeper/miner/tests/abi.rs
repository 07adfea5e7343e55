//! The checked-in ABIs under `abi/` are those of the npm artifacts the devnet deploys
//! (`@uniswap/v2-core` 1.0.1, `@uniswap/v2-periphery` 1.1.0-beta.0), so the miner's bindings
//! speak to exactly those contracts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn checked_in_abis_are_the_npm_artifacts() {
    for (name, package) in [
        ("UniswapV2Factory", "v2-core"),
        ("UniswapV2Pair", "v2-core"),
        ("UniswapV2Router02", "v2-periphery"),
        ("WETH9", "v2-periphery"),
    ] {
        let ours: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("abi/{name}.json"))).unwrap(),
        )
        .unwrap();
        let npm = root().join(format!(
            "../../node_modules/@uniswap/{package}/build/{name}.json"
        ));
        let text = std::fs::read_to_string(&npm)
            .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci`)", npm.display()));
        let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(ours, theirs["abi"], "{name}");
    }
}
