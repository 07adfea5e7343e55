//! The devnet's off-chain world: a pool API in Luxor's shape and a price API, served over HTTP by
//! the chain process so that keepers sample and fetch them exactly as they would Luxor and a
//! price oracle, and so that miners and the demo can change what they say.
//!
//! - `GET /luxor/v2/pool/workers/BTC?subaccount_names=S&page_number=N&page_size=M`, with the API
//!   key in `authorization`: the workers as Luxor lists them (`name` `S.hotkey.worker`, `hashrate`
//!   in H/s), one page. During an outage it answers 503.
//! - `GET /prices`: `{"TAO_USDC": "400", "HASHP_USDC": "50", "time": <unix>}`.
//! - Control: `PUT /fixture/workers/{name}` with `{"hashrate": "<H/s>"}` (a miner's rig starts
//!   or changes; `"0"` removes it), `PUT /fixture/prices/{key}` with `{"value": "<decimal>"}`,
//!   `POST /fixture/outage` with `{"secs": N}` (the pool API fails for N seconds), and
//!   `GET /fixture` (the whole state).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The API key keepers send to the pool fixture.
pub const POOL_API_KEY: &str = "devnet-pool-key";
/// The pool subaccount of the devnet.
pub const SUBACCOUNT: &str = "tao20";

/// What the fixture says.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureState {
    /// Worker name (without the subaccount) to H/s.
    pub workers: BTreeMap<String, u128>,
    /// Price key to decimal text.
    pub prices: BTreeMap<String, String>,
    /// Pool polls answered.
    pub polls: u64,
    /// Pool polls refused during outages.
    pub refused: u64,
    /// Seconds of outage left.
    pub outage_secs: f64,
}

