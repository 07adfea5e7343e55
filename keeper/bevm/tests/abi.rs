//! The checked-in ABIs the bindings are generated from must be the forge artifacts' ABIs: a
//! contract change that is not copied into `keeper/bevm/abi/` fails here.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn checked_in_abis_match_the_forge_artifacts() {
    for name in ["TAO20", "IStaking", "IAlpha"] {
        let artifact = root().join(format!("out/{name}.sol/{name}.json"));
        let text = std::fs::read_to_string(&artifact)
            .unwrap_or_else(|e| panic!("{}: {e}; run `forge build` first", artifact.display()));
        let built: serde_json::Value = serde_json::from_str(&text).unwrap();
        let checked_in: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("keeper/bevm/abi/{name}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            built["abi"], checked_in,
            "keeper/bevm/abi/{name}.json differs from the forge artifact: copy its \"abi\" (tools/sync-abi.sh)"
        );
    }
}
