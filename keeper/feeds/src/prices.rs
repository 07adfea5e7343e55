//! Price sources for the price commitment: `TAO_USDC` and `HASHP_USDC` (USD per PH per day), each
//! the lower median of several HTTP sources' fresh answers.
//!
//! # A source
//! One GET of `url` with the configured headers. The body must be JSON; the value is the number
//! at `pointer` (RFC 6901), either a JSON number or a string holding one (`"401.25"`), parsed
//! exactly from its text (see [`crate::decimal`]), times `10^scale`, into FP18. Digits past the
//! 18th fractional digit are dropped (rounded down). Zero and negative values are refused. With a
//! `timestamp` rule, the number at its pointer is the answer's unix time (seconds or
//! milliseconds, fractions dropped), and an answer more than `max_age_secs` older than now is
//! stale; a timestamp in the future counts as fresh. Without one, an answer is fresh when it
//! arrives.
//!
//! # A metric
//! Its sources are asked concurrently. The answer is the median of the fresh values; with an even
//! count, the lower of the two middle values (no averaging, so the answer is always one source's
//! value and no rounding happens). Fewer than `min_fresh` fresh answers is
//! [`Error::TooFewSources`], which lists every failed source and why.
//!
//! # Config (TOML)
//! ```toml
//! [prices.tao_usdc]
//! min_fresh = 2
//! [[prices.tao_usdc.sources]]
//! name = "binance"
//! url = "https://api.binance.com/api/v3/avgPrice?symbol=TAOUSDC"
//! pointer = "/price"
//! timestamp = { pointer = "/closeTime", unit = "milliseconds", max_age_secs = 900 }
//! [[prices.tao_usdc.sources]]
//! name = "coingecko"
//! url = "https://pro-api.coingecko.com/api/v3/simple/price?ids=bittensor&vs_currencies=usd&include_last_updated_at=true"
//! pointer = "/bittensor/usd"
//! headers = { "x-cg-pro-api-key" = { env = "COINGECKO_API_KEY" } }
//! timestamp = { pointer = "/bittensor/last_updated_at", max_age_secs = 900 }
//!
//! [prices.hashp_usdc]
//! [[prices.hashp_usdc.sources]]
//! name = "index"
//! url = "https://example.org/hashprice"
//! pointer = "/usd_per_th_day"
//! scale = 3   # USD per TH per day x 10^3 = USD per PH per day
//! timeout_ms = 5000
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::{Client, Url};
use serde::{Deserialize, Serialize};
use tao20_core::Fp18;

use crate::http::{self, EnvLookup, HeaderSource};
use crate::json;
use crate::{Error, Result, SourceFailure};

/// FP18 has 18 decimals.
const FP18_DECIMALS: i32 = 18;
/// The largest `scale` magnitude: beyond it every value overflows or floors to zero.
const MAX_SCALE: i32 = 36;

/// A price the keeper publishes from HTTP sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// TAO in USDC.
    TaoUsdc,
    /// The hashprice: USD per PH per day.
    HashpUsdc,
}

impl Metric {
    /// Both metrics.
    pub const ALL: [Self; 2] = [Self::TaoUsdc, Self::HashpUsdc];

    /// The metric's key in a price commitment.
    pub const fn key(self) -> &'static str {
        match self {
            Self::TaoUsdc => "TAO_USDC",
            Self::HashpUsdc => "HASHP_USDC",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The `[prices]` section: one entry per metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricesConfig {
    /// Sources of `TAO_USDC`.
    pub tao_usdc: MetricConfig,
    /// Sources of `HASHP_USDC`.
    pub hashp_usdc: MetricConfig,
}

/// The sources of one metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    /// Fewest fresh answers that give a value (1 by default; at most the number of sources).
    #[serde(default = "one")]
    pub min_fresh: usize,
    /// The sources, in the order failures are reported.
    pub sources: Vec<PriceSourceConfig>,
}

/// One HTTP price source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSourceConfig {
    /// A name for reports and logs (unique within the metric).
    pub name: String,
    /// The URL to GET (no secrets here: URLs appear in config dumps; keys go in `headers`).
    pub url: String,
    /// RFC 6901 pointer to the value.
    pub pointer: String,
    /// Power of ten applied to the value read: `value x 10^scale` (0 by default; -6 for an integer
    /// in micro-units, 3 for a price per TH turned into one per PH).
    #[serde(default)]
    pub scale: i32,
    /// Request headers, by name.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderSource>,
    /// Deadline of the whole exchange, in milliseconds (10 000 by default).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Largest accepted body, in bytes (1 MiB by default).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// The staleness rule, if the answer carries a timestamp.
    #[serde(default)]
    pub timestamp: Option<TimestampConfig>,
}

