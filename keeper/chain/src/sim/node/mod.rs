//! The simulator behind a Substrate node's JSON-RPC: WebSocket and HTTP on one port, as a node's
//! 9944, so every process reaches the devnet through the client it would use on finney
//! ([`crate::client::SubxtClient`], `async-substrate-interface`, `@polkadot/api`).
//!
//! Served: the `system_*` identity and health, blocks (`chain_*`: SCALE headers chained by
//! blake2-256 hashes, bodies of encoded extrinsics, new and finalized head subscriptions), the
//! runtime (`state_getRuntimeVersion`, `state_getMetadata`, `state_call` for `Core`, `Metadata`
//! and the runtime APIs the processes call) and storage (`state_getStorage`, `state_getKeysPaged`,
//! `state_queryStorageAt`) at the runtime's keys for every item the processes read. State older
//! than the simulator's window answers the node's "State already discarded" error, so a client's
//! pruned-node handling is exercised. The metadata is the checked-in finney file (spec 365) with
//! the spec-423 epoch schedule items declared; the runtime version claims the spec whose rules
//! the simulator models.
//!
//! Extrinsics are submitted with `author_submitExtrinsic` or `author_submitAndWatchExtrinsic`
//! (ready, in block, finalized), validated as the runtime validates them (see [`pool`]) and
//! refused with the node's errors. The well-known dev accounts (`//Alice` ... `//Ferdie`) can be
//! funded at start, as on any `--dev` chain.

mod blocks;
mod metadata;
mod pool;
mod storage;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codec::{Decode, Encode};
use jsonrpsee::server::{Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule};
use serde_json::{json, Value};

use self::blocks::{hex0x, Header};
use self::pool::Refusal;
use super::protocol::lock;
use super::Simulator;
use crate::types::BlockNumber;
use crate::{Error, Result};

/// `spec_name` and `impl_name` of the devnet runtime.
pub const SPEC_NAME: &str = "node-subtensor";

/// The JSON-RPC error code of a node's client errors (unknown block, discarded state).
pub const CLIENT_ERROR: i32 = 4003;

/// The JSON-RPC error code of a `dev_simulator` request the simulator refused; `data` carries
/// the typed error.
pub const DEV_ERROR: i32 = -32000;

/// How often a head subscription looks for a new block.
const HEAD_POLL: Duration = Duration::from_millis(20);

/// What the node answers besides the simulator's state.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// `system_chain`.
    pub chain: String,
    /// The runtime's `spec_version` (the rules the simulator models).
    pub spec_version: u32,
    /// The runtime's `transaction_version`.
    pub transaction_version: u32,
    /// Rao given at start to each well-known dev account (`//Alice` ... `//Ferdie`); 0: none.
    pub dev_account_balance: u64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            chain: "TAO20 devnet".into(),
            spec_version: crate::client::CHECKED_SPEC_VERSION,
            transaction_version: 1,
            dev_account_balance: 0,
        }
    }
}

struct Node {
    sim: Arc<Mutex<Simulator>>,
    metadata: subxt::Metadata,
    /// What `state_getMetadata` and the `Metadata` runtime API return.
    metadata_bytes: Vec<u8>,
    /// The same as V15 (`state_getMetadata`, and `Metadata_metadata_at_version(15)`).
    metadata_v15: Vec<u8>,
    config: NodeConfig,
    /// The runtime APIs and their versions, as `Core_version` lists them.
    apis: Vec<([u8; 8], u32)>,
    /// The runtime from block 0.
    genesis: Runtime,
    /// The runtimes enacted since, oldest first, each from the block after its upgrade.
    upgrades: Mutex<Vec<Runtime>>,
    chain: Mutex<Chain>,
    pool: Mutex<pool::Pool>,
    requests: Arc<AtomicU64>,
    /// Requests served per method and, for `state_call`, per runtime API: the devnet's load
    /// report (`dev_stats`) says which reads its clients repeat.
    by_method: Mutex<BTreeMap<String, u64>>,
}

#[derive(Default)]
struct Chain {
    headers: Vec<Header>,
    by_hash: HashMap<[u8; 32], u32>,
}

/// One runtime version, as `Core_version` (SCALE) and `state_getRuntimeVersion` (JSON) give it.
#[derive(Debug, Clone)]
struct Runtime {
    /// The first block whose state holds this runtime.
    from: BlockNumber,
    spec_version: u32,
    transaction_version: u32,
    /// `sp_version::RuntimeVersion`, SCALE-encoded.
    scale: Vec<u8>,
    json: Value,
}

