//! What the devnet CLI tests share: a devnet brought up by `tao20 devnet up --detach` and taken
//! down on drop, a miner with stake on every basket subnet, a creation, and the keepers' status.
#![allow(dead_code)] // each test file uses the part it needs

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use alloy::primitives::{B256, U256};
use alloy::signers::local::PrivateKeySigner;
use assert_cmd::cargo::CommandCargoExt;
use tao20_bevm::bindings::TAO20;
use tao20_bevm::{Reader, Writer};
use tao20_chain::sim::{DevTransport, SimClient};
use tao20_chain::Subtensor;
use tao20_devnet::process::{self, Started};
use tao20_devnet::up::DevnetFile;
use tao20_miner::creation::{self, MinerKeys};

/// The repository.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One devnet at a time per test binary: five keepers, a miner, anvil and the node already fill
/// two cores, and a second devnet beside them leaves every keeper lagging the 100 ms blocks.
static ONE_DEVNET: Mutex<()> = Mutex::new(());

/// A running devnet; `extra` holds processes a test started itself (restarted keepers).
pub struct Net {
    pub _tmp: tempfile::TempDir,
    pub file: DevnetFile,
    pub extra: Vec<(Child, Started)>,
    /// Released after `Drop` took the devnet down (fields drop after it, in order).
    pub _turn: MutexGuard<'static, ()>,
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

/// `tao20 devnet up --detach --dir D ARGS` (D is `KEEP_DEVNET_DIR` when set, to look at it after).
pub fn up(args: &[&str]) -> Net {
    // A test that failed with the devnet up poisons the lock; the devnet went down with it.
    let turn = ONE_DEVNET.lock().unwrap_or_else(PoisonError::into_inner);
    let tmp = tempfile::tempdir().unwrap();
    let dir =
        std::env::var_os("KEEP_DEVNET_DIR").map_or_else(|| tmp.path().join("net"), PathBuf::from);
    let out = Command::cargo_bin("tao20")
        .unwrap()
        .current_dir(root())
        .args(["devnet", "up", "--detach", "--dir"])
        .arg(&dir)
        .args(args)
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
        _turn: turn,
    }
}

/// A creation miner: keys, its EVM writer, the simulator as its coldkey.
pub struct Miner {
    pub keys: MinerKeys,
    pub writer: Writer,
    pub sim: SimClient<DevTransport>,
}

/// Miner `name` (its substrate keys derived from the devnet seed) with EVM key `evm_key`, 500
/// TAO staked on every basket subnet.
pub async fn miner(net: &Net, name: &str, evm_key: &str) -> Miner {
    tao20_bevm::rpc::ensure_tls();
    let f = &net.file;
    let coldkey = tao20_devnet::keys::substrate(f.options.seed, &format!("{name}/coldkey"))
        .unwrap()
        .account;
    let hotkey = tao20_devnet::keys::substrate(f.options.seed, &format!("{name}/hotkey"))
        .unwrap()
        .account;
    let key: PrivateKeySigner = evm_key.parse().unwrap();
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

/// A reader of the devnet's fund.
pub fn reader(net: &Net) -> Reader {
    Reader::new(
        tao20_bevm::rpc::connect(&net.file.anvil_rpc).unwrap(),
        &net.file.deployment().unwrap(),
    )
}

/// Requests one unit and delivers the whole basket (`full`) or its first asset only.
pub async fn create(net: &Net, m: &Miner, full: bool) -> B256 {
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

/// `tao20 validator status --db` (read-only while the keeper runs).
pub fn status(db: &Path) -> serde_json::Value {
    // A keeper creates its database once connected to both chains: wait for it to appear.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !db.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    tao20_json(&[
        "validator".as_ref(),
        "status".as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
    ])
}

/// `tao20 ARGS` that must succeed, its standard output as JSON.
pub fn tao20_json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = Command::cargo_bin("tao20")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Waits until the simulator's finalized head reaches `until`.
pub async fn wait_blocks(sim: &SimClient<DevTransport>, until: u64) {
    while sim.finalized_head().await.unwrap().number < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
