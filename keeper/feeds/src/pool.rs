//! Pool telemetry: every worker's current hashrate, from Luxor or from a proxy in Luxor's shape.
//!
//! # Luxor
//! `GET {url}/v2/pool/workers/BTC?subaccount_names={subaccount}&status=ACTIVE&page_number={n}&page_size={m}`
//! with the API key (from an environment variable) in the `authorization` header, as the original
//! validator asks it (the parameter and header names are configurable). The answer:
//! ```json
//! {"total_active": 2, "total_inactive": 0,
//!  "workers": [{"name": "sub.5F...hotkey.rig1", "hashrate": 120000000000000,
//!               "efficiency": 0.996, "last_share_time": "2026-01-01T00:00:00Z"}],
//!  "pagination": {"page_number": 1, "page_size": 1000, "item_count": 2, "next_page_url": null}}
//! ```
//! Only `workers[].name` and `workers[].hashrate` are read. The hashrate is in H/s: a JSON
//! integer, or a string holding a decimal (`"120000000000000"`, `"1.2e14"`), parsed exactly;
//! a fraction of a H/s is dropped. Any worker without a name or a usable hashrate makes the whole
//! answer malformed: a sample is complete or it is not taken.
//!
//! # Pagination (an assumption)
//! Luxor's v2 API pages with `page_number` (from 1) and `page_size`, and describes the page in a
//! `pagination` object whose `next_page_url` is non-null while pages remain. The client asks page
//! after page while `next_page_url` is a non-empty string (it never follows that URL itself, so the
//! key only goes to the configured host), up to `max_pages`; an answer without `pagination` is a
//! single page. Running past `max_pages` is an error rather than a partial sample.
//!
//! # Proxy
//! A proxy source is a URL answering the same shape (pagination optional), asked with the same
//! paging parameters, plus the subaccount if one is configured. When configured it replaces
//! Luxor; its samples are marked `from_proxy`, which lifts the sampling-gap rule of delivery.
//!
//! # Worker names
//! `[subaccount.]hotkey.worker`: [`parse_worker_name`] strips the configured subaccount prefix
//! and keeps the hotkey's first [`HOTKEY_CHARS`] characters, with the rule of
//! [`tao20_auction::delivery::worker_hotkey`].

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Url};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tao20_auction::delivery::{worker_hotkey, DeliveryParams, WorkerReading};

use crate::http::{self, EnvLookup, HeaderSource};
use crate::{json, Error, Result};

/// The path of Luxor's worker list, appended to the configured base URL.
pub const LUXOR_WORKERS_PATH: &str = "/v2/pool/workers/BTC";
/// Characters of the hotkey the pool keeps in worker names.
pub const HOTKEY_CHARS: usize = 48;

/// The `[pool]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Milliseconds between samples (20 000 by default).
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Luxor.
    #[serde(default)]
    pub luxor: Option<PoolSourceConfig>,
    /// A proxy in Luxor's shape; when set, it is used instead of Luxor.
    #[serde(default)]
    pub proxy: Option<PoolSourceConfig>,
}

/// One telemetry source.
///
/// ```toml
/// [pool.luxor]
/// url = "https://app.luxor.tech/api"
/// subaccount = "tao20"
/// api_key_env = "LUXOR_API_KEY"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSourceConfig {
    /// Luxor: the API's base URL (`https://app.luxor.tech/api`), to which
    /// [`LUXOR_WORKERS_PATH`] is appended. Proxy: the full URL.
    pub url: String,
    /// The pool subaccount (required for Luxor): sent as `subaccount_param`, and stripped from
    /// worker names.
    #[serde(default)]
    pub subaccount: Option<String>,
    /// The query parameter naming the subaccount (`subaccount_names` by default, Luxor's name).
    #[serde(default = "default_subaccount_param")]
    pub subaccount_param: String,
    /// The environment variable holding the API key (required for Luxor).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The header the API key goes in (`authorization` by default).
    #[serde(default = "default_api_key_header")]
    pub api_key_header: String,
    /// Deadline of each page's exchange, in milliseconds (10 000 by default).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Largest accepted body of one page, in bytes (8 MiB by default).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Workers per page (1 000 by default, as the original asks).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Most pages one sample may take (20 by default).
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
}