impl Runtime {
    fn new(
        from: BlockNumber,
        spec_version: u32,
        transaction_version: u32,
        apis: &[([u8; 8], u32)],
    ) -> Self {
        let scale = (
            SPEC_NAME.to_string(),
            SPEC_NAME.to_string(),
            1u32,
            spec_version,
            1u32,
            apis.to_vec(),
            transaction_version,
            1u8,
        )
            .encode();
        let json = json!({
            "specName": SPEC_NAME,
            "implName": SPEC_NAME,
            "authoringVersion": 1,
            "specVersion": spec_version,
            "implVersion": 1,
            "apis": apis.iter().map(|(id, v)| json!([hex0x(id), v])).collect::<Vec<_>>(),
            "transactionVersion": transaction_version,
            "systemVersion": 1,
            "stateVersion": 1,
        });
        Runtime {
            from,
            spec_version,
            transaction_version,
            scale,
            json,
        }
    }
}

fn client_error(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(CLIENT_ERROR, message.into(), None::<()>)
}

fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        jsonrpsee::types::error::INVALID_PARAMS_CODE,
        message.into(),
        None::<()>,
    )
}

fn internal(e: Error) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        jsonrpsee::types::error::INTERNAL_ERROR_CODE,
        e.to_string(),
        None::<()>,
    )
}

type RpcResult<T> = std::result::Result<T, ErrorObjectOwned>;

/// Positional parameters (a node also accepts none for optional trailing ones).
fn args(params: &Params) -> RpcResult<Vec<Value>> {
    if params.is_object() {
        return Err(invalid_params("named parameters are not supported"));
    }
    Ok(params.parse::<Option<Vec<Value>>>()?.unwrap_or_default())
}

fn arg(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| !v.is_null())
}

fn bytes_arg(args: &[Value], i: usize, what: &str) -> RpcResult<Vec<u8>> {
    let s = arg(args, i)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_params(format!("{what}: expected a hex string")))?;
    // As a node's `Bytes`: the 0x prefix is optional.
    let hex = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(hex).map_err(|e| invalid_params(format!("{what}: {e}")))
}

fn hash_arg(args: &[Value], i: usize) -> RpcResult<Option<[u8; 32]>> {
    if arg(args, i).is_none() {
        return Ok(None);
    }
    let bytes = bytes_arg(args, i, "block hash")?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(Some)
        .map_err(|_| invalid_params(format!("block hash: {} bytes, expected 32", bytes.len())))
}

impl Node {
    fn new(sim: Arc<Mutex<Simulator>>, config: NodeConfig) -> Result<Self> {
        let (metadata_v15, metadata_bytes) = metadata::served()?;
        let metadata = subxt::Metadata::decode_from(&metadata_bytes[..])
            .map_err(|e| Error::decode("served metadata", e))?;
        // The API versions subtensor's runtime declares; clients pick calls by them (polkadot.js
        // reads metadata through `Metadata_metadata_at_version` only from `Metadata` v2 on).
        let api_version = |name: &str| match name {
            "Core" => 5,
            "Metadata" => 2,
            "BlockBuilder" => 6,
            "TaggedTransactionQueue" => 3,
            "OffchainWorkerApi" => 2,
            "TransactionPaymentApi" | "TransactionPaymentCallApi" => 4,
            _ => 1,
        };
        let apis: Vec<([u8; 8], u32)> = metadata
            .runtime_api_traits()
            .map(|t| {
                (
                    sp_crypto_hashing::blake2_64(t.name().as_bytes()),
                    api_version(t.name()),
                )
            })
            .collect();
        let genesis = Runtime::new(0, config.spec_version, config.transaction_version, &apis);
        Ok(Node {
            sim,
            metadata,
            metadata_bytes,
            metadata_v15,
            config,
            apis,
            genesis,
            upgrades: Mutex::default(),
            chain: Mutex::new(Chain::default()),
            pool: Mutex::new(pool::Pool::default()),
            requests: Arc::new(AtomicU64::new(0)),
            by_method: Mutex::default(),
        })
    }

    fn count(&self, method: &str) {
        let mut m = self
            .by_method
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match m.get_mut(method) {
            Some(n) => *n += 1,
            None => {
                m.insert(method.to_string(), 1);
            }
        }
    }

    /// The runtime whose state block `n` holds.
    fn runtime_at(&self, n: BlockNumber) -> Runtime {
        self.upgrades
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .rev()
            .find(|r| r.from <= n)
            .unwrap_or(&self.genesis)
            .clone()
    }

    /// Enacts a runtime upgrade: from the block after `head` on, the chain runs `spec_version`
    /// (as `set_code` in block `head + 1` leaves the new code in that block's state).
    fn upgrade(&self, head: BlockNumber, spec_version: u32, transaction_version: u32) -> Runtime {
        let runtime = Runtime::new(
            head.saturating_add(1),
            spec_version,
            transaction_version,
            &self.apis,
        );
        let mut upgrades = self
            .upgrades
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A second upgrade before the next block replaces the first, as a later `set_code`
        // in the same block would.
        upgrades.retain(|r| r.from < runtime.from);
        upgrades.push(runtime.clone());
        runtime
    }

