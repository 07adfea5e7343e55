//! The signature exchange between keepers: plain HTTP, because every message authenticates
//! itself.
//!
//! - `POST /v1/signatures` — a peer pushes `{"message": <EIP-712 message>, "signature": "0x…",
//!   "config": {"configDigest": "0x…", "signature": "0x…"}}`: its config digest, vouched for by
//!   the same key, counts towards the peers' digests as its `/v1/config` answer does.
//!   The digest is computed here from the message; the signature must recover to a member of the
//!   current signer set and the message must carry the current signer-set version. A signature
//!   over a digest this keeper computed itself is stored (`200 {"status":"accepted"}`); one over a
//!   digest it has not computed (yet) is held in a bounded pool until its own observation arrives,
//!   as Wormhole's guardians do (`202 {"status":"held"}`), and dropped when the pool is full.
//! - `GET /v1/signatures/{digest}` — the verified signatures this keeper holds for a digest it
//!   computed (a peer pulls what it missed).
//! - `GET /v1/config` — this keeper's consensus parameters and their digest, signed by its
//!   report key ([`crate::consensus`]).
//!
//! Metrics, status and health are on the operator's endpoint ([`crate::ops`]), not here.
//!
//! Every refusal is `{"error": <cause>, "detail": <text>}` with its status: `400 malformed` or
//! `invalid_message` or `bad_signature`, `403 not_a_signer`, `409 stale_signer_set`,
//! `409 own_signer` (this keeper's key over a digest it never signed: a doppelganger),
//! `413 too_large`, `429 rate_limited`, `404 unknown_digest` (pull).
//!
//! Bodies are bounded (`exchange.max_body_bytes`), every remote address has a token bucket
//! (`exchange.requests_per_sec`), connections are capped in total and per address and closed
//! when idle ([`crate::listener`]), and the held pool has a total and a per-signer bound: nothing a
//! peer sends can crash the keeper or grow it without bound. Refusals are counted by cause.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, B256};
use axum::body::Bytes as Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tao20_bevm::reader::SignerSet;
use tao20_creation::eip712::Eip712Message;
use tao20_creation::signing::recover;
use tokio::sync::Notify;

use crate::consensus::{vouch_digest, ConfigAnswer, PeerDigests};
use crate::listener::{ConnLimits, Guarded};
use crate::metrics::Metrics;
use crate::safety::Doppelganger;
use crate::store::reports;
use crate::store::Store;
use crate::{Error, Result};

/// A pushed signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedMessage {
    /// The message.
    pub message: Eip712Message,
    /// 65 bytes `r || s || v`.
    pub signature: Bytes,
    /// The pusher's config digest, vouched for by the same key that signed the message (as its
    /// `GET /v1/config` answer is), so every push also tells the receiver which consensus
    /// parameters its peer signs under. Optional, for pushes of keepers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<VouchedDigest>,
}

/// A config digest and its signer's signature of [`crate::consensus::vouch_digest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VouchedDigest {
    /// The digest.
    pub config_digest: B256,
    /// 65 bytes `r || s || v`.
    pub signature: Bytes,
}

/// The answer to a pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatures {
    /// The digest.
    pub digest: B256,
    /// Verified signatures, ascending by signer.
    pub signatures: Vec<SignerSignature>,
}

/// One signer's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerSignature {
    /// The signer.
    pub signer: Address,
    /// Its signature.
    pub signature: Bytes,
}

/// Signatures over digests this keeper has not computed yet, bounded in total and per signer.
#[derive(Debug, Default)]
pub struct HeldPool {
    by_digest: HashMap<B256, BTreeMap<Address, Vec<u8>>>,
    order: VecDeque<(B256, Address)>,
    per_signer: HashMap<Address, usize>,
    max_total: usize,
}

impl HeldPool {
    /// A pool of at most `max_total` signatures.
    pub fn new(max_total: usize) -> Self {
        Self {
            max_total: max_total.max(1),
            ..Self::default()
        }
    }

