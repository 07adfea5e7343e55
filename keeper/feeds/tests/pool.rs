//! Pool telemetry against a local fixture server: Luxor's request and answer, paging, every
//! failure, the proxy override, and the sampler through errors and gaps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fixture::{Fixture, Reply};
use tao20_auction::delivery::{has_sampling_gap, WorkerReading};
use tao20_auction::window::Window;
use tao20_feeds::pool::{PoolSourceConfig, PoolSourceKind};
use tao20_feeds::sampler::{SamplerStats, SinkError, TickOutcome};
use tao20_feeds::{Error, MemorySink, PoolClient, PoolConfig, PoolSample, SampleSink, Sampler};

const KEY: &str = "luxor-secret";
const WORKERS_PATH: &str = "/api/v2/pool/workers/BTC";

fn workers_body(workers: &[(&str, &str)], next: bool) -> String {
    let list: Vec<String> = workers
        .iter()
        .map(|(name, hr)| {
            format!(
                r#"{{"name":"{name}","hashrate":{hr},"efficiency":0.996,"last_share_time":"2026-01-01T00:00:00Z"}}"#
            )
        })
        .collect();
    let next = if next {
        r#""/v2/pool/workers/BTC?page_number=2""#
    } else {
        "null"
    };
    format!(
        r#"{{"total_active":{},"total_inactive":0,"workers":[{}],"pagination":{{"page_number":1,"page_size":2,"item_count":3,"previous_page_url":null,"next_page_url":{next}}}}}"#,
        workers.len(),
        list.join(",")
    )
}

fn luxor_config(fx: &Fixture) -> PoolSourceConfig {
    PoolSourceConfig {
        subaccount: Some("tao20".into()),
        api_key_env: Some("LUXOR_KEY".into()),
        timeout_ms: 1000,
        max_body_bytes: 4096,
        ..PoolSourceConfig::new(fx.url("/api/"))
    }
}

fn env(var: &str) -> Option<String> {
    (var == "LUXOR_KEY").then(|| KEY.to_owned())
}

fn luxor(fx: &Fixture) -> PoolClient {
    PoolClient::new(PoolSourceKind::Luxor, &luxor_config(fx), &env).unwrap()
}

fn reading(name: &str, hashrate_hs: u128) -> WorkerReading {
    WorkerReading {
        name: name.into(),
        hashrate_hs,
    }
}

#[tokio::test]
async fn luxor_request_and_exact_answer() {
    let fx = Fixture::start(|req, _| {
        if req.path != WORKERS_PATH || req.header("authorization") != Some(KEY) {
            return Reply::status(403);
        }
        Reply::ok(workers_body(
            &[
                ("tao20.5Fhotkey.rig1", "120000000000000"),
                ("tao20.5Fhotkey.rig2", r#""250000000000000000000""#),
            ],
            false,
        ))
    })
    .await;
    let client = luxor(&fx);
    assert_eq!(
        client.fetch_workers().await.unwrap(),
        vec![
            reading("tao20.5Fhotkey.rig1", 120_000_000_000_000),
            reading("tao20.5Fhotkey.rig2", 250_000_000_000_000_000_000),
        ]
    );
    let req = &fx.requests()[0];
    let query: Vec<(&str, &str)> = req
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        query,
        [
            ("subaccount_names", "tao20"),
            ("status", "ACTIVE"),
            ("page_number", "1"),
            ("page_size", "1000")
        ]
    );
    assert!(!format!("{client:?}").contains(KEY));
}