    /// The encoded extrinsics of block `n`: the timestamp inherent, then the simulator's.
    fn body(&self, sim: &Simulator, n: BlockNumber) -> Result<Vec<Vec<u8>>> {
        let exts = sim.block_extrinsics(n)?;
        let mut out = vec![blocks::timestamp_inherent(
            &self.metadata,
            sim.chain_time(n)?.saturating_mul(1000),
        )?];
        let pool = pool_lock(&self.pool);
        for (position, ext) in exts.iter().skip(1).enumerate() {
            match pool.bytes(n, position) {
                Some(bytes) => out.push(bytes.clone()),
                None => out.push(blocks::placeholder_signed(&self.metadata, ext)?),
            }
        }
        Ok(out)
    }

    /// Headers up to `n` (at most the simulator's head) are computed once, in order.
    fn header(&self, sim: &Simulator, n: BlockNumber) -> Result<Option<Header>> {
        if n > sim.head() {
            return Ok(None);
        }
        let mut chain = chain_lock(&self.chain);
        let number = blocks::number_u32(n)?;
        while chain.headers.len() <= number as usize {
            let next = u32::try_from(chain.headers.len()).unwrap_or(u32::MAX);
            let parent = chain.headers.last().map_or([0; 32], |h| h.hash);
            let body = self.body(sim, u64::from(next))?;
            let header = Header::new(parent, next, sim.block_hash(u64::from(next)).0, &body);
            chain.by_hash.insert(header.hash, next);
            chain.headers.push(header);
        }
        Ok(chain.headers.get(number as usize).cloned())
    }

    fn number_of(&self, sim: &Simulator, hash: &[u8; 32]) -> Result<Option<BlockNumber>> {
        // Hashes are known once their headers are computed: bring the chain to the head first.
        self.header(sim, sim.head())?;
        Ok(chain_lock(&self.chain)
            .by_hash
            .get(hash)
            .map(|n| u64::from(*n)))
    }

    /// The block an optional hash names (the best block when none), or the node's error.
    fn block(&self, sim: &Simulator, hash: Option<[u8; 32]>) -> RpcResult<BlockNumber> {
        match hash {
            None => Ok(sim.head()),
            Some(h) => self.number_of(sim, &h).map_err(internal)?.ok_or_else(|| {
                client_error(format!(
                    "Client error: UnknownBlock: Header was not found in the database: {}",
                    hex0x(&h)
                ))
            }),
        }
    }

    /// As [`Self::block`], and its state must still be held.
    fn state(&self, sim: &Simulator, hash: Option<[u8; 32]>) -> RpcResult<BlockNumber> {
        let n = self.block(sim, hash)?;
        // Blocks before the simulator started (a shared ledger's) hold the empty genesis state.
        if !sim.history.contains_key(&n) && n >= sim.first_block {
            let hash = self
                .header(sim, n)
                .map_err(internal)?
                .map_or([0; 32], |h| h.hash);
            return Err(client_error(format!(
                "Client error: State already discarded for {}",
                hex0x(&hash)
            )));
        }
        Ok(n)
    }

    fn finalized(&self, sim: &Simulator) -> BlockNumber {
        sim.finalized_head().number
    }

    /// Validates one extrinsic as the runtime would at the best block (what
    /// `TaggedTransactionQueue::validate_transaction` answers): the decoded extrinsic and call.
    fn validate(
        &self,
        sim: &Simulator,
        bytes: &[u8],
    ) -> std::result::Result<(pool::Signed, crate::types::Call), Refusal> {
        let signed = pool::decode(bytes)?;
        if signed.metadata_hash_mode != 0 {
            // The node holds no metadata digest: an enabled mode signs one it cannot match.
            return Err(Refusal::Invalid(pool::BAD_PROOF));
        }
        let best = sim.head();
        let birth = signed.era.birth(best.saturating_add(1));
        if birth > best || best - birth >= BLOCK_HASH_COUNT {
            return Err(Refusal::Invalid(pool::ANCIENT));
        }
        let hash_of = |n: BlockNumber| {
            self.header(sim, n)
                .map_err(|e| Refusal::Internal(e.to_string()))?
                .map(|h| h.hash)
                .ok_or_else(|| Refusal::Internal(format!("no header for block {n}")))
        };
        let genesis = hash_of(0)?;
        let birth_hash = hash_of(birth)?;
        // Validated by the best block's runtime: a transaction signed for the runtime before
        // an upgrade is a bad proof after it.
        let runtime = self.runtime_at(best);
        let message = pool::payload(
            &signed,
            runtime.spec_version,
            runtime.transaction_version,
            &genesis,
            &birth_hash,
        );
        if !pool::verify(&signed.signer, &signed.signature, &message) {
            return Err(Refusal::Invalid(pool::BAD_PROOF));
        }
        pool_lock(&self.pool).check_nonce(&signed.signer, best, signed.nonce)?;
        let call = pool::call(&self.metadata, &signed.call)?;
        if let Some(code) = sim
            .weights_refusal(signed.signer, &call)
            .map_err(|e| Refusal::Internal(e.to_string()))?
        {
            return Err(Refusal::Custom(code));
        }
        Ok((signed, call))
    }

