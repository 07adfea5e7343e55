//! A JSON-RPC relay in front of anvil that answers as Frontier (subtensor's EVM, BEVM) does, so
//! the keepers and miners meet on the devnet what a subtensor node would tell them.
//!
//! anvil keeps every block's state, answers `null` past its head, reverts with code 3 and calls
//! its own `head - 64` finalized; a subtensor node differs in ways the keeper's code must
//! survive (`shared/research/bevm-rpc-review.md`, with file and line in Frontier):
//!
//! - **Pruned state.** A lite node keeps `--state-pruning` blocks (256 by default). Below that
//!   window `eth_getBlockByNumber`/`ByHash` answer `null`, receipts and transactions `null`,
//!   `eth_getLogs` skips the missing blocks (so `[]` for them, silently), and state reads
//!   (`eth_call`, `eth_getBalance`, `eth_getCode`, `eth_getStorageAt`, `eth_getTransactionCount`,
//!   `eth_estimateGas`) fail with an internal error.
//! - **Past the head.** A block number beyond the best block is an internal error ("Expect block
//!   number from id"), not `null`; `eth_getLogs` clamps `toBlock` to the best block and answers a
//!   `fromBlock` past it with `[]`.
//! - **`eth_getLogs` limits.** More than `--max-past-logs` (10,000) results is an internal error.
//! - **Reverts** are `-32603 "VM Exception while processing transaction: revert"` with the
//!   revert data, not anvil's code 3 "execution reverted".
//! - **Finality.** `finalized` and `safe` are the substrate side's GRANDPA-finalized number,
//!   which the chain process publishes through a [`FinalizedSource`].
//! - **Restarts** flush the transaction pool ([`FrontierRelay::restart`]).
//!
//! It also plays faults a real network has: a broadcast the node accepts and never propagates
//! ([`FrontierRelay::drop_next_sends`]); a transaction the pool keeps and never includes, as an
//! underpriced one in a fee spike, until a replacement at its nonce arrives
//! ([`FrontierRelay::hold_next_sends`]); a call the node refuses
//! ([`FrontierRelay::fail_next`]: a failed gas estimate, a rejected broadcast); a block mined
//! between two reads of a client ([`FrontierRelay::mine_after_next`]). A harness out of
//! process plays them through the `devnet_*` methods. Everything else passes through unchanged,
//! batches included. The window is counted back from anvil's `latest`: `head - state_window + 1 ..= head`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alloy::primitives::{keccak256, B256};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::{Error, Result};

/// JSON-RPC: the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: not a request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the parameters do not fit the method.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC internal error: what Frontier answers for discarded state, blocks past the head,
/// too many logs and reverts alike.
pub const INTERNAL_ERROR: i64 = -32603;
/// The message of a Frontier revert (the revert data rides in `data`).
pub const REVERT_MESSAGE: &str = "VM Exception while processing transaction: revert";

/// What the emulated node keeps and allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontierConfig {
    /// Blocks of state kept, the head included (`--state-pruning`); [`u64::MAX`] for an archive
    /// node. 0 is taken as 1: a node always has its head.
    pub state_window: u64,
    /// Most logs one `eth_getLogs` may return (`--max-past-logs`).
    pub max_logs: usize,
}

impl FrontierConfig {
    /// A subtensor lite node's defaults: 256 blocks of state, 10,000 logs.
    pub const LITE: Self = Self {
        state_window: 256,
        max_logs: 10_000,
    };
    /// An archive node: every block's state, the same logs limit.
    pub const ARCHIVE: Self = Self {
        state_window: u64::MAX,
        max_logs: 10_000,
    };
}

impl Default for FrontierConfig {
    fn default() -> Self {
        Self::LITE
    }
}

/// The substrate side's finalized block number, which the relay answers `finalized` and `safe`
/// with. The chain process holds a clone and sets it whenever GRANDPA (the simulator) finalizes.
#[derive(Debug, Clone, Default)]
pub struct FinalizedSource(Arc<AtomicU64>);

