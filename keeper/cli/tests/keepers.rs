//! Five keepers (`tao20 validator run`, separate processes) on a devnet, with nothing scripted:
//! they publish an epoch's creation file, mint a valid delivery and refund an invalid one, each
//! with one transaction; and killed at every step of the pipeline and restarted, they still
//! settle every request, never sign two contents for one subject, and drain their outboxes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::BlockNumberOrTag;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use assert_cmd::cargo::CommandCargoExt;
use tao20_bevm::bindings::TAO20;
use tao20_bevm::reader::RequestStatus;
use tao20_bevm::{Reader, Writer};
use tao20_chain::sim::{RemoteTransport, SimClient};
use tao20_chain::Subtensor;
use tao20_devnet::keepers;
use tao20_devnet::process::{self, Started};
use tao20_devnet::up::DevnetFile;
use tao20_miner::creation::{self, MinerKeys};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// anvil's third development key (funded by anvil).
const MINER_EVM: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

struct Net {
    _tmp: tempfile::TempDir,
    file: DevnetFile,
    extra: Vec<(Child, Started)>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for (c, s) in &mut self.extra {
            process::stop(s, Duration::from_secs(2));
            let _ = c.wait();
        }
        let _ = tao20_devnet::up::down(&self.file.options.dir);
    }
}

