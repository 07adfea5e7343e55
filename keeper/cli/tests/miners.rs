//! Both miners on a devnet with three keepers: `tao20 miner create` finds the pair seeded above
//! NAV, creates at a profit (the log shows the premium closing), then redeems at a profit once a
//! holder's sale pushes the pool below NAV (the discount closing), killed at every crash point
//! on the way and restarted each time, never delivering twice; `tao20 miner
//! bid` keeps its bids committed while its file is edited (a bad edit refused) and reports the
//! commits and a window's result through its hook.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, U256};
use alloy::providers::Provider;
use assert_cmd::cargo::CommandCargoExt;
use tao20_chain::types::Call;
use tao20_chain::Subtensor;
use tao20_devnet::up::DevnetFile;

const TAO: u64 = 1_000_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Net {
    _tmp: tempfile::TempDir,
    file: DevnetFile,
    children: Vec<Child>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = tao20_devnet::up::down(&self.file.options.dir);
    }
}

fn up() -> Net {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("MINERS_KEEP").map_or_else(|| tmp.path().join("net"), PathBuf::from);
    let out = Command::cargo_bin("tao20")
        .unwrap()
        .current_dir(root())
        .args(["devnet", "up", "--detach", "--dir"])
        .arg(&dir)
        .args([
            "--validators",
            "3",
            // Three keepers are the whole quorum (2/3 of 3, plus one).
            "--signers",
            "3",
            "--block-time-ms",
            "100",
            "--subnets",
            "2",
            // Room for five restarts inside one creation's window at 100 ms blocks (a restart
            // costs about a second, and each recovery waits `inflight_blocks`).
            "--delivery-window",
            "150",
        ])
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
        children: Vec::new(),
    }
}