impl FinalizedSource {
    /// A source starting at `block`.
    pub fn new(block: u64) -> Self {
        Self(Arc::new(AtomicU64::new(block)))
    }

    /// Publishes a newly finalized block; finality never moves back, so a lower number is ignored.
    pub fn set(&self, block: u64) {
        self.0.fetch_max(block, Ordering::SeqCst);
    }

    /// The finalized block.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A running relay.
#[derive(Debug)]
pub struct FrontierRelay {
    addr: SocketAddr,
    inner: Arc<Inner>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Inner {
    upstream: String,
    http: reqwest::Client,
    cfg: FrontierConfig,
    finalized: FinalizedSource,
    drop_sends: AtomicU64,
    dropped: Mutex<Vec<B256>>,
    hold_sends: AtomicU64,
    held: Mutex<Vec<B256>>,
    fail_next: Mutex<std::collections::BTreeMap<String, u64>>,
    mine_after: Mutex<std::collections::BTreeMap<String, u64>>,
    requests: AtomicU64,
    next_id: AtomicU64,
    head_cache: Mutex<Option<(std::time::Instant, u64)>>,
}

/// How long a read of anvil's head is reused.
const HEAD_CACHE: std::time::Duration = std::time::Duration::from_millis(20);

impl FrontierRelay {
    /// Serves on `listen` (`127.0.0.1:0` picks a port), relaying to anvil's HTTP endpoint
    /// `upstream_anvil_url`.
    pub async fn start(
        listen: &str,
        upstream_anvil_url: &str,
        cfg: FrontierConfig,
        finalized: FinalizedSource,
    ) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Setup(format!("Frontier relay: bind {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Setup(format!("Frontier relay: {e}")))?;
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::Setup(format!("Frontier relay: HTTP client: {e}")))?;
        let inner = Arc::new(Inner {
            upstream: upstream_anvil_url.to_string(),
            http,
            cfg,
            finalized,
            drop_sends: AtomicU64::new(0),
            dropped: Mutex::new(Vec::new()),
            hold_sends: AtomicU64::new(0),
            held: Mutex::new(Vec::new()),
            fail_next: Mutex::new(std::collections::BTreeMap::new()),
            mine_after: Mutex::new(std::collections::BTreeMap::new()),
            requests: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            head_cache: Mutex::new(None),
        });
        let app = Router::new()
            .route("/", post(serve))
            .with_state(inner.clone());
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                // An error means the relay was dropped: stop as well.
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(target: "devnet::frontier", error = %e, "Frontier relay stopped");
            }
        });
        tracing::info!(target: "devnet::frontier", %addr, upstream = upstream_anvil_url,
            window = cfg.state_window, max_logs = cfg.max_logs, "Frontier relay serving");
        Ok(Self {
            addr,
            inner,
            stop,
            task,
        })
    }

    /// The relay's JSON-RPC URL, where keepers and miners point `bevm.rpc`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The relay's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The finalized number it answers `finalized` and `safe` with.
    pub fn finalized(&self) -> &FinalizedSource {
        &self.inner.finalized
    }

    /// A node restart: the transaction pool is lost (`anvil_dropAllTransactions`). State and
    /// blocks are not, as on a node restarted on its database.
    pub async fn restart(&self) -> Result<()> {
        match self
            .inner
            .upstream("anvil_dropAllTransactions", Value::Array(Vec::new()))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(Error::Setup(format!(
                "Frontier relay restart: anvil_dropAllTransactions: {}",
                e.message
            ))),
        }
    }

    /// The next `n` `eth_sendRawTransaction`s are accepted (their hash is answered) and never
    /// forwarded: a transaction that leaves the sender and reaches no pool.
    pub fn drop_next_sends(&self, n: u64) {
        self.inner.drop_sends.fetch_add(n, Ordering::SeqCst);
    }

    /// The hashes of the transactions dropped so far.
    pub fn dropped(&self) -> Vec<B256> {
        lock(&self.inner.dropped).clone()
    }

    /// The next `n` transactions sent are accepted and kept out of every block, however often
    /// they are sent again, as a pool keeps an underpriced transaction in a fee spike; another
    /// transaction at the same nonce (a replacement with higher fees) goes through.
    pub fn hold_next_sends(&self, n: u64) {
        self.inner.hold_sends.fetch_add(n, Ordering::SeqCst);
    }

    /// The hashes of the transactions held so far.
    pub fn held(&self) -> Vec<B256> {
        lock(&self.inner.held).clone()
    }

    /// The next `n` calls of `method` fail with an internal error and never reach anvil: a
    /// node refusing a gas estimate or a broadcast.
    pub fn fail_next(&self, method: &str, n: u64) {
        *lock(&self.inner.fail_next)
            .entry(method.to_string())
            .or_default() += n;
    }

    /// After answering each of the next `n` calls of `method`, the node mines a block before the
    /// answer leaves: the chain moves between two reads of a client, at exactly that point.
    pub fn mine_after_next(&self, method: &str, n: u64) {
        *lock(&self.inner.mine_after)
            .entry(method.to_string())
            .or_default() += n;
    }

    /// JSON-RPC calls answered (each call of a batch counts).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Stops serving (connections in flight finish).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

