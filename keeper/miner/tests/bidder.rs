//! The bidder against the in-process simulator: its first commitment, a bad edit refused (the
//! last good bids stay committed), a good edit committed once the rate limit allows, and the hook
//! told of every commit, while a failing hook never stops bidding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use tao20_chain::sim::{LocalTransport, SimClient, SimConfig, SubnetSpec, WEIGHT_ONE};
use tao20_chain::types::Bytes32;
use tao20_chain::Subtensor;
use tao20_miner::bid::hooks::{run_once, HookOutcome, Hooks};
use tao20_miner::bid::{self, Bidder};

const NETUID: u16 = 1;

fn bids_file(hook: &[String], bids: &str) -> String {
    let hook = hook
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[subtensor]\nnetwork = \"local\"\nchain_endpoint = \"ws://127.0.0.1:1\"\nnetuid = {NETUID}\n\
         [wallet]\nsuri_file = \"hotkey.suri\"\n\
         [commit]\nmin_interval_blocks = 4\nrefresh_blocks = 50\n\
         [hooks]\ncommand = [{hook}]\ntimeout_secs = 5\n\
         [engine]\npoll_ms = 10\n\
         {bids}"
    )
}

async fn sim_with_bidder() -> (SimClient<LocalTransport>, Bytes32) {
    let sim = SimClient::in_process(SimConfig {
        volatility_ppm: 0,
        finality_lag: 0,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(SubnetSpec {
        netuid: NETUID,
        owner: Bytes32([1; 32]),
        owner_hotkey: Bytes32([2; 32]),
        tempo: 20,
        tao_in: 1_000_000 * 1_000_000_000,
        alpha_in: 1_000_000 * 1_000_000_000,
        weight_tao: WEIGHT_ONE / 2,
    })
    .await
    .unwrap();
    let hot = Bytes32([5; 32]);
    sim.register_neuron(NETUID, hot, Bytes32([6; 32]))
        .await
        .unwrap();
    (sim, hot)
}

async fn committed(sim: &SimClient<LocalTransport>, hot: Bytes32) -> Option<String> {
    let head = sim.finalized_head().await.unwrap().number;
    sim.commitments(head, NETUID)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.hotkey == hot)
        .map(|c| String::from_utf8(c.data).unwrap())
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn wait_lines(path: &Path, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let l = lines(path);
        if l.len() >= n || Instant::now() > deadline {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_committed_within_the_rate_limit_and_bad_ones_keep_the_last_good_bids() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let hook = vec![
        "sh".to_string(),
        "-c".to_string(),
        format!("cat >> {}", events.display()),
    ];
    let path = dir.path().join("bids.toml");
    std::fs::write(
        &path,
        bids_file(&hook, "[bids.BTC]\n\"1.0\" = { \"0.1\" = 3 }\n"),
    )
    .unwrap();
    let (sim, hot) = sim_with_bidder().await;
    let (text, parsed) = bid::load(&path).unwrap();
    let mut bidder = Bidder::new(path.clone(), text, parsed.unwrap(), sim.as_signer(hot))
        .await
        .unwrap();

    bidder.tick().await.unwrap();
    assert_eq!(
        committed(&sim, hot).await.as_deref(),
        Some("2;b;BTC,1=0.1:3")
    );

    // A bad edit (a count of zero) is refused with its line: the bids in force stay.
    let bad = bids_file(&hook, "[bids.BTC]\n\"1.0\" = { \"0.1\" = 0 }\n");
    let line = bad.lines().position(|l| l.contains("= 0 }")).unwrap() + 1;
    std::fs::write(&path, bad).unwrap();
    assert_eq!(bid::load(&path).unwrap().1.unwrap_err().line, line);
    sim.advance(6).await.unwrap();
    bidder.tick().await.unwrap();
    assert_eq!(bidder.current().payload, b"2;b;BTC,1=0.1:3");
    assert_eq!(
        committed(&sim, hot).await.as_deref(),
        Some("2;b;BTC,1=0.1:3")
    );

    // A good edit is committed, but not twice within min_interval_blocks.
    std::fs::write(
        &path,
        bids_file(&hook, "[bids.BTC]\n\"0.95\" = { \"0.2\" = 2 }\n"),
    )
    .unwrap();
    bidder.tick().await.unwrap();
    assert_eq!(
        committed(&sim, hot).await.as_deref(),
        Some("2;b;BTC,0.95=0.2:2")
    );
    std::fs::write(
        &path,
        bids_file(&hook, "[bids.BTC]\n\"0.9\" = { \"0.2\" = 2 }\n"),
    )
    .unwrap();
    bidder.tick().await.unwrap();
    assert_eq!(
        committed(&sim, hot).await.as_deref(),
        Some("2;b;BTC,0.95=0.2:2"),
        "a second commit inside the rate limit"
    );
    sim.advance(5).await.unwrap();
    bidder.tick().await.unwrap();
    assert_eq!(
        committed(&sim, hot).await.as_deref(),
        Some("2;b;BTC,0.9=0.2:2")
    );

    // The same bids are committed again before they go stale.
    let before = {
        let head = sim.finalized_head().await.unwrap().number;
        sim.commitments(head, NETUID).await.unwrap()[0].block
    };
    sim.advance(55).await.unwrap();
    bidder.tick().await.unwrap();
    let head = sim.finalized_head().await.unwrap().number;
    let after = sim.commitments(head, NETUID).await.unwrap()[0].block;
    assert!(
        after > before + 50,
        "refreshed at {after}, first at {before}"
    );

    let got = wait_lines(&events, 4).await;
    let reasons: Vec<_> = got
        .iter()
        .filter(|e| e["event"] == "commit")
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasons, ["first", "changed", "changed", "refresh"]);
    assert_eq!(got[1]["payload"], "2;b;BTC,0.95=0.2:2");
    assert_eq!(got[1]["bids"][0]["count"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_hanging_hook_never_stops_bidding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bids.toml");
    let hang = vec!["sh".to_string(), "-c".to_string(), "sleep 30".to_string()];
    std::fs::write(
        &path,
        bids_file(&hang, "[bids.BTC]\n\"1.0\" = { \"0.1\" = 3 }\n"),
    )
    .unwrap();
    let (sim, hot) = sim_with_bidder().await;
    let (text, parsed) = bid::load(&path).unwrap();
    let mut bidder = Bidder::new(path.clone(), text, parsed.unwrap(), sim.as_signer(hot))
        .await
        .unwrap();
    let started = Instant::now();
    bidder.tick().await.unwrap();
    sim.advance(5).await.unwrap();
    std::fs::write(
        &path,
        bids_file(
            &["false".to_string()],
            "[bids.BTC]\n\"1.0\" = { \"0.1\" = 4 }\n",
        ),
    )
    .unwrap();
    bidder.tick().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bidding waited for the hook"
    );
    assert_eq!(
        committed(&sim, hot).await.as_deref(),
        Some("2;b;BTC,1=0.1:4")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_get_the_document_on_stdin_and_failures_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let doc = serde_json::json!({"event": "won", "windowStart": 7});
    let sh = |script: String| vec!["sh".to_string(), "-c".to_string(), script];
    let t = Duration::from_secs(5);
    assert_eq!(
        run_once(&sh(format!("cat > {}", out.display())), &doc, t).await,
        HookOutcome::Ok
    );
    assert_eq!(lines(&out), vec![doc.clone()]);
    assert!(matches!(
        run_once(&sh("echo broken >&2; exit 3".into()), &doc, t).await,
        HookOutcome::Failed(m) if m.contains("broken")
    ));
    assert!(matches!(
        run_once(&["/nonexistent/hook".to_string()], &doc, t).await,
        HookOutcome::NotStarted(_)
    ));
    let started = Instant::now();
    assert_eq!(
        run_once(&sh("sleep 30".into()), &doc, Duration::from_millis(200)).await,
        HookOutcome::TimedOut
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // The worker goes on after a failing run, in order.
    let log = dir.path().join("log.jsonl");
    let hooks = Hooks::start(
        sh(format!(
            "read l; case \"$l\" in *fail*) exit 1;; esac; echo \"$l\" >> {}",
            log.display()
        )),
        t,
    );
    hooks.send(serde_json::json!({"event": "commit", "n": 1}));
    hooks.send(serde_json::json!({"event": "fail", "n": 2}));
    hooks.send(serde_json::json!({"event": "lost", "n": 3}));
    let got = wait_lines(&log, 2).await;
    let ns: Vec<_> = got.iter().map(|e| e["n"].as_u64().unwrap()).collect();
    assert_eq!(ns, [1, 3]);
}