    /// Holds a verified signature; the oldest one goes when the pool is full, and no signer may
    /// hold more than its share (`max_total / signers`).
    pub fn hold(&mut self, digest: B256, signer: Address, signature: Vec<u8>, signers: usize) {
        let share = (self.max_total / signers.max(1)).max(1);
        if self
            .by_digest
            .get(&digest)
            .is_some_and(|m| m.contains_key(&signer))
        {
            return;
        }
        if self.per_signer.get(&signer).copied().unwrap_or(0) >= share {
            // The signer's oldest held signature makes room.
            if let Some(pos) = self.order.iter().position(|(_, s)| *s == signer) {
                if let Some((d, s)) = self.order.remove(pos) {
                    self.drop_one(&d, &s);
                }
            }
        }
        while self.order.len() >= self.max_total {
            match self.order.pop_front() {
                Some((d, s)) => self.drop_one(&d, &s),
                None => break,
            }
        }
        self.by_digest
            .entry(digest)
            .or_default()
            .insert(signer, signature);
        self.order.push_back((digest, signer));
        *self.per_signer.entry(signer).or_default() += 1;
    }

    fn drop_one(&mut self, digest: &B256, signer: &Address) {
        if let Some(m) = self.by_digest.get_mut(digest) {
            if m.remove(signer).is_some() {
                if let Some(c) = self.per_signer.get_mut(signer) {
                    *c = c.saturating_sub(1);
                }
            }
            if m.is_empty() {
                self.by_digest.remove(digest);
            }
        }
    }

    /// Takes every signature held for `digest`.
    pub fn take(&mut self, digest: &B256) -> Vec<(Address, Vec<u8>)> {
        let Some(m) = self.by_digest.remove(digest) else {
            return Vec::new();
        };
        self.order.retain(|(d, _)| d != digest);
        for s in m.keys() {
            if let Some(c) = self.per_signer.get_mut(s) {
                *c = c.saturating_sub(1);
            }
        }
        m.into_iter().collect()
    }