impl Drop for FrontierRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Counters and lists of hashes: whatever a panicking holder left is still valid.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Takes one from a fault counter; false when it is at zero.
fn take_one(n: &AtomicU64) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Takes one from `method`'s count of a per-method fault; false when it has none left.
fn take_from(pending: &Mutex<std::collections::BTreeMap<String, u64>>, method: &str) -> bool {
    match lock(pending).get_mut(method) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}

/// A per-method fault armed by `[method, count]`.
fn arm(
    pending: &Mutex<std::collections::BTreeMap<String, u64>>,
    params: &[Value],
) -> std::result::Result<Value, Fail> {
    let (Some(target), Some(n)) = (
        params.first().and_then(Value::as_str),
        params.get(1).and_then(Value::as_u64),
    ) else {
        return Err(Fail::params("expected a method name and a count"));
    };
    *lock(pending).entry(target.to_string()).or_default() += n;
    Ok(Value::Bool(true))
}

/// A JSON-RPC error answer.
#[derive(Debug, Clone, PartialEq)]
struct Fail {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl Fail {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }

    fn params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
}

fn answer(id: Value, outcome: std::result::Result<Value, Fail>) -> Value {
    match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(f) => {
            let mut error = Map::new();
            error.insert("code".into(), f.code.into());
            error.insert("message".into(), f.message.into());
            if let Some(data) = f.data {
                error.insert("data".into(), data);
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}

async fn serve(State(inner): State<Arc<Inner>>, body: Bytes) -> Json<Value> {
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Json(answer(
                Value::Null,
                Err(Fail::new(PARSE_ERROR, format!("Parse error: {e}"))),
            ))
        }
    };
    match parsed {
        Value::Array(calls) if calls.is_empty() => Json(answer(
            Value::Null,
            Err(Fail::new(INVALID_REQUEST, "empty batch")),
        )),
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for call in calls {
                out.push(inner.call(call).await);
            }
            Json(Value::Array(out))
        }
        call => Json(inner.call(call).await),
    }
}

/// A block parameter as a caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BlockRef {
    /// `latest` or `pending`: the head, passed on unchanged.
    Tip,
    /// `finalized` or `safe`.
    Finalized,
    /// A number (`earliest` is 0).
    Number(u64),
    /// A block hash.
    Hash(B256),
}