/// Where an answer's time is, and how old it may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampConfig {
    /// RFC 6901 pointer to a unix timestamp (number or numeric string).
    pub pointer: String,
    /// Its unit (seconds by default).
    #[serde(default)]
    pub unit: TimeUnit,
    /// Answers older than this many seconds are stale.
    pub max_age_secs: u64,
}

/// The unit of a unix timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Seconds since 1970.
    #[default]
    Seconds,
    /// Milliseconds since 1970.
    Milliseconds,
}

impl TimeUnit {
    const fn shift(self) -> i32 {
        match self {
            Self::Seconds => 0,
            Self::Milliseconds => -3,
        }
    }
}

const fn one() -> usize {
    1
}
const fn default_timeout_ms() -> u64 {
    10_000
}
const fn default_max_body_bytes() -> usize {
    1 << 20
}

/// One source's fresh answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAnswer {
    /// The source's name.
    pub source: String,
    /// The value, scaled.
    pub value: Fp18,
    /// The answer's unix time in seconds, when the source has a timestamp rule.
    pub observed_at: Option<u64>,
}

/// A metric's value and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricReading {
    /// The metric.
    pub metric: Metric,
    /// The lower median of the fresh answers.
    pub value: Fp18,
    /// The fresh answers, in config order.
    pub answers: Vec<SourceAnswer>,
    /// The sources without a fresh answer, in config order, and why.
    pub failures: Vec<SourceFailure>,
}

/// The median of `values`, the lower of the two middle values for an even count; `None` when
/// empty. It does not depend on the order of `values`.
pub fn lower_median(values: &[Fp18]) -> Option<Fp18> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let middle = sorted.len().checked_sub(1)? / 2;
    sorted.get(middle).copied()
}

/// A validated source.
#[derive(Debug, Clone)]
struct PriceSource {
    name: String,
    url: Url,
    pointer: String,
    shift: i32,
    headers: HeaderMap,
    timeout: Duration,
    max_body_bytes: usize,
    timestamp: Option<TimestampConfig>,
}

#[derive(Debug, Clone)]
struct MetricFeed {
    min_fresh: usize,
    sources: Vec<PriceSource>,
}

/// The price sources of both metrics, ready to be asked.
///
/// `Debug` shows no secret: header values read from the environment are marked sensitive.
#[derive(Debug, Clone)]
pub struct PriceFeeds {
    client: Client,
    tao_usdc: MetricFeed,
    hashp_usdc: MetricFeed,
}

impl PriceFeeds {
    /// Validates `config` and reads its header variables from the process environment.
    pub fn new(config: &PricesConfig) -> Result<Self> {
        Self::with_env(config, &http::process_env)
    }

    /// As [`PriceFeeds::new`], reading header variables through `env`.
    pub fn with_env(config: &PricesConfig, env: EnvLookup<'_>) -> Result<Self> {
        Ok(Self {
            client: http::client()?,
            tao_usdc: metric_feed(&config.tao_usdc, "prices.tao_usdc", env)?,
            hashp_usdc: metric_feed(&config.hashp_usdc, "prices.hashp_usdc", env)?,
        })
    }