    /// Validates one extrinsic and applies it in a block of its own; the block and the
    /// extrinsic's hash.
    fn submit(
        &self,
        sim: &mut Simulator,
        bytes: &[u8],
    ) -> std::result::Result<(BlockNumber, [u8; 32]), Refusal> {
        let (signed, call) = self.validate(sim, bytes)?;
        let best = sim.head();
        let outcome = sim.submit(Some(signed.signer), call);
        let block = sim.head();
        if block == best {
            return Err(Refusal::Internal(format!(
                "not applied: {}",
                outcome.err().map(|e| e.to_string()).unwrap_or_default()
            )));
        }
        // A failed dispatch is included too; its `ExtrinsicFailed` is in the block's events.
        let position = sim
            .blocks
            .get(&block)
            .map_or(0, |l| l.len().saturating_sub(1));
        pool_lock(&self.pool).applied(signed.signer, block, position, signed.nonce, bytes.to_vec());
        Ok((block, sp_crypto_hashing::blake2_256(bytes)))
    }

    /// `TaggedTransactionQueue_validate_transaction(source, tx, block_hash)`:
    /// `Result<ValidTransaction, TransactionValidityError>`, SCALE-encoded.
    fn validate_transaction(&self, sim: &Simulator, mut args: &[u8]) -> Result<Vec<u8>> {
        let bad = |e: codec::Error| Error::decode("validate_transaction arguments", e);
        let _source = u8::decode(&mut args).map_err(bad)?;
        // The extrinsic as submitted: its own length prefix is the opaque `Vec<u8>`'s.
        let at_hash_len = 32;
        if args.len() < at_hash_len {
            return Err(Error::decode("validate_transaction arguments", "too short"));
        }
        let tx = &args[..args.len() - at_hash_len];
        Ok(match self.validate(sim, tx) {
            Ok((signed, _)) => {
                let tag = |nonce: u32| (signed.signer.0, nonce).encode();
                let current = pool_lock(&self.pool).nonce_at(&signed.signer, sim.head());
                let requires: Vec<Vec<u8>> = if signed.nonce > current {
                    vec![tag(signed.nonce.saturating_sub(1))]
                } else {
                    Vec::new()
                };
                // `Ok(ValidTransaction { priority, requires, provides, longevity, propagate })`.
                let mut out = vec![0u8];
                (0u64, requires, vec![tag(signed.nonce)], u64::MAX, true).encode_to(&mut out);
                out
            }
            // `Err(TransactionValidityError::Invalid(InvalidTransaction::*))`, by variant index.
            Err(Refusal::Invalid(reason)) => {
                let index: u8 = match reason {
                    pool::UNSIGNED => 0,
                    pool::FUTURE => 2,
                    pool::STALE => 3,
                    pool::BAD_PROOF => 4,
                    pool::ANCIENT => 5,
                    // Every other reason is a call the runtime does not expect.
                    _ => 0,
                };
                vec![1, 0, index]
            }
            Err(Refusal::Custom(code)) => vec![1, 0, 7, code],
            Err(Refusal::Undecodable(reason)) => {
                return Err(Error::decode("extrinsic", reason));
            }
            Err(Refusal::Internal(reason)) => {
                return Err(Error::Request {
                    what: "validate_transaction".into(),
                    reason,
                })
            }
        })
    }

    /// `TransactionPaymentApi_query_info(uxt, len)`: `RuntimeDispatchInfo { weight, class,
    /// partial_fee }`. The devnet charges no fees: the fee is 0 and the weight nominal.
    fn query_info(&self, mut args: &[u8]) -> Result<Vec<u8>> {
        if args.len() < 4 {
            return Err(Error::decode("query_info arguments", "too short"));
        }
        let tx = &args[..args.len() - 4];
        pool::decode(tx).map_err(|r| Error::decode("extrinsic", format!("{r:?}")))?;
        args = &args[args.len() - 4..];
        let _len = u32::decode(&mut args).map_err(|e| Error::decode("query_info length", e))?;
        // Weight { ref_time: Compact<u64>, proof_size: Compact<u64> }, DispatchClass::Normal,
        // partial_fee: the runtime's Balance (u64).
        let mut out = Vec::new();
        codec::Compact(NOMINAL_REF_TIME).encode_to(&mut out);
        codec::Compact(0u64).encode_to(&mut out);
        0u8.encode_to(&mut out);
        0u64.encode_to(&mut out);
        Ok(out)
    }
}