fn parse_quantity(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x")?;
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

fn parse_block(v: &Value) -> std::result::Result<BlockRef, Fail> {
    match v {
        Value::String(s) => match s.as_str() {
            "latest" | "pending" => Ok(BlockRef::Tip),
            "finalized" | "safe" => Ok(BlockRef::Finalized),
            "earliest" => Ok(BlockRef::Number(0)),
            _ if s.len() == 66 => s
                .parse::<B256>()
                .map(BlockRef::Hash)
                .map_err(|_| Fail::params(format!("invalid block hash {s:?}"))),
            _ => parse_quantity(s)
                .map(BlockRef::Number)
                .ok_or_else(|| Fail::params(format!("invalid block number or tag {s:?}"))),
        },
        // EIP-1898: `{"blockNumber": ..}` or `{"blockHash": .., "requireCanonical": ..}`.
        Value::Object(o) => match (o.get("blockNumber"), o.get("blockHash")) {
            (Some(n), None) => parse_block(n),
            (None, Some(h @ Value::String(s))) if s.len() == 66 => parse_block(h),
            _ => Err(Fail::params(format!("invalid block id {v}"))),
        },
        _ => Err(Fail::params(format!("invalid block id {v}"))),
    }
}

fn quantity(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

/// Where a block stands against the node's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// In the window.
    Yes,
    /// Below it: discarded.
    Discarded,
    /// Past the head.
    Future,
}

/// The index of the block parameter of the state reads Frontier answers from a block's state.
fn state_block_param(method: &str) -> Option<usize> {
    match method {
        "eth_call"
        | "eth_estimateGas"
        | "eth_getBalance"
        | "eth_getCode"
        | "eth_getTransactionCount"
        | "eth_createAccessList" => Some(1),
        "eth_getStorageAt" => Some(2),
        _ => None,
    }
}

fn future_block(n: u64) -> Fail {
    Fail::internal(format!("Expect block number from id: Id(Number({n}))"))
}

fn discarded_state(n: u64) -> Fail {
    Fail::internal(format!(
        "runtime error: UnknownBlock: State already discarded for block {n}"
    ))
}

impl Inner {
    async fn call(&self, call: Value) -> Value {
        let Value::Object(obj) = call else {
            return answer(
                Value::Null,
                Err(Fail::new(INVALID_REQUEST, "a request must be an object")),
            );
        };
        let id = obj.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = obj.get("method").and_then(Value::as_str) else {
            return answer(id, Err(Fail::new(INVALID_REQUEST, "no method")));
        };
        let params = match obj.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return answer(id, Err(Fail::params("params must be an array"))),
        };
        self.requests.fetch_add(1, Ordering::SeqCst);
        let outcome = self.dispatch(method, params).await;
        if take_from(&self.mine_after, method) {
            tracing::info!(target: "devnet::frontier", method, "mining a block after the answer");
            if let Err(e) = self.upstream("evm_mine", Value::Array(Vec::new())).await {
                tracing::warn!(target: "devnet::frontier", error = %e.message, "evm_mine failed");
            }
        }
        answer(id, outcome)
    }

    async fn dispatch(
        &self,
        method: &str,
        mut params: Vec<Value>,
    ) -> std::result::Result<Value, Fail> {
        if !method.starts_with("devnet_") && take_from(&self.fail_next, method) {
            tracing::info!(target: "devnet::frontier", method, "failing a call");
            return Err(Fail::internal(format!(
                "{method} refused (a fault the devnet injected)"
            )));
        }
        if let Some(i) = state_block_param(method) {
            return self.state_read(method, i, params).await;
        }
        match method {
            "eth_getBlockByNumber" => {
                let block = params
                    .first()
                    .ok_or_else(|| Fail::params("missing block number"))
                    .and_then(parse_block)?;
                if block == BlockRef::Tip {
                    return self.upstream(method, Value::Array(params)).await;
                }
                let head = self.head().await?;
                let n = match block {
                    BlockRef::Tip => head,
                    BlockRef::Finalized => self.finalized.get().min(head),
                    BlockRef::Number(n) => n,
                    BlockRef::Hash(_) => return Err(Fail::params("a block number, not a hash")),
                };
                match self.kept(n, head) {
                    Kept::Future => Err(future_block(n)),
                    Kept::Discarded => Ok(Value::Null),
                    Kept::Yes => {
                        params[0] = quantity(n);
                        self.upstream(method, Value::Array(params)).await
                    }
                }
            }
            "eth_getBlockByHash" | "eth_getTransactionReceipt" | "eth_getTransactionByHash" => {
                let found = self.upstream(method, Value::Array(params)).await?;
                // Blocks, receipts and transactions of discarded blocks are gone with them.
                let number = match method {
                    "eth_getBlockByHash" => found.get("number"),
                    _ => found.get("blockNumber"),
                };
                match number.and_then(Value::as_str).and_then(parse_quantity) {
                    Some(n) if self.kept(n, self.head().await?) == Kept::Discarded => {
                        Ok(Value::Null)
                    }
                    _ => Ok(found),
                }
            }
            "eth_getLogs" => self.logs(params).await,
            // The devnet's own faults, for the harness that plays them (not Frontier's).
            "devnet_restartNode" => {
                self.upstream("anvil_dropAllTransactions", Value::Array(Vec::new()))
                    .await?;
                tracing::info!(target: "devnet::frontier", "node restart: the pool is flushed");
                Ok(Value::Bool(true))
            }
            "devnet_dropNextSends" => {
                let n = params
                    .first()
                    .and_then(Value::as_u64)
                    .ok_or_else(|| Fail::params("expected a count"))?;
                self.drop_sends.fetch_add(n, Ordering::SeqCst);
                Ok(Value::Bool(true))
            }
            "devnet_holdNextSends" => {
                let n = params
                    .first()
                    .and_then(Value::as_u64)
                    .ok_or_else(|| Fail::params("expected a count"))?;
                self.hold_sends.fetch_add(n, Ordering::SeqCst);
                Ok(Value::Bool(true))
            }
            "devnet_failNext" => arm(&self.fail_next, &params),
            "devnet_mineAfterNext" => arm(&self.mine_after, &params),
            "devnet_faults" => {
                let hashes = |v: &Mutex<Vec<B256>>| {
                    Value::Array(
                        lock(v)
                            .iter()
                            .map(|h| Value::String(h.to_string()))
                            .collect(),
                    )
                };
                let pending: Map<String, Value> = lock(&self.fail_next)
                    .iter()
                    .map(|(m, n)| (m.clone(), Value::from(*n)))
                    .collect();
                Ok(json!({
                    "dropped": hashes(&self.dropped),
                    "held": hashes(&self.held),
                    "failuresPending": pending,
                    "dropsPending": self.drop_sends.load(Ordering::SeqCst),
                    "holdsPending": self.hold_sends.load(Ordering::SeqCst),
                }))
            }
            "eth_sendRawTransaction" => {
                let raw = params
                    .first()
                    .and_then(Value::as_str)
                    .and_then(|s| s.strip_prefix("0x"))
                    .and_then(|s| hex::decode(s).ok())
                    .ok_or_else(|| Fail::params("expected the signed transaction's hex bytes"))?;
                // An EIP-2718 transaction's hash is the keccak of its encoding.
                let hash = keccak256(&raw);
                let held = {
                    let mut held = lock(&self.held);
                    if !held.contains(&hash) && take_one(&self.hold_sends) {
                        held.push(hash);
                    }
                    held.contains(&hash)
                };
                if held {
                    tracing::info!(target: "devnet::frontier", tx = %hash, "holding a transaction out of every block");
                    return Ok(Value::String(hash.to_string()));
                }
                if !take_one(&self.drop_sends) {
                    return self.upstream(method, Value::Array(params)).await;
                }
                tracing::info!(target: "devnet::frontier", tx = %hash, "dropping a broadcast transaction");
                lock(&self.dropped).push(hash);
                Ok(Value::String(hash.to_string()))
            }
            _ => self.upstream(method, Value::Array(params)).await,
        }
    }

    /// A read of state at a block: refused below the window and past the head, with
    /// `finalized` rewritten to the substrate's number and reverts in Frontier's shape.
    async fn state_read(
        &self,
        method: &str,
        at: usize,
        mut params: Vec<Value>,
    ) -> std::result::Result<Value, Fail> {
        let block = match params.get(at) {
            None | Some(Value::Null) => {
                // Frontier reads `latest` when no block is named, `eth_estimateGas` included
                // (anvil estimates on its pending block, which would hide a peer's pooled
                // transaction from a caller that forgot to simulate on `pending` itself).
                if params.len() > at {
                    params[at] = Value::String("latest".into());
                } else {
                    params.resize(at, Value::Null);
                    params.push(Value::String("latest".into()));
                }
                BlockRef::Tip
            }
            Some(v) => parse_block(v)?,
        };
        let number = match block {
            BlockRef::Tip => None,
            BlockRef::Finalized => Some(self.finalized.get().min(self.head().await?)),
            BlockRef::Number(n) => Some(n),
            BlockRef::Hash(h) => Some(self.number_of(h).await?),
        };
        if let Some(n) = number {
            match self.kept(n, self.head().await?) {
                Kept::Future => return Err(future_block(n)),
                Kept::Discarded => return Err(discarded_state(n)),
                Kept::Yes => {}
            }
            if block == BlockRef::Finalized {
                params[at] = quantity(n);
            }
        }
        match self.upstream(method, Value::Array(params)).await {
            Err(f) if is_revert(&f) => {
                let data = f.data.unwrap_or_else(|| Value::String("0x".into()));
                Err(Fail {
                    code: INTERNAL_ERROR,
                    message: revert_message(&data),
                    data: Some(data),
                })
            }
            other => other,
        }
    }

    async fn logs(&self, params: Vec<Value>) -> std::result::Result<Value, Fail> {
        let Some(Value::Object(mut filter)) = params.first().cloned() else {
            return Err(Fail::params("expected a filter object"));
        };
        let head = self.head().await?;
        if let Some(h) = filter.get("blockHash") {
            let BlockRef::Hash(h) = parse_block(h)? else {
                return Err(Fail::params("blockHash must be a block hash"));
            };
            if self.kept(self.number_of(h).await?, head) == Kept::Discarded {
                return Ok(Value::Array(Vec::new()));
            }
            return self.bounded_logs(filter).await;
        }
        let resolve = |key: &str| -> std::result::Result<u64, Fail> {
            match filter.get(key) {
                None | Some(Value::Null) => Ok(head),
                Some(v) => Ok(match parse_block(v)? {
                    BlockRef::Tip => head,
                    BlockRef::Finalized => self.finalized.get().min(head),
                    BlockRef::Number(n) => n,
                    BlockRef::Hash(_) => {
                        return Err(Fail::params(format!("{key} must be a number")))
                    }
                }),
            }
        };
        let (from, to) = (resolve("fromBlock")?, resolve("toBlock")?);
        // Frontier reads the blocks it has: past the head there are none, below the window they
        // are skipped without a word.
        let from = from.max(self.lowest(head));
        let to = to.min(head);
        if from > to {
            return Ok(Value::Array(Vec::new()));
        }
        filter.insert("fromBlock".into(), quantity(from));
        filter.insert("toBlock".into(), quantity(to));
        self.bounded_logs(filter).await
    }

    async fn bounded_logs(&self, filter: Map<String, Value>) -> std::result::Result<Value, Fail> {
        let logs = self
            .upstream("eth_getLogs", Value::Array(vec![Value::Object(filter)]))
            .await?;
        match &logs {
            Value::Array(l) if l.len() > self.cfg.max_logs => Err(Fail::internal(format!(
                "query returned more than {} results",
                self.cfg.max_logs
            ))),
            _ => Ok(logs),
        }
    }

    /// The lowest block the node keeps at `head`.
    fn lowest(&self, head: u64) -> u64 {
        match self.cfg.state_window {
            u64::MAX => 0,
            w => head.saturating_sub(w.max(1) - 1),
        }
    }

    fn kept(&self, n: u64, head: u64) -> Kept {
        if n > head {
            Kept::Future
        } else if n < self.lowest(head) {
            Kept::Discarded
        } else {
            Kept::Yes
        }
    }

    async fn head(&self) -> std::result::Result<u64, Fail> {
        // Every windowed call needs the head: one upstream read serves the calls of a few
        // milliseconds (a block is 100 ms or more), halving what the relay costs anvil.
        if let Some((at, head)) = *self
            .head_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            if at.elapsed() < HEAD_CACHE {
                return Ok(head);
            }
        }
        let v = self
            .upstream("eth_blockNumber", Value::Array(Vec::new()))
            .await?;
        let head = v
            .as_str()
            .and_then(parse_quantity)
            .ok_or_else(|| Fail::internal(format!("upstream eth_blockNumber answered {v}")))?;
        *self
            .head_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), head));
        Ok(head)
    }

    async fn number_of(&self, hash: B256) -> std::result::Result<u64, Fail> {
        let block = self
            .upstream("eth_getBlockByHash", json!([hash.to_string(), false]))
            .await?;
        block
            .get("number")
            .and_then(Value::as_str)
            .and_then(parse_quantity)
            .ok_or_else(|| Fail::internal(format!("Expect block number from id: Id(Hash({hash}))")))
    }

    async fn upstream(&self, method: &str, params: Value) -> std::result::Result<Value, Fail> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self
            .http
            .post(&self.upstream)
            .json(&request)
            .send()
            .await
            .map_err(|e| Fail::internal(format!("node unavailable: {e}")))?;
        let mut body: Value = response
            .json()
            .await
            .map_err(|e| Fail::internal(format!("node answered {method} with no JSON: {e}")))?;
        if let Some(error) = body.get_mut("error").map(Value::take) {
            return Err(Fail {
                code: error
                    .get("code")
                    .and_then(Value::as_i64)
                    .unwrap_or(INTERNAL_ERROR),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_string(),
                data: error.get("data").cloned(),
            });
        }
        Ok(body
            .get_mut("result")
            .map(Value::take)
            .unwrap_or(Value::Null))
    }
}