    /// Asks every source of `metric` now (the system clock judges staleness).
    pub async fn fetch(&self, metric: Metric) -> Result<MetricReading> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.fetch_at(metric, now).await
    }

    /// Asks every source of `metric`, judging staleness at unix time `now` (seconds).
    pub async fn fetch_at(&self, metric: Metric, now: u64) -> Result<MetricReading> {
        let feed = match metric {
            Metric::TaoUsdc => &self.tao_usdc,
            Metric::HashpUsdc => &self.hashp_usdc,
        };
        let outcomes =
            futures_util::future::join_all(feed.sources.iter().map(|s| self.ask(s, now))).await;
        let mut answers = Vec::new();
        let mut failures = Vec::new();
        for (source, outcome) in feed.sources.iter().zip(outcomes) {
            match outcome {
                Ok(answer) => answers.push(answer),
                Err(error) => {
                    tracing::warn!(target: "keeper::feeds", %metric, source = %source.name, %error, "price source failed");
                    failures.push(SourceFailure {
                        source: source.name.clone(),
                        error,
                    });
                }
            }
        }
        let values: Vec<Fp18> = answers.iter().map(|a| a.value).collect();
        match lower_median(&values) {
            Some(value) if answers.len() >= feed.min_fresh => Ok(MetricReading {
                metric,
                value,
                answers,
                failures,
            }),
            _ => Err(Error::TooFewSources {
                metric,
                fresh: answers.len(),
                required: feed.min_fresh,
                failures,
            }),
        }
    }

    async fn ask(&self, source: &PriceSource, now: u64) -> Result<SourceAnswer> {
        let body = http::get(
            &self.client,
            source.url.clone(),
            &source.headers,
            source.timeout,
            source.max_body_bytes,
        )
        .await?;
        answer_from_body(source, &body, now)
    }
}

fn metric_feed(config: &MetricConfig, what: &str, env: EnvLookup<'_>) -> Result<MetricFeed> {
    if config.sources.is_empty() {
        return Err(Error::config(format!("{what}.sources"), "no sources"));
    }
    if config.min_fresh == 0 || config.min_fresh > config.sources.len() {
        return Err(Error::config(
            format!("{what}.min_fresh"),
            format!("must be between 1 and the {} sources", config.sources.len()),
        ));
    }
    let mut sources: Vec<PriceSource> = Vec::with_capacity(config.sources.len());
    for (i, s) in config.sources.iter().enumerate() {
        let what = format!("{what}.sources[{i}]");
        if sources.iter().any(|other| other.name == s.name) {
            return Err(Error::config(
                format!("{what}.name"),
                "repeated source name",
            ));
        }
        let pointer_ok = |p: &str, field: &str| {
            json::validate_pointer(p).map_err(|r| Error::config(format!("{what}.{field}"), r))
        };
        pointer_ok(&s.pointer, "pointer")?;
        if let Some(t) = &s.timestamp {
            pointer_ok(&t.pointer, "timestamp.pointer")?;
        }
        if s.scale.abs() > MAX_SCALE {
            return Err(Error::config(
                format!("{what}.scale"),
                format!("must be within -{MAX_SCALE}..={MAX_SCALE}"),
            ));
        }
        sources.push(PriceSource {
            name: s.name.clone(),
            url: http::parse_url(&s.url, &format!("{what}.url"))?,
            pointer: s.pointer.clone(),
            shift: FP18_DECIMALS + s.scale,
            headers: http::headers(&s.headers, &what, env)?,
            timeout: http::millis(s.timeout_ms, &format!("{what}.timeout_ms"))?,
            max_body_bytes: s.max_body_bytes,
            timestamp: s.timestamp.clone(),
        });
    }
    Ok(MetricFeed {
        min_fresh: config.min_fresh,
        sources,
    })
}

