//! `tao20 sim serve` starts, prints its address, and answers a client in another process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tao20_chain::sim::{SimClient, SubnetSpec, WEIGHT_ONE};
use tao20_chain::types::Bytes32;
use tao20_chain::Subtensor;

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(seed: u64) -> (Server, String, serde_json::Value) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tao20"))
        .args(["sim", "serve", "--listen", "127.0.0.1:0", "--seed"])
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let banner: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr = banner["listening"].as_str().unwrap().to_string();
    (server, addr, banner)
}

async fn scenario(addr: &str) -> (u64, u64) {
    let owner = Bytes32([1; 32]);
    let client = SimClient::connect(addr.to_string());
    client
        .register_subnet(SubnetSpec {
            netuid: 4,
            owner,
            owner_hotkey: Bytes32([2; 32]),
            tempo: 99,
            tao_in: 1_000_000_000_000,
            alpha_in: 3_000_000_000_000,
            weight_tao: WEIGHT_ONE / 2,
        })
        .await
        .unwrap();
    let head = client.advance(50).await.unwrap();
    assert_eq!(client.finalized_head().await.unwrap(), head);
    assert_eq!(client.tempo(head.number, 4).await.unwrap(), 99);
    assert_eq!(client.subnet_owner(head.number, 4).await.unwrap(), owner);
    // The stateful schedule over the wire: registered at block 1, staggered by netuid 4 % 99
    // (saturating at 0), its first epoch due at 99.
    let schedule = client.epoch_schedule(head.number, 4).await.unwrap();
    assert_eq!(
        (
            schedule.tempo,
            schedule.last_epoch_block,
            schedule.subnet_epoch_index
        ),
        (99, 0, 0)
    );
    assert_eq!(schedule.blocks_since_last_step, head.number - 1);
    client.advance(49).await.unwrap();
    let later = client.finalized_head().await.unwrap().number;
    let schedule = client.epoch_schedule(later, 4).await.unwrap();
    assert_eq!(
        (schedule.last_epoch_block, schedule.subnet_epoch_index),
        (99, 1)
    );
    (
        head.number,
        client.current_alpha_price(head.number, 4).await.unwrap(),
    )
}

#[tokio::test]
async fn sim_serve_answers_a_client_and_the_seed_makes_runs_reproducible() {
    let (_a, addr_a, banner) = start(11);
    assert_eq!(banner["config"]["seed"], 11);
    let (_b, addr_b, _) = start(11);
    let (_c, addr_c, _) = start(12);
    let a = scenario(&addr_a).await;
    assert_eq!(a, scenario(&addr_b).await, "same seed, same chain");
    let c = scenario(&addr_c).await;
    assert_eq!(a.0, c.0);
    assert_ne!(a.1, c.1, "another seed walks the price elsewhere");
}

#[test]
fn a_bad_listen_address_is_an_input_error() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("tao20"))
        .args(["sim", "serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}