/// Frontier's revert message: the fixed text, then the reason of an `Error(string)` revert.
fn revert_message(data: &Value) -> String {
    let reason = data
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|s| hex::decode(s).ok())
        .and_then(|d| {
            use alloy::sol_types::SolError;
            alloy::sol_types::Revert::abi_decode(&d).ok()
        });
    match reason {
        Some(r) => format!("{REVERT_MESSAGE} {}", r.reason),
        None => REVERT_MESSAGE.to_string(),
    }
}

/// Whether anvil's error is an execution revert (code 3, "execution reverted").
fn is_revert(f: &Fail) -> bool {
    f.code == 3 || f.message.contains("execution reverted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_parameters_parse_as_written_and_garbage_is_invalid_params() {
        assert_eq!(parse_block(&json!("latest")), Ok(BlockRef::Tip));
        assert_eq!(parse_block(&json!("pending")), Ok(BlockRef::Tip));
        assert_eq!(parse_block(&json!("safe")), Ok(BlockRef::Finalized));
        assert_eq!(parse_block(&json!("earliest")), Ok(BlockRef::Number(0)));
        assert_eq!(parse_block(&json!("0x1f")), Ok(BlockRef::Number(31)));
        assert_eq!(
            parse_block(&json!({"blockNumber": "0x2"})),
            Ok(BlockRef::Number(2))
        );
        let h = B256::repeat_byte(7);
        assert_eq!(
            parse_block(&json!({"blockHash": h.to_string()})),
            Ok(BlockRef::Hash(h))
        );
        // `Error("too late")`, as solc encodes a `require` message.
        let data = json!(format!(
            "0x08c379a0{:064x}{:064x}{}{}",
            32,
            8,
            hex::encode("too late"),
            "0".repeat(48)
        ));
        assert_eq!(revert_message(&data), format!("{REVERT_MESSAGE} too late"));
        assert_eq!(revert_message(&json!("0xdeadbeef")), REVERT_MESSAGE);
        assert_eq!(revert_message(&json!(null)), REVERT_MESSAGE);
        for bad in [
            json!("0x"),
            json!("0xzz"),
            json!("12"),
            json!("0x10000000000000000"),
            json!(5),
            json!({}),
            json!(null),
        ] {
            assert_eq!(
                parse_block(&bad).map_err(|f| f.code),
                Err(INVALID_PARAMS),
                "{bad}"
            );
        }
    }
}