/// The weight `query_info` reports for any extrinsic (the devnet has no weights).
const NOMINAL_REF_TIME: u64 = 1_000_000_000;

/// `frame_system::BlockHashCount` of subtensor's runtime: how far back a mortal transaction's
/// birth block may lie.
const BLOCK_HASH_COUNT: BlockNumber = 4096;

fn refusal(r: Refusal) -> ErrorObjectOwned {
    match r {
        Refusal::Invalid(reason) => {
            ErrorObjectOwned::owned(1010, "Invalid Transaction", Some(reason))
        }
        // As `sc_rpc_api::author::error` words a custom validity error.
        Refusal::Custom(code) => ErrorObjectOwned::owned(
            1010,
            "Invalid Transaction",
            Some(format!("Custom error: {code}")),
        ),
        Refusal::Undecodable(reason) => ErrorObjectOwned::owned(
            1002,
            format!("Verification Error: Runtime error: {reason}"),
            Some(reason),
        ),
        Refusal::Internal(reason) => ErrorObjectOwned::owned(
            jsonrpsee::types::error::INTERNAL_ERROR_CODE,
            reason,
            None::<()>,
        ),
    }
}

fn submit_rpc(node: &Node, params: &Params) -> RpcResult<(BlockNumber, [u8; 32])> {
    node.requests.fetch_add(1, Ordering::Relaxed);
    let a = args(params)?;
    let bytes = bytes_arg(&a, 0, "extrinsic")?;
    let mut sim = lock(&node.sim).map_err(internal)?;
    node.submit(&mut sim, &bytes).map_err(refusal)
}

type Ctx = Node;

fn pool_lock(pool: &Mutex<pool::Pool>) -> std::sync::MutexGuard<'_, pool::Pool> {
    // Entries are inserted whole: a panic elsewhere leaves the maps consistent.
    pool.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn chain_lock(chain: &Mutex<Chain>) -> std::sync::MutexGuard<'_, Chain> {
    // The header cache is only ever extended: a panic mid-extension leaves a valid prefix.
    chain
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn with_sim<T>(node: &Node, f: impl FnOnce(&Simulator) -> RpcResult<T>) -> RpcResult<T> {
    node.requests.fetch_add(1, Ordering::Relaxed);
    let sim = lock(&node.sim).map_err(internal)?;
    f(&sim)
}