    /// Signatures held.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A token bucket per remote address (at most 10 000 addresses remembered).
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl RateLimiter {
    /// `per_sec` requests a second, bursts of twice that.
    pub fn new(per_sec: u32) -> Self {
        Self {
            per_sec: f64::from(per_sec.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Whether `ip` may make a request now.
    #[allow(clippy::float_arithmetic)] // rate limiting is not a consensus path
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        let cap = 2.0 * self.per_sec;
        if self.buckets.len() > 10_000 {
            let per_sec = self.per_sec;
            self.buckets.retain(|_, (tokens, at)| {
                *tokens + per_sec * now.duration_since(*at).as_secs_f64() < cap
            });
        }
        let (tokens, at) = self.buckets.entry(ip).or_insert((cap, now));
        *tokens = (*tokens + self.per_sec * now.duration_since(*at).as_secs_f64()).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the exchange shares with the rest of the keeper.
#[derive(Debug)]
pub struct Exchange {
    /// BEVM chain id (the EIP-712 domain).
    pub chain_id: u64,
    /// The contract (the EIP-712 domain).
    pub contract: Address,
    /// The store.
    pub store: Arc<Mutex<Store>>,
    /// The current signer set.
    pub signers: Arc<RwLock<SignerSet>>,
    /// Signatures over digests not computed yet.
    pub held: Mutex<HeldPool>,
    /// Metrics.
    pub metrics: Metrics,
    /// Woken when a signature arrives, so quorums are checked at once.
    pub wake: Arc<Notify>,
    /// Per-address rate limits.
    pub limiter: Mutex<RateLimiter>,
    /// Largest body accepted.
    pub max_body: usize,
    /// Connection bounds of the public port.
    pub conn: ConnLimits,
    /// This keeper's report signer.
    pub me: Address,
    /// Tripped by a signature of `me` that this keeper never made.
    pub doppelganger: Arc<Doppelganger>,
    /// This keeper's answer to `GET /v1/config` (its digest, vouched for by its report key).
    pub config: ConfigAnswer,
    /// The peers' digests.
    pub digests: Arc<PeerDigests>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind: keep serving.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn refuse(ex: &Exchange, status: StatusCode, cause: &str, detail: String) -> Response {
    ex.metrics.peer_errors.with_label_values(&[cause]).inc();
    tracing::debug!(target: "keeper::exchange", cause, %detail, "refused a peer request");
    (
        status,
        Json(serde_json::json!({"error": cause, "detail": detail})),
    )
        .into_response()
}

/// What became of a pushed signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accepted {
    /// Stored: the digest is one this keeper computed.
    Accepted,
    /// Held until this keeper computes the digest.
    Held,
}

impl Exchange {
    /// Verifies a pushed signature and stores or holds it.
    pub fn receive(
        &self,
        pushed: &SignedMessage,
        source: &str,
    ) -> std::result::Result<Accepted, (StatusCode, &'static str, String)> {
        if let Err(e) = pushed.message.validate() {
            return Err((StatusCode::BAD_REQUEST, "invalid_message", e.to_string()));
        }
        if matches!(
            pushed.message,
            Eip712Message::Asset(_) | Eip712Message::Position(_)
        ) {
            return Err((
                StatusCode::BAD_REQUEST,
                "invalid_message",
                "never signed on its own".into(),
            ));
        }
        let digest = pushed.message.digest(self.chain_id, self.contract);
        let signer = recover(&digest, &pushed.signature)
            .map_err(|e| (StatusCode::BAD_REQUEST, "bad_signature", e.to_string()))?;
        let (member, version, n) = {
            let set = self
                .signers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (set.contains(&signer), set.version, set.signers.len())
        };
        if !member {
            return Err((
                StatusCode::FORBIDDEN,
                "not_a_signer",
                format!("{signer} is not in signer set {version}"),
            ));
        }
        if let Some(vouched) = &pushed.config {
            // The digest counts only under the message signer's own vouch: anyone can relay a
            // peer's signature, nobody else can say what that peer's parameters are.
            let bad = |detail| Err((StatusCode::BAD_REQUEST, "bad_signature", detail));
            match self.voucher(vouched.config_digest, &vouched.signature) {
                Ok(by) if by == signer => {
                    if signer != self.me {
                        self.digests.saw(&signer.to_string(), vouched.config_digest);
                    }
                }
                Ok(by) => {
                    return bad(format!(
                        "the config digest is vouched for by {by}, the message by {signer}"
                    ))
                }
                Err(e) => return bad(format!("the config digest's vouch: {e}")),
            }
        }
        let message_version = crate::reports::version_of(&pushed.message);
        if message_version != version {
            return Err((
                StatusCode::CONFLICT,
                "stale_signer_set",
                format!(
                    "message is for signer set {message_version}, the current one is {version}"
                ),
            ));
        }
        if signer == self.me {
            // This keeper's own signature comes back in pulls and relays: harmless where the
            // journal holds the digest, another process's work where it does not.
            let known = crate::store::journal::has_digest(lock(&self.store).conn(), &digest)
                .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()))?;
            if known {
                return Ok(Accepted::Accepted);
            }
            self.doppelganger.detected(&digest, source);
            return Err((
                StatusCode::CONFLICT,
                "own_signer",
                format!("{signer} is this keeper's signer and never signed {digest}"),
            ));
        }
        // Some(true): a new signature of a digest this keeper computed; Some(false): one it
        // already had (a replay: answered the same, counted once); None: not computed yet.
        let own = {
            let store = lock(&self.store);
            let unavailable = |e: Error| (StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string());
            match reports::report(store.conn(), &digest) {
                Ok(Some(_)) => {
                    let before = reports::signatures(store.conn(), &digest)
                        .map_err(unavailable)?
                        .len();
                    let after = reports::add_signature(
                        store.conn(),
                        &digest,
                        &signer,
                        &pushed.signature,
                        source,
                    )
                    .map_err(unavailable)?;
                    Some(usize::try_from(after).unwrap_or(usize::MAX) > before)
                }
                Ok(None) => None,
                Err(e) => return Err(unavailable(e)),
            }
        };
        match own {
            Some(true) => {
                self.metrics.peer_signatures.inc();
                self.wake.notify_one();
                return Ok(Accepted::Accepted);
            }
            Some(false) => return Ok(Accepted::Accepted),
            None => {}
        }
        lock(&self.held).hold(digest, signer, pushed.signature.to_vec(), n);
        Ok(Accepted::Held)
    }

    /// The HTTP routes.
    pub fn router(self: Arc<Self>) -> Router {
        let limit = self.max_body;
        Router::new()
            .route("/v1/signatures", post(push))
            .route("/v1/signatures/{digest}", get(pull))
            .route("/v1/config", get(config))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self)
    }

    /// Serves the routes on `listener` until `stop` turns true.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<()> {
        use axum::serve::ListenerExt;
        let guarded = Guarded::new(listener, self.conn, self.metrics.clone())
            // `tap_io` gives the guarded listener axum's `ConnectInfo<SocketAddr>`.
            .tap_io(|_| {});
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(guarded, app)
            .with_graceful_shutdown(stopped(stop))
            .await
            .map_err(|e| Error::Setup {
                what: "exchange server".into(),
                source: Box::new(e),
            })
    }
}

async fn config(
    State(ex): State<Arc<Exchange>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(refused) = rate_limited(&ex, &peer) {
        return refused;
    }
    Json(ex.config.clone()).into_response()
}

impl Exchange {
    /// Who vouched for the config digest `digest` with `signature`.
    fn voucher(&self, digest: B256, signature: &[u8]) -> std::result::Result<Address, String> {
        let vouched = vouch_digest(self.chain_id, self.contract, digest);
        recover(&vouched, signature).map_err(|e| e.to_string())
    }

