//! `tao20 validator run`: loads the keys, opens the store, connects to both chains, and runs the
//! engine, the executors, the signature exchange and peer discovery until SIGINT or SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alloy_primitives::Address;
use tao20_bevm::reader::SignerSet;
use tao20_bevm::{Deployment, Reader, Writer};
use tao20_chain::client::keys::Signer as SubstrateSigner;
use tao20_chain::client::SubxtClient;
use tao20_chain::Subtensor;
use tao20_creation::signing::ReportSigner;
use tao20_feeds::pool::PoolClient;
use tao20_feeds::prices::{Metric, PriceFeeds};
use tao20_feeds::sampler::{PoolSample, SampleSink, Sampler, SinkError, TickOutcome};

use crate::chain_executor::ChainExecutor;
use crate::config::KeeperConfig;
use crate::engine::{Engine, Shared};
use crate::exchange::{Exchange, HeldPool, PeerClient, RateLimiter, VouchedDigest};
use crate::executor::Executor;
use crate::mechanisms::PriceCache;
use crate::metrics::Metrics;
use crate::ops::Ops;
use crate::safety::Doppelganger;
use crate::store::mechanisms::store_sample;
use crate::store::Store;
use crate::{Error, Result};

/// Peers are looked up in the metagraph every this many blocks.
const PEER_REFRESH_BLOCKS: u64 = 50;

/// The keeper's substrate hotkey, from a btcli wallet or a secret-URI file.
pub fn load_hotkey(cfg: &KeeperConfig) -> Result<SubstrateSigner> {
    let w = &cfg.wallet;
    if let Some(file) = &w.suri_file {
        return SubstrateSigner::from_file(&crate::config::expand(file)).map_err(Error::from);
    }
    let path = w
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.bittensor/wallets".into());
    let wallet = tao20_wallet::Wallet::new(
        &path,
        w.name.as_deref().unwrap_or("default"),
        w.hotkey.as_deref().unwrap_or("default"),
    )
    .map_err(|e| Error::Setup {
        what: "wallet".into(),
        source: Box::new(e),
    })?;
    let pair = wallet
        .hotkey_pair(&tao20_wallet::PasswordSource::env_only())
        .map_err(|e| Error::Setup {
            what: "wallet hotkey".into(),
            source: Box::new(e),
        })?;
    Ok(SubstrateSigner::from_keypair(pair.into_subxt()))
}

/// The report-signing key from its keystore.
pub fn load_report_signer(cfg: &KeeperConfig) -> Result<ReportSigner> {
    let key = cfg.signer.load()?;
    Ok(ReportSigner::from_bytes(&key.to_bytes())?)
}

/// How long a starting keeper waits for its peers' config digests before its first block.
const STARTUP_CONFIG_WAIT: Duration = Duration::from_secs(1);

/// How long the executor may take to finish its step after a shutdown signal; the process exits
/// at twice this at the latest.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// A missing database is created only when the operator says so (`--init-journal`): a keeper
/// whose database went missing must not start with an empty journal by itself.
pub fn check_store(cfg: &KeeperConfig) -> Result<()> {
    if cfg.store.path.exists() || cfg.init_journal {
        return Ok(());
    }
    Err(Error::Config {
        what: format!("store.path {}", cfg.store.path.display()),
        reason: "no database there. A keeper whose report key ever signed for this contract must \
                 start from its journal (tao20 validator journal import --db PATH --in FILE), or \
                 it could sign again, differently, what it signed before; for a key that never \
                 signed, start once with --init-journal"
            .into(),
    })
}

/// Runs the keeper until a shutdown signal.
pub async fn run(cfg: KeeperConfig) -> Result<()> {
    cfg.validate()?;
    check_store(&cfg)?;
    let hotkey = load_hotkey(&cfg)?;
    let endpoint = cfg.subtensor.endpoint()?;
    let timeout = std::time::Duration::from_millis(cfg.subtensor.request_timeout_ms);
    let client = SubxtClient::connect_with(&endpoint, Some(hotkey), timeout).await?;
    run_with(cfg, client).await
}