fn register(module: &mut RpcModule<Ctx>) -> std::result::Result<(), Error> {
    let reg_err =
        |e: jsonrpsee::core::RegisterMethodError| Error::invalid("substrate rpc", e.to_string());
    macro_rules! method {
        ($($name:literal),+ => |$args:ident, $node:ident, $sim:ident| $body:expr) => {
            $(module
                .register_method($name, |params, $node, _| -> RpcResult<Value> {
                    let $args = args(&params)?;
                    $node.count(match $name {
                        "state_call" | "state_callAt" => $args.first().and_then(Value::as_str).unwrap_or($name),
                        _ => $name,
                    });
                    with_sim($node, |$sim| $body)
                })
                .map_err(reg_err)?;)+
        };
    }

    method!("system_chain" => |_a, node, _s| Ok(json!(node.config.chain)));
    method!("system_name" => |_a, _n, _s| Ok(json!("tao20-devnet")));
    method!("system_version" => |_a, _n, _s| Ok(json!(env!("CARGO_PKG_VERSION"))));
    method!("system_chainType" => |_a, _n, _s| Ok(json!("Development")));
    method!("system_properties" => |_a, _n, _s| Ok(json!({
        "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"
    })));
    method!("system_health" => |_a, _n, _s| Ok(json!({
        "peers": 0, "isSyncing": false, "shouldHavePeers": false
    })));
    method!("chain_getBlockHash", "chain_getHead" => |a, node, sim| {
        let n = match arg(&a, 0) {
            None => sim.head(),
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| invalid_params("block number"))?,
            Some(Value::String(s)) => s
                .strip_prefix("0x")
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid_params(format!("block number {s}")))?,
            Some(other) => return Err(invalid_params(format!("block number {other}"))),
        };
        let header = node.header(sim, n).map_err(internal)?;
        Ok(header.map_or(Value::Null, |h| json!(hex0x(&h.hash))))
    });
    method!("chain_getFinalizedHead", "chain_getFinalisedHead" => |_a, node, sim| {
        let n = node.finalized(sim);
        let header = node.header(sim, n).map_err(internal)?;
        Ok(json!(header.map(|h| hex0x(&h.hash))))
    });
    method!("chain_getHeader" => |a, node, sim| {
        let n = match hash_arg(&a, 0)? {
            None => Some(sim.head()),
            Some(h) => node.number_of(sim, &h).map_err(internal)?,
        };
        let Some(n) = n else { return Ok(Value::Null) };
        Ok(node.header(sim, n).map_err(internal)?.map_or(Value::Null, |h| h.json()))
    });
    method!("chain_getBlock" => |a, node, sim| {
        let n = match hash_arg(&a, 0)? {
            None => Some(sim.head()),
            Some(h) => node.number_of(sim, &h).map_err(internal)?,
        };
        let Some(n) = n else { return Ok(Value::Null) };
        let Some(header) = node.header(sim, n).map_err(internal)? else { return Ok(Value::Null) };
        let body = node.body(sim, n).map_err(internal)?;
        Ok(json!({
            "block": {
                "header": header.json(),
                "extrinsics": body.iter().map(|e| hex0x(e)).collect::<Vec<_>>(),
            },
            "justifications": null,
        }))
    });
    method!("state_getRuntimeVersion", "chain_getRuntimeVersion" => |a, node, sim| {
        let n = node.block(sim, hash_arg(&a, 0)?)?;
        Ok(node.runtime_at(n).json)
    });
    method!("state_getMetadata" => |a, node, sim| {
        node.block(sim, hash_arg(&a, 0)?)?;
        Ok(json!(hex0x(&node.metadata_v15)))
    });
    method!("state_call", "state_callAt" => |a, node, sim| {
        let name = arg(&a, 0)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_params("method: expected a string"))?;
        let data = bytes_arg(&a, 1, "call data")?;
        let at = node.state(sim, hash_arg(&a, 2)?)?;
        let version = node.runtime_at(at).scale;
        let own = match name {
            "TaggedTransactionQueue_validate_transaction" => Some(node.validate_transaction(sim, &data)),
            "TransactionPaymentApi_query_info" => Some(node.query_info(&data)),
            _ => None,
        };
        if let Some(answer) = own {
            return answer
                .map(|out| json!(hex0x(&out)))
                .map_err(|e| client_error(format!("Client error: Execution failed: {e}")));
        }
        match storage::call(sim, &pool_lock(&node.pool), at, name, &data, &version, &[&node.metadata_v15, &node.metadata_bytes]) {
            Ok(Some(out)) => Ok(json!(hex0x(&out))),
            Ok(None) => Err(client_error(format!(
                "Client error: Execution failed: Other: Exported method {name} is not found"
            ))),
            Err(e) => Err(client_error(format!("Client error: Execution failed: {e}"))),
        }
    });
    method!("state_getStorage", "state_getStorageAt" => |a, node, sim| {
        let key = bytes_arg(&a, 0, "storage key")?;
        if let Some((item, _)) = storage::item_of(&key) {
            node.count(&format!("storage {item:?}"));
        }
        let at = node.state(sim, hash_arg(&a, 1)?)?;
        let pool = pool_lock(&node.pool);
        let value = storage::read(sim, &node.metadata, &pool, at, &key).map_err(internal)?;
        Ok(value.map_or(Value::Null, |v| json!(hex0x(&v))))
    });
    method!("state_getKeysPaged", "state_getKeysPagedAt" => |a, node, sim| {
        let prefix = match arg(&a, 0) {
            None => Vec::new(),
            Some(_) => bytes_arg(&a, 0, "key prefix")?,
        };
        let count = arg(&a, 1)
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid_params("count: expected a number"))?;
        if count > 1000 {
            return Err(ErrorObjectOwned::owned(
                4002,
                format!("count exceeds maximum value. value: {count}, max: 1000"),
                None::<()>,
            ));
        }
        let start = match arg(&a, 2) {
            None => None,
            Some(_) => Some(bytes_arg(&a, 2, "start key")?),
        };
        let at = node.state(sim, hash_arg(&a, 3)?)?;
        let keys: Vec<Value> = storage::keys(sim, at, &prefix)
            .into_iter()
            .filter(|k| start.as_ref().is_none_or(|s| k > s))
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(|k| json!(hex0x(&k)))
            .collect();
        Ok(Value::Array(keys))
    });
    method!("state_queryStorageAt" => |a, node, sim| {
        let list = arg(&a, 0)
            .and_then(Value::as_array)
            .ok_or_else(|| invalid_params("keys: expected an array"))?;
        let hash = hash_arg(&a, 1)?;
        let at = node.state(sim, hash)?;
        let mut changes = Vec::with_capacity(list.len());
        for (i, _) in list.iter().enumerate() {
            let key = bytes_arg(list, i, "storage key")?;
            let value = storage::read(sim, &node.metadata, &pool_lock(&node.pool), at, &key)
                .map_err(internal)?;
            changes.push(json!([hex0x(&key), value.map(|v| hex0x(&v))]));
        }
        let block = node.header(sim, at).map_err(internal)?.map_or([0; 32], |h| h.hash);
        Ok(json!([{ "block": hex0x(&block), "changes": changes }]))
    });

    method!("system_accountNextIndex", "account_nextIndex" => |a, node, sim| {
        let ss58 = arg(&a, 0)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_params("account: expected an SS58 address"))?;
        let who: subxt::utils::AccountId32 = ss58
            .parse()
            .map_err(|e| invalid_params(format!("account {ss58}: {e}")))?;
        Ok(json!(pool_lock(&node.pool).nonce_at(&crate::types::Bytes32(who.0), sim.head())))
    });
    module
        .register_method(
            "author_submitExtrinsic",
            |params, node, _| -> RpcResult<Value> {
                let (_, hash) = submit_rpc(node, &params)?;
                Ok(json!(hex0x(&hash)))
            },
        )
        .map_err(reg_err)?;
    // The devnet's administration, as chopsticks' and anvil's `dev_*` methods: the simulator's
    // own requests (advance blocks, register subnets, the faucet, market moves) for the harness
    // that drives the chain. Participants never use them: they read and submit as on finney.
    module
        .register_method("dev_simulator", |params, node, _| -> RpcResult<Value> {
            let a = args(&params)?;
            let signer: Option<crate::types::AccountId> = arg(&a, 0)
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(|e| invalid_params(format!("signer: {e}")))?;
            let op: super::Op = arg(&a, 1)
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(|e| invalid_params(format!("request: {e}")))?
                .ok_or_else(|| invalid_params("request: missing"))?;
            let mut sim = lock(&node.sim).map_err(internal)?;
            sim.execute(signer, op).map_err(|e| {
                // The typed error travels in `data`, so the admin client gets it back whole.
                ErrorObjectOwned::owned(DEV_ERROR, e.to_string(), Some(e))
            })
        })
        .map_err(reg_err)?;
    module
        .register_method("dev_stats", |_, node, _| -> RpcResult<Value> {
            let head = lock(&node.sim).map_err(internal)?.head();
            let methods = node.by_method.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            Ok(json!({ "requests": node.requests.load(Ordering::Relaxed), "head": head, "methods": methods }))
        })
        .map_err(reg_err)?;
    module
        .register_method("dev_upgradeRuntime", |params, node, _| -> RpcResult<Value> {
            let a = args(&params)?;
            let number = |i: usize, what: &str| -> RpcResult<Option<u32>> {
                arg(&a, i)
                    .map(|v| {
                        v.as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .ok_or_else(|| invalid_params(format!("{what}: expected a u32")))
                    })
                    .transpose()
            };
            let spec = number(0, "spec_version")?
                .ok_or_else(|| invalid_params("spec_version: missing"))?;
            let head = lock(&node.sim).map_err(internal)?.head();
            let current = node.runtime_at(head);
            if spec <= current.spec_version {
                return Err(invalid_params(format!(
                    "spec_version {spec}: an upgrade must raise it above {}",
                    current.spec_version
                )));
            }
            let tx = number(1, "transaction_version")?.unwrap_or(current.transaction_version);
            let runtime = node.upgrade(head, spec, tx);
            tracing::info!(target: "tao20::sim", from = runtime.from, spec, tx, "runtime upgrade enacted");
            Ok(json!({ "from": runtime.from, "specVersion": spec, "transactionVersion": tx }))
        })
        .map_err(reg_err)?;
    module
        .register_subscription(
            "author_submitAndWatchExtrinsic",
            "author_extrinsicUpdate",
            "author_unwatchExtrinsic",
            |params, pending, node, _| async move {
                let block = match submit_rpc(&node, &params) {
                    Ok((block, _)) => block,
                    Err(e) => {
                        pending.reject(e).await;
                        return Ok(());
                    }
                };
                let sink = pending.accept().await?;
                sink.send(serde_json::value::to_raw_value(&json!("ready"))?)
                    .await?;
                let hash = {
                    let sim = lock(&node.sim).map_err(|e| e.to_string())?;
                    node.header(&sim, block)
                        .map_err(|e| e.to_string())?
                        .map(|h| hex0x(&h.hash))
                        .ok_or("the block of the extrinsic has no header")?
                };
                sink.send(serde_json::value::to_raw_value(
                    &json!({ "inBlock": hash }),
                )?)
                .await?;
                loop {
                    let finalized = {
                        let sim = lock(&node.sim).map_err(|e| e.to_string())?;
                        node.finalized(&sim) >= block
                    };
                    if finalized {
                        break;
                    }
                    tokio::select! {
                        _ = sink.closed() => return Ok(()),
                        _ = tokio::time::sleep(HEAD_POLL) => {}
                    }
                }
                sink.send(serde_json::value::to_raw_value(
                    &json!({ "finalized": hash }),
                )?)
                .await?;
                Ok(())
            },
        )
        .map_err(reg_err)?;

    for (sub, notif, unsub, finalized) in [
        (
            "chain_subscribeNewHeads",
            "chain_newHead",
            "chain_unsubscribeNewHeads",
            false,
        ),
        (
            "chain_subscribeAllHeads",
            "chain_allHead",
            "chain_unsubscribeAllHeads",
            false,
        ),
        (
            "chain_subscribeFinalizedHeads",
            "chain_finalizedHead",
            "chain_unsubscribeFinalizedHeads",
            true,
        ),
    ] {
        module
            .register_subscription(sub, notif, unsub, move |_, pending, node, _| async move {
                follow_heads(pending, node, finalized).await
            })
            .map_err(reg_err)?;
    }
    module
        .register_subscription(
            "state_subscribeRuntimeVersion",
            "state_runtimeVersion",
            "state_unsubscribeRuntimeVersion",
            |_, pending, node, _| async move {
                let sink = pending.accept().await?;
                let mut sent: Option<u32> = None;
                loop {
                    let runtime = {
                        let sim = lock(&node.sim).map_err(|e| e.to_string())?;
                        node.runtime_at(sim.head())
                    };
                    if sent != Some(runtime.spec_version) {
                        sink.send(serde_json::value::to_raw_value(&runtime.json)?)
                            .await?;
                        sent = Some(runtime.spec_version);
                    }
                    tokio::select! {
                        _ = sink.closed() => return Ok(()),
                        _ = tokio::time::sleep(HEAD_POLL) => {}
                    }
                }
            },
        )
        .map_err(reg_err)?;
    Ok(())
}

