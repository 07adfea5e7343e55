//! The checked-in ABIs the bindings are generated from must be the ones the forge artifacts give
//! (assembled by `tools/abi.py` the way `script/Deploy.s.sol` writes the deployment's ABI): a
//! contract change that is not copied into `keeper/bevm/abi/` fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn checked_in_abis_match_the_forge_artifacts() {
    assert!(
        root().join("out/ITAO20.sol/ITAO20.json").exists(),
        "no forge artifacts: run `forge build` first"
    );
    let out = Command::new("python3")
        .arg("tools/abi.py")
        .arg("check")
        .current_dir(root())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_bindings_speak_the_deployment_abi() {
    // Integrators read deployments/31337.json; the keeper's bindings must speak the same ABI.
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root().join(p)).unwrap()).unwrap()
    };
    let names = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{} {}", i["type"], i["name"]))
            .collect()
    };
    let deployment = read("deployments/31337.json");
    assert_eq!(
        names(&deployment["abi"]),
        names(&read("keeper/bevm/abi/TAO20.json"))
    );
    assert_eq!(
        names(&deployment["timelockAbi"]),
        names(&read("keeper/bevm/abi/TAO20Timelock.json"))
    );
}