const fn default_interval_ms() -> u64 {
    20_000
}
fn default_subaccount_param() -> String {
    "subaccount_names".into()
}
fn default_api_key_header() -> String {
    "authorization".into()
}
const fn default_timeout_ms() -> u64 {
    10_000
}
const fn default_max_body_bytes() -> usize {
    8 << 20
}
const fn default_page_size() -> u32 {
    1000
}
const fn default_max_pages() -> u32 {
    20
}

impl PoolConfig {
    /// The sampling interval.
    pub fn interval(&self) -> Result<Duration> {
        http::millis(self.interval_ms, "pool.interval_ms")
    }
}

impl PoolSourceConfig {
    /// A source at `url` with every other field at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            subaccount: None,
            subaccount_param: default_subaccount_param(),
            api_key_env: None,
            api_key_header: default_api_key_header(),
            timeout_ms: default_timeout_ms(),
            max_body_bytes: default_max_body_bytes(),
            page_size: default_page_size(),
            max_pages: default_max_pages(),
        }
    }
}

/// Which kind of source a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolSourceKind {
    /// Luxor's API.
    Luxor,
    /// A proxy in Luxor's shape.
    Proxy,
}

impl PoolSourceKind {
    /// The name in logs and errors.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Luxor => "luxor",
            Self::Proxy => "proxy",
        }
    }
}

/// The parts of a worker name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerName<'a> {
    /// The subaccount prefix, when the name carried the configured one.
    pub subaccount: Option<&'a str>,
    /// The hotkey, cut to [`HOTKEY_CHARS`] characters.
    pub hotkey: &'a str,
    /// Everything after the hotkey's dot (empty when there is none).
    pub worker: &'a str,
}

/// Splits `[subaccount.]hotkey.worker`, `subaccount` being the configured one.
pub fn parse_worker_name<'a>(name: &'a str, subaccount: Option<&str>) -> WorkerName<'a> {
    let stripped = subaccount.and_then(|s| {
        let rest = name.strip_prefix(s)?.strip_prefix('.')?;
        Some((&name[..s.len()], rest))
    });
    let (subaccount_part, rest) = match stripped {
        Some((sub, rest)) => (Some(sub), rest),
        None => (None, name),
    };
    let params = DeliveryParams {
        subaccount: subaccount.map(str::to_owned),
        hotkey_chars: HOTKEY_CHARS,
        ..DeliveryParams::default()
    };
    WorkerName {
        subaccount: subaccount_part,
        hotkey: worker_hotkey(name, &params),
        worker: rest.split_once('.').map_or("", |(_, w)| w),
    }
}

/// A client of one telemetry source.
///
/// `Debug` shows no secret: the API key header is marked sensitive.
#[derive(Debug, Clone)]
pub struct PoolClient {
    client: Client,
    kind: PoolSourceKind,
    endpoint: Url,
    query: Vec<(String, String)>,
    subaccount: Option<String>,
    headers: HeaderMap,
    timeout: Duration,
    max_body_bytes: usize,
    page_size: u32,
    max_pages: u32,
}

impl PoolClient {
    /// The client `config` asks for: the proxy when one is configured, otherwise Luxor. Reads
    /// the API key from the process environment.
    pub fn from_config(config: &PoolConfig) -> Result<Self> {
        Self::from_config_with_env(config, &http::process_env)
    }

    /// As [`PoolClient::from_config`], reading the API key through `env`.
    pub fn from_config_with_env(config: &PoolConfig, env: EnvLookup<'_>) -> Result<Self> {
        match (&config.proxy, &config.luxor) {
            (Some(proxy), _) => Self::new(PoolSourceKind::Proxy, proxy, env),
            (None, Some(luxor)) => Self::new(PoolSourceKind::Luxor, luxor, env),
            (None, None) => Err(Error::config(
                "pool",
                "neither luxor nor proxy is configured",
            )),
        }
    }