/// Runs the keeper over a given subtensor client.
pub async fn run_with<S: Subtensor + Clone + 'static>(
    cfg: KeeperConfig,
    subtensor: S,
) -> Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tao20_runtime::signal::wait().await;
        tracing::info!(target: "keeper", "shutting down");
        let _ = stop_tx.send(true);
        // A supervisor waits for the exit: never longer than this, whatever hangs.
        tokio::time::sleep(SHUTDOWN_GRACE.saturating_mul(2)).await;
        tracing::error!(target: "keeper", "shutdown did not finish in time; exiting");
        std::process::exit(1);
    });
    run_until(cfg, subtensor, stop_rx).await
}

/// Runs the keeper until `stop` turns true (tests drive this directly), or until one of its
/// tasks ends on its own: then the rest are stopped and the task's error is returned, so the
/// process exits non-zero and its supervisor restarts it.
pub async fn run_until<S: Subtensor + Clone + 'static>(
    cfg: KeeperConfig,
    subtensor: S,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    // Everything the configuration names is loaded before the keeper acts on any chain: a
    // missing variable or file stops it here, not after it served its axon.
    cfg.validate()?;
    let deployment = Deployment::load(&cfg.bevm.deployment)?;
    let signer = load_report_signer(&cfg)?;
    let me = signer.address();
    check_store(&cfg)?;
    let mut store = Store::open(&cfg.store.path)?;
    store.bind_identity(
        deployment.chain_id,
        &deployment.tao20.to_string(),
        &me.to_string(),
    )?;
    let store = Arc::new(Mutex::new(store));
    let metrics = Metrics::new()?;
    let bevm_timeout = Duration::from_millis(cfg.bevm.request_timeout_ms);
    let reader = Reader::new(
        tao20_bevm::rpc::connect_timed(&cfg.bevm.rpc, bevm_timeout)?,
        &deployment,
    );
    // The schedule comes from the contract; a deployment file that says otherwise is refused.
    reader.check_deployment(&deployment).await?;
    let writer = if cfg.dry_run {
        None
    } else {
        // The transactions' key: a separate transmitter's when configured, so that the
        // report-signing key need hold no funds.
        let key = match &cfg.transmitter {
            Some(t) => t.load()?,
            None => cfg.signer.load()?,
        };
        let from = key.address();
        Some(
            Writer::new(
                tao20_bevm::rpc::connect_with_signer_timed(
                    &cfg.bevm.rpc,
                    key.clone(),
                    bevm_timeout,
                )?,
                deployment.tao20,
                from,
                cfg.bevm.tx_confirmations,
                Duration::from_secs(cfg.bevm.tx_timeout_secs),
            )
            .with_wallet(key),
        )
    };
    let (feeds, pool) = if cfg.mechanisms.enabled {
        let m = &cfg.mechanisms;
        let feeds = m
            .prices
            .as_ref()
            .map(|p| {
                PriceFeeds::new(p).map_err(|e| Error::Setup {
                    what: "mechanisms.prices".into(),
                    source: Box::new(e),
                })
            })
            .transpose()?;
        let pool = m
            .pool
            .as_ref()
            .map(|p| {
                let client = PoolClient::from_config(p).map_err(|e| Error::Setup {
                    what: "mechanisms.pool".into(),
                    source: Box::new(e),
                })?;
                let every = p.interval().map_err(|e| Error::Setup {
                    what: "mechanisms.pool.interval_ms".into(),
                    source: Box::new(e),
                })?;
                Ok::<_, Error>((client, every))
            })
            .transpose()?;
        (feeds, pool)
    } else {
        (None, None)
    };
    let bind = |what: &'static str, addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Setup {
                what: format!("{what} {addr}"),
                source: Box::new(e),
            })
    };
    let listener = bind("exchange.listen", cfg.exchange.listen).await?;
    let ops_listener = bind("ops.listen", cfg.ops.listen).await?;

    let wake = Arc::new(tokio::sync::Notify::new());
    let signers = Arc::new(RwLock::new(SignerSet {
        version: 0,
        signers: Vec::new(),
        threshold: 0,
    }));
    let shared = Arc::new(Shared {
        processed: Default::default(),
        finalized: Default::default(),
        signers: signers.clone(),
        wake: wake.clone(),
    });
    let params = crate::consensus::ConsensusParams::of(&cfg, &deployment);
    let config_digest = params.digest();
    let digests = Arc::new(crate::consensus::PeerDigests::new(
        config_digest,
        metrics.clone(),
    ));
    let config_answer = crate::consensus::ConfigAnswer {
        signer: me,
        config_digest,
        signature: signer
            .sign_digest(&crate::consensus::vouch_digest(
                deployment.chain_id,
                deployment.tao20,
                config_digest,
            ))?
            .to_vec()
            .into(),
        params: serde_json::to_value(&params).map_err(|source| Error::Json {
            what: "consensus parameters".into(),
            source,
        })?,
    };
    let doppelganger = Arc::new(Doppelganger::new(metrics.clone()));
    let ops = Arc::new(Ops {
        signer: me,
        dry_run: cfg.dry_run,
        metrics: metrics.clone(),
        shared: shared.clone(),
        doppelganger: doppelganger.clone(),
        digests: digests.clone(),
        stopping: AtomicBool::new(false),
        started: std::time::Instant::now(),
        stall: Duration::from_secs(cfg.ops.stall_secs),
        ready_lag: cfg.ops.ready_lag_blocks,
    });
    let exchange = Arc::new(Exchange {
        chain_id: deployment.chain_id,
        contract: deployment.tao20,
        store: store.clone(),
        signers: signers.clone(),
        held: Mutex::new(HeldPool::new(cfg.exchange.max_held_signatures)),
        metrics: metrics.clone(),
        wake: wake.clone(),
        limiter: Mutex::new(RateLimiter::new(cfg.exchange.requests_per_sec)),
        max_body: cfg.exchange.max_body_bytes,
        conn: cfg.exchange.limits(),
        me,
        doppelganger: doppelganger.clone(),
        config: config_answer,
        digests: digests.clone(),
    });
    tracing::info!(target: "keeper", signer = %me, listen = %cfg.exchange.listen, ops = %cfg.ops.listen,
        contract = %deployment.tao20, dry_run = cfg.dry_run, config_digest = %config_digest, "keeper starting");
    if let Some(f) = cfg.testing.fault {
        tracing::warn!(target: "keeper", fault = ?f, "FAULT INJECTION IS ON: this keeper misbehaves on purpose");
    }
    let peers = Arc::new(RwLock::new(cfg.exchange.peers.clone()));
    let client = PeerClient::new(
        Duration::from_secs(cfg.exchange.peer_timeout_secs),
        cfg.exchange.max_body_bytes.saturating_mul(16),
    )?
    .with_concurrency(cfg.exchange.peer_concurrency);
    let executor = Executor {
        chain_id: deployment.chain_id,
        contract: deployment.tao20,
        store: store.clone(),
        signer: signer.clone(),
        writer,
        peers: peers.clone(),
        client,
        shared: shared.clone(),
        metrics: metrics.clone(),
        stage_blocks: cfg.transmit.stage_blocks,
        replace_after: cfg.bevm.replace_after_blocks,
        retention: cfg.store.retention_blocks,
        dry_run: cfg.dry_run,
        doppelganger,
        digests: digests.clone(),
        vouch: VouchedDigest {
            config_digest: exchange.config.config_digest,
            signature: exchange.config.signature.clone(),
        },
    };
    // Every task gets the supervisor's stop; each returns when it turns true. The servers start
    // first: a peer that asks while this keeper loads its state gets an answer, not a connection
    // that hangs until its timeout.
    let (halt, halted) = tokio::sync::watch::channel(false);
    let mut tasks: Tasks = tokio::task::JoinSet::new();
    let ended = |task: &'static str, r: Result<()>| (task, r);
    {
        let (exchange, h) = (exchange.clone(), halted.clone());
        tasks.spawn(async move { ended("exchange server", exchange.serve(listener, h).await) });
    }
    {
        let (ops, h) = (ops.clone(), halted.clone());
        tasks.spawn(async move { ended("ops server", ops.serve(ops_listener, h).await) });
    }
    let prices: PriceCache = Arc::default();
    let mut engine = Engine::load(
        cfg.clone(),
        deployment,
        subtensor.clone(),
        reader,
        store.clone(),
        exchange.clone(),
        metrics.clone(),
        me,
        shared.clone(),
        prices.clone(),
    )
    .await?;

    if let (Some(external), false) = (cfg.exchange.external, cfg.dry_run) {
        serve_axon(&subtensor, cfg.subtensor.netuid, external).await;
    }
    // The peers' digests before the first block is journaled (the signer set is known now),
    // waiting briefly: a peer that does not answer at once is read again every 20 blocks.
    let counted = tokio::time::timeout(
        STARTUP_CONFIG_WAIT,
        refresh_configs(&executor.client, &exchange, cfg.exchange.peers.clone()),
    )
    .await
    .unwrap_or(0);
    tracing::info!(target: "keeper", counted, minority = digests.refusing(), "peers' config digests read");

    {
        let halted = halted.clone();
        tasks.spawn(async move { ended("engine", engine.run(halted).await) });
    }
    let executor_client = executor.client.clone();
    {
        let halted = halted.clone();
        tasks.spawn(async move { ended("executor", executor.run(halted).await) });
    }
    // The executor counts transmission turns on this head, so it is followed whether or not the
    // pool sampler needs it: at the sampler's interval, or else as often as the engine polls.
    let mut head_every = Duration::from_millis(cfg.engine.poll_ms.max(50));
    if cfg.mechanisms.enabled {
        let m = &cfg.mechanisms;
        let chain = ChainExecutor {
            subtensor: subtensor.clone(),
            netuid: cfg.subtensor.netuid,
            store: store.clone(),
            shared: shared.clone(),
            metrics: metrics.clone(),
            version_key: m.version_key,
        };
        let h = halted.clone();
        tasks.spawn(async move { ended("subtensor executor", chain.run(h).await) });
        match feeds {
            Some(feeds) => {
                let (metrics, prices, h) = (metrics.clone(), prices.clone(), halted.clone());
                let every = Duration::from_millis(m.price_poll_ms.max(100));
                tasks.spawn(async move {
                    poll_prices(feeds, prices, metrics, every, h).await;
                    ended("price poller", Ok(()))
                });
            }
            None => {
                tracing::warn!(target: "keeper", "no [mechanisms.prices]: this keeper publishes no price commitment")
            }
        }
        match pool {
            Some((client, every)) => {
                // The sampler stamps its samples with this head: it needs it as often.
                head_every = every;
                let (store, shared, metrics, h) = (
                    store.clone(),
                    shared.clone(),
                    metrics.clone(),
                    halted.clone(),
                );
                tasks.spawn(async move {
                    sample_pool(client, every, store, shared, metrics, h).await;
                    ended("pool sampler", Ok(()))
                });
            }
            None => {
                tracing::warn!(target: "keeper", "no [mechanisms.pool]: delivery cannot be verified; windows count every winner delivered")
            }
        }
    }
    {
        let (sub, sh, h) = (subtensor.clone(), shared.clone(), halted.clone());
        tasks.spawn(async move {
            follow_head(sub, sh, head_every, h).await;
            ended("head follower", Ok(()))
        });
    }
    {
        let (client, exchange, peers, shared, h) = (
            executor_client,
            exchange.clone(),
            peers.clone(),
            shared.clone(),
            halted.clone(),
        );
        tasks.spawn(async move {
            refresh_configs_every(client, exchange, peers, shared, h).await;
            ended("config reader", Ok(()))
        });
    }
    {
        let (cfg, h) = (cfg.clone(), halted.clone());
        tasks.spawn(async move {
            discover_peers(subtensor, cfg, peers, shared, h).await;
            ended("peer discovery", Ok(()))
        });
    }
    supervise(tasks, &halt, &mut stop, &ops).await
}