/// Sends every header from the current head on, in order, as the chain reaches it.
async fn follow_heads(
    pending: PendingSubscriptionSink,
    node: Arc<Node>,
    finalized: bool,
) -> jsonrpsee::core::SubscriptionResult {
    let sink = pending.accept().await?;
    let mut next: Option<BlockNumber> = None;
    loop {
        let headers = {
            let sim = lock(&node.sim).map_err(|e| e.to_string())?;
            let tip = if finalized {
                node.finalized(&sim)
            } else {
                sim.head()
            };
            let from = next.unwrap_or(tip);
            let mut out = Vec::new();
            for n in from..=tip {
                if let Some(h) = node.header(&sim, n).map_err(|e| e.to_string())? {
                    out.push(h);
                }
            }
            next = Some(tip.saturating_add(1));
            out
        };
        for h in headers {
            sink.send(serde_json::value::to_raw_value(&h.json())?)
                .await?;
        }
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            _ = tokio::time::sleep(HEAD_POLL) => {}
        }
    }
}

/// The well-known dev accounts of every Substrate `--dev` chain, `//Alice` ... `//Ferdie`.
pub fn dev_accounts() -> [crate::types::AccountId; 6] {
    use subxt_signer::sr25519::dev;
    [
        dev::alice(),
        dev::bob(),
        dev::charlie(),
        dev::dave(),
        dev::eve(),
        dev::ferdie(),
    ]
    .map(|k| crate::types::Bytes32(k.public_key().0))
}