    /// A client of a source of `kind`.
    pub fn new(
        kind: PoolSourceKind,
        config: &PoolSourceConfig,
        env: EnvLookup<'_>,
    ) -> Result<Self> {
        let what = format!("pool.{}", kind.name());
        let endpoint = match kind {
            PoolSourceKind::Luxor => {
                format!("{}{LUXOR_WORKERS_PATH}", config.url.trim_end_matches('/'))
            }
            PoolSourceKind::Proxy => config.url.clone(),
        };
        let endpoint = http::parse_url(&endpoint, &format!("{what}.url"))?;
        if kind == PoolSourceKind::Luxor {
            if config.subaccount.is_none() {
                return Err(Error::config(
                    format!("{what}.subaccount"),
                    "required for Luxor",
                ));
            }
            if config.api_key_env.is_none() {
                return Err(Error::config(
                    format!("{what}.api_key_env"),
                    "required for Luxor",
                ));
            }
        }
        let mut query = Vec::new();
        if let Some(sub) = &config.subaccount {
            query.push((config.subaccount_param.clone(), sub.clone()));
        }
        if kind == PoolSourceKind::Luxor {
            // The original asks for active workers only; inactive ones hash nothing.
            query.push(("status".into(), "ACTIVE".into()));
        }
        let mut headers = HeaderMap::new();
        if let Some(var) = &config.api_key_env {
            http::insert_header(
                &mut headers,
                &config.api_key_header,
                &HeaderSource::Env(var.clone()),
                &format!("{what}.api_key_env"),
                env,
            )?;
        }
        if config.page_size == 0 || config.max_pages == 0 {
            return Err(Error::config(
                &what,
                "page_size and max_pages must be positive",
            ));
        }
        Ok(Self {
            client: http::client()?,
            kind,
            endpoint,
            query,
            subaccount: config.subaccount.clone(),
            headers,
            timeout: http::millis(config.timeout_ms, &format!("{what}.timeout_ms"))?,
            max_body_bytes: config.max_body_bytes,
            page_size: config.page_size,
            max_pages: config.max_pages,
        })
    }

    /// The kind of source.
    pub fn kind(&self) -> PoolSourceKind {
        self.kind
    }

    /// The configured subaccount.
    pub fn subaccount(&self) -> Option<&str> {
        self.subaccount.as_deref()
    }

    /// Every worker the source reports now, over all pages.
    pub async fn fetch_workers(&self) -> Result<Vec<WorkerReading>> {
        let mut workers = Vec::new();
        for page in 1..=self.max_pages {
            let mut url = self.endpoint.clone();
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in &self.query {
                    pairs.append_pair(k, v);
                }
                pairs.append_pair("page_number", &page.to_string());
                pairs.append_pair("page_size", &self.page_size.to_string());
            }
            let body = http::get(
                &self.client,
                url,
                &self.headers,
                self.timeout,
                self.max_body_bytes,
            )
            .await?;
            if !parse_page(&body, &mut workers)? {
                return Ok(workers);
            }
        }
        Err(Error::TooManyPages {
            max_pages: self.max_pages,
        })
    }
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    workers: Vec<RawWorker<'a>>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct RawWorker<'a> {
    name: String,
    #[serde(borrow)]
    hashrate: &'a RawValue,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next_page_url: Option<String>,
}