#[tokio::test]
async fn pages_are_followed_until_the_last() {
    let fx = Fixture::start(|req, _| match req.query("page_number") {
        Some("1") => Reply::ok(workers_body(&[("a.w1", "1"), ("a.w2", "2")], true)),
        Some("2") => Reply::ok(workers_body(&[("b.w1", r#""3""#)], false)),
        _ => Reply::status(400),
    })
    .await;
    let config = PoolSourceConfig {
        page_size: 2,
        ..luxor_config(&fx)
    };
    let client = PoolClient::new(PoolSourceKind::Luxor, &config, &env).unwrap();
    assert_eq!(
        client.fetch_workers().await.unwrap(),
        vec![reading("a.w1", 1), reading("a.w2", 2), reading("b.w1", 3)]
    );
    let pages: Vec<Option<String>> = fx
        .requests()
        .iter()
        .map(|r| r.query("page_number").map(str::to_owned))
        .collect();
    assert_eq!(pages, [Some("1".into()), Some("2".into())]);
    assert_eq!(fx.requests()[1].query("page_size"), Some("2"));
}

#[tokio::test]
async fn endless_paging_is_an_error_not_a_partial_sample() {
    let fx = Fixture::start(|_, _| Reply::ok(workers_body(&[("a.w", "1")], true))).await;
    let config = PoolSourceConfig {
        max_pages: 3,
        ..luxor_config(&fx)
    };
    let client = PoolClient::new(PoolSourceKind::Luxor, &config, &env).unwrap();
    assert_eq!(
        client.fetch_workers().await,
        Err(Error::TooManyPages { max_pages: 3 })
    );
    assert_eq!(fx.requests().len(), 3);
}

#[tokio::test]
async fn every_bad_answer_has_its_error() {
    let fx = Fixture::start(|req, _| match req.query("subaccount_names") {
        Some("e500") => Reply::status(500),
        Some("e429") => Reply::status(429),
        Some("slow") => Reply::slow(Duration::from_secs(5), Reply::ok(workers_body(&[], false))),
        Some("big") => Reply::ok(workers_body(&[("x".repeat(5000).as_str(), "1")], false)),
        Some("no-hashrate") => Reply::ok(r#"{"workers":[{"name":"a.w"}]}"#),
        Some("no-workers") => Reply::ok(r#"{"total_active":0,"total_inactive":0}"#),
        Some("bad-hashrate") => Reply::ok(workers_body(&[("a.w", r#""fast""#)], false)),
        Some("truncated") => Reply::ok(r#"{"workers":[{"name":"#),
        _ => Reply::ok(workers_body(&[], false)),
    })
    .await;
    let fetch = |sub: &str| {
        let config = PoolSourceConfig {
            subaccount: Some(sub.into()),
            ..luxor_config(&fx)
        };
        async move {
            PoolClient::new(PoolSourceKind::Luxor, &config, &env)
                .unwrap()
                .fetch_workers()
                .await
        }
    };
    assert_eq!(fetch("e500").await, Err(Error::Status { status: 500 }));
    assert_eq!(fetch("e429").await, Err(Error::Status { status: 429 }));
    assert_eq!(
        fetch("slow").await,
        Err(Error::Timeout { timeout_ms: 1000 })
    );
    assert_eq!(fetch("big").await, Err(Error::TooLarge { limit: 4096 }));
    assert!(
        matches!(fetch("no-hashrate").await, Err(Error::Malformed { reason }) if reason.contains("missing field `hashrate`"))
    );
    assert!(
        matches!(fetch("no-workers").await, Err(Error::Malformed { reason }) if reason.contains("missing field `workers`"))
    );
    assert_eq!(
        fetch("bad-hashrate").await,
        Err(Error::BadValue {
            pointer: "/workers/0/hashrate".into(),
            text: r#""fast""#.into(),
            reason: "not a decimal number".into()
        })
    );
    assert!(matches!(
        fetch("truncated").await,
        Err(Error::Malformed { .. })
    ));
    assert_eq!(fetch("empty").await, Ok(vec![]));
}

#[tokio::test]
async fn a_proxy_overrides_luxor() {
    let fx = Fixture::start(|req, _| match req.path.as_str() {
        "/proxy/workers" => Reply::ok(r#"{"workers":[{"name":"hk.w","hashrate":"7"}]}"#),
        _ => Reply::status(500),
    })
    .await;
    let config = PoolConfig {
        interval_ms: 20_000,
        luxor: Some(luxor_config(&fx)),
        proxy: Some(PoolSourceConfig::new(fx.url("/proxy/workers"))),
    };
    let client = PoolClient::from_config_with_env(&config, &env).unwrap();
    assert_eq!(client.kind(), PoolSourceKind::Proxy);
    let sink = MemorySink::default();
    let mut sampler = Sampler::new(client, sink.clone(), config.interval().unwrap());
    assert_eq!(sampler.tick().await, TickOutcome::Recorded { workers: 1 });
    let samples = sink.samples();
    assert!(samples[0].from_proxy);
    assert_eq!(samples[0].workers, vec![reading("hk.w", 7)]);
    let requests = fx.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/proxy/workers");
    assert_eq!(requests[0].query("status"), None);
    assert_eq!(requests[0].query("page_number"), Some("1"));
}

#[test]
fn config_rules() {
    let base = PoolSourceConfig::new("http://127.0.0.1:1/api");
    let err = |kind, config: &PoolSourceConfig| PoolClient::new(kind, config, &env).unwrap_err();
    assert_eq!(
        err(PoolSourceKind::Luxor, &base),
        Error::config("pool.luxor.subaccount", "required for Luxor")
    );
    let no_key = PoolSourceConfig {
        subaccount: Some("s".into()),
        ..base.clone()
    };
    assert_eq!(
        err(PoolSourceKind::Luxor, &no_key),
        Error::config("pool.luxor.api_key_env", "required for Luxor")
    );
    let unset = PoolSourceConfig {
        api_key_env: Some("UNSET".into()),
        ..no_key.clone()
    };
    assert_eq!(
        err(PoolSourceKind::Luxor, &unset),
        Error::MissingEnv {
            var: "UNSET".into(),
            what: "pool.luxor.api_key_env".into()
        }
    );
    // A proxy needs neither.
    assert!(PoolClient::new(PoolSourceKind::Proxy, &base, &env).is_ok());
    let none = PoolConfig {
        interval_ms: 1,
        luxor: None,
        proxy: None,
    };
    assert!(matches!(
        PoolClient::from_config_with_env(&none, &env),
        Err(Error::Config { .. })
    ));
    let toml_text = r#"
        [luxor]
        url = "https://app.luxor.tech/api"
        subaccount = "tao20"
        api_key_env = "LUXOR_KEY"
    "#;
    let parsed: PoolConfig = toml::from_str(toml_text).unwrap();
    assert_eq!(parsed.interval().unwrap(), Duration::from_secs(20));
    let luxor = parsed.luxor.as_ref().unwrap();
    assert_eq!(
        (
            luxor.page_size,
            luxor.timeout_ms,
            luxor.api_key_header.as_str()
        ),
        (1000, 10_000, "authorization")
    );
    assert!(PoolClient::from_config_with_env(&parsed, &env).is_ok());
}

/// A script of answers by request index, then good answers.
fn scripted(index: usize) -> Reply {
    let good = |hr: &str| {
        Reply::ok(workers_body(
            &[("tao20.hk.w1", hr), ("tao20.hk.w2", "5")],
            false,
        ))
    };
    match index {
        0 => good("100"),
        1 => Reply::status(500),
        2 => Reply::Hang,
        3 => Reply::ok(r#"{"workers": [ oops"#),
        4 => Reply::status(429),
        5 => Reply::ok(workers_body(&[("w".repeat(5000).as_str(), "1")], false)),
        6 => Reply::ok(r#"{"workers":[{"name":"tao20.hk.w1"}]}"#),
        7 => Reply::ok(workers_body(&[], false)),
        _ => good("200"),
    }
}

fn counting_blocks(first: u64) -> Arc<dyn Fn() -> Option<u64> + Send + Sync> {
    let next = Arc::new(AtomicU64::new(first));
    Arc::new(move || Some(next.fetch_add(1, Ordering::SeqCst)))
}

#[tokio::test]
async fn each_tick_records_a_complete_sample_or_nothing() {
    let fx = Fixture::start(|_, i| scripted(i)).await;
    let sink = MemorySink::default();
    let mut sampler = Sampler::new(luxor(&fx), sink.clone(), Duration::from_millis(10))
        .with_block_source(counting_blocks(100));
    let mut outcomes = Vec::new();
    for _ in 0..9 {
        outcomes.push(sampler.tick().await);
    }
    assert_eq!(outcomes[0], TickOutcome::Recorded { workers: 2 });
    assert_eq!(
        outcomes[1],
        TickOutcome::Skipped(Error::Status { status: 500 })
    );
    assert_eq!(
        outcomes[2],
        TickOutcome::Skipped(Error::Timeout { timeout_ms: 1000 })
    );
    assert!(matches!(
        &outcomes[3],
        TickOutcome::Skipped(Error::Malformed { .. })
    ));
    assert_eq!(
        outcomes[4],
        TickOutcome::Skipped(Error::Status { status: 429 })
    );
    assert_eq!(
        outcomes[5],
        TickOutcome::Skipped(Error::TooLarge { limit: 4096 })
    );
    assert!(
        matches!(&outcomes[6], TickOutcome::Skipped(Error::Malformed { reason }) if reason.contains("hashrate"))
    );
    assert_eq!(outcomes[7], TickOutcome::Recorded { workers: 0 });
    assert_eq!(outcomes[8], TickOutcome::Recorded { workers: 2 });
    assert_eq!(
        sampler.stats(),
        SamplerStats {
            recorded: 3,
            skipped: 6,
            sink_failures: 0
        }
    );
    let samples = sink.samples();
    let blocks: Vec<Option<u64>> = samples.iter().map(|s| s.block).collect();
    assert_eq!(blocks, [Some(100), Some(107), Some(108)]);
    assert_eq!(
        samples[0].workers,
        vec![reading("tao20.hk.w1", 100), reading("tao20.hk.w2", 5)]
    );
    assert!(samples[1].workers.is_empty());
    assert!(samples
        .iter()
        .all(|s| !s.from_proxy && s.unix_time > 1_700_000_000));
    // The skipped polls leave a gap that delivery sees: the check is skipped, nobody is banned.
    let delivery: Vec<_> = samples.iter().filter_map(PoolSample::to_delivery).collect();
    let window = Window {
        subnet_epoch_start: 100,
        index: 0,
        start: 100,
        end: 108,
    };
    assert!(has_sampling_gap(&window, &delivery, 5));
    assert!(!has_sampling_gap(&window, &delivery, 7));
}

struct FailingSink;

impl SampleSink for FailingSink {
    fn record(&mut self, _: PoolSample) -> Result<(), SinkError> {
        Err("disk full".into())
    }
}

#[tokio::test]
async fn a_refusing_sink_is_counted_and_sampling_goes_on() {
    let fx = Fixture::start(|_, _| Reply::ok(workers_body(&[("hk.w", "1")], false))).await;
    let mut sampler = Sampler::new(luxor(&fx), FailingSink, Duration::from_millis(10));
    assert_eq!(
        sampler.tick().await,
        TickOutcome::SinkFailed("disk full".into())
    );
    assert_eq!(
        sampler.tick().await,
        TickOutcome::SinkFailed("disk full".into())
    );
    assert_eq!(sampler.stats().sink_failures, 2);
    assert_eq!(fx.requests().len(), 2);
}

#[tokio::test]
async fn the_sampler_runs_through_errors_and_silence_until_stopped() {
    // Answers 0-2 good, 3-5 silent (a gap of three timeouts), then alternating errors and good
    // answers; the stop comes once ten samples are in.
    let fx = Fixture::start(|_, i| match i {
        0..=2 => Reply::ok(workers_body(&[("hk.w", "1")], false)),
        3..=5 => Reply::Hang,
        i if i % 2 == 0 => Reply::status(503),
        _ => Reply::ok(workers_body(&[("hk.w", "2")], false)),
    })
    .await;
    let config = PoolSourceConfig {
        timeout_ms: 500,
        ..luxor_config(&fx)
    };
    let client = PoolClient::new(PoolSourceKind::Luxor, &config, &env).unwrap();
    let sink = MemorySink::default();
    let watched = sink.clone();
    let stop = async move {
        while watched.len() < 10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let sampler = Sampler::new(client, sink.clone(), Duration::from_millis(20))
        .with_block_source(counting_blocks(0));
    let (_, stats) = tokio::time::timeout(Duration::from_secs(30), sampler.run_until(stop))
        .await
        .expect("the sampler stopped");
    let samples = sink.samples();
    assert_eq!(stats.recorded, 10);
    assert_eq!(samples.len(), 10);
    // Poll i is stamped block i: the good answers are polls 0-2 and the odd ones from 7 on.
    let blocks: Vec<u64> = samples.iter().map(|s| s.block.unwrap()).collect();
    assert_eq!(blocks, [0, 1, 2, 7, 9, 11, 13, 15, 17, 19]);
    assert!(stats.skipped >= 10, "{stats:?}");
    let hashrates: Vec<u128> = samples.iter().map(|s| s.workers[0].hashrate_hs).collect();
    assert_eq!(hashrates, [1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
}
