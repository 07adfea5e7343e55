//! Price sources against a local fixture server: exact medians, and every way a source can fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

use std::collections::BTreeMap;
use std::time::Duration;

use fixture::{Fixture, Reply};
use tao20_core::Fp18;
use tao20_feeds::http::HeaderSource;
use tao20_feeds::prices::{
    MetricConfig, PriceSourceConfig, PricesConfig, SourceAnswer, TimeUnit, TimestampConfig,
};
use tao20_feeds::{Error, Metric, PriceFeeds, SourceFailure};

const SECRET: &str = "s3cret-key-value";
const NOW: u64 = 2_000;

fn fp(s: &str) -> Fp18 {
    Fp18::parse(s).unwrap()
}

async fn server() -> Fixture {
    Fixture::start(|req, _| match req.path.as_str() {
        "/a" => Reply::ok(r#"{"price":"401.123456789012345678"}"#),
        "/b" => Reply::ok(r#"{"data":{"usd":399.5}}"#),
        "/c" => Reply::ok(r#"{"price":4.005e2,"t":1990}"#),
        "/e500" => Reply::status(500),
        "/e429" => Reply::status(429),
        "/slow" => Reply::slow(Duration::from_secs(5), Reply::ok(r#"{"price":"1"}"#)),
        "/truncated" => Reply::ok(r#"{"price": 4"#),
        "/html" => Reply::ok("<html>busy</html>"),
        "/missing" => Reply::ok(r#"{"other":1}"#),
        "/stale" => Reply::ok(r#"{"price":"5","t":1000}"#),
        "/big" => Reply::ok(format!(r#"{{"price":"1","pad":"{}"}}"#, "x".repeat(2000))),
        "/bigstream" => Reply::Body {
            status: 200,
            headers: vec![],
            body: format!(r#"{{"price":"1","pad":"{}"}}"#, "x".repeat(2000)).into_bytes(),
            content_length: false,
        },
        "/null" => Reply::ok(r#"{"price":null}"#),
        "/zero" => Reply::ok(r#"{"price":"0.000"}"#),
        "/redirect" => Reply::Body {
            status: 302,
            headers: vec![("Location".into(), "/a".into())],
            body: vec![],
            content_length: true,
        },
        "/closed" => Reply::Close,
        "/keyed" if req.header("x-api-key") == Some(SECRET) => Reply::ok(r#"{"price":"10"}"#),
        "/keyed" => Reply::status(401),
        _ => Reply::status(404),
    })
    .await
}

fn source(fx: &Fixture, name: &str, pointer: &str) -> PriceSourceConfig {
    PriceSourceConfig {
        name: name.into(),
        url: fx.url(&format!("/{name}")),
        pointer: pointer.into(),
        scale: 0,
        headers: BTreeMap::new(),
        timeout_ms: 1000,
        max_body_bytes: 1000,
        timestamp: None,
    }
}

fn with_timestamp(mut s: PriceSourceConfig) -> PriceSourceConfig {
    s.timestamp = Some(TimestampConfig {
        pointer: "/t".into(),
        unit: TimeUnit::Seconds,
        max_age_secs: 60,
    });
    s
}

fn feeds(tao: Vec<PriceSourceConfig>, min_fresh: usize) -> PriceFeeds {
    let config = PricesConfig {
        tao_usdc: MetricConfig {
            min_fresh,
            sources: tao,
        },
        hashp_usdc: MetricConfig {
            min_fresh: 1,
            sources: vec![PriceSourceConfig {
                name: "unused".into(),
                url: "http://127.0.0.1:1/".into(),
                pointer: "/p".into(),
                scale: 0,
                headers: BTreeMap::new(),
                timeout_ms: 100,
                max_body_bytes: 100,
                timestamp: None,
            }],
        },
    };
    PriceFeeds::with_env(&config, &|var| {
        (var == "FEED_KEY").then(|| SECRET.to_owned())
    })
    .unwrap()
}

fn answer(source: &str, value: &str, observed_at: Option<u64>) -> SourceAnswer {
    SourceAnswer {
        source: source.into(),
        value: fp(value),
        observed_at,
    }
}

fn failure(source: &str, error: Error) -> SourceFailure {
    SourceFailure {
        source: source.into(),
        error,
    }
}

#[tokio::test]
async fn the_median_of_three_exact_answers() {
    let fx = server().await;
    let f = feeds(
        vec![
            source(&fx, "a", "/price"),
            source(&fx, "b", "/data/usd"),
            with_timestamp(source(&fx, "c", "/price")),
        ],
        3,
    );
    let reading = f.fetch_at(Metric::TaoUsdc, NOW).await.unwrap();
    assert_eq!(reading.metric, Metric::TaoUsdc);
    assert_eq!(reading.value, fp("400.5"));
    assert_eq!(
        reading.answers,
        vec![
            answer("a", "401.123456789012345678", None),
            answer("b", "399.5", None),
            answer("c", "400.5", Some(1990)),
        ]
    );
    assert!(reading.failures.is_empty());
}

#[tokio::test]
async fn every_failed_source_is_named_with_its_reason() {
    let fx = server().await;
    let names = [
        "e500",
        "e429",
        "slow",
        "truncated",
        "html",
        "missing",
        "stale",
        "big",
        "bigstream",
        "null",
        "zero",
        "redirect",
        "closed",
    ];
    let mut sources: Vec<PriceSourceConfig> = names
        .iter()
        .map(|n| with_timestamp(source(&fx, n, "/price")))
        .collect();
    sources.push(source(&fx, "a", "/price"));
    sources.push(source(&fx, "b", "/data/usd"));
    let reading = feeds(sources, 2)
        .fetch_at(Metric::TaoUsdc, NOW)
        .await
        .unwrap();
    // Two fresh answers: the lower one is the median.
    assert_eq!(reading.value, fp("399.5"));
    assert_eq!(
        reading.answers,
        vec![
            answer("a", "401.123456789012345678", None),
            answer("b", "399.5", None)
        ]
    );
    let failed: Vec<&str> = reading.failures.iter().map(|f| f.source.as_str()).collect();
    assert_eq!(failed, names);
    let exact = [
        failure("e500", Error::Status { status: 500 }),
        failure("e429", Error::Status { status: 429 }),
        failure("slow", Error::Timeout { timeout_ms: 1000 }),
    ];
    assert_eq!(reading.failures[..3], exact);
    assert!(
        matches!(&reading.failures[3].error, Error::Malformed { reason } if reason.contains("EOF"))
    );
    assert!(
        matches!(&reading.failures[4].error, Error::Malformed { reason } if reason.contains("expected value"))
    );
    let exact = [
        failure(
            "missing",
            Error::MissingPointer {
                pointer: "/price".into(),
            },
        ),
        failure(
            "stale",
            Error::Stale {
                observed_at: 1000,
                age_secs: 1000,
                max_age_secs: 60,
            },
        ),
        failure("big", Error::TooLarge { limit: 1000 }),
        failure("bigstream", Error::TooLarge { limit: 1000 }),
        failure(
            "null",
            Error::BadValue {
                pointer: "/price".into(),
                text: "null".into(),
                reason: "not a number or a string holding one".into(),
            },
        ),
        failure(
            "zero",
            Error::BadValue {
                pointer: "/price".into(),
                text: "\"0.000\"".into(),
                reason: "zero (after scaling) is not a price".into(),
            },
        ),
        failure("redirect", Error::Status { status: 302 }),
    ];
    assert_eq!(reading.failures[5..12], exact);
    assert!(matches!(
        &reading.failures[12].error,
        Error::Transport { .. }
    ));
}

#[tokio::test]
async fn too_few_fresh_answers_is_a_typed_error() {
    let fx = server().await;
    let f = feeds(
        vec![
            source(&fx, "a", "/price"),
            source(&fx, "e500", "/price"),
            source(&fx, "slow", "/price"),
        ],
        2,
    );
    let err = f.fetch_at(Metric::TaoUsdc, NOW).await.unwrap_err();
    assert_eq!(
        err,
        Error::TooFewSources {
            metric: Metric::TaoUsdc,
            fresh: 1,
            required: 2,
            failures: vec![
                failure("e500", Error::Status { status: 500 }),
                failure("slow", Error::Timeout { timeout_ms: 1000 }),
            ],
        }
    );
    assert_eq!(
        err.to_string(),
        "TAO_USDC: 1 fresh answers, 2 required; e500: HTTP status 500; slow: no complete answer within 1000 ms"
    );
}

#[tokio::test]
async fn the_sources_are_asked_concurrently() {
    let fx = Fixture::start(|_, _| {
        Reply::slow(Duration::from_millis(400), Reply::ok(r#"{"price":"2"}"#))
    })
    .await;
    let mut sources: Vec<PriceSourceConfig> = (0..5)
        .map(|i| source(&fx, &format!("s{i}"), "/price"))
        .collect();
    for s in &mut sources {
        s.timeout_ms = 3000;
    }
    let started = std::time::Instant::now();
    let reading = feeds(sources, 5)
        .fetch_at(Metric::TaoUsdc, NOW)
        .await
        .unwrap();
    assert_eq!(reading.value, fp("2"));
    // Five 400 ms answers one after the other would take 2 s.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn api_keys_come_from_the_environment_and_are_never_shown() {
    let fx = server().await;
    let mut keyed = source(&fx, "keyed", "/price");
    keyed
        .headers
        .insert("x-api-key".into(), HeaderSource::Env("FEED_KEY".into()));
    keyed.headers.insert(
        "accept".into(),
        HeaderSource::Value("application/json".into()),
    );
    let f = feeds(vec![keyed.clone()], 1);
    let reading = f.fetch_at(Metric::TaoUsdc, NOW).await.unwrap();
    assert_eq!(reading.value, fp("10"));
    let seen = fx.requests();
    assert_eq!(seen[0].header("x-api-key"), Some(SECRET));
    assert_eq!(seen[0].header("accept"), Some("application/json"));
    assert!(!format!("{f:?}").contains(SECRET));

    // Without the key the source answers 401, and the error does not carry the key either.
    let mut unkeyed = keyed;
    unkeyed.headers.clear();
    let err = feeds(vec![unkeyed], 1)
        .fetch_at(Metric::TaoUsdc, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooFewSources { failures, .. } if failures[0].error == Error::Status { status: 401 })
    );

    // A variable that is not set refuses the config, naming the variable only.
    let mut missing = source(&fx, "keyed", "/price");
    missing.headers.insert(
        "x-api-key".into(),
        HeaderSource::Env("NOT_SET_ANYWHERE".into()),
    );
    let config = PricesConfig {
        tao_usdc: MetricConfig {
            min_fresh: 1,
            sources: vec![missing.clone()],
        },
        hashp_usdc: MetricConfig {
            min_fresh: 1,
            sources: vec![missing],
        },
    };
    assert_eq!(
        PriceFeeds::with_env(&config, &|_| None).unwrap_err(),
        Error::MissingEnv {
            var: "NOT_SET_ANYWHERE".into(),
            what: "prices.tao_usdc.sources[0].headers.x-api-key".into()
        }
    );
}

#[tokio::test]
async fn scale_and_timestamps_in_milliseconds() {
    let fx = Fixture::start(|req, _| match req.path.as_str() {
        "/micro" => Reply::ok(r#"{"v":123456789,"closeTime":1999123}"#),
        _ => Reply::ok(r#"{"per_th":"0.0505"}"#),
    })
    .await;
    let mut micro = source(&fx, "micro", "/v");
    micro.scale = -6;
    micro.timestamp = Some(TimestampConfig {
        pointer: "/closeTime".into(),
        unit: TimeUnit::Milliseconds,
        max_age_secs: 1,
    });
    let mut per_th = source(&fx, "per_th", "/per_th");
    per_th.scale = 3;
    let config = PricesConfig {
        tao_usdc: MetricConfig {
            min_fresh: 1,
            sources: vec![micro],
        },
        hashp_usdc: MetricConfig {
            min_fresh: 1,
            sources: vec![per_th],
        },
    };
    let f = PriceFeeds::with_env(&config, &|_| None).unwrap();
    let tao = f.fetch_at(Metric::TaoUsdc, NOW).await.unwrap();
    assert_eq!(tao.answers, vec![answer("micro", "123.456789", Some(1999))]);
    let hashp = f.fetch_at(Metric::HashpUsdc, NOW).await.unwrap();
    assert_eq!(
        (hashp.metric.key(), hashp.value),
        ("HASHP_USDC", fp("50.5"))
    );
    // Two seconds later the millisecond timestamp is stale.
    let err = f.fetch_at(Metric::TaoUsdc, NOW + 2).await.unwrap_err();
    assert!(
        matches!(err, Error::TooFewSources { failures, .. } if failures[0].error == Error::Stale { observed_at: 1999, age_secs: 3, max_age_secs: 1 })
    );
}

#[test]
fn the_documented_toml_config_parses() {
    let text = r#"
        [tao_usdc]
        min_fresh = 2
        [[tao_usdc.sources]]
        name = "binance"
        url = "https://api.binance.com/api/v3/avgPrice?symbol=TAOUSDC"
        pointer = "/price"
        timestamp = { pointer = "/closeTime", unit = "milliseconds", max_age_secs = 900 }
        [[tao_usdc.sources]]
        name = "coingecko"
        url = "https://pro-api.coingecko.com/api/v3/simple/price?ids=bittensor&vs_currencies=usd&include_last_updated_at=true"
        pointer = "/bittensor/usd"
        headers = { "x-cg-pro-api-key" = { env = "COINGECKO_API_KEY" } }
        timestamp = { pointer = "/bittensor/last_updated_at", max_age_secs = 900 }

        [hashp_usdc]
        [[hashp_usdc.sources]]
        name = "index"
        url = "https://example.org/hashprice"
        pointer = "/usd_per_th_day"
        scale = 3
        timeout_ms = 5000
    "#;
    let config: PricesConfig = toml::from_str(text).unwrap();
    assert_eq!(config.tao_usdc.min_fresh, 2);
    let gecko = &config.tao_usdc.sources[1];
    assert_eq!(
        gecko.headers["x-cg-pro-api-key"],
        HeaderSource::Env("COINGECKO_API_KEY".into())
    );
    assert_eq!(gecko.timeout_ms, 10_000);
    assert_eq!(gecko.timestamp.as_ref().unwrap().unit, TimeUnit::Seconds);
    assert_eq!(
        config.tao_usdc.sources[0].timestamp.as_ref().unwrap().unit,
        TimeUnit::Milliseconds
    );
    let index = &config.hashp_usdc.sources[0];
    assert_eq!(
        (index.scale, index.timeout_ms, config.hashp_usdc.min_fresh),
        (3, 5000, 1)
    );
    // Round trip through TOML text.
    let again: PricesConfig = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
    assert_eq!(again, config);
    // A typo is refused rather than ignored.
    let typo = text.replace(
        "max_age_secs = 900 }\n        [[tao_usdc.sources]]",
        "max_age = 900 }\n        [[tao_usdc.sources]]",
    );
    assert!(toml::from_str::<PricesConfig>(&typo).is_err());
    // Building the feeds needs the key's variable.
    assert_eq!(
        PriceFeeds::with_env(&config, &|_| None).unwrap_err(),
        Error::MissingEnv {
            var: "COINGECKO_API_KEY".into(),
            what: "prices.tao_usdc.sources[1].headers.x-cg-pro-api-key".into()
        }
    );
    assert!(PriceFeeds::with_env(&config, &|_| Some("k".into())).is_ok());
}