    /// Counts a peer's `/v1/config` answer if it is vouched for by a current signer other than
    /// this keeper; what was wrong otherwise.
    pub fn count_config(&self, answer: &ConfigAnswer) -> std::result::Result<(), String> {
        let signer = self.voucher(answer.config_digest, &answer.signature)?;
        if signer != answer.signer {
            return Err(format!("signed by {signer}, claims {}", answer.signer));
        }
        if signer == self.me {
            return Err("this keeper's own signer".into());
        }
        let member = self
            .signers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&signer);
        if !member {
            return Err(format!("{signer} is not in the signer set"));
        }
        self.digests.saw(&signer.to_string(), answer.config_digest);
        Ok(())
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
pub(crate) async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// The refusal of a request from `peer` beyond its rate, if it is one.
fn rate_limited(ex: &Exchange, peer: &SocketAddr) -> Option<Response> {
    if lock(&ex.limiter).allow(peer.ip(), Instant::now()) {
        return None;
    }
    Some(refuse(
        ex,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        peer.to_string(),
    ))
}

async fn push(
    State(ex): State<Arc<Exchange>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: std::result::Result<Body, BytesRejection>,
) -> Response {
    if let Some(refused) = rate_limited(&ex, &peer) {
        return refused;
    }
    // axum's own rejection is plain text and uncounted: a peer gets the same JSON error body
    // as every other refusal, and the operator sees it in `peer_errors_total`.
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                &ex,
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body exceeds {} bytes", ex.max_body),
            )
        }
        Err(e) => return refuse(&ex, e.status(), "malformed", e.body_text()),
    };
    let pushed: SignedMessage = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return refuse(&ex, StatusCode::BAD_REQUEST, "malformed", e.to_string()),
    };
    match ex.receive(&pushed, &format!("peer {peer}")) {
        Ok(a) => {
            let code = if a == Accepted::Accepted {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            (code, Json(serde_json::json!({"status": a}))).into_response()
        }
        Err((code, cause, detail)) => refuse(&ex, code, cause, detail),
    }
}

async fn pull(
    State(ex): State<Arc<Exchange>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(digest): Path<String>,
) -> Response {
    if let Some(refused) = rate_limited(&ex, &peer) {
        return refused;
    }
    let Ok(digest) = digest.parse::<B256>() else {
        return refuse(
            &ex,
            StatusCode::BAD_REQUEST,
            "malformed",
            format!("digest {digest:?}"),
        );
    };
    let store = lock(&ex.store);
    match reports::report(store.conn(), &digest) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return refuse(
                &ex,
                StatusCode::NOT_FOUND,
                "unknown_digest",
                digest.to_string(),
            )
        }
        Err(e) => return refuse(&ex, StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()),
    }
    match reports::signatures(store.conn(), &digest) {
        Ok(sigs) => Json(Signatures {
            digest,
            signatures: sigs
                .into_iter()
                .map(|(signer, s)| SignerSignature {
                    signer,
                    signature: s.into(),
                })
                .collect(),
        })
        .into_response(),
        Err(e) => refuse(&ex, StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()),
    }
}

