//! The config digest binds what must agree across keepers and nothing that is an operator's own
//! choice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use tao20_bevm::Deployment;
use tao20_node::config::KeeperConfig;
use tao20_node::consensus::ConsensusParams;

fn config() -> KeeperConfig {
    KeeperConfig::from_toml(
        r#"
[subtensor]
network = "local"
chain_endpoint = "ws://127.0.0.1:9944"
netuid = 2

[bevm]
rpc = "http://127.0.0.1:8545"
deployment = "deployment.json"

[signer]
keystore = "report-key"
password_file = "password"

[store]
path = "keeper.sqlite"
"#,
    )
    .unwrap()
}

fn deployment() -> Deployment {
    Deployment::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deployments/31337.json"),
    )
    .unwrap()
}

#[test]
fn the_digest_moves_with_consensus_parameters_only() {
    let dep = deployment();
    let base = config();
    let digest = |c: &KeeperConfig| ConsensusParams::of(c, &dep).digest();
    let d0 = digest(&base);
    assert_eq!(d0, digest(&base.clone()), "deterministic");

    let mut window = base.clone();
    window.creation.price_window += 1;
    let mut stage = base.clone();
    stage.transmit.stage_blocks += 1;
    let mut depth = base.clone();
    depth.bevm.confirmations += 1;
    let mut gap = base.clone();
    gap.mechanisms.max_gap_blocks += 1;
    for (what, c) in [
        ("price window", &window),
        ("stage", &stage),
        ("BEVM depth", &depth),
        ("sampling gap", &gap),
    ] {
        assert_ne!(digest(c), d0, "{what} is a consensus parameter");
    }
    let mut other_deployment = dep.clone();
    other_deployment.deploy_block += 1;
    assert_ne!(ConsensusParams::of(&base, &other_deployment).digest(), d0);

    // An operator's own settings leave it alone.
    let mut own = base.clone();
    own.engine.poll_ms += 1;
    own.exchange.listen = "127.0.0.1:1".parse().unwrap();
    own.exchange.peer_timeout_secs += 1;
    own.bevm.request_timeout_ms += 1;
    own.store.retention_blocks += 1;
    own.mechanisms.cap = tao20_core::Fp18::from_raw(own.mechanisms.cap.raw() + 1);
    assert_eq!(digest(&own), d0);
}