fn up(extra_args: &[&str]) -> Net {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("MECH_KEEP").map_or_else(|| tmp.path().join("net"), PathBuf::from);
    let out = Command::cargo_bin("tao20")
        .unwrap()
        .current_dir(root())
        .args(["devnet", "up", "--detach", "--dir"])
        .arg(&dir)
        .args([
            "--validators",
            "5",
            "--block-time-ms",
            "100",
            "--delivery-window",
            "30",
            // The creation path only: tests/mechanisms.rs runs the subnet's mechanisms.
            "--no-mechanisms",
        ])
        .args(extra_args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Net {
        file: DevnetFile::load(&dir).unwrap(),
        _tmp: tmp,
        extra: Vec::new(),
    }
}

struct Miner {
    keys: MinerKeys,
    writer: Writer,
    sim: SimClient<RemoteTransport>,
}

async fn miner(net: &Net, name: &str) -> Miner {
    tao20_bevm::rpc::ensure_tls();
    let f = &net.file;
    let coldkey = tao20_devnet::keys::substrate(f.options.seed, &format!("{name}/coldkey"))
        .unwrap()
        .account;
    let hotkey = tao20_devnet::keys::substrate(f.options.seed, &format!("{name}/hotkey"))
        .unwrap()
        .account;
    let key: PrivateKeySigner = MINER_EVM.parse().unwrap();
    let keys = MinerKeys {
        coldkey,
        hotkey,
        evm: key.address(),
    };
    let sim = f.simulator().as_signer(coldkey);
    for &n in &f.alpha_netuids {
        sim.register_neuron(n, hotkey, coldkey).await.unwrap();
        sim.add_stake(hotkey, n, 500 * 1_000_000_000).await.unwrap();
    }
    let writer = Writer::new(
        tao20_bevm::rpc::connect_with_signer(&f.anvil_rpc, key.clone()).unwrap(),
        f.tao20,
        key.address(),
        1,
        Duration::from_secs(60),
    )
    .with_poll_interval(Duration::from_millis(50));
    Miner { keys, writer, sim }
}

fn reader(net: &Net) -> Reader {
    Reader::new(
        tao20_bevm::rpc::connect(&net.file.anvil_rpc).unwrap(),
        &net.file.deployment().unwrap(),
    )
}

/// Requests one unit and delivers `part` of the basket (1.0 = all of it, any other: the first
/// asset only).
async fn create(net: &Net, m: &Miner, full: bool) -> B256 {
    let r = reader(net);
    let deployment = net.file.deployment().unwrap();
    let head = r.head().await.unwrap();
    let file = r
        .fund(head)
        .await
        .unwrap()
        .creation_file
        .expect("a published epoch");
    let bond = TAO20::new(net.file.tao20, r.provider().clone())
        .creationBond()
        .call()
        .await
        .unwrap();
    let req = creation::request(&m.writer, &r, &m.keys, 1, U256::ZERO, U256::from(bond))
        .await
        .unwrap();
    let mut amounts = creation::basket(&file, 1).unwrap();
    if !full {
        amounts.truncate(1);
    }
    creation::deliver(&m.sim, &deployment, &m.keys, req.request_id, &amounts)
        .await
        .unwrap();
    req.request_id
}

/// Calls to the fund's `selector` in blocks `[from, to]`.
async fn calls(net: &Net, selector: [u8; 4], from: u64, to: u64) -> usize {
    let p = tao20_bevm::rpc::connect(&net.file.anvil_rpc).unwrap();
    let mut n = 0;
    for b in from..=to {
        let block = p
            .get_block_by_number(BlockNumberOrTag::Number(b))
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.txns() {
            use alloy::consensus::Transaction;
            if tx.to() == Some(net.file.tao20) && tx.input().get(..4) == Some(&selector[..]) {
                n += 1;
            }
        }
    }
    n
}

fn status(db: &Path) -> serde_json::Value {
    let out = Command::cargo_bin("tao20")
        .unwrap()
        .args(["validator", "status", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn wait_blocks(sim: &SimClient<RemoteTransport>, until: u64) {
    while sim.finalized_head().await.unwrap().number < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_keepers_publish_mint_and_refund_each_with_one_transaction() {
    let net = up(&["--epoch-length", "260"]);
    let m = miner(&net, "test-miner").await;
    let r = reader(&net);
    let start = r.head().await.unwrap();

    let valid = create(&net, &m, true).await;
    let invalid = create(&net, &m, false).await;
    let timeout = Duration::from_secs(120);
    let minted = creation::settled(&r, valid, Duration::from_millis(200), timeout)
        .await
        .unwrap();
    assert_eq!(minted.status, RequestStatus::Minted);
    let refunded = creation::settled(&r, invalid, Duration::from_millis(200), timeout)
        .await
        .unwrap();
    assert_eq!(refunded.status, RequestStatus::Refunded);
    let shares = TAO20::new(net.file.tao20, r.provider().clone())
        .balanceOf(m.keys.evm)
        .call()
        .await
        .unwrap();
    assert!(shares > U256::ZERO, "the valid delivery minted shares");

    // The keepers publish epoch 1's creation file themselves at its boundary.
    let sim = net.file.simulator();
    wait_blocks(&sim, 262).await;
    let deadline = tokio::time::Instant::now() + timeout;
    while r
        .creation_file(1, r.head().await.unwrap())
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "epoch 1 was never published"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let the later turns of the transmission schedule pass: nobody sends a second transaction.
    // Five turns of the devnet's 20-block stage (2 s of 100 ms blocks).
    let settle_at = r.head().await.unwrap() + 100;
    wait_blocks(&sim, settle_at).await;
    let end = r.head().await.unwrap();
    assert_eq!(calls(&net, TAO20::mintCall::SELECTOR, start, end).await, 1);
    assert_eq!(
        calls(&net, TAO20::refundCall::SELECTOR, start, end).await,
        1
    );
    assert_eq!(
        calls(&net, TAO20::publishEpochCall::SELECTOR, start, end).await,
        1,
        "epoch 1, by the keepers"
    );
    for i in 0..5 {
        let s = status(&keepers::keeper_dir(&net.file.options.dir, i).join("keeper.sqlite"));
        assert_eq!(s["journal"]["refused"], 0, "keeper {i}: {s}");
        assert!(
            s["journal"]["signed"].as_u64().unwrap() >= 3,
            "keeper {i}: {s}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_killed_at_every_step_settle_everything_and_never_equivocate() {
    let mut net = up(&["--epoch-length", "5000"]);
    let m = miner(&net, "crash-miner").await;
    let r = reader(&net);
    let crash_dir = net.file.options.dir.join("crash");
    let points = [
        tao20_node::failpoint::AFTER_JOURNAL_COMMIT,
        tao20_node::failpoint::AFTER_SIGN,
        tao20_node::failpoint::AFTER_PUSH,
        tao20_node::failpoint::AFTER_SUBMIT,
    ];
    // Every keeper is restarted with every crash point armed (once each, per keeper).
    for (i, s) in net.file.processes.clone().iter().enumerate().skip(2) {
        process::stop(s, Duration::from_secs(5));
        let dir = crash_dir.join((i - 2).to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let env = vec![
            ("TAO20_CRASH_AT".to_string(), points.join(",")),
            ("TAO20_CRASH_DIR".to_string(), dir.display().to_string()),
        ];
        let config = keepers::keeper_dir(&net.file.options.dir, i - 2).join("keeper.toml");
        net.extra
            .push(keepers::spawn_keeper_with_env(&net.file, i - 2, &config, &env).unwrap());
    }
    let mut requests = Vec::new();
    for k in 0..3 {
        requests.push((create(&net, &m, k != 1).await, k != 1));
    }
    // A watchdog restarts every keeper that killed itself (its markers keep it from dying twice
    // at the same point).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut restarts = 0;
    loop {
        for idx in 0..net.extra.len() {
            let dead = matches!(net.extra[idx].0.try_wait(), Ok(Some(_)));
            if dead {
                let i = idx;
                let dir = crash_dir.join(i.to_string());
                let env = vec![
                    ("TAO20_CRASH_AT".to_string(), points.join(",")),
                    ("TAO20_CRASH_DIR".to_string(), dir.display().to_string()),
                ];
                let config = keepers::keeper_dir(&net.file.options.dir, i).join("keeper.toml");
                net.extra[idx] =
                    keepers::spawn_keeper_with_env(&net.file, i, &config, &env).unwrap();
                restarts += 1;
            }
        }
        let head = r.head().await.unwrap();
        let mut settled = true;
        for (id, _) in &requests {
            let st = r.request(*id, head).await.unwrap().unwrap().status;
            settled &= st != RequestStatus::Pending;
        }
        if settled {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "requests still pending after the crashes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        restarts >= 4,
        "the keepers crashed and were restarted ({restarts})"
    );
    let head = r.head().await.unwrap();
    for (id, valid) in &requests {
        let want = if *valid {
            RequestStatus::Minted
        } else {
            RequestStatus::Refunded
        };
        assert_eq!(r.request(*id, head).await.unwrap().unwrap().status, want);
    }
    // Every crash point was reached by some keeper.
    for p in points {
        assert!(
            (0..5).any(|i| crash_dir.join(i.to_string()).join(p).exists()),
            "no keeper reached {p}"
        );
    }
    // No keeper ever refused (it never proposed two contents), and the outboxes drain.
    let sim = net.file.simulator();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s: Vec<serde_json::Value> = (0..5)
            .map(|i| status(&keepers::keeper_dir(&net.file.options.dir, i).join("keeper.sqlite")))
            .collect();
        for (i, st) in s.iter().enumerate() {
            assert_eq!(st["journal"]["refused"], 0, "keeper {i}: {st}");
        }
        if s.iter().all(|st| st["outboxDepth"] == 0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "outboxes did not drain: {s:?}"
        );
        let h = sim.finalized_head().await.unwrap().number;
        wait_blocks(&sim, h + 5).await;
    }
}