/// The client side: pushes and pulls to peers at `http://host:port`.
#[derive(Debug, Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    max_body: usize,
    concurrency: usize,
    /// Per peer: consecutive failures and the moment it may be tried again.
    backoff: Arc<Mutex<HashMap<String, (u32, Instant)>>>,
}

/// The longest a failing peer is left alone.
const MAX_PEER_BACKOFF: Duration = Duration::from_secs(10);

/// What a push to every peer came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fanout {
    /// Peers that took the signature (stored or held).
    pub delivered: usize,
    /// Peers that failed now.
    pub failed: usize,
    /// Peers left alone: they failed recently and their backoff has not passed.
    pub skipped: usize,
}

impl PeerClient {
    /// A client with a per-request timeout; answers larger than `max_body` are refused. At most
    /// 16 requests are in flight at once (see [`Self::with_concurrency`]).
    pub fn new(timeout: Duration, max_body: usize) -> Result<Self> {
        tao20_bevm::rpc::ensure_tls();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::PeerRequest {
                what: "HTTP client".into(),
                source,
            })?;
        Ok(Self {
            http,
            max_body,
            concurrency: 16,
            backoff: Arc::default(),
        })
    }

    /// At most `n` requests in flight at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The peers that may be tried now, and how many are backing off.
    fn due(&self, peers: Vec<String>) -> (Vec<String>, usize) {
        let now = Instant::now();
        let backoff = lock(&self.backoff);
        let (due, waiting): (Vec<_>, Vec<_>) = peers
            .into_iter()
            .partition(|p| backoff.get(p).is_none_or(|(_, until)| *until <= now));
        (due, waiting.len())
    }

    /// Records a request's outcome: a failure leaves the peer alone for 1, 2, 4, ... seconds
    /// (at most [`MAX_PEER_BACKOFF`]), a success forgets its failures.
    fn record(&self, peer: &str, ok: bool) {
        let mut backoff = lock(&self.backoff);
        if ok {
            backoff.remove(peer);
            return;
        }
        let failures = backoff.get(peer).map_or(0, |(n, _)| *n).saturating_add(1);
        let wait =
            Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(MAX_PEER_BACKOFF);
        backoff.insert(peer.to_string(), (failures, Instant::now() + wait));
    }

    /// Runs `request` against every due peer, at most `concurrency` at once; the answers of the
    /// peers tried, and how many were skipped.
    async fn fan_out<T, F, Fut>(
        &self,
        peers: Vec<String>,
        request: F,
    ) -> (Vec<(String, Result<T>)>, usize)
    where
        T: Send + 'static,
        F: Fn(PeerClient, String) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let (due, skipped) = self.due(peers);
        let permits = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for peer in due {
            let permits = permits.clone();
            let fut = request(self.clone(), peer.clone());
            tasks.spawn(async move {
                // The semaphore is never closed: a permit always comes.
                let _permit = permits.acquire_owned().await.ok();
                (peer, fut.await)
            });
        }
        let mut answers = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((peer, answer)) = joined {
                self.record(&peer, answer.is_ok());
                answers.push((peer, answer));
            }
        }
        (answers, skipped)
    }

    /// Pushes a signature to every due peer concurrently.
    pub async fn push_all(&self, peers: Vec<String>, signed: &SignedMessage) -> Fanout {
        let signed = Arc::new(signed.clone());
        let (answers, skipped) = self
            .fan_out(peers, |client, peer| {
                let signed = signed.clone();
                async move { client.push(&peer, &signed).await }
            })
            .await;
        let failed = answers.iter().filter(|(_, a)| a.is_err()).count();
        for (peer, a) in &answers {
            if let Err(e) = a {
                tracing::debug!(target: "keeper::exchange", %peer, error = %e, "push failed");
            }
        }
        Fanout {
            delivered: answers.len() - failed,
            failed,
            skipped,
        }
    }

    /// Pulls a digest's signatures from every due peer concurrently (unverified: the caller
    /// verifies each); the answers, and the failures.
    pub async fn pull_all(
        &self,
        peers: Vec<String>,
        digest: B256,
    ) -> (Vec<(String, Signatures)>, usize) {
        let (answers, _) = self
            .fan_out(peers, |client, peer| async move {
                client.pull(&peer, &digest).await
            })
            .await;
        let mut ok = Vec::new();
        let mut failed = 0;
        for (peer, a) in answers {
            match a {
                Ok(s) => ok.push((peer, s)),
                Err(e) => {
                    failed += 1;
                    tracing::debug!(target: "keeper::exchange", %peer, error = %e, "pull failed");
                }
            }
        }
        (ok, failed)
    }

    /// Pushes a signature; the peer's verdict.
    pub async fn push(&self, peer: &str, signed: &SignedMessage) -> Result<Accepted> {
        let url = format!("{}/v1/signatures", peer.trim_end_matches('/'));
        let resp = self
            .http
            .post(&url)
            .json(signed)
            .send()
            .await
            .map_err(|source| Error::PeerRequest {
                what: format!("push to {peer}"),
                source,
            })?;
        let code = resp.status();
        let body = self.read(resp, peer).await?;
        if !code.is_success() {
            return Err(Error::Peer(format!(
                "push to {peer}: {code} {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        #[derive(Deserialize)]
        struct Answer {
            status: Accepted,
        }
        let a: Answer = serde_json::from_slice(&body).map_err(|source| Error::PeerAnswer {
            what: format!("push to {peer}: answer"),
            source,
        })?;
        Ok(a.status)
    }

    /// A peer's consensus parameters (unverified: [`Exchange::count_config`] checks them).
    pub async fn config(&self, peer: &str) -> Result<ConfigAnswer> {
        self.get_json(peer, "/v1/config", "config of").await
    }

    /// `GET path` of `peer`, its JSON answer (bounded, a success status).
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        peer: &str,
        path: &str,
        what: &str,
    ) -> Result<T> {
        let url = format!("{}{path}", peer.trim_end_matches('/'));
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|source| Error::PeerRequest {
                what: format!("{what} {peer}"),
                source,
            })?;
        let code = resp.status();
        let body = self.read(resp, peer).await?;
        if !code.is_success() {
            return Err(Error::Peer(format!("{what} {peer}: {code}")));
        }
        serde_json::from_slice(&body).map_err(|source| Error::PeerAnswer {
            what: format!("{what} {peer}"),
            source,
        })
    }

    /// Every due peer's consensus parameters, concurrently.
    pub async fn config_all(&self, peers: Vec<String>) -> Vec<(String, ConfigAnswer)> {
        let (answers, _) = self
            .fan_out(
                peers,
                |client, peer| async move { client.config(&peer).await },
            )
            .await;
        answers
            .into_iter()
            .filter_map(|(peer, a)| a.ok().map(|a| (peer, a)))
            .collect()
    }

    /// Pulls a peer's signatures of a digest (unverified: the caller verifies each).
    pub async fn pull(&self, peer: &str, digest: &B256) -> Result<Signatures> {
        self.get_json(peer, &format!("/v1/signatures/{digest}"), "pull from")
            .await
    }

    async fn read(&self, mut resp: reqwest::Response, peer: &str) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|source| Error::PeerRequest {
            what: format!("answer of {peer}"),
            source,
        })? {
            if body.len() + chunk.len() > self.max_body {
                return Err(Error::Peer(format!(
                    "{peer}: answer larger than {} bytes",
                    self.max_body
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_pool_is_bounded_in_total_and_per_signer() {
        let mut pool = HeldPool::new(8);
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        for i in 0..20u8 {
            pool.hold(B256::repeat_byte(i), a, vec![i], 2);
        }
        assert_eq!(pool.len(), 4, "one signer may hold only its share");
        for i in 0..3u8 {
            pool.hold(B256::repeat_byte(100 + i), b, vec![i], 2);
        }
        assert_eq!(pool.len(), 7);
        assert_eq!(pool.take(&B256::repeat_byte(19)), vec![(a, vec![19])]);
        assert!(
            pool.take(&B256::repeat_byte(0)).is_empty(),
            "the oldest went first"
        );
        assert_eq!(pool.len(), 6);
    }

    #[test]
    fn the_rate_limiter_allows_a_burst_then_refills() {
        let mut l = RateLimiter::new(5);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        let allowed = (0..20).filter(|_| l.allow(ip, t0)).count();
        assert_eq!(allowed, 10);
        assert!(l.allow(ip, t0 + Duration::from_millis(250)));
        assert!(l.allow("10.0.0.2".parse().unwrap(), t0));
    }
}