/// Appends one page's workers to `out`; whether another page follows.
fn parse_page(body: &[u8], out: &mut Vec<WorkerReading>) -> Result<bool> {
    let page: Page<'_> = serde_json::from_slice(body).map_err(Error::malformed)?;
    for (i, w) in page.workers.into_iter().enumerate() {
        let hashrate_hs = json::scaled_number(w.hashrate, &format!("/workers/{i}/hashrate"), 0)?;
        out.push(WorkerReading {
            name: w.name,
            hashrate_hs,
        });
    }
    Ok(page
        .pagination
        .and_then(|p| p.next_page_url)
        .is_some_and(|next| !next.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<(Vec<(String, u128)>, bool)> {
        let mut out = Vec::new();
        let more = parse_page(body.as_bytes(), &mut out)?;
        Ok((
            out.into_iter().map(|w| (w.name, w.hashrate_hs)).collect(),
            more,
        ))
    }

    #[test]
    fn hashrates_are_integers_or_decimal_strings_exactly() {
        let body = r#"{"total_active":4,"total_inactive":0,"workers":[
            {"name":"a.w1","hashrate":120000000000000,"efficiency":0.996,"last_share_time":"x"},
            {"name":"a.w2","hashrate":"340282366920938463463374607431768211455"},
            {"name":"a.w3","hashrate":"1.5e15"},
            {"name":"a.w4","hashrate":"999.9"}]}"#;
        assert_eq!(
            parse(body),
            Ok((
                vec![
                    ("a.w1".into(), 120_000_000_000_000),
                    ("a.w2".into(), u128::MAX),
                    ("a.w3".into(), 1_500_000_000_000_000),
                    ("a.w4".into(), 999),
                ],
                false
            ))
        );
    }

    #[test]
    fn pagination_continues_only_on_a_next_page() {
        let page = |p: &str| format!(r#"{{"workers":[],"pagination":{p}}}"#);
        assert_eq!(
            parse(&page(r#"{"next_page_url":"/v2/x?page_number=2"}"#)).map(|p| p.1),
            Ok(true)
        );
        assert_eq!(
            parse(&page(r#"{"next_page_url":null}"#)).map(|p| p.1),
            Ok(false)
        );
        assert_eq!(
            parse(&page(r#"{"next_page_url":""}"#)).map(|p| p.1),
            Ok(false)
        );
        assert_eq!(parse(&page("null")).map(|p| p.1), Ok(false));
        assert_eq!(parse(&page("{}")).map(|p| p.1), Ok(false));
    }

    #[test]
    fn one_bad_worker_spoils_the_answer() {
        assert_eq!(
            parse(r#"{"workers":[{"name":"a.w","hashrate":1},{"name":"b.w","hashrate":-5}]}"#),
            Err(Error::BadValue {
                pointer: "/workers/1/hashrate".into(),
                text: "-5".into(),
                reason: "negative".into()
            })
        );
        assert!(matches!(
            parse(r#"{"workers":[{"name":"a.w"}]}"#),
            Err(Error::Malformed { reason }) if reason.contains("missing field `hashrate`")
        ));
        assert!(matches!(
            parse(r#"{"workers":[{"hashrate":1}]}"#),
            Err(Error::Malformed { reason }) if reason.contains("missing field `name`")
        ));
        assert!(matches!(
            parse(r#"{"total_active":0}"#),
            Err(Error::Malformed { reason }) if reason.contains("missing field `workers`")
        ));
        assert!(matches!(parse("<html>"), Err(Error::Malformed { .. })));
    }

    #[test]
    fn worker_names() {
        let hk = "5".repeat(60);
        let name = format!("acct.{hk}.rig.1");
        let parsed = parse_worker_name(&name, Some("acct"));
        assert_eq!(parsed.subaccount, Some("acct"));
        assert_eq!(parsed.hotkey, &hk[..48]);
        assert_eq!(parsed.worker, "rig.1");
        assert_eq!(
            parse_worker_name("hk.rig", Some("acct")),
            WorkerName {
                subaccount: None,
                hotkey: "hk",
                worker: "rig"
            }
        );
        assert_eq!(
            parse_worker_name("acct.hk", None),
            WorkerName {
                subaccount: None,
                hotkey: "acct",
                worker: "hk"
            }
        );
        assert_eq!(parse_worker_name("hk", None).worker, "");
    }
}