#[derive(Debug)]
struct Inner {
    state: FixtureState,
    down_until: Option<Instant>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running fixture server.
#[derive(Debug)]
pub struct Fixture {
    /// Its address.
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fixture {
    /// Serves the fixture on `listen` with TAO at 400 USDC and a hashprice of 50 USDC per PH
    /// per day.
    pub async fn start(listen: &str) -> Result<Self> {
        let mut prices = BTreeMap::new();
        prices.insert("TAO_USDC".into(), "400".into());
        prices.insert("HASHP_USDC".into(), "50".into());
        let shared: Shared = Arc::new(Mutex::new(Inner {
            state: FixtureState {
                prices,
                ..FixtureState::default()
            },
            down_until: None,
        }));
        let app = Router::new()
            .route("/luxor/v2/pool/workers/BTC", get(workers))
            .route("/prices", get(prices_doc))
            .route("/fixture", get(state))
            .route("/fixture/workers/{name}", put(set_worker))
            .route("/fixture/prices/{key}", put(set_price))
            .route("/fixture/outage", post(outage))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Setup(format!("fixture listen {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Setup(format!("fixture address: {e}")))?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(target: "devnet::fixture", error = %e, "fixture server stopped");
            }
        });
        Ok(Fixture { addr, task })
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Deserialize)]
struct PageQuery {
    subaccount_names: Option<String>,
    page_number: Option<u32>,
}

async fn workers(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(POOL_API_KEY) {
        return (StatusCode::UNAUTHORIZED, "bad API key").into_response();
    }
    let mut inner = lock(&s);
    if inner.down_until.is_some_and(|t| Instant::now() < t) {
        inner.state.refused += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "pool API outage").into_response();
    }
    inner.state.polls += 1;
    let prefix = q.subaccount_names.unwrap_or_else(|| SUBACCOUNT.into());
    let page = q.page_number.unwrap_or(1);
    let list: Vec<serde_json::Value> = if page == 1 {
        inner
            .state
            .workers
            .iter()
            .map(|(name, hs)| {
                serde_json::json!({
                    "name": format!("{prefix}.{name}"),
                    "hashrate": hs.to_string(),
                    "efficiency": 1.0,
                    "last_share_time": "2026-12-01T00:00:00Z",
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    Json(serde_json::json!({
        "total_active": list.len(),
        "total_inactive": 0,
        "workers": list,
        "pagination": {"page_number": page, "page_size": 1000, "item_count": list.len(), "next_page_url": null},
    }))
    .into_response()
}

async fn prices_doc(State(s): State<Shared>) -> Json<serde_json::Value> {
    let inner = lock(&s);
    let mut doc = serde_json::Map::new();
    for (k, v) in &inner.state.prices {
        doc.insert(k.clone(), v.clone().into());
    }
    doc.insert("time".into(), now_unix().into());
    Json(doc.into())
}

async fn state(State(s): State<Shared>) -> Json<FixtureState> {
    let inner = lock(&s);
    let mut st = inner.state.clone();
    st.outage_secs = inner.down_until.map_or(0.0, |t| {
        t.saturating_duration_since(Instant::now()).as_secs_f64()
    });
    Json(st)
}

#[derive(Deserialize)]
struct WorkerBody {
    hashrate: String,
}

async fn set_worker(
    State(s): State<Shared>,
    Path(name): Path<String>,
    Json(body): Json<WorkerBody>,
) -> Response {
    let Ok(hs) = body.hashrate.parse::<u128>() else {
        return (
            StatusCode::BAD_REQUEST,
            format!("hashrate {:?} is not an integer H/s", body.hashrate),
        )
            .into_response();
    };
    let mut inner = lock(&s);
    if hs == 0 {
        inner.state.workers.remove(&name);
    } else {
        inner.state.workers.insert(name, hs);
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct PriceBody {
    value: String,
}

async fn set_price(
    State(s): State<Shared>,
    Path(key): Path<String>,
    Json(body): Json<PriceBody>,
) -> Response {
    if tao20_core::Fp18::parse(&body.value).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            format!("{:?} is not a decimal", body.value),
        )
            .into_response();
    }
    lock(&s).state.prices.insert(key, body.value);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct OutageBody {
    secs: f64,
}

async fn outage(State(s): State<Shared>, Json(body): Json<OutageBody>) -> Response {
    if !(body.secs.is_finite() && body.secs >= 0.0 && body.secs <= 3600.0) {
        return (StatusCode::BAD_REQUEST, "secs must be in [0, 3600]").into_response();
    }
    lock(&s).down_until = Some(Instant::now() + Duration::from_secs_f64(body.secs));
    StatusCode::NO_CONTENT.into_response()
}

/// A client of the fixture's control API (tests, the demo, miners' rigs).
#[derive(Debug, Clone)]
pub struct FixtureClient {
    base: String,
    http: reqwest::Client,
}

impl FixtureClient {
    /// A client of the fixture at `base` (`http://host:port`).
    pub fn new(base: impl Into<String>) -> Result<Self> {
        tao20_bevm::rpc::ensure_tls();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Setup(format!("HTTP client: {e}")))?;
        Ok(Self {
            base: base.into(),
            http,
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response> {
        let resp = req
            .send()
            .await
            .map_err(|e| Error::Setup(format!("fixture {what}: {e}")))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(Error::Setup(format!("fixture {what}: {status} {body}")));
        }
        Ok(resp)
    }

    /// Sets worker `name` (`hotkey.worker`, without the subaccount) to `hashrate_hs`; 0 removes it.
    pub async fn set_worker(&self, name: &str, hashrate_hs: u128) -> Result<()> {
        let url = format!("{}/fixture/workers/{name}", self.base);
        let body = serde_json::json!({"hashrate": hashrate_hs.to_string()});
        self.send(self.http.put(url).json(&body), "set worker")
            .await?;
        Ok(())
    }

    /// Sets a price (`TAO_USDC`, `HASHP_USDC`).
    pub async fn set_price(&self, key: &str, value: &str) -> Result<()> {
        let url = format!("{}/fixture/prices/{key}", self.base);
        let body = serde_json::json!({"value": value});
        self.send(self.http.put(url).json(&body), "set price")
            .await?;
        Ok(())
    }

    /// Makes the pool API fail for `secs` seconds.
    pub async fn outage(&self, secs: f64) -> Result<()> {
        let url = format!("{}/fixture/outage", self.base);
        let body = serde_json::json!({"secs": secs});
        self.send(self.http.post(url).json(&body), "outage").await?;
        Ok(())
    }

    /// The fixture's state.
    pub async fn state(&self) -> Result<FixtureState> {
        let url = format!("{}/fixture", self.base);
        self.send(self.http.get(url), "state")
            .await?
            .json()
            .await
            .map_err(|e| Error::Setup(format!("fixture state: {e}")))
    }
}
