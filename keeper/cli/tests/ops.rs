//! Operating a keeper: an RPC outage of both its endpoints (it waits, counts, signs nothing, then
//! catches up block by block and mints what was requested meanwhile), with the metrics it serves;
//! `--dry-run` (computes what it would sign, signs and sends nothing); and the journal carried to
//! another machine through `tao20 validator journal export|import`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
mod common;

use assert_cmd::cargo::CommandCargoExt;
use common::{create, miner, reader, up, wait_blocks, Net};
use tao20_bevm::reader::RequestStatus;
use tao20_chain::Subtensor;
use tao20_devnet::keepers;
use tao20_devnet::process::{self};
use tao20_devnet::proxy::{self, Relay};
use tao20_miner::creation::{self};

/// The devnet tests run one at a time: two devnets of keepers at once on a two-core machine
/// starve each other's 100 ms blocks.
static DEVNET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// anvil's fourth development key (funded by anvil; keepers.rs uses the third).
const MINER_EVM: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

/// `validators` keepers, 100 ms blocks, the creation path only, no market (its genesis creation
/// would be one more report every keeper signs).
fn up_ops(validators: usize) -> Net {
    up_ops_with(validators, &[])
}

fn up_ops_with(validators: usize, extra: &[&str]) -> Net {
    let n = validators.to_string();
    let mut args = vec![
        "--validators",
        &n,
        "--block-time-ms",
        "100",
        "--delivery-window",
        "60",
        "--epoch-length",
        "5000",
        "--no-mechanisms",
        "--genesis-units",
        "0",
    ];
    args.extend_from_slice(extra);
    up(&args)
}

fn db(net: &Net, i: usize) -> PathBuf {
    keepers::keeper_dir(&net.file.options.dir, i).join("keeper.sqlite")
}

/// `tao20 validator status --db` off the async workers (read-only while the keeper runs).
fn status(db: &Path) -> serde_json::Value {
    tokio::task::block_in_place(|| common::status(db))
}

fn value(s: &std::collections::BTreeMap<String, u64>, key: &str) -> u64 {
    s.get(key).copied().unwrap_or(0)
}

/// The sum over every label set of a metric.
fn total(s: &std::collections::BTreeMap<String, u64>, name: &str) -> u64 {
    s.iter()
        .filter(|(k, _)| *k == name || k.starts_with(&format!("{name}{{")))
        .map(|(_, v)| *v)
        .sum()
}