/// A running Substrate JSON-RPC endpoint over a simulator.
#[derive(Debug)]
pub struct NodeServer {
    addr: SocketAddr,
    handle: ServerHandle,
    requests: Arc<AtomicU64>,
}

impl NodeServer {
    /// Serves `sim` on `addr` (port 0 picks a free port), WebSocket and HTTP on the same port.
    pub async fn start(addr: &str, sim: Arc<Mutex<Simulator>>, config: NodeConfig) -> Result<Self> {
        if config.dev_account_balance > 0 {
            let mut s = lock(&sim)?;
            for who in dev_accounts() {
                s.endow(who, config.dev_account_balance)?;
            }
        }
        let node = Node::new(sim, config)?;
        let requests = node.requests.clone();
        let mut module = RpcModule::new(node);
        register(&mut module)?;
        let mut names: Vec<String> = module.method_names().map(str::to_string).collect();
        names.push("rpc_methods".into());
        names.sort();
        module
            .register_method(
                "rpc_methods",
                move |_, _, _| json!({ "version": 1, "methods": names }),
            )
            .map_err(|e| Error::invalid("substrate rpc", e.to_string()))?;
        let server = Server::builder()
            .build(addr)
            .await
            .map_err(|e| Error::Connection {
                endpoint: addr.into(),
                reason: format!("bind: {e}"),
            })?;
        let addr = server.local_addr().map_err(|e| Error::Connection {
            endpoint: addr.into(),
            reason: e.to_string(),
        })?;
        let handle = server.start(module);
        Ok(NodeServer {
            addr,
            handle,
            requests,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://` URL of the endpoint.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Stops serving.
    pub fn stop(&self) {
        let _ = self.handle.stop();
    }
}