/// Reads one source's answer out of its body.
fn answer_from_body(source: &PriceSource, body: &[u8], now: u64) -> Result<SourceAnswer> {
    let root = json::parse_document(body)?;
    let at = |pointer: &str| {
        json::pointer(root, pointer).ok_or_else(|| Error::MissingPointer {
            pointer: pointer.to_owned(),
        })
    };
    let found = at(&source.pointer)?;
    let raw = json::scaled_number(found, &source.pointer, source.shift)?;
    if raw == 0 {
        return Err(Error::BadValue {
            pointer: source.pointer.clone(),
            text: found.get().chars().take(64).collect(),
            reason: "zero (after scaling) is not a price".into(),
        });
    }
    let observed_at = match &source.timestamp {
        None => None,
        Some(rule) => {
            let ts = json::scaled_number(at(&rule.pointer)?, &rule.pointer, rule.unit.shift())?;
            let observed_at = u64::try_from(ts).map_err(|_| Error::BadValue {
                pointer: rule.pointer.clone(),
                text: ts.to_string(),
                reason: "not a unix time".into(),
            })?;
            let age_secs = now.saturating_sub(observed_at);
            if age_secs > rule.max_age_secs {
                return Err(Error::Stale {
                    observed_at,
                    age_secs,
                    max_age_secs: rule.max_age_secs,
                });
            }
            Some(observed_at)
        }
    };
    Ok(SourceAnswer {
        source: source.name.clone(),
        value: Fp18::from_raw(raw),
        observed_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn source(pointer: &str, scale: i32, timestamp: Option<TimestampConfig>) -> PriceSource {
        PriceSource {
            name: "s".into(),
            url: Url::parse("http://127.0.0.1/").unwrap(),
            pointer: pointer.into(),
            shift: FP18_DECIMALS + scale,
            headers: HeaderMap::new(),
            timeout: Duration::from_secs(1),
            max_body_bytes: 1024,
            timestamp,
        }
    }

    #[test]
    fn lower_median_of_odd_and_even_counts() {
        let v = |xs: &[&str]| lower_median(&xs.iter().map(|s| fp(s)).collect::<Vec<_>>());
        assert_eq!(v(&[]), None);
        assert_eq!(v(&["7"]), Some(fp("7")));
        assert_eq!(v(&["3", "1", "2"]), Some(fp("2")));
        assert_eq!(v(&["4", "1", "3", "2"]), Some(fp("2")));
        assert_eq!(v(&["1.000000000000000001", "1"]), Some(fp("1")));
    }

    proptest! {
        #[test]
        fn lower_median_ignores_order(mut raws in proptest::collection::vec(any::<u128>(), 1..40), seed in any::<u64>()) {
            let values: Vec<Fp18> = raws.iter().copied().map(Fp18::from_raw).collect();
            let m = lower_median(&values).unwrap();
            // A deterministic shuffle driven by the seed, and the reverse order.
            let mut state = seed;
            for i in (1..raws.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let j = usize::try_from(state >> 33).unwrap() % (i + 1);
                raws.swap(i, j);
            }
            let shuffled: Vec<Fp18> = raws.iter().copied().map(Fp18::from_raw).collect();
            prop_assert_eq!(lower_median(&shuffled), Some(m));
            let reversed: Vec<Fp18> = values.iter().rev().copied().collect();
            prop_assert_eq!(lower_median(&reversed), Some(m));
            // It is one of the values, with at least half of them at or below it and more than
            // half at or above it.
            prop_assert!(values.contains(&m));
            let n = values.len();
            let at_or_below = values.iter().filter(|&&v| v <= m).count();
            let at_or_above = values.iter().filter(|&&v| v >= m).count();
            prop_assert!(2 * at_or_below >= n && 2 * at_or_above > n);
        }
    }

    #[test]
    fn answers_are_exact_and_scaled() {
        let body =
            br#"{"data":{"usd":"401.123456789012345678","micro":123456789,"per_th":0.0505}}"#;
        let value = |pointer: &str, scale: i32| {
            answer_from_body(&source(pointer, scale, None), body, 0).map(|a| a.value)
        };
        assert_eq!(value("/data/usd", 0), Ok(fp("401.123456789012345678")));
        assert_eq!(value("/data/micro", -6), Ok(fp("123.456789")));
        assert_eq!(value("/data/per_th", 3), Ok(fp("50.5")));
        // 19 decimals after scaling: the last digit is dropped.
        assert_eq!(value("/data/usd", -1), Ok(fp("40.112345678901234567")));
        assert_eq!(
            value("/data/eur", 0),
            Err(Error::MissingPointer {
                pointer: "/data/eur".into()
            })
        );
    }

    #[test]
    fn zero_is_refused() {
        let got = answer_from_body(&source("/p", -20, None), br#"{"p":"12"}"#, 0);
        assert_eq!(
            got,
            Err(Error::BadValue {
                pointer: "/p".into(),
                text: "\"12\"".into(),
                reason: "zero (after scaling) is not a price".into()
            })
        );
    }

    #[test]
    fn staleness_boundary_in_seconds_and_milliseconds() {
        let rule = |unit| TimestampConfig {
            pointer: "/t".into(),
            unit,
            max_age_secs: 60,
        };
        let s = source("/p", 0, Some(rule(TimeUnit::Seconds)));
        let body = br#"{"p":1,"t":1000}"#;
        assert_eq!(
            answer_from_body(&s, body, 1060).unwrap().observed_at,
            Some(1000)
        );
        assert_eq!(
            answer_from_body(&s, body, 1061),
            Err(Error::Stale {
                observed_at: 1000,
                age_secs: 61,
                max_age_secs: 60
            })
        );
        // A timestamp ahead of the local clock is fresh.
        assert!(answer_from_body(&s, body, 900).is_ok());
        let ms = source("/p", 0, Some(rule(TimeUnit::Milliseconds)));
        let body = br#"{"p":1,"t":"1000999"}"#;
        assert_eq!(
            answer_from_body(&ms, body, 1060).unwrap().observed_at,
            Some(1000)
        );
        assert!(matches!(
            answer_from_body(&ms, br#"{"p":1}"#, 0),
            Err(Error::MissingPointer { pointer }) if pointer == "/t"
        ));
    }

    #[test]
    fn config_is_validated() {
        let src = |name: &str, pointer: &str| PriceSourceConfig {
            name: name.into(),
            url: "http://127.0.0.1:1/p".into(),
            pointer: pointer.into(),
            scale: 0,
            headers: BTreeMap::new(),
            timeout_ms: 100,
            max_body_bytes: 100,
            timestamp: None,
        };
        let feed = |min_fresh, sources| {
            metric_feed(&MetricConfig { min_fresh, sources }, "m", &|_| None).map(|_| ())
        };
        assert!(feed(1, vec![src("a", "/p")]).is_ok());
        assert_eq!(
            feed(2, vec![src("a", "/p")]),
            Err(Error::config(
                "m.min_fresh",
                "must be between 1 and the 1 sources"
            ))
        );
        assert!(feed(0, vec![src("a", "/p")]).is_err());
        assert!(feed(1, vec![]).is_err());
        assert_eq!(
            feed(1, vec![src("a", "p")]),
            Err(Error::config(
                "m.sources[0].pointer",
                "a JSON pointer is empty or starts with '/'"
            ))
        );
        assert_eq!(
            feed(1, vec![src("a", "/p"), src("a", "/q")]),
            Err(Error::config("m.sources[1].name", "repeated source name"))
        );
        let mut bad_url = src("a", "/p");
        bad_url.url = "ftp://x/".into();
        assert!(
            matches!(feed(1, vec![bad_url]), Err(Error::Config { what, .. }) if what == "m.sources[0].url")
        );
        let mut keyed = src("a", "/p");
        keyed
            .headers
            .insert("x-key".into(), HeaderSource::Env("NOPE".into()));
        assert_eq!(
            feed(1, vec![keyed]),
            Err(Error::MissingEnv {
                var: "NOPE".into(),
                what: "m.sources[0].headers.x-key".into()
            })
        );
    }
}