fn miner(args: &[&str], config: &Path, log: &Path, env: &[(&str, &str)]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut cmd = Command::cargo_bin("tao20").unwrap();
    cmd.current_dir(root())
        .arg("miner")
        .args(args)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn status(config: &Path) -> serde_json::Value {
    let out = Command::cargo_bin("tao20")
        .unwrap()
        .args(["miner", "status", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn bids_toml(f: &DevnetFile, dir: &Path, bids: &str) -> String {
    format!(
        "[subtensor]\nnetwork = \"local\"\nchain_endpoint = \"{}\"\nnetuid = {}\n\
         [wallet]\nsuri_file = \"{}\"\n\
         [commit]\nmin_interval_blocks = 5\nrefresh_blocks = 600\n\
         [hooks]\ncommand = [\"python3\", \"examples/devnet-rig-hook.py\"]\n\
         [engine]\npoll_ms = 200\n\
         {bids}",
        f.substrate,
        f.tao20_netuid,
        dir.join("bidder.suri").display()
    )
}

fn hook_events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Every point the creation miner can be killed at on a creation and a redemption.
const CRASH_POINTS: &[&str] = &[
    "before-broadcast-requestCreation",
    "after-request",
    "before-buy",
    "after-buy",
    "before-deliver",
    "after-deliver",
    "before-broadcast-claimBond",
    "before-broadcast-approve",
    "before-broadcast-sellShares",
    "before-broadcast-buyShares",
    "before-broadcast-redeem",
    "before-unstake",
    "after-unstake",
];

/// `tao20 miner create`, killed at each of [`CRASH_POINTS`] once.
struct Creator {
    config: PathBuf,
    log: PathBuf,
    crash_dir: PathBuf,
}

impl Creator {
    fn spawn(&self) -> Child {
        miner(
            &["create"],
            &self.config,
            &self.log,
            &[
                ("TAO20_CRASH_AT", &CRASH_POINTS.join(",")),
                ("TAO20_CRASH_DIR", self.crash_dir.to_str().unwrap()),
            ],
        )
    }

    /// Restarts the miner in `net.children[slot]` if it died (of a crash point: any other exit
    /// fails the test); returns the restarts made.
    fn keep_alive(&self, net: &mut Net, slot: usize) -> usize {
        let Some(exit) = net.children[slot].try_wait().unwrap() else {
            return 0;
        };
        assert!(
            !exit.success(),
            "the creation miner stopped by itself; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        net.children[slot] = self.spawn();
        1
    }

    /// Waits for the first finished operation of `kind` (`create` or `redeem`), keeping the miner
    /// alive; returns the status and the operation.
    async fn wait_done(
        &self,
        net: &mut Net,
        slot: usize,
        kind: &str,
        restarts: &mut usize,
    ) -> (serde_json::Value, serde_json::Value) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            *restarts += self.keep_alive(net, slot);
            let s = status(&self.config);
            let op = s["operations"]
                .as_array()
                .and_then(|ops| ops.iter().find(|o| o["kind"] == kind && o["done"] == true))
                .cloned();
            if let Some(op) = op {
                return (s, op);
            }
            assert!(
                Instant::now() < deadline,
                "no finished {kind} operation: {s}\nlog:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

type Sim = tao20_chain::sim::SimClient<tao20_chain::sim::DevTransport>;

async fn committed(
    sim: &Sim,
    hot: tao20_chain::types::Bytes32,
    netuid: u16,
    payload: &str,
) -> bool {
    let head = sim.finalized_head().await.unwrap().number;
    sim.commitments(head, netuid)
        .await
        .unwrap()
        .into_iter()
        .any(|c| c.hotkey == hot && c.data == payload.as_bytes())
}

async fn wait_commit(sim: &Sim, hot: tao20_chain::types::Bytes32, netuid: u16, payload: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !committed(sim, hot, netuid, payload).await {
        assert!(Instant::now() < deadline, "{payload} never committed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miners_create_at_a_premium_survive_a_kill_and_bid_through_edits() {
    let started = Instant::now();
    let mut net = up();
    let f = net.file.clone();
    let market = f.market.clone().expect("devnet up deploys the market");
    let sim = f.simulator();
    let dir = f.options.dir.join("miners");
    std::fs::create_dir_all(&dir).unwrap();

    // The creation miner's keys: a funded coldkey, a hotkey on every fund subnet, an EVM key.
    let ck = tao20_devnet::keys::substrate(0, "miner/coldkey").unwrap();
    let hk = tao20_devnet::keys::substrate(0, "miner/hotkey").unwrap();
    std::fs::write(dir.join("coldkey.suri"), "//tao20-devnet/0/miner/coldkey\n").unwrap();
    for &n in &f.alpha_netuids {
        sim.register_neuron(n, hk.account, ck.account)
            .await
            .unwrap();
    }
    sim.faucet(ck.account, 2_000 * TAO).await.unwrap();
    // Alpha the miner already holds on the first basket subnet, all of it locked
    // (`lock_stake`): a delivery that counted it would fail whole (the vault does not accept
    // locked alpha), so the miner must buy that asset as if it held none.
    let locked_netuid = f.alpha_netuids[0];
    let staked = sim
        .as_signer(ck.account)
        .add_stake(hk.account, locked_netuid, 5 * TAO)
        .await
        .unwrap();
    let locked_alpha = sim
        .stake(staked.block.number, ck.account, hk.account, locked_netuid)
        .await
        .unwrap();
    sim.as_signer(ck.account)
        .lock_stake(hk.account, locked_netuid, locked_alpha)
        .await
        .unwrap();
    let secret = keccak256("tao20.test.creation-miner");
    std::fs::write(dir.join("evm.pw"), "pw\n").unwrap();
    let evm = tao20_bevm::keys::import(
        &dir,
        "evm",
        &secret,
        &tao20_bevm::keys::PasswordSource::File(dir.join("evm.pw")),
    )
    .unwrap();
    let provider = tao20_bevm::rpc::connect(&f.anvil_rpc).unwrap();
    use alloy::providers::ext::AnvilApi;
    provider
        .anvil_set_balance(
            evm,
            U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64)),
        )
        .await
        .unwrap();
    let config = dir.join("miner.toml");
    std::fs::write(
        &config,
        format!(
            "[subtensor]\nnetwork = \"local\"\nchain_endpoint = \"{}\"\n\
             [bevm]\nrpc = \"{}\"\ndeployment = \"{}\"\n\
             [market]\nrouter = \"{}\"\npair = \"{}\"\n\
             [wallet]\nsuri_file = \"coldkey.suri\"\n\
             [stake]\nhotkey = \"0x{}\"\n\
             [evm]\nkeystore = \"evm\"\npassword_file = \"evm.pw\"\n\
             [store]\npath = \"miner.sqlite\"\n\
             [strategy]\nprice_window = {}\nmax_creation_tao = \"600\"\nmax_redemption_tao = \"60\"\n\
             [engine]\npoll_ms = 100\n",
            f.substrate,
            f.bevm_rpc,
            f.deployment.display(),
            market.router,
            market.pair,
            hex::encode(hk.account.0),
            f.options.price_window,
        ),
    )
    .unwrap();

    // The bidder: a registered hotkey, the rig hook logging every event.
    let bcold = tao20_devnet::keys::substrate(0, "bidder/miner/coldkey").unwrap();
    let bhot = tao20_devnet::keys::substrate(0, "bidder/miner/hotkey").unwrap();
    std::fs::write(
        dir.join("bidder.suri"),
        "//tao20-devnet/0/bidder/miner/hotkey\n",
    )
    .unwrap();
    sim.register_neuron(f.tao20_netuid, bhot.account, bcold.account)
        .await
        .unwrap();
    let bids = dir.join("bids.toml");
    std::fs::write(
        &bids,
        bids_toml(&f, &dir, "[bids.BTC]\n\"1.0\" = { \"0.25\" = 2 }\n"),
    )
    .unwrap();
    let hook_log = dir.join("hook.jsonl");
    let bid_log = dir.join("bid.log");
    let bidder = miner(
        &["bid"],
        &bids,
        &bid_log,
        &[
            ("TAO20_FIXTURE_URL", f.fixture_url.as_str()),
            ("TAO20_HOOK_LOG", hook_log.to_str().unwrap()),
        ],
    );
    net.children.push(bidder);

    // The creation miner, killed once at every crash point and restarted each time.
    let log = dir.join("create.log");
    let creator = Creator {
        config: config.clone(),
        log: log.clone(),
        crash_dir: dir.join("crash"),
    };
    std::fs::create_dir_all(&creator.crash_dir).unwrap();
    // Owned by the net from the start: a failing test stops it too.
    net.children.push(creator.spawn());
    let slot = net.children.len() - 1;
    let mut restarts = 0;

    // Bids edited while the creation runs: a good edit is committed, a bad one refused with its line.
    wait_commit(&sim, bhot.account, f.tao20_netuid, "2;b;BTC,1=0.25:2").await;
    std::fs::write(
        &bids,
        bids_toml(&f, &dir, "[bids.BTC]\n\"1.0\" = { \"0.25\" = 0 }\n"),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        committed(&sim, bhot.account, f.tao20_netuid, "2;b;BTC,1=0.25:2").await,
        "a bad edit leaves the last good bids"
    );
    std::fs::write(
        &bids,
        bids_toml(&f, &dir, "[bids.BTC]\n\"0.98\" = { \"0.25\" = 2 }\n"),
    )
    .unwrap();
    wait_commit(&sim, bhot.account, f.tao20_netuid, "2;b;BTC,0.98=0.25:2").await;
    let bid_text = std::fs::read_to_string(&bid_log).unwrap();
    assert!(bid_text.contains("bids file refused (line"), "{bid_text}");
    // The creation completes once, at a profit, and the premium closes.
    let (s, op) = creator
        .wait_done(&mut net, slot, "create", &mut restarts)
        .await;
    assert_eq!(op["outcome"], "minted", "{s}");
    // The locked alpha was seen and left out of the delivery.
    let locked = op["locked"].as_array().unwrap();
    assert!(
        locked
            .iter()
            .any(|l| l["netuid"] == u64::from(locked_netuid)
                && l["alpha"].as_str().unwrap().parse::<u64>().unwrap() > 0),
        "{s}"
    );
    let profit: i128 = op["pnl"]["profitRao"].as_str().unwrap().parse().unwrap();
    assert!(profit > 0, "{s}");
    let before: i128 = op["premiumBeforeBps"].as_str().unwrap().parse().unwrap();
    let after: i128 = op["premiumAfterBps"].as_str().unwrap().parse().unwrap();
    assert!(
        before >= 100 && after < before,
        "premium {before} -> {after} bps"
    );
    assert_eq!(s["deliveries"]["intents"], 1, "{s}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("creation done: P&L"), "{text}");

    // Exactly one delivery for the request on chain.
    let request = op["requestId"].as_str().unwrap().parse().unwrap();
    let deployment = f.deployment().unwrap();
    let remark = tao20_creation::ids::delivery_remark(
        deployment.chain_id,
        deployment.vault_coldkey,
        request,
    );
    let head = sim.finalized_head().await.unwrap().number;
    let from = op["startedBlock"].as_u64().unwrap();
    let mut deliveries = 0;
    for b in from..=head {
        for x in sim.block_extrinsics(b).await.unwrap() {
            if let Call::BatchAll { calls } = &x.call {
                if x.success
                    && calls
                        .iter()
                        .any(|c| matches!(c, Call::Remark { data } if data[..] == remark[..]))
                {
                    deliveries += 1;
                }
            }
        }
    }
    assert_eq!(deliveries, 1, "one delivery for request {request}");

    // A holder dumps shares into the pool: TAO20 trades below NAV, the miner buys shares, redeems
    // them in kind and sells the alpha, at a profit, and the discount closes.
    let holder_key = tao20_devnet::keys::deployer().unwrap();
    let holder = tao20_bevm::rpc::connect_with_signer(
        &f.anvil_rpc,
        alloy::signers::local::PrivateKeySigner::from_bytes(&holder_key.secret).unwrap(),
    )
    .unwrap();
    let at = provider.get_block_number().await.unwrap();
    let pool = tao20_miner::market::reserves(&provider, market.pair, f.tao20, at)
        .await
        .unwrap();
    let held = tao20_bevm::bindings::TAO20::new(f.tao20, &provider)
        .balanceOf(holder_key.address)
        .call()
        .await
        .unwrap();
    let dump = held.min(pool.shares / U256::from(5u8));
    let send = |to, data| {
        let holder = holder.clone();
        async move {
            let tx = alloy::rpc::types::TransactionRequest::default()
                .to(to)
                .input(alloy::rpc::types::TransactionInput::new(data));
            let receipt = holder
                .send_transaction(tx)
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(receipt.status(), "holder transaction to {to} reverted");
        }
    };
    send(
        f.tao20,
        tao20_miner::market::approve_calldata(market.router, dump),
    )
    .await;
    send(
        market.router,
        tao20_miner::market::sell_shares_calldata(
            f.tao20,
            market.wtao,
            dump,
            U256::ZERO,
            holder_key.address,
            U256::from(u64::MAX),
        ),
    )
    .await;
    let (s, op) = creator
        .wait_done(&mut net, slot, "redeem", &mut restarts)
        .await;
    assert!(op["note"].is_null(), "{s}");
    let profit: i128 = op["pnl"]["profitRao"].as_str().unwrap().parse().unwrap();
    assert!(profit > 0, "{s}");
    let before: i128 = op["premiumBeforeBps"].as_str().unwrap().parse().unwrap();
    let after: i128 = op["premiumAfterBps"].as_str().unwrap().parse().unwrap();
    assert!(
        before <= -100 && after > before,
        "discount {before} -> {after} bps"
    );
    // What the redemption paid in alpha was sold, all of it and nothing else.
    let paid = op["paid"].as_array().unwrap();
    assert!(!paid.is_empty(), "{s}");
    for p in paid {
        let sold: u64 = op["sold"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["netuid"] == p["netuid"])
            .map(|u| u["alpha"].as_str().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(
            sold.to_string(),
            p["alpha"].as_str().unwrap(),
            "netuid {}: {s}",
            p["netuid"]
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("redemption done: P&L"), "{text}");
    // Every crash point was reached once, and each killed the miner.
    for p in CRASH_POINTS {
        assert!(
            creator.crash_dir.join(p).exists(),
            "crash point {p} never reached"
        );
    }
    assert_eq!(restarts, CRASH_POINTS.len(), "one restart per crash point");

    // The hook saw the commits and, by now, a window's result.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let events = hook_events(&hook_log);
        let commits = events.iter().filter(|e| e["event"] == "commit").count();
        let window = events.iter().find(|e| e["event"] == "window");
        if commits >= 2 {
            if let Some(w) = window {
                let r = w["result"].as_str().unwrap();
                assert!(["won", "lost", "banned", "skipped"].contains(&r), "{w}");
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "hook events: {events:?}\nbidder log:\n{}",
            std::fs::read_to_string(&bid_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("miners test took {:?}", started.elapsed());
}