type Tasks = tokio::task::JoinSet<(&'static str, Result<()>)>;

/// Waits for a stop request or for the first task to end; then stops the rest (the engine and
/// executors finish the step they are in, within [`SHUTDOWN_GRACE`]; what they leave undone is
/// re-driven from the outbox at the next start) and returns the first task's failure, if any.
async fn supervise(
    mut tasks: Tasks,
    halt: &tokio::sync::watch::Sender<bool>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    ops: &Ops,
) -> Result<()> {
    let first = loop {
        if *stop.borrow() {
            break None;
        }
        tokio::select! {
            joined = tasks.join_next() => break joined,
            changed = stop.changed() => if changed.is_err() { break None },
        }
    };
    ops.stopping.store(true, Ordering::SeqCst);
    let result = match first {
        None => Ok(()),
        Some(Ok((task, Ok(())))) => Err(Error::TaskReturned(task)),
        Some(Ok((task, Err(e)))) => Err(Error::TaskEnded {
            task,
            source: Box::new(e),
        }),
        Some(Err(e)) => Err(Error::TaskEnded {
            task: "keeper task",
            source: Box::new(Error::Config {
                what: "task".into(),
                reason: format!("panicked or was cancelled: {e}"),
            }),
        }),
    };
    if let Err(e) = &result {
        tracing::error!(target: "keeper", error = %e, "stopping the keeper");
    }
    let _ = halt.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(joined) = tasks.join_next().await {
            if let Ok((task, Err(e))) = joined {
                tracing::warn!(target: "keeper", task, error = %e, "task ended with an error while stopping");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(target: "keeper", grace_secs = SHUTDOWN_GRACE.as_secs(),
            "tasks did not stop in time; abandoning their steps (the outbox re-drives them)");
    }
    tasks.shutdown().await;
    result
}

/// The peers' config digests are read again every this many blocks.
const CONFIG_EVERY_BLOCKS: u64 = 20;

/// Reads every peer's `GET /v1/config` and counts the vouched answers; how many were counted.
async fn refresh_configs(client: &PeerClient, exchange: &Exchange, peers: Vec<String>) -> usize {
    let mut counted = 0;
    for (peer, answer) in client.config_all(peers).await {
        match exchange.count_config(&answer) {
            Ok(()) => counted += 1,
            Err(why) => {
                exchange
                    .metrics
                    .peer_errors
                    .with_label_values(&["bad_config"])
                    .inc();
                tracing::debug!(target: "keeper::executor", %peer, why, "a peer's config answer was not counted");
            }
        }
    }
    counted
}

/// Reads the peers' config digests every [`CONFIG_EVERY_BLOCKS`] blocks, in a
/// task of its own so that a peer that hangs never holds the executor.
async fn refresh_configs_every(
    client: PeerClient,
    exchange: Arc<Exchange>,
    peers: Arc<RwLock<Vec<String>>>,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = shared.finalized.load(Ordering::SeqCst);
    while !*stop.borrow() {
        let head = shared.finalized.load(Ordering::SeqCst);
        if head >= last.saturating_add(CONFIG_EVERY_BLOCKS) {
            last = head;
            let list = peers.read().map(|p| p.clone()).unwrap_or_default();
            tokio::select! {
                _ = refresh_configs(&client, &exchange, list) => {}
                _ = stop.changed() => return,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn serve_axon<S: Subtensor>(subtensor: &S, netuid: u16, external: SocketAddr) {
    let (ip, ip_type) = match external.ip() {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4),
        IpAddr::V6(v6) => (u128::from(v6), 6),
    };
    match subtensor
        .serve_axon(netuid, 1, ip, external.port(), ip_type, 0)
        .await
    {
        Ok(inc) => {
            tracing::info!(target: "keeper", %external, block = inc.block.number, "axon served")
        }
        Err(e) => {
            tracing::warn!(target: "keeper", %external, error = %e, "serve_axon failed; peers must list this keeper statically")
        }
    }
}

/// The peer list: the static one plus the metagraph's validators with an axon, minus this
/// keeper's own address.
async fn discover_peers<S: Subtensor>(
    subtensor: S,
    cfg: KeeperConfig,
    peers: Arc<RwLock<Vec<String>>>,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let own = cfg.exchange.external.map(|a| format!("http://{a}"));
    let mut last = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let b = shared.processed.load(std::sync::atomic::Ordering::SeqCst);
        if cfg.exchange.metagraph_peers
            && last.is_none_or(|l: u64| b >= l + PEER_REFRESH_BLOCKS)
            && b > 0
        {
            last = Some(b);
            match subtensor.neurons(b, cfg.subtensor.netuid).await {
                Ok(neurons) => {
                    let mut list = cfg.exchange.peers.clone();
                    for n in neurons.iter().filter(|n| n.validator_permit) {
                        let Some(axon) = n.axon else { continue };
                        let ip = match axon.ip_type {
                            4 => u32::try_from(axon.ip).map(|v| IpAddr::V4(v.into())).ok(),
                            6 => Some(IpAddr::V6(axon.ip.into())),
                            _ => None,
                        };
                        if let Some(ip) = ip {
                            let url = format!("http://{}", SocketAddr::new(ip, axon.port));
                            if Some(&url) != own.as_ref() && !list.contains(&url) {
                                list.push(url);
                            }
                        }
                    }
                    list.retain(|u| Some(u) != own.as_ref());
                    *peers
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = list;
                }
                Err(e) => tracing::debug!(target: "keeper", error = %e, "metagraph read failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// This keeper's own address in the signer set (for status output).
pub fn signer_address(cfg: &KeeperConfig) -> Result<Address> {
    Ok(load_report_signer(cfg)?.address())
}

/// A price older than this many poll intervals is dropped from the cache (the commitment then
/// waits for a fresh one rather than publishing a stale price).
const PRICE_STALE_POLLS: u32 = 5;

/// Polls TAO_USDC and HASHP_USDC into the cache the mechanisms read.
async fn poll_prices(
    feeds: PriceFeeds,
    cache: PriceCache,
    metrics: Metrics,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_ok: std::collections::BTreeMap<Metric, std::time::Instant> = Default::default();
    loop {
        if *stop.borrow() {
            return;
        }
        for metric in Metric::ALL {
            match feeds.fetch(metric).await {
                Ok(reading) => {
                    last_ok.insert(metric, std::time::Instant::now());
                    cache
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(metric.key().to_string(), reading.value);
                    metrics
                        .price_reads
                        .with_label_values(&[metric.key(), "ok"])
                        .inc();
                    for f in &reading.failures {
                        tracing::debug!(target: "keeper::feeds", %metric, failure = %f, "a price source gave no fresh answer");
                    }
                }
                Err(e) => {
                    metrics
                        .price_reads
                        .with_label_values(&[metric.key(), "failed"])
                        .inc();
                    tracing::warn!(target: "keeper::feeds", %metric, error = %e, "no price");
                    let stale = last_ok
                        .get(&metric)
                        .is_none_or(|t| t.elapsed() > every * PRICE_STALE_POLLS);
                    if stale {
                        cache
                            .write()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .remove(metric.key());
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Keeps `shared.finalized` at the chain's finalized head, read every `every`. Transmission turns
/// and pool samples go by it, and the engine updates it only once per round: while a round works
/// through a backlog of blocks the head went stale by seconds, two keepers' turns overlapped and
/// both sent one mint, the samples bunched on a few blocks, and the delivery check saw a sampling
/// gap that was not there (and skipped the window, which another keeper did not).
async fn follow_head<S: Subtensor>(
    subtensor: S,
    shared: Arc<Shared>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        match subtensor.finalized_head().await {
            Ok(h) => {
                shared
                    .finalized
                    .fetch_max(h.number, std::sync::atomic::Ordering::SeqCst);
            }
            // The engine reports endpoint failures; a stale stamp is what the gap check is for.
            Err(e) => tracing::debug!(target: "keeper", error = %e, "finalized head not read"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Pool samples into the store, stamped with the finalized head.
struct StoreSink(Arc<Mutex<Store>>);

impl SampleSink for StoreSink {
    fn record(&mut self, sample: PoolSample) -> std::result::Result<(), SinkError> {
        let block = sample.block.ok_or("no finalized block seen yet")?;
        let store = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store_sample(
            store.conn(),
            block,
            sample.unix_time,
            sample.from_proxy,
            &sample.workers,
        )
        .map_err(|e| Box::new(e) as SinkError)
    }
}

async fn sample_pool(
    client: PoolClient,
    every: Duration,
    store: Arc<Mutex<Store>>,
    shared: Arc<Shared>,
    metrics: Metrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let head = shared.clone();
    let mut sampler = Sampler::new(client, StoreSink(store), every).with_block_source(Arc::new(
        move || match head.finalized.load(std::sync::atomic::Ordering::SeqCst) {
            0 => None,
            b => Some(b),
        },
    ));
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
        let outcome = match sampler.tick().await {
            TickOutcome::Recorded { .. } => "recorded",
            TickOutcome::Skipped(_) => "skipped",
            TickOutcome::SinkFailed(_) => "sink_failed",
        };
        metrics.pool_samples.with_label_values(&[outcome]).inc();
    }
}