/// Keeper `i`'s integer samples (every metric checked here is a count); a keeper just
/// (re)started may not listen yet.
async fn metrics(net: &Net, i: usize) -> std::collections::BTreeMap<String, u64> {
    let mut tries = 0;
    loop {
        match keepers::metrics(&net.file, i, Duration::from_secs(30)).await {
            Ok(m) => return m,
            Err(e) => {
                tries += 1;
                assert!(tries < 100, "keeper {i}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Transactions sent from `who` so far.
async fn nonce(net: &Net, who: Address) -> u64 {
    tao20_bevm::rpc::connect(&net.file.anvil_rpc)
        .unwrap()
        .get_transaction_count(who)
        .await
        .unwrap()
}

/// Log text without the terminal colour escapes tracing writes.
fn plain_log(path: &Path) -> String {
    let raw = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for e in chars.by_ref() {
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The digests a log's lines containing `message` name for `kind`.
fn logged_digests(log: &str, message: &str, kind: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            l.contains(message)
                && (l.contains(&format!("kind={kind}")) || l.contains(&format!("kind=\"{kind}\"")))
        })
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("digest="))
                .map(|d| d.trim_matches('"').to_string())
        })
        .collect()
}

/// The metric names docs/keeper.md documents; every one is served.
const DOCUMENTED: &[&str] = &[
    "tao20_blocks_processed_total",
    "tao20_last_block",
    "tao20_finality_lag_blocks",
    "tao20_reports_signed_total",
    "tao20_reports_refused_total",
    "tao20_reports_submitted_total",
    "tao20_quorum_latency_blocks",
    "tao20_peer_errors_total",
    "tao20_peer_signatures_total",
    "tao20_outbox_depth",
    "tao20_rpc_failures_total",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_wait_out_an_rpc_outage_then_catch_up_block_by_block_and_mint() {
    let _one_at_a_time = DEVNET.lock().await;
    // Four keepers of five signers, threshold four: nothing settles unless every one of them
    // sees the chain. The outage lasts as long as the keepers' backoff takes to show (seconds,
    // so a varying number of 100 ms blocks): a grace far longer than that keeps the request
    // mintable however long it ran, since this test is about catching up, not expiry.
    let mut net = up_ops_with(4, &["--expiry-grace", "3000"]);
    let m = miner(&net, "outage-miner", MINER_EVM).await;
    let r = reader(&net);
    let sim = net.file.simulator();
    let chain = Relay::start(&proxy::host_port(&net.file.substrate).unwrap())
        .await
        .unwrap();
    let bevm = Relay::start(&proxy::host_port(&net.file.anvil_rpc).unwrap())
        .await
        .unwrap();
    let env = vec![
        (
            "TAO20_SUBTENSOR__CHAIN_ENDPOINT".to_string(),
            format!("ws://127.0.0.1:{}", chain.addr().port()),
        ),
        (
            "TAO20_BEVM__RPC".to_string(),
            format!("http://127.0.0.1:{}", bevm.addr().port()),
        ),
    ];
    for (i, s) in net.file.processes.clone().iter().enumerate().skip(2) {
        tokio::task::block_in_place(|| process::stop(s, Duration::from_secs(5)));
        let config = keepers::keeper_dir(&net.file.options.dir, i - 2).join("keeper.toml");
        net.extra
            .push(keepers::spawn_keeper_with_env(&net.file, i - 2, &config, &env).unwrap());
    }
    let keepers_n = net.extra.len();
    assert_eq!(keepers_n, 4);
    // Every keeper follows the head through the proxies.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let head = sim.finalized_head().await.unwrap().number;
        let mut behind = 0;
        for (i, (child, started)) in net.extra.iter_mut().enumerate() {
            assert!(
                matches!(child.try_wait(), Ok(None)),
                "keeper {i} exited: {}",
                process::tail(&started.log, 20)
            );
        }
        for i in 0..keepers_n {
            let s = metrics(&net, i).await;
            if value(&s, "tao20_last_block") + 10 < head {
                behind += 1;
            }
        }
        if behind == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "keepers never caught up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(chain.relayed() >= keepers_n as u64);
    assert!(bevm.relayed() >= keepers_n as u64);
    let report_keys: Vec<Address> = (0..keepers_n)
        .map(|i| net.file.keys.signers[i].evm.address)
        .collect();

    // BEVM goes away first: the keepers still see subtensor's head but cannot read the
    // contract's events of the next block, so they stop there rather than skip it.
    bevm.cut();
    let mut before = Vec::new();
    for (i, key) in report_keys.iter().enumerate() {
        let s = metrics(&net, i).await;
        before.push((
            value(&s, "tao20_last_block"),
            value(&s, "tao20_blocks_processed_total"),
            status(&db(&net, i))["journal"]["signed"].as_u64().unwrap(),
            nonce(&net, *key).await,
        ));
    }
    let h = sim.finalized_head().await.unwrap().number;
    wait_blocks(&sim, h + 15).await;
    // Then subtensor too; a miner requests a creation and delivers meanwhile.
    chain.cut();
    let request = create(&net, &m, true).await;
    let h = sim.finalized_head().await.unwrap().number;
    wait_blocks(&sim, h + 20).await;
    let during_head = sim.finalized_head().await.unwrap().number;
    // A keeper's next round comes after its backoff (at most 5 s): each counts a failure then.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for i in 0..keepers_n {
        while value(
            &metrics(&net, i).await,
            "tao20_rpc_failures_total{endpoint=\"subtensor\"}",
        ) == 0
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "keeper {i} counted no subtensor failure in the outage"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    for i in 0..keepers_n {
        let (child, started) = &mut net.extra[i];
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "keeper {i} died in the outage: {}",
            process::tail(&started.log, 20)
        );
        let log = plain_log(&started.log);
        let s = metrics(&net, i).await;
        let (last, _, signed, sent) = before[i];
        assert!(
            value(&s, "tao20_last_block") <= last + 1,
            "keeper {i} went on past block {last} without BEVM"
        );
        assert!(value(&s, "tao20_last_block") + 20 < during_head);
        assert!(
            value(&s, "tao20_rpc_failures_total{endpoint=\"bevm\"}") > 0,
            "keeper {i}"
        );
        assert!(
            value(&s, "tao20_rpc_failures_total{endpoint=\"subtensor\"}") > 0,
            "keeper {i}"
        );
        assert_eq!(
            status(&db(&net, i))["journal"]["signed"].as_u64().unwrap(),
            signed,
            "keeper {i} signed something while blind"
        );
        assert_eq!(nonce(&net, report_keys[i]).await, sent, "keeper {i} sent");
        assert!(
            log.contains("endpoint failure; waiting"),
            "keeper {i} logged no endpoint failure"
        );
    }
    assert_eq!(
        r.request(request, r.head().await.unwrap())
            .await
            .unwrap()
            .unwrap()
            .status,
        RequestStatus::Pending
    );

    // The endpoints return: the request made during the outage is minted.
    chain.restore();
    bevm.restore();
    let minted = creation::settled(
        &r,
        request,
        Duration::from_millis(200),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(minted.status, RequestStatus::Minted);
    // Every keeper is back at the head, having processed each block it missed exactly once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let after = loop {
        let head = sim.finalized_head().await.unwrap().number;
        let mut all = Vec::new();
        for i in 0..keepers_n {
            all.push(metrics(&net, i).await);
        }
        if all
            .iter()
            .all(|s| value(s, "tao20_last_block") + 10 >= head)
        {
            break all;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "keepers did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (i, s) in after.iter().enumerate() {
        let (last, processed, _, _) = before[i];
        let caught_up = value(s, "tao20_last_block") - last;
        assert!(caught_up > 35, "keeper {i}: {caught_up} blocks");
        assert_eq!(
            value(s, "tao20_blocks_processed_total") - processed,
            caught_up,
            "keeper {i} processed every block once, in order"
        );
        let st = status(&db(&net, i));
        assert_eq!(st["journal"]["refused"], 0, "keeper {i}: {st}");
    }

    // The metrics a keeper documents, with values that follow from what just happened.
    for (i, s) in after.iter().enumerate() {
        for name in DOCUMENTED {
            if matches!(
                *name,
                "tao20_reports_submitted_total" | "tao20_peer_errors_total"
            ) {
                continue; // only the keeper whose turn it was sends; peers need not fail
            }
            assert!(
                s.keys().any(|k| k.starts_with(name)),
                "keeper {i} serves no {name}"
            );
        }
        assert!(value(s, "tao20_blocks_processed_total") > 50);
        // A gauge of how far behind the finalized head the keeper is: back within the outage's
        // span (a loaded machine keeps it above the two-block finality of an idle one).
        assert!(value(s, "tao20_finality_lag_blocks") <= 60);
        assert!(
            value(s, "tao20_reports_signed_total{kind=\"CreationReport\"}") >= 1,
            "keeper {i} signed the mint"
        );
        assert_eq!(value(s, "tao20_reports_refused_total"), 0);
        assert!(value(s, "tao20_quorum_latency_blocks_count") >= 1);
        assert!(total(s, "tao20_peer_signatures_total") >= 1);
    }
    // The sender counts its mint once the receipt is `confirmations` deep, which can come after
    // every engine is back at the head: read the counters until the mint is counted (or the
    // deadline passes), then require exactly one.
    let included = "tao20_reports_submitted_total{call=\"mint\",outcome=\"included\"}";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let submitted = loop {
        let mut n = 0;
        for i in 0..keepers_n {
            n += value(&metrics(&net, i).await, included);
        }
        if n >= 1 || tokio::time::Instant::now() >= deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(submitted, 1, "one keeper sent the mint");
}

/// A creation requested, delivered and minted within a minute.
async fn mint_one(net: &Net, m: &common::Miner, r: &tao20_bevm::Reader) {
    let request = create(net, m, true).await;
    let minted = creation::settled(
        r,
        request,
        Duration::from_millis(200),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(minted.status, RequestStatus::Minted);
}

/// Keeper `i`'s answer to `GET path` on its operator port (`0` while it does not answer).
async fn ops_get(net: &Net, i: usize, path: &str) -> (u16, String) {
    keepers::ops_get(&net.file, i, path, Duration::from_secs(5))
        .await
        .unwrap_or((0, String::new()))
}

/// Polls keeper `i`'s `path` until it answers `code`, for at most `within`.
async fn until_answers(net: &Net, i: usize, path: &str, code: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (got, body) = ops_get(net, i, path).await;
        if got == code {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "keeper {i} {path}: {got} {body}, waited {within:?} for {code}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The keeper as a supervisor sees it, through a relay in front of its BEVM endpoint: an
/// endpoint that accepts and never answers costs it one request timeout per try (failures
/// counted, `/healthz` failing while it lasts), after which it catches up without skipping a
/// block; answers cut mid-frame, garbled or slowed on both endpoints are failures it waits out,
/// again without skipping a block; a wedged engine turns `/healthz` red while the process lives; SIGTERM ends it within
/// 10 s even while the endpoint hangs; and an engine that ends on an error ends the process
/// with a non-zero status, naming the error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_outlives_a_hanging_endpoint_and_never_outlives_its_engine() {
    let _one_at_a_time = DEVNET.lock().await;
    let mut net = up_ops(1);
    let sim = net.file.simulator();
    let bevm = Relay::start(&proxy::host_port(&net.file.anvil_rpc).unwrap())
        .await
        .unwrap();
    let chain = Relay::start(&proxy::host_port(&net.file.substrate).unwrap())
        .await
        .unwrap();
    let faults = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "TAO20_BEVM__RPC".to_string(),
            format!("http://127.0.0.1:{}", bevm.addr().port()),
        ),
        (
            "TAO20_SUBTENSOR__CHAIN_ENDPOINT".to_string(),
            format!("ws://127.0.0.1:{}", chain.addr().port()),
        ),
        ("TAO20_BEVM__REQUEST_TIMEOUT_MS".to_string(), "1000".into()),
        (
            "TAO20_SUBTENSOR__REQUEST_TIMEOUT_MS".to_string(),
            "2000".into(),
        ),
        ("TAO20_OPS__STALL_SECS".to_string(), "4".into()),
        (
            "TAO20_FAULT_DIR".to_string(),
            faults.path().display().to_string(),
        ),
    ];
    let first = net.file.processes[2].clone();
    tokio::task::block_in_place(|| process::stop(&first, Duration::from_secs(5)));
    let config = keepers::keeper_dir(&net.file.options.dir, 0).join("keeper.toml");
    let spawn = |net: &Net| keepers::spawn_keeper_with_env(&net.file, 0, &config, &env).unwrap();
    let (child, started) = spawn(&net);
    net.extra.push((child, started.clone()));
    until_answers(&net, 0, "/readyz", 200, Duration::from_secs(60)).await;
    // This process has processed blocks (its counter and gauge are both past their start).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while value(&metrics(&net, 0).await, "tao20_blocks_processed_total") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no block processed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // BEVM hangs: every request ends at its timeout, counted; the engine completes no round,
    // so /healthz fails once the stall time has passed.
    bevm.hang();
    let hung_at = metrics(&net, 0).await;
    until_answers(&net, 0, "/healthz", 503, Duration::from_secs(20)).await;
    let during = metrics(&net, 0).await;
    assert!(
        value(&during, "tao20_rpc_failures_total{endpoint=\"bevm\"}")
            > value(&hung_at, "tao20_rpc_failures_total{endpoint=\"bevm\"}"),
        "each hung request timed out and was counted"
    );
    let (_, status_doc) = ops_get(&net, 0, "/v1/status").await;
    let status_doc: serde_json::Value = serde_json::from_str(&status_doc).unwrap();
    assert_eq!(status_doc["healthy"], false, "{status_doc}");
    assert!(
        matches!(net.extra[0].0.try_wait(), Ok(None)),
        "still running"
    );

    // Restored: healthy again, caught up, and every block in between processed once.
    bevm.restore();
    until_answers(&net, 0, "/healthz", 200, Duration::from_secs(30)).await;
    until_answers(&net, 0, "/readyz", 200, Duration::from_secs(60)).await;
    // Ready is judged on the keeper's own last view of the head; the chain's is read here, a
    // moment later, so the keeper is given until a deadline to be within ten blocks of it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let after = loop {
        let after = metrics(&net, 0).await;
        let head = sim.finalized_head().await.unwrap().number;
        if value(&after, "tao20_last_block") + 10 >= head {
            break after;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never within 10 blocks of the head after the hang: at {} of {head}",
            value(&after, "tao20_last_block")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        value(&after, "tao20_blocks_processed_total")
            - value(&hung_at, "tao20_blocks_processed_total"),
        value(&after, "tao20_last_block") - value(&hung_at, "tao20_last_block"),
        "no block skipped or processed twice across the hang"
    );

    // Answers cut mid-frame and garbled on both endpoints, every round trip 100 ms slower: each
    // fault fails a request, which is counted and tried again; the keeper lives on, catches up
    // and processes every block in between once.
    let failures =
        |m: &std::collections::BTreeMap<String, u64>| total(m, "tao20_rpc_failures_total");
    let before = metrics(&net, 0).await;
    for relay in [&bevm, &chain] {
        relay.set_latency(Duration::from_millis(100));
        relay.truncate_next(2);
        relay.garble_next(2);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while bevm.faults_pending() + chain.faults_pending() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "faults never met: bevm {}, subtensor {} pending",
            bevm.faults_pending(),
            chain.faults_pending()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for relay in [&bevm, &chain] {
        relay.set_latency(Duration::ZERO);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let after_faults = loop {
        let m = metrics(&net, 0).await;
        let head = sim.finalized_head().await.unwrap().number;
        if value(&m, "tao20_last_block") + 10 >= head && failures(&m) > failures(&before) {
            break m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not caught up after the faults, or none counted: at {} of {head}, failures {} -> {}",
            value(&m, "tao20_last_block"),
            failures(&before),
            failures(&m)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        matches!(net.extra[0].0.try_wait(), Ok(None)),
        "the faults ended the keeper: {}",
        process::tail(&started.log, 20)
    );
    assert_eq!(
        value(&after_faults, "tao20_blocks_processed_total")
            - value(&before, "tao20_blocks_processed_total"),
        value(&after_faults, "tao20_last_block") - value(&before, "tao20_last_block"),
        "no block skipped or processed twice across the cut and garbled answers"
    );

    // A wedged engine (no error, no progress): /healthz fails while the process lives, and
    // recovers once the engine moves again.
    let stall = faults.path().join("engine-stall");
    std::fs::write(&stall, b"").unwrap();
    until_answers(&net, 0, "/healthz", 503, Duration::from_secs(20)).await;
    assert!(matches!(net.extra[0].0.try_wait(), Ok(None)));
    std::fs::remove_file(&stall).unwrap();
    until_answers(&net, 0, "/healthz", 200, Duration::from_secs(20)).await;

    // SIGTERM while BEVM hangs: gone within 10 s.
    bevm.hang();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = std::time::Instant::now();
    let killed = tokio::task::block_in_place(|| process::stop(&started, Duration::from_secs(10)));
    assert!(
        !killed,
        "still alive 10 s after SIGTERM: {}",
        process::tail(&started.log, 20)
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    bevm.restore();

    // The engine ends on an error: the process exits non-zero within seconds, naming it.
    let (child, started) = spawn(&net);
    net.extra.push((child, started.clone()));
    until_answers(&net, 0, "/readyz", 200, Duration::from_secs(60)).await;
    std::fs::write(faults.path().join("engine-error"), b"").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = net.extra[1].0.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the engine failed and the process lives on: {}",
            process::tail(&started.log, 20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "exit status {status}");
    let log = plain_log(&started.log);
    assert!(
        log.contains("the engine stopped") && log.contains("injected fault"),
        "the log names the task and its error: {}",
        process::tail(&started.log, 20)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_keeper_computes_the_report_but_signs_and_sends_nothing() {
    let _one_at_a_time = DEVNET.lock().await;
    // Five keepers, threshold four: keeper 0 in dry-run, the other four mint.
    let mut net = up_ops(5);
    let m = miner(&net, "dry-run-miner", MINER_EVM).await;
    let r = reader(&net);
    let first = net.file.processes[2].clone();
    tokio::task::block_in_place(|| process::stop(&first, Duration::from_secs(5)));
    let config = keepers::keeper_dir(&net.file.options.dir, 0).join("keeper.toml");
    let dry = process::spawn(
        "validator-0",
        &net.file.options.tao20_bin,
        &[
            "validator".to_string(),
            "run".to_string(),
            "--config".to_string(),
            config.display().to_string(),
            "--dry-run".to_string(),
        ],
        &net.file.options.dir.join("logs/validator-0-dry-run.log"),
        &[],
    )
    .unwrap();
    let log = dry.1.log.clone();
    net.extra.push(dry);
    let me = net.file.keys.signers[0].evm.address;
    let sent_before = nonce(&net, me).await;
    let others_before: u64 = {
        let mut n = 0;
        for s in &net.file.keys.signers[1..] {
            n += nonce(&net, s.evm.address).await;
        }
        n
    };
    let signed_before = status(&db(&net, 0))["journal"]["signed"].as_u64().unwrap();

    mint_one(&net, &m, &r).await;
    // Let every transmission turn pass (five turns of the devnet's 20-block stage).
    let sim = net.file.simulator();
    let h = sim.finalized_head().await.unwrap().number;
    wait_blocks(&sim, h + 100).await;

    assert_eq!(
        nonce(&net, me).await,
        sent_before,
        "the dry-run keeper sent a transaction"
    );
    let mut others_after = 0;
    for s in &net.file.keys.signers[1..] {
        others_after += nonce(&net, s.evm.address).await;
    }
    assert!(others_after > others_before, "the others sent the mint");
    let st = status(&db(&net, 0));
    assert_eq!(
        st["journal"]["signed"].as_u64().unwrap(),
        signed_before,
        "the dry-run keeper journaled a signature: {st}"
    );
    let s = metrics(&net, 0).await;
    assert!(value(&s, "tao20_blocks_processed_total") > 10);
    assert_eq!(total(&s, "tao20_reports_signed_total"), 0);
    assert_eq!(total(&s, "tao20_reports_submitted_total"), 0);
    // It computed the very report the others signed, and said so.
    let would = logged_digests(&plain_log(&log), "dry run: would sign", "CreationReport");
    let signed = logged_digests(
        &plain_log(&net.file.processes[3].log),
        "signed",
        "CreationReport",
    );
    assert_eq!(
        signed.len(),
        1,
        "keeper 1 signed one creation report: {}",
        plain_log(&net.file.processes[3].log)
            .lines()
            .filter(|l| l.contains("signed"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        would.contains(&signed[0]),
        "dry run logged {would:?}, keeper 1 signed {signed:?}"
    );
    assert!(plain_log(&log).contains("dry_run=true"));

    // The same database goes live: what the dry run computed was kept, and is signed now.
    let dry_started = net.extra[0].1.clone();
    tokio::task::block_in_place(|| process::stop(&dry_started, Duration::from_secs(10)));
    let live = keepers::spawn_keeper_with_env(&net.file, 0, &config, &[]).unwrap();
    let live_log = live.1.log.clone();
    net.extra.push(live);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now_signed = logged_digests(&plain_log(&live_log), "signed", "CreationReport");
        if now_signed.contains(&signed[0]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the live keeper never signed what its dry run computed ({}): {}",
            signed[0],
            process::tail(&live_log, 20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        status(&db(&net, 0))["journal"]["refused"]
            .as_u64()
            .unwrap_or(0),
        0,
        "nothing the dry run committed to conflicts with the live run"
    );
}

/// Keeper `i`'s `/v1/status` on its operator port.
async fn ops_status(net: &Net, i: usize) -> serde_json::Value {
    let (code, body) = ops_get(net, i, "/v1/status").await;
    if code != 200 {
        return serde_json::Value::Null;
    }
    serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
}

/// A keeper started with another price window than its four peers: it sees their vouched
/// digests, says so, and signs nothing (no refusal either: it never journals the divergent
/// content); the others mint. Restored to the common window, it signs again and its journal
/// has refused nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_with_other_consensus_parameters_refuses_to_sign_until_restored() {
    let _one_at_a_time = DEVNET.lock().await;
    let mut net = up_ops(5);
    let m = miner(&net, "digest-miner", MINER_EVM).await;
    let r = reader(&net);
    let first = net.file.processes[2].clone();
    tokio::task::block_in_place(|| process::stop(&first, Duration::from_secs(5)));
    let config = keepers::keeper_dir(&net.file.options.dir, 0).join("keeper.toml");
    let window = net.file.options.price_window + 1;
    let odd = keepers::spawn_keeper_with_env(
        &net.file,
        0,
        &config,
        &[(
            "TAO20_CREATION__PRICE_WINDOW".to_string(),
            window.to_string(),
        )],
    )
    .unwrap();
    let odd_log = odd.1.log.clone();
    net.extra.push(odd);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let st = ops_status(&net, 0).await;
        if st["configDigestMismatch"] == true {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the odd keeper never noticed: {st}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        value(&metrics(&net, 0).await, "tao20_config_digest_mismatch"),
        1
    );

    mint_one(&net, &m, &r).await; // four peers suffice
    let sim = net.file.simulator();
    let h = sim.finalized_head().await.unwrap().number;
    wait_blocks(&sim, h + 20).await;
    let s = metrics(&net, 0).await;
    assert_eq!(
        total(&s, "tao20_reports_signed_total"),
        0,
        "it signed nothing"
    );
    assert_eq!(value(&s, "tao20_reports_refused_total"), 0);
    assert!(plain_log(&odd_log).contains("most peers' config digests differ"));

    // Restored: the same database, the common window.
    let odd_started = net.extra[0].1.clone();
    tokio::task::block_in_place(|| process::stop(&odd_started, Duration::from_secs(10)));
    let signed_before = logged_digests(&plain_log(&odd_log), "signed", "CreationReport").len();
    let restored = keepers::spawn_keeper_with_env(&net.file, 0, &config, &[]).unwrap();
    let restored_log = restored.1.log.clone();
    net.extra.push(restored);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let st = ops_status(&net, 0).await;
        if st["configDigestMismatch"] == false
            && st["peerConfigDigests"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{st}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    mint_one(&net, &m, &r).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while logged_digests(&plain_log(&restored_log), "signed", "CreationReport").len()
        <= signed_before
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restored keeper signed nothing: {}",
            process::tail(&restored_log, 20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        value(&metrics(&net, 0).await, "tao20_reports_refused_total"),
        0
    );
    assert_eq!(
        status(&db(&net, 0))["journal"]["refused"]
            .as_u64()
            .unwrap_or(0),
        0
    );
}

/// The signer set changes after an epoch's boundary and before its file is published (two of
/// five keepers were down, so no quorum formed): the keepers re-sign the same file under the new
/// signer-set version and it is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_file_is_published_after_a_signer_set_change_before_its_quorum() {
    use alloy::providers::Provider as _;
    let _one_at_a_time = DEVNET.lock().await;
    const EPOCH: u64 = 300;
    let mut net = up(&[
        "--validators",
        "5",
        "--block-time-ms",
        "100",
        "--delivery-window",
        "60",
        "--epoch-length",
        &EPOCH.to_string(),
        "--no-mechanisms",
        "--genesis-units",
        "0",
    ]);
    let sim = net.file.simulator();
    let r = reader(&net);
    // Two keepers go down shortly before the boundary (once they follow the chain, and briefly:
    // they resume from their cursor, whose BEVM state anvil keeps only so long): three of five
    // cannot reach the threshold of four.
    for i in 3..5 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while value(&metrics(&net, i).await, "tao20_blocks_processed_total") == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "keeper {i} never started"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let head = sim.finalized_head().await.unwrap().number;
    let epoch = (head + 60) / EPOCH + 1;
    let boundary = epoch * EPOCH;
    wait_blocks(&sim, boundary - 30).await;
    let down: Vec<_> = net.file.processes[5..7].to_vec();
    for p in &down {
        tokio::task::block_in_place(|| process::stop(p, Duration::from_secs(5)));
    }
    // Past the boundary, the three keepers signed the file under the current version.
    wait_blocks(&sim, boundary + 30).await;
    let bevm_head = r.head().await.unwrap();
    assert!(
        r.creation_file(epoch, bevm_head).await.unwrap().is_none(),
        "no quorum yet"
    );
    let set = r.fund(bevm_head).await.unwrap().signer_set;

    // Governance (the timelock that owns the contract, impersonated on anvil rather than waiting
    // out its delay) installs the same signers again: a new version.
    use alloy::providers::ext::AnvilApi as _;
    let provider = tao20_bevm::rpc::connect(&net.file.anvil_rpc).unwrap();
    let address = net.file.deployment().unwrap().tao20;
    let tao20 = tao20_bevm::bindings::TAO20::new(address, provider.clone());
    let governance = tao20.owner().call().await.unwrap();
    provider
        .anvil_impersonate_account(governance)
        .await
        .unwrap();
    provider
        .anvil_set_balance(governance, U256::from(10u128.pow(20)))
        .await
        .unwrap();
    let calldata = tao20
        .setSigners(set.signers.clone(), set.threshold)
        .calldata()
        .clone();
    let receipt = provider
        .send_transaction(
            alloy::rpc::types::TransactionRequest::default()
                .from(governance)
                .to(address)
                .input(calldata.into()),
        )
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let after = r
        .fund(provider.get_block_number().await.unwrap())
        .await
        .unwrap()
        .signer_set;
    assert_eq!(after.version, set.version + 1);

    // The two come back; every keeper re-signs the file under the new version: published.
    for (k, _) in down.iter().enumerate() {
        let i = k + 3;
        let config = keepers::keeper_dir(&net.file.options.dir, i).join("keeper.toml");
        net.extra
            .push(keepers::spawn_keeper_with_env(&net.file, i, &config, &[]).unwrap());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let h = r.head().await.unwrap();
        if let Some(file) = r.creation_file(epoch, h).await.unwrap() {
            assert_eq!(file.signer_set_version, after.version);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "epoch {epoch} was never published: {}",
            process::tail(&net.file.processes[2].log, 20)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[test]
fn the_journal_moves_to_a_fresh_database_and_still_refuses_other_content() {
    use tao20_creation::eip712::{Eip712Message, Position, RefundReport};
    use tao20_node::journal::{self, Checked};
    use tao20_node::store::Store;

    const CHAIN: u64 = 31337;
    let contract: Address = "0x00000000000000000000000000000000000000c0"
        .parse()
        .unwrap();
    let me: Address = "0x0000000000000000000000000000000000000abc"
        .parse()
        .unwrap();
    let refund = |request: u8, amount: u64| {
        Eip712Message::RefundReport(RefundReport {
            request_id: B256::repeat_byte(request),
            coldkey: B256::repeat_byte(9),
            positions: vec![Position {
                netuid: 2,
                hotkey: B256::repeat_byte(2),
                amount,
            }],
            delivery_block: 10,
            delivery_index: 3,
            signer_set_version: 1,
        })
    };
    let check = |s: &mut Store, m: &Eip712Message| {
        s.write(|tx| journal::check_and_record(tx, me, m, CHAIN, contract, 7))
            .unwrap()
    };
    let tao20 = |args: &[&str]| {
        Command::cargo_bin("tao20")
            .unwrap()
            .args(args)
            .output()
            .unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old.sqlite");
    let new = tmp.path().join("new.sqlite");
    let file = tmp.path().join("journal.json");
    let (old_s, new_s, file_s) = (
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        file.to_str().unwrap(),
    );
    {
        let mut s = Store::open(&old).unwrap();
        s.bind_identity(CHAIN, &contract.to_string(), &me.to_string())
            .unwrap();
        for req in 1..=3u8 {
            assert!(matches!(
                check(&mut s, &refund(req, 100)),
                Checked::Sign { .. }
            ));
        }
        // While the keeper holds the database, the export refuses.
        let out = tao20(&[
            "validator",
            "journal",
            "export",
            "--db",
            old_s,
            "--out",
            file_s,
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("lock") || err.contains("another"), "{err}");
        assert!(!file.exists());
    }
    let out = tao20(&[
        "validator",
        "journal",
        "export",
        "--db",
        old_s,
        "--out",
        file_s,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["metadata"]["chain_id"], "31337");
    assert_eq!(doc["data"][0]["signed"].as_array().unwrap().len(), 3);
    assert_eq!(doc["data"][0]["signed"][0]["signer_set_version"], "1");

    let out = tao20(&[
        "validator",
        "journal",
        "import",
        "--db",
        new_s,
        "--in",
        file_s,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["added"], 3);
    // Importing again merges, adding nothing.
    let out = tao20(&[
        "validator",
        "journal",
        "import",
        "--db",
        new_s,
        "--in",
        file_s,
    ]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (again["added"].clone(), again["merged"].clone()),
        (0.into(), 3.into())
    );

    // The keeper on the new machine: other content for an imported subject is refused, the
    // imported content may be signed, and a subject never seen is new.
    let mut s = Store::open(&new).unwrap();
    for req in 1..=3u8 {
        match check(&mut s, &refund(req, 101)) {
            Checked::Refused { .. } => {}
            other => panic!("request {req}: {other:?}"),
        }
    }
    assert!(matches!(
        check(&mut s, &refund(2, 100)),
        Checked::Sign { .. }
    ));
    assert!(matches!(
        check(&mut s, &refund(4, 101)),
        Checked::Sign { .. }
    ));
    assert_eq!(tao20_node::store::journal::refusals(s.conn()).unwrap(), 3);
    drop(s);
    // A journal of another deployment is refused.
    let mut foreign = doc.clone();
    foreign["metadata"]["chain_id"] = "1".into();
    std::fs::write(&file, foreign.to_string()).unwrap();
    let out = tao20(&[
        "validator",
        "journal",
        "import",
        "--db",
        new_s,
        "--in",
        file_s,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chain"));
}
