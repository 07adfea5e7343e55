//! The scenario: a devnet with five keeper processes, creation miners, a holder, bidders, and
//! the faults, played in order against the running system.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::signers::local::PrivateKeySigner;
use tao20_bevm::bindings::TAO20;
use tao20_bevm::reader::Reader;
use tao20_bevm::reader::RequestStatus;
use tao20_bevm::writer::Writer;
use tao20_chain::sim::{DevTransport, SimClient};
use tao20_chain::Subtensor;
use tao20_devnet::fixture::FixtureClient;
use tao20_devnet::keepers;
use tao20_devnet::process::{self, Started};
use tao20_devnet::proxy::{self, Relay};
use tao20_devnet::up::{self, DevnetFile, UpOptions, TAO};
use tao20_miner::creation::{self, MinerKeys};

use crate::progress::Progress;
use crate::report::{FaultRow, LagRow, MarketPoint, NavPoint, Report};
use crate::{step, Error, Result};

/// One petahash per second, in H/s.
pub const PH: u128 = 1_000_000_000_000_000;

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the report (and the devnet's directory, `devnet/`) go.
    pub out: PathBuf,
    /// The repository (contract artifacts).
    pub root: PathBuf,
    /// The `tao20` binary the keepers run.
    pub tao20_bin: PathBuf,
    /// Key seed.
    pub seed: u64,
    /// The shortened run of the tests: one subnet epoch of auction windows instead of two.
    pub quick: bool,
    /// Milliseconds between the devnet's blocks.
    pub block_time_ms: u64,
}

/// The demo's block time: five debug-built keepers with both mechanisms keep up with it on two
/// cores.
pub const DEFAULT_BLOCK_TIME_MS: u64 = 200;

/// The keeper the demo kills mid-creation and restarts.
pub const KILLED_KEEPER: usize = 1;
/// The keeper the demo cuts off its RPC endpoints.
pub const CUT_KEEPER: usize = 2;
/// Blocks the cut keeper is without its endpoints.
pub const OUTAGE_BLOCKS: u64 = 30;
/// Keepers on the devnet; the last one is faulty.
pub const KEEPERS: usize = 5;

/// A creation the demo made.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The request.
    pub request_id: B256,
    /// The miner.
    pub miner: String,
    /// Units.
    pub units: u32,
    /// What was special about it.
    pub note: String,
    /// Its delivery's block.
    pub delivery_block: u64,
    /// Whether the whole basket was delivered.
    pub full: bool,
    /// What was delivered, per netuid (alpha rao).
    pub amounts: Vec<(u16, u64)>,
}

/// The price-manipulation attempt before a request.
#[derive(Debug, Clone, Default)]
pub struct Manipulation {
    /// The request that followed it.
    pub request_id: B256,
    /// The subnet staked into.
    pub netuid: u16,
    /// The block of the stake.
    pub block: u64,
    /// TAO staked (rao).
    pub tao: u64,
    /// The subnet's spot price before and after (TAO per alpha x 1e9).
    pub spot_before: u64,
    /// After.
    pub spot_after: u64,
    /// The request's valuation block v.
    pub request_block: u64,
    /// The delivery valued at the mean spot of `[v - W, v - 1]`, computed here from the
    /// simulator's prices (rao).
    pub twap_value: u128,
    /// The delivery valued at the spot before the stake (rao).
    pub pre_value: u128,
    /// The delivery valued at the spot at v, after the stake (rao).
    pub spot_value: u128,
}

/// A bidding miner.
#[derive(Debug, Clone)]
pub struct Bidder {
    /// Its name.
    pub name: String,
    /// Its uid on the fund's subnet.
    pub uid: u16,
    /// Its hotkey as worker names carry it.
    pub hotkey: String,
    /// Its commitment.
    pub bid: String,
    /// Its rigs' hashrates (H/s) once delivering.
    pub rigs: Vec<u128>,
    /// Whether it under-delivers in its first won window.
    pub flaky: bool,
}

/// What the scenario did, for the report.
#[derive(Debug)]
pub struct Run {
    /// The devnet.
    pub file: DevnetFile,
    /// Miners' keys by name.
    pub miners: BTreeMap<String, MinerKeys>,
    /// Creation miners' uids on the fund's subnet.
    pub miner_uids: BTreeMap<String, u16>,
    /// The holder's address and coldkey.
    pub holder: (Address, B256),
    /// Creations, in order.
    pub creations: Vec<Planned>,
    /// The manipulation attempt.
    pub manipulation: Option<Manipulation>,
    /// Bidders.
    pub bidders: Vec<Bidder>,
    /// Faults injected.
    pub faults: Vec<FaultRow>,
    /// Restarts per keeper.
    pub restarts: Vec<u32>,
    /// NAV samples.
    pub nav: Vec<NavPoint>,
    /// Pool price samples.
    pub market: Vec<MarketPoint>,
    /// The first block of the scenario.
    pub first_block: u64,
    /// The last block.
    pub last_block: u64,
    /// Seconds from the devnet's start to the end of the scenario.
    pub wall_secs: u64,
    /// Steps that did not happen as planned (each also fails a check).
    pub problems: Vec<String>,
    /// The Substrate endpoint's request count and head at the scenario's start and end.
    pub node_requests: [(u64, u64); 2],
    /// The arbitrageur's configuration (its store holds its operations).
    pub arbitrageur: Option<PathBuf>,
}

struct Miner {
    keys: MinerKeys,
    uid: u16,
    provider: alloy::providers::DynProvider,
    writer: Writer,
    chain: tao20_chain::client::SubxtClient,
}

struct Ctx {
    file: DevnetFile,
    sim: SimClient<DevTransport>,
    reader: Reader,
    progress: Progress,
    epoch: u64,
    children: Vec<(Child, Started)>,
}

impl Ctx {
    async fn head(&self) -> Result<u64> {
        Ok(self.sim.finalized_head().await?.number)
    }

    async fn say(&mut self, what: &str) {
        let b = self.head().await.unwrap_or_default();
        self.progress.event(b, self.epoch, what);
    }

    async fn wait_until(&mut self, block: u64) -> Result<u64> {
        loop {
            let b = self.head().await?;
            if b >= block {
                return Ok(b);
            }
            self.progress.tick(b, self.epoch);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn keeper_started(&self, i: usize) -> Option<Started> {
        let name = format!("validator-{i}");
        self.file
            .processes
            .iter()
            .rev()
            .find(|p| p.name == name)
            .cloned()
    }

    /// Starts keeper `i` again from its configuration and records the process.
    fn restart_keeper(&mut self, i: usize) -> Result<()> {
        let config = keepers::keeper_dir(&self.file.options.dir, i).join("keeper.toml");
        let (child, started) = keepers::spawn_keeper(&self.file, i, &config)?;
        let name = started.name.clone();
        self.file.processes.retain(|p| p.name != name);
        self.file.processes.push(started.clone());
        self.file.save()?;
        self.children.push((child, started));
        Ok(())
    }
}

/// The devnet's options for the demo.
pub fn devnet_options(opts: &DemoOptions) -> UpOptions {
    let mut up = UpOptions::new(
        opts.out.join("devnet"),
        opts.root.clone(),
        opts.tao20_bin.clone(),
    );
    up.block_time_ms = opts.block_time_ms;
    up.delivery_window = 60;
    up.validators = KEEPERS;
    up.faulty_validators = 1;
    up.signers = KEEPERS;
    up.subnets = 3;
    up.seed = opts.seed;
    up.epoch_length = if opts.quick { 500 } else { 700 };
    up.mechanisms = true;
    up
}

/// Plays the scenario and reads back its report; the devnet is down when this returns, whatever
/// happened.
pub async fn run(opts: &DemoOptions) -> Result<(Run, Report)> {
    let up_opts = devnet_options(opts);
    let dir = up_opts.dir.clone();
    if dir.exists() {
        let _ = up::down(&dir);
        std::fs::remove_dir_all(&dir).map_err(|e| step(dir.display(), e))?;
    }
    tao20_bevm::rpc::ensure_tls();
    let started = Instant::now();
    let (file, children) = up::up(&up_opts).await?;
    let sim = file.simulator();
    let reader = Reader::new(
        tao20_bevm::rpc::connect(&file.anvil_rpc)?,
        &file.deployment()?,
    );
    let lags: Lags = Arc::new(Mutex::new(vec![Vec::new(); KEEPERS]));
    let sampler = tokio::spawn(sample_lags(file.clone(), lags.clone()));
    let mut ctx = Ctx {
        file,
        sim,
        reader,
        progress: Progress::new(0),
        epoch: 0,
        children,
    };
    let outcome = match play(&mut ctx, opts, started).await {
        Ok(run) => {
            sampler.abort();
            ctx.say("reading back the chains and every keeper's database")
                .await;
            crate::collect::gather(&run, opts.quick)
                .await
                .map(|mut report| {
                    let lags = lags.lock().map(|l| l.clone()).unwrap_or_default();
                    report.keeper_lag = lags
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| LagRow::of(format!("validator-{i}"), l))
                        .collect();
                    (run, report)
                })
        }
        Err(e) => {
            sampler.abort();
            Err(e)
        }
    };
    ctx.progress.finish();
    // Tear everything down, the processes the demo restarted included.
    let _ = up::down(&dir);
    for (mut c, s) in ctx.children.drain(..) {
        if process::is_running(&s) {
            process::kill(&s);
        }
        let _ = c.wait();
    }
    outcome
}

/// Each keeper's finality lag samples.
type Lags = Arc<Mutex<Vec<Vec<u64>>>>;

/// Samples every keeper's finality lag once a second, until aborted, from the first time the
/// keeper follows the head (its catch-up from the deployment block at start is not lag); a keeper
/// that does not answer (killed, restarting) is not sampled.
async fn sample_lags(file: DevnetFile, lags: Lags) {
    let mut following = [false; KEEPERS];
    loop {
        for (i, following) in following.iter_mut().enumerate() {
            let lag = keepers::metrics(&file, i, Duration::from_millis(800))
                .await
                .ok()
                .and_then(|m| m.get("tao20_finality_lag_blocks").copied());
            let Some(lag) = lag else { continue };
            *following |= lag <= 5;
            if let (true, Ok(mut l)) = (*following, lags.lock()) {
                if let Some(v) = l.get_mut(i) {
                    v.push(lag);
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn play(ctx: &mut Ctx, opts: &DemoOptions, started: Instant) -> Result<Run> {
    let f = ctx.file.clone();
    let first_block = ctx.head().await?;
    let node_start = ctx.sim.node_requests().await?;
    let windows_wanted: u64 = if opts.quick { 6 } else { 12 };
    ctx.progress
        .set_target(if opts.quick { 900 } else { 1_300 });
    ctx.say(&format!(
        "devnet up: {} keepers (1 faulty), {} basket subnets, {} ms blocks, creation epochs of {} blocks",
        KEEPERS, f.options.subnets, f.options.block_time_ms, f.options.epoch_length
    ))
    .await;
    let mut run = Run {
        file: f.clone(),
        miners: BTreeMap::new(),
        miner_uids: BTreeMap::new(),
        holder: (Address::ZERO, B256::ZERO),
        creations: Vec::new(),
        manipulation: None,
        bidders: Vec::new(),
        faults: Vec::new(),
        restarts: vec![0; KEEPERS],
        nav: Vec::new(),
        market: Vec::new(),
        first_block,
        last_block: first_block,
        wall_secs: 0,
        problems: Vec::new(),
        node_requests: [node_start, node_start],
        arbitrageur: None,
    };

    // Keeper 2 reaches its endpoints through relays the demo can cut.
    let anvil_relay = Relay::start(&proxy::host_port(&f.bevm_rpc)?).await?;
    let sim_relay = Relay::start(&proxy::host_port(&f.substrate)?).await?;
    relay_keeper(ctx, CUT_KEEPER, &anvil_relay, &sim_relay)?;

    // NAV sampled every 20 blocks in the background.
    let nav = Arc::new(Mutex::new(Samples::default()));
    let sampler = tokio::spawn(sample_nav(
        ctx.sim.clone(),
        Reader::new(tao20_bevm::rpc::connect(&f.anvil_rpc)?, &f.deployment()?),
        f.market.as_ref().map(|m| (m.pair, f.tao20)),
        nav.clone(),
    ));

    let bidders = bidders(ctx).await?;
    ctx.say(&format!(
        "{} bidders committed; {} delivers nothing in the first window it wins",
        bidders.len(),
        bidders
            .iter()
            .find(|b| b.flaky)
            .map_or("nobody", |b| b.name.as_str())
    ))
    .await;
    run.bidders = bidders.clone();

    let mut miners = BTreeMap::new();
    for name in ["ada", "bea", "cyd"] {
        let m = miner(&f, name).await?;
        run.miners.insert(name.to_string(), m.keys.clone());
        run.miner_uids.insert(name.to_string(), m.uid);
        miners.insert(name, m);
    }
    ctx.say("three creation miners registered and staked on every basket subnet")
        .await;
    // Ten processes connecting at once (each decoding the runtime's metadata in a debug build)
    // set the keepers back; the creations start once they follow the head again.
    keepers_in_sync(ctx, &mut run).await;
    // The creation-unit arbitrageur as a user runs it: `tao20 miner create`, its own process,
    // started once the demo's miners have bought their alpha (their purchases move the small
    // devnet pools' prices under a basket it is buying).
    match spawn_arbitrageur(ctx).await {
        Ok(cfg) => {
            run.arbitrageur = Some(cfg);
            ctx.say("the arbitrageur (tao20 miner create) is running against the TAO20/WTAO pool")
                .await;
        }
        Err(e) => run.problems.push(format!("starting the arbitrageur: {e}")),
    }

    let timeout = Duration::from_secs(120);
    // 1. A plain creation.
    let p = create(ctx, &miners["ada"], "ada", 1, true, "full basket").await?;
    settle(ctx, &mut run, p, timeout).await;

    // 2. An incomplete basket: refunded.
    let p = create(ctx, &miners["cyd"], "cyd", 1, false, "incomplete basket").await?;
    settle(ctx, &mut run, p, timeout).await;

    // 3. A keeper killed between the request and the delivery, restarted 40 blocks later.
    let m = &miners["bea"];
    let req = request(ctx, m).await?;
    let killed_at = ctx.head().await?;
    if let Some(s) = ctx.keeper_started(KILLED_KEEPER) {
        process::kill(&s);
    }
    ctx.say(&format!(
        "keeper {KILLED_KEEPER} killed (SIGKILL) mid-creation"
    ))
    .await;
    let p = deliver(ctx, m, "bea", req, 1, true, "keeper killed mid-creation").await?;
    ctx.wait_until(killed_at + 20).await?;
    ctx.restart_keeper(KILLED_KEEPER)?;
    run.restarts[KILLED_KEEPER] += 1;
    let restarted = ctx.head().await?;
    run.faults.push(FaultRow {
        kind: "kill".into(),
        target: format!("validator-{KILLED_KEEPER}"),
        from_block: killed_at,
        to_block: restarted,
        detail: "SIGKILL after the request, restarted from its database".into(),
    });
    ctx.say(&format!("keeper {KILLED_KEEPER} restarted")).await;
    settle(ctx, &mut run, p, timeout).await;

    // 4. A keeper cut off anvil and the simulator for 30 blocks (six minutes of mainnet blocks)
    // while a creation settles: with one keeper faulty, no quorum until it is back.
    let cut_at = ctx.head().await?;
    anvil_relay.cut();
    sim_relay.cut();
    ctx.say(&format!("keeper {CUT_KEEPER} cut off its RPC endpoints"))
        .await;
    let p = create(ctx, &miners["ada"], "ada", 1, true, "during an RPC outage").await?;
    ctx.wait_until(cut_at + OUTAGE_BLOCKS).await?;
    anvil_relay.restore();
    sim_relay.restore();
    let restored = ctx.head().await?;
    run.faults.push(FaultRow {
        kind: "rpc-outage".into(),
        target: format!("validator-{CUT_KEEPER}"),
        from_block: cut_at,
        to_block: restored,
        detail: format!(
            "anvil and the simulator unreachable ({} connections refused)",
            anvil_relay.refused() + sim_relay.refused()
        ),
    });
    ctx.say(&format!("keeper {CUT_KEEPER}'s endpoints are back"))
        .await;
    settle(ctx, &mut run, p, timeout).await;

    // 5. The keepers publish epoch 1 themselves (a request right at the boundary would meet
    // `EpochNotPublished` until they do).
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut last_error: Option<String> = None;
    loop {
        let head = ctx.reader.head().await?;
        // A read that fails (once seen right at publication: the stored hash not reproduced) is
        // retried; a lasting failure ends in the deadline's problem, with the error.
        let published = match ctx.reader.creation_file(1, head).await {
            Ok(f) => f.is_some(),
            Err(e) => {
                tracing::warn!(target: "demo", error = %e, "reading creation epoch 1");
                last_error = Some(e.to_string());
                false
            }
        };
        if published {
            ctx.epoch = 1;
            ctx.say("the keepers published creation epoch 1").await;
            break;
        }
        if Instant::now() > deadline {
            run.problems.push(format!(
                "creation epoch 1 was not published in time{}",
                last_error
                    .as_deref()
                    .map_or(String::new(), |e| format!(" (last read: {e})"))
            ));
            break;
        }
        let b = ctx.head().await?;
        ctx.progress.tick(b, ctx.epoch);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // 6. A whale stakes into one basket subnet in the block before a request.
    let netuid = f.alpha_netuids[0];
    let whale = whale(&f).await?;
    let head = ctx.head().await?;
    let spot_before = ctx.sim.current_alpha_price(head, netuid).await?;
    let reserves = ctx.sim.pool_reserves(head, netuid).await?;
    let tao = reserves.tao_in.min(1_000_000 * TAO);
    let inc = whale.add_stake(whale_hotkey(&f)?, netuid, tao).await?;
    let spot_after = ctx
        .sim
        .current_alpha_price(inc.block.number, netuid)
        .await?;
    ctx.say(&format!(
        "whale staked {} TAO into netuid {netuid}: spot {} -> {} TAO per alpha",
        tao / TAO,
        price(spot_before),
        price(spot_after)
    ))
    .await;
    let req = request(ctx, &miners["bea"]).await?;
    let mut manipulation = Manipulation {
        request_id: req,
        netuid,
        block: inc.block.number,
        tao,
        spot_before,
        spot_after,
        ..Manipulation::default()
    };
    run.faults.push(FaultRow {
        kind: "price-manipulation".into(),
        target: format!("netuid {netuid}"),
        from_block: inc.block.number,
        to_block: inc.block.number,
        detail: format!("{} TAO staked in the block before request {req}", tao / TAO),
    });
    let p = deliver(
        ctx,
        &miners["bea"],
        "bea",
        req,
        1,
        true,
        "after a price manipulation",
    )
    .await?;
    // The whale leaves again: an attempt, not an investment.
    let at = ctx.head().await?;
    let whale_stake = ctx
        .sim
        .stake(at, whale_coldkey(&f)?, whale_hotkey(&f)?, netuid)
        .await?;
    if whale_stake > 0 {
        whale
            .remove_stake(whale_hotkey(&f)?, netuid, whale_stake)
            .await?;
    }
    // Valued independently while the simulator still holds the window's state.
    if let Err(e) = value_at_prices(ctx, &mut manipulation, &p.amounts).await {
        run.problems
            .push(format!("valuing the manipulated request: {e}"));
    }
    run.manipulation = Some(manipulation);
    settle(ctx, &mut run, p, timeout).await;

    // 7. A creation of two units under epoch 1.
    if ctx.epoch == 1 {
        let p = create(ctx, &miners["cyd"], "cyd", 2, true, "epoch 1, two units").await?;
        settle(ctx, &mut run, p, timeout).await;
    }

    // 8. A holder buys shares from a miner and redeems them in kind.
    match redeem(ctx, &f, &miners["ada"]).await {
        Ok(holder) => run.holder = holder,
        Err(e) => run.problems.push(format!("redemption: {e}")),
    }

    // 9. A holder sells a block of shares into the pool: TAO20 trades below NAV, and the
    // arbitrageur buys it back there and redeems in kind (seen in the report, after the run).
    // It waits for the arbitrageur to finish what it is doing, so that operation is judged on
    // the market it chose, not on the sale.
    if run.arbitrageur.is_some() {
        if let Err(e) = arbitrageur_idle(ctx, Duration::from_secs(90)).await {
            run.problems
                .push(format!("waiting for the arbitrageur: {e}"));
        }
    }
    match dump(ctx, &f).await {
        Ok(row) => run.faults.push(row),
        Err(e) => run
            .problems
            .push(format!("selling shares into the pool: {e}")),
    }

    // 10. The auction: the flaky bidder is banned, then delivers; windows of two subnet epochs.
    let fixture = FixtureClient::new(&f.fixture_url)?;
    let db0 = keepers::keeper_dir(&f.options.dir, 0).join("keeper.sqlite");
    let deadline = Instant::now() + Duration::from_secs(420);
    let mut flaky_restored = false;
    loop {
        let m = mechanisms(&db0);
        let settled = m["windowsSettled"].as_u64().unwrap_or(0);
        let banned: Vec<u64> = m["bans"]
            .as_array()
            .map(|bs| bs.iter().filter_map(|b| b["uid"].as_u64()).collect())
            .unwrap_or_default();
        if !flaky_restored {
            if let Some(fl) = bidders.iter().find(|b| b.flaky) {
                if banned.contains(&u64::from(fl.uid)) {
                    for (j, hs) in fl.rigs.iter().enumerate() {
                        fixture
                            .set_worker(&format!("{}.rig{}", fl.hotkey, j + 1), *hs)
                            .await?;
                    }
                    flaky_restored = true;
                    ctx.say(&format!(
                        "{} banned for under-delivering; its rigs now deliver",
                        fl.name
                    ))
                    .await;
                }
            }
        }
        let matched = |mecid: u64| {
            m["weights"].as_array().is_some_and(|ws| {
                ws.iter()
                    .any(|w| w["mecid"] == mecid && w["status"] == "matched")
            })
        };
        if settled >= windows_wanted && flaky_restored && matched(0) && matched(1) {
            ctx.say(&format!(
                "{settled} auction windows settled; both mechanisms' weights read back from the chain"
            ))
            .await;
            break;
        }
        if Instant::now() > deadline {
            run.problems.push(format!(
                "the auction did not reach {windows_wanted} windows with both mechanisms' weights in time ({settled} settled)"
            ));
            break;
        }
        let b = ctx.head().await?;
        ctx.progress.tick(b, ctx.epoch);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let every keeper's outbox drain before the report reads their databases.
    let b = ctx.head().await?;
    ctx.wait_until(b + 30).await?;
    run.last_block = ctx.head().await?;
    run.node_requests[1] = ctx.sim.node_requests().await?;
    run.wall_secs = started.elapsed().as_secs();
    sampler.abort();
    let samples = nav.lock().map(|v| v.clone()).unwrap_or_default();
    run.nav = samples.nav;
    run.market = samples.market;
    run.file = ctx.file.clone();
    Ok(run)
}

/// Points keeper `i` at the relays (stop, rewrite its configuration's URLs, start).
fn relay_keeper(ctx: &mut Ctx, i: usize, anvil: &Relay, sim: &Relay) -> Result<()> {
    let config = keepers::keeper_dir(&ctx.file.options.dir, i).join("keeper.toml");
    let text = std::fs::read_to_string(&config).map_err(|e| step(config.display(), e))?;
    let text = text
        .replace(
            &format!("rpc = \"{}\"", ctx.file.bevm_rpc),
            &format!(
                "rpc = \"{}\"",
                proxy::through(&ctx.file.bevm_rpc, anvil.addr())?
            ),
        )
        .replace(
            &format!("chain_endpoint = \"{}\"", &ctx.file.substrate),
            &format!(
                "chain_endpoint = \"{}\"",
                proxy::through(&ctx.file.substrate, sim.addr())?
            ),
        );
    if !text.contains(&anvil.addr().to_string()) || !text.contains(&sim.addr().to_string()) {
        return Err(Error::Step(format!(
            "{}: could not point keeper {i} at the relays",
            config.display()
        )));
    }
    if let Some(s) = ctx.keeper_started(i) {
        process::stop(&s, Duration::from_secs(5));
    }
    std::fs::write(&config, text).map_err(|e| step(config.display(), e))?;
    ctx.restart_keeper(i)
}

async fn funded_key(file: &DevnetFile, role: &str) -> Result<PrivateKeySigner> {
    let key = tao20_devnet::keys::evm(file.options.seed, role)?;
    let provider = tao20_bevm::rpc::connect(&file.anvil_rpc)?;
    provider
        .anvil_set_balance(
            key.address,
            U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64)),
        )
        .await
        .map_err(|e| step("anvil_setBalance", e))?;
    PrivateKeySigner::from_bytes(&key.secret).map_err(|e| step(role, e))
}

async fn miner(file: &DevnetFile, name: &str) -> Result<Miner> {
    let seed = file.options.seed;
    let cold = tao20_devnet::keys::substrate(seed, &format!("demo/{name}/coldkey"))?;
    let coldkey = cold.account;
    let hotkey = tao20_devnet::keys::substrate(seed, &format!("demo/{name}/hotkey"))?.account;
    let key = funded_key(file, &format!("demo/{name}/evm")).await?;
    let keys = MinerKeys {
        coldkey,
        hotkey,
        evm: key.address(),
    };
    let sim = file.simulator().as_signer(coldkey);
    for &n in &file.alpha_netuids {
        sim.register_neuron(n, hotkey, coldkey).await?;
        // Enough alpha for a few units; more would move the small devnet pools' prices.
        sim.add_stake(hotkey, n, 60 * TAO).await?;
    }
    // A uid on the fund's subnet: mechanism 0 pays creation volume to the creator's coldkey's
    // uid there.
    let uid = sim
        .register_neuron(file.tao20_netuid, hotkey, coldkey)
        .await?;
    let provider = tao20_bevm::rpc::connect_with_signer(&file.bevm_rpc, key.clone())?;
    let writer = Writer::new(
        provider.clone(),
        file.tao20,
        key.address(),
        1,
        Duration::from_secs(60),
    )
    .with_poll_interval(Duration::from_millis(50));
    // Its deliveries are its own signed extrinsics, through the client a miner runs on finney.
    let signer =
        tao20_chain::client::Signer::from_suri(&cold.suri, &format!("demo/{name}/coldkey"))
            .map_err(|e| step("coldkey", e))?;
    let chain = tao20_chain::client::SubxtClient::connect(&file.substrate, Some(signer)).await?;
    Ok(Miner {
        keys,
        uid,
        provider,
        writer,
        chain,
    })
}

fn whale_coldkey(file: &DevnetFile) -> Result<tao20_chain::types::AccountId> {
    Ok(tao20_devnet::keys::substrate(file.options.seed, "demo/whale/coldkey")?.account)
}

fn whale_hotkey(file: &DevnetFile) -> Result<tao20_chain::types::AccountId> {
    Ok(tao20_devnet::keys::substrate(file.options.seed, "demo/whale/hotkey")?.account)
}

async fn whale(file: &DevnetFile) -> Result<SimClient<DevTransport>> {
    let coldkey = tao20_devnet::keys::substrate(file.options.seed, "demo/whale/coldkey")?.account;
    let sim = file.simulator().as_signer(coldkey);
    sim.register_neuron(file.alpha_netuids[0], whale_hotkey(file)?, coldkey)
        .await?;
    Ok(sim)
}

/// The hashrate bidders: each a `tao20 miner bid` process, signing its commitment with its hotkey
/// through `SubxtClient` as on finney. Returns once every bid is on chain.
async fn bidders(ctx: &mut Ctx) -> Result<Vec<Bidder>> {
    let f = ctx.file.clone();
    let fixture = FixtureClient::new(&f.fixture_url)?;
    // Name, the bids file's `[bids.BTC]` lines, rigs (H/s), whether it under-delivers.
    let plan: [(&str, &str, Vec<u128>, bool); 4] = [
        (
            "rig-a",
            "\"1\" = { \"0.25\" = 2 }",
            vec![PH / 4, PH / 4],
            false,
        ),
        ("rig-b", "\"1\" = { \"0.3\" = 1 }", vec![3 * PH / 10], false),
        ("rig-c", "\"0.98\" = { \"0.2\" = 1 }", vec![PH / 5], false),
        ("flaky", "\"1\" = { \"0.25\" = 1 }", vec![PH / 4], true),
    ];
    let mut out = Vec::new();
    for (name, bids, rigs, flaky) in plan {
        let cold =
            tao20_devnet::keys::substrate(f.options.seed, &format!("demo/bidder/{name}/coldkey"))?
                .account;
        let hot =
            tao20_devnet::keys::substrate(f.options.seed, &format!("demo/bidder/{name}/hotkey"))?;
        let uid = ctx
            .sim
            .register_neuron(f.tao20_netuid, hot.account, cold)
            .await?;
        let dir = f.options.dir.join(format!("bidder-{name}"));
        std::fs::create_dir_all(&dir).map_err(|e| step(dir.display(), e))?;
        let suri = dir.join("hotkey.suri");
        std::fs::write(&suri, format!("{}\n", hot.suri)).map_err(|e| step(suri.display(), e))?;
        let config = dir.join("bids.toml");
        let text = format!(
            "[subtensor]\nnetwork = \"local\"\nchain_endpoint = \"{substrate}\"\nnetuid = {netuid}\n\
             [wallet]\nsuri_file = \"{suri}\"\n\
             [bids.BTC]\n{bids}\n\
             [commit]\nmin_interval_blocks = 5\n\
             [engine]\npoll_ms = 1000\n",
            substrate = f.substrate,
            netuid = f.tao20_netuid,
            suri = suri.display(),
        );
        std::fs::write(&config, text).map_err(|e| step(config.display(), e))?;
        let args = vec![
            "miner".to_string(),
            "bid".to_string(),
            "--config".to_string(),
            config.display().to_string(),
        ];
        let log = format!("miner-bidder-{name}");
        let (child, started) = process::spawn(
            &log,
            &f.options.tao20_bin,
            &args,
            &f.options.dir.join(format!("logs/{log}.log")),
            &[],
        )?;
        ctx.file.processes.push(started.clone());
        ctx.children.push((child, started));
        let hotkey = tao20_node::mechanisms::hotkey_name(&hot.account);
        if !flaky {
            for (j, hs) in rigs.iter().enumerate() {
                fixture
                    .set_worker(&format!("{hotkey}.rig{}", j + 1), *hs)
                    .await?;
            }
        }
        out.push((
            hot.account,
            Bidder {
                name: name.to_string(),
                uid,
                hotkey,
                bid: String::new(),
                rigs,
                flaky,
            },
        ));
    }
    ctx.file.save()?;
    // Each bidder commits its bids itself; the auction starts from what is on chain.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let head = ctx.head().await?;
        let committed = ctx.sim.commitments(head, f.tao20_netuid).await?;
        for (hot, b) in &mut out {
            if let Some(c) = committed.iter().find(|c| c.hotkey == *hot) {
                b.bid = String::from_utf8_lossy(&c.data).into_owned();
            }
        }
        if out.iter().all(|(_, b)| !b.bid.is_empty()) {
            break;
        }
        if Instant::now() > deadline {
            let missing: Vec<&str> = out
                .iter()
                .filter(|(_, b)| b.bid.is_empty())
                .map(|(_, b)| b.name.as_str())
                .collect();
            return Err(Error::Step(format!(
                "bidders {missing:?} committed nothing in 120 s (logs/miner-bidder-*.log)"
            )));
        }
        ctx.progress.tick(head, ctx.epoch);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(out.into_iter().map(|(_, b)| b).collect())
}

/// Waits (at most a minute) until every live keeper's finality lag is a few blocks; a keeper that
/// never gets there is a problem of the run, not a reason to stop it.
async fn keepers_in_sync(ctx: &mut Ctx, run: &mut Run) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut behind = Vec::new();
        for i in 0..KEEPERS {
            let m = crate::collect::keeper_metrics(&ctx.file, i).await;
            match m.get("tao20_finality_lag_blocks") {
                Some(&lag) if lag <= 5 => {}
                other => behind.push((i, other.copied())),
            }
        }
        if behind.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            run.problems.push(format!(
                "keepers (index, lag) not following the head after a minute: {behind:?}"
            ));
            return;
        }
        if let Ok(b) = ctx.head().await {
            ctx.progress.tick(b, ctx.epoch);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn bond(ctx: &Ctx) -> Result<U256> {
    TAO20::new(ctx.file.tao20, ctx.reader.provider().clone())
        .creationBond()
        .call()
        .await
        .map(U256::from)
        .map_err(|e| step("creationBond", e))
}

async fn request(ctx: &mut Ctx, m: &Miner) -> Result<B256> {
    Ok(request_units(ctx, m, 1).await?.request_id)
}

/// Requests `units`; right after an epoch boundary the keepers may not have published the new
/// epoch yet (`EpochNotPublished`): wait for them, as a miner would.
async fn request_units(
    ctx: &mut Ctx,
    m: &Miner,
    units: u32,
) -> Result<tao20_bevm::reader::RequestInfo> {
    let bond = bond(ctx).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match creation::request(&m.writer, &ctx.reader, &m.keys, units, U256::ZERO, bond).await {
            Err(tao20_miner::Error::Bevm(tao20_bevm::Error::Reverted { error, .. }))
                if error.name == "EpochNotPublished" && Instant::now() < deadline =>
            {
                let b = ctx.head().await?;
                ctx.progress.tick(b, ctx.epoch);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return Ok(other?),
        }
    }
}

async fn create(
    ctx: &mut Ctx,
    m: &Miner,
    name: &str,
    units: u32,
    full: bool,
    note: &str,
) -> Result<Planned> {
    let req = request_units(ctx, m, units).await?;
    deliver(ctx, m, name, req.request_id, units, full, note).await
}

async fn deliver(
    ctx: &mut Ctx,
    m: &Miner,
    name: &str,
    request_id: B256,
    units: u32,
    full: bool,
    note: &str,
) -> Result<Planned> {
    let head = ctx.reader.head().await?;
    let file = ctx
        .reader
        .fund(head)
        .await?
        .creation_file
        .ok_or_else(|| Error::Step("no creation file published".into()))?;
    let mut amounts = creation::basket(&file, units)?;
    if !full {
        amounts.truncate(1);
    }
    let d = creation::deliver(
        &m.chain,
        &ctx.file.deployment()?,
        &m.keys,
        request_id,
        &amounts,
    )
    .await?;
    ctx.say(&format!(
        "{name} requested {units} unit(s) and delivered {} ({note})",
        if full {
            "the basket"
        } else {
            "part of the basket"
        }
    ))
    .await;
    Ok(Planned {
        request_id,
        miner: name.to_string(),
        units,
        note: note.to_string(),
        delivery_block: d.inclusion.block.number,
        full,
        amounts,
    })
}

async fn settle(ctx: &mut Ctx, run: &mut Run, p: Planned, timeout: Duration) {
    let id = p.request_id;
    let deadline = Instant::now() + timeout;
    let status = loop {
        let head = ctx.reader.head().await.unwrap_or_default();
        match ctx.reader.request(id, head).await {
            Ok(Some(r)) if r.status != RequestStatus::Pending => break Some(r.status),
            _ => {}
        }
        if Instant::now() > deadline {
            break None;
        }
        let b = ctx.head().await.unwrap_or_default();
        ctx.progress.tick(b, ctx.epoch);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    match status {
        Some(s) => {
            ctx.say(&format!("request of {} ({}): {s:?}", p.miner, p.note))
                .await
        }
        None => run.problems.push(format!(
            "request {id} of {} ({}) did not settle",
            p.miner, p.note
        )),
    }
    run.creations.push(p);
}

async fn redeem(ctx: &mut Ctx, f: &DevnetFile, from: &Miner) -> Result<(Address, B256)> {
    let key = funded_key(f, "demo/holder/evm").await?;
    let holder = key.address();
    let coldkey = B256::from(
        tao20_devnet::keys::substrate(f.options.seed, "demo/holder/coldkey")?
            .account
            .0,
    );
    let miner_side = TAO20::new(f.tao20, from.provider.clone());
    let balance = miner_side
        .balanceOf(from.keys.evm)
        .call()
        .await
        .map_err(|e| step("balanceOf", e))?;
    let shares = balance / U256::from(2u64);
    miner_side
        .transfer(holder, shares)
        .send()
        .await
        .map_err(|e| step("transfer", e))?
        .get_receipt()
        .await
        .map_err(|e| step("transfer receipt", e))?;
    let head = ctx.reader.head().await?;
    let n = ctx.reader.fund(head).await?.positions.len();
    let holder_side = TAO20::new(
        f.tao20,
        tao20_bevm::rpc::connect_with_signer(&f.anvil_rpc, key)?,
    );
    let receipt = holder_side
        .redeem(shares, coldkey, vec![U256::ZERO; n + 1], vec![false; n + 1])
        .send()
        .await
        .map_err(|e| step("redeem", e))?
        .get_receipt()
        .await
        .map_err(|e| step("redeem receipt", e))?;
    if !receipt.status() {
        return Err(Error::Step(format!(
            "redeem {} reverted",
            receipt.transaction_hash
        )));
    }
    ctx.say(&format!(
        "a holder bought {} shares from ada and redeemed them in kind",
        tao20_core::Fp18::from_raw(u128::try_from(shares).unwrap_or(u128::MAX))
    ))
    .await;
    Ok((holder, coldkey))
}

/// Waits until the arbitrageur has no open operation (its database, read beside it).
async fn arbitrageur_idle(ctx: &mut Ctx, timeout: Duration) -> Result<()> {
    let db = ctx.file.options.dir.join("arbitrageur/miner.sqlite");
    let deadline = Instant::now() + timeout;
    loop {
        let open = tao20_miner::store::Store::open(&db)
            .and_then(|s| s.open_op())
            .map_err(|e| step(db.display(), e))?;
        match open {
            None => return Ok(()),
            Some(op) if Instant::now() > deadline => {
                return Err(Error::Step(format!(
                    "its {} operation {} is still at {} after {timeout:?}",
                    op.kind, op.id, op.state
                )))
            }
            Some(_) => {}
        }
        let b = ctx.head().await?;
        ctx.progress.tick(b, ctx.epoch);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The devnet's market maker (the deployer, who kept half the genesis creation's shares) sells a
/// fifth of the pool's shares into it.
async fn dump(ctx: &mut Ctx, f: &DevnetFile) -> Result<FaultRow> {
    let market = f
        .market
        .clone()
        .ok_or_else(|| Error::Step("the devnet has no TAO20 market".into()))?;
    let key = tao20_devnet::keys::deployer()?;
    let signer = PrivateKeySigner::from_bytes(&key.secret).map_err(|e| step("deployer key", e))?;
    let provider = tao20_bevm::rpc::connect_with_signer(&f.anvil_rpc, signer)?;
    let head = ctx.reader.head().await?;
    let pool = tao20_miner::market::reserves(&provider, market.pair, f.tao20, head).await?;
    let token = TAO20::new(f.tao20, provider.clone());
    let held = token
        .balanceOf(key.address)
        .call()
        .await
        .map_err(|e| step("balanceOf", e))?;
    let shares = held.min(pool.shares / U256::from(5u8));
    if shares.is_zero() {
        return Err(Error::Step(
            "the market maker holds no shares to sell".into(),
        ));
    }
    let approved = token
        .approve(market.router, shares)
        .send()
        .await
        .map_err(|e| step("approve", e))?
        .get_receipt()
        .await
        .map_err(|e| step("approve receipt", e))?;
    if !approved.status() {
        return Err(Error::Step("approve to the router reverted".into()));
    }
    let router = tao20_miner::market::UniswapV2Router02::new(market.router, provider.clone());
    let receipt = router
        .swapExactTokensForETH(
            shares,
            U256::ZERO,
            vec![f.tao20, market.wtao],
            key.address,
            U256::from(u64::MAX),
        )
        .send()
        .await
        .map_err(|e| step("swapExactTokensForETH", e))?
        .get_receipt()
        .await
        .map_err(|e| step("swapExactTokensForETH receipt", e))?;
    if !receipt.status() {
        return Err(Error::Step(format!(
            "the share sale {} reverted",
            receipt.transaction_hash
        )));
    }
    let block = receipt.block_number.unwrap_or(head);
    let after = tao20_miner::market::reserves(&provider, market.pair, f.tao20, block).await?;
    let sold = tao20_core::Fp18::from_raw(u128::try_from(shares).unwrap_or(u128::MAX));
    ctx.say(&format!(
        "a holder sold {sold} shares into the pool: {} -> {} TAO a share",
        price(u64::try_from(pool.price_rao()).unwrap_or(u64::MAX)),
        price(u64::try_from(after.price_rao()).unwrap_or(u64::MAX)),
    ))
    .await;
    Ok(FaultRow {
        kind: "share-sale".into(),
        target: "TAO20/WTAO pool".into(),
        from_block: block,
        to_block: block,
        detail: format!("{sold} shares sold at any price (a fifth of the pool's)"),
    })
}

/// NAV per share at spot prices: the fund's positions valued at the simulator's prices.
pub async fn nav_at(
    sim: &SimClient<DevTransport>,
    reader: &Reader,
    block: u64,
) -> Result<(U256, U256)> {
    let fund = reader.fund(block).await?;
    let sim_block = sim.finalized_head().await?.number.min(block);
    let mut value = U256::ZERO;
    for p in &fund.positions {
        let price = sim.current_alpha_price(sim_block, p.netuid).await?;
        value += U256::from(p.amount) * U256::from(price) / U256::from(TAO);
    }
    value += fund.native_wei / U256::from(tao20_bevm::reader::WEI_PER_RAO);
    let supply = fund.total_supply;
    // rao x 1e9 = wei of value per 1e18 share units: 1e18 is one TAO per share.
    let nav = if supply.is_zero() {
        U256::from(10u64).pow(U256::from(18u64))
    } else {
        value * U256::from(10u64).pow(U256::from(27u64)) / supply
    };
    Ok((nav, supply))
}

/// Samples of NAV and of the TAO20/WTAO pool, every 20 blocks.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// NAV per share and supply.
    pub nav: Vec<NavPoint>,
    /// The pool's price against NAV (empty without a market).
    pub market: Vec<MarketPoint>,
}

async fn sample_nav(
    sim: SimClient<DevTransport>,
    reader: Reader,
    market: Option<(Address, Address)>,
    out: Arc<Mutex<Samples>>,
) {
    let mut last = 0u64;
    loop {
        if let Ok(b) = reader.head().await {
            if b >= last + 20 {
                if let Ok((nav, supply)) = nav_at(&sim, &reader, b).await {
                    let pool = match market {
                        Some((pair, tao20)) => {
                            tao20_miner::market::reserves(reader.provider(), pair, tao20, b)
                                .await
                                .ok()
                                .filter(|r| !r.shares.is_zero())
                                .map(|r| {
                                    r.tao * U256::from(10u64).pow(U256::from(18u64)) / r.shares
                                })
                        }
                        None => None,
                    };
                    if let Ok(mut v) = out.lock() {
                        v.nav.push(NavPoint {
                            block: b,
                            nav_per_share: nav.to_string(),
                            supply: supply.to_string(),
                        });
                        if let Some(p) = pool {
                            v.market.push(MarketPoint {
                                block: b,
                                pool_price: p.to_string(),
                                nav_per_share: nav.to_string(),
                            });
                        }
                    }
                }
                last = b;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The mechanisms section of keeper database `db`'s status (Null when unreadable).
pub fn mechanisms(db: &std::path::Path) -> serde_json::Value {
    tao20_node::store::Store::open_read_only(db)
        .and_then(|s| tao20_node::store::status::mechanisms(&s))
        .unwrap_or(serde_json::Value::Null)
}

/// A spot price (TAO per alpha x 1e9) as a decimal.
pub fn price(p: u64) -> tao20_core::Fp18 {
    tao20_core::Fp18::from_raw(u128::from(p) * 1_000_000_000)
}

/// Values `amounts` three ways for the manipulation check: at the mean spot of the request's
/// window `[v - W, v - 1]` (the protocol's rule, recomputed from the simulator), at the spot
/// before the stake, and at the spot at v.
async fn value_at_prices(ctx: &Ctx, m: &mut Manipulation, amounts: &[(u16, u64)]) -> Result<()> {
    let head = ctx.reader.head().await?;
    let v = ctx
        .reader
        .request(m.request_id, head)
        .await?
        .ok_or_else(|| Error::Step(format!("request {} not found", m.request_id)))?
        .request_block;
    let w = ctx.file.options.price_window;
    m.request_block = v;
    let (mut twap, mut pre, mut spot) = (0u128, 0u128, 0u128);
    for &(netuid, amount) in amounts {
        let mut sum = 0u128;
        for b in v.saturating_sub(w)..v {
            sum += u128::from(ctx.sim.current_alpha_price(b, netuid).await?);
        }
        let mean = sum / u128::from(w.max(1));
        twap += u128::from(amount) * mean / u128::from(TAO);
        let before = ctx
            .sim
            .current_alpha_price(m.block.saturating_sub(1), netuid)
            .await?;
        pre += u128::from(amount) * u128::from(before) / u128::from(TAO);
        spot += u128::from(amount) * u128::from(ctx.sim.current_alpha_price(v, netuid).await?)
            / u128::from(TAO);
    }
    m.twap_value = twap;
    m.pre_value = pre;
    m.spot_value = spot;
    Ok(())
}

/// Starts `tao20 miner create` with a funded coldkey, a hotkey on every basket subnet and on the
/// fund's subnet, an EVM keystore, and the devnet's market; returns its configuration file.
async fn spawn_arbitrageur(ctx: &mut Ctx) -> Result<PathBuf> {
    let f = ctx.file.clone();
    let market = f
        .market
        .clone()
        .ok_or_else(|| Error::Step("the devnet has no TAO20 market".into()))?;
    let dir = f.options.dir.join("arbitrageur");
    std::fs::create_dir_all(&dir).map_err(|e| step(dir.display(), e))?;
    let seed = f.options.seed;
    let ck = tao20_devnet::keys::substrate(seed, "demo/arb/coldkey")?;
    let hk = tao20_devnet::keys::substrate(seed, "demo/arb/hotkey")?;
    let suri = dir.join("coldkey.suri");
    std::fs::write(&suri, format!("{}\n", ck.suri)).map_err(|e| step(suri.display(), e))?;
    for &n in &f.alpha_netuids {
        ctx.sim.register_neuron(n, hk.account, ck.account).await?;
    }
    ctx.sim
        .register_neuron(f.tao20_netuid, hk.account, ck.account)
        .await?;
    ctx.sim.faucet(ck.account, 2_000 * TAO).await?;
    let key = funded_key(&f, "demo/arb/evm").await?;
    let pw = dir.join("evm.pw");
    std::fs::write(&pw, "demo\n").map_err(|e| step(pw.display(), e))?;
    tao20_bevm::keys::import(
        &dir,
        "evm",
        &key.to_bytes(),
        &tao20_bevm::keys::PasswordSource::File(pw.clone()),
    )?;
    let config = dir.join("miner.toml");
    let text = format!(
        "[subtensor]\nnetwork = \"local\"\nchain_endpoint = \"{sim}\"\n\
         [bevm]\nrpc = \"{rpc}\"\ndeployment = \"{dep}\"\n\
         [market]\nrouter = \"{router}\"\npair = \"{pair}\"\n\
         [wallet]\nsuri_file = \"{suri}\"\n\
         [stake]\nhotkey = \"0x{hot}\"\n\
         [evm]\nkeystore = \"{ks}\"\npassword_file = \"{pw}\"\n\
         [store]\npath = \"{db}\"\n\
         [strategy]\nprice_window = {window}\nmax_creation_tao = \"300\"\nmax_redemption_tao = \"100\"\n\
         [engine]\npoll_ms = 200\n",
        sim = f.substrate,
        rpc = f.bevm_rpc,
        dep = f.deployment.display(),
        router = market.router,
        pair = market.pair,
        suri = suri.display(),
        hot = hex_of(&hk.account.0),
        ks = dir.join("evm").display(),
        pw = pw.display(),
        db = dir.join("miner.sqlite").display(),
        window = f.options.price_window,
    );
    std::fs::write(&config, text).map_err(|e| step(config.display(), e))?;
    let args = vec![
        "miner".to_string(),
        "create".to_string(),
        "--config".to_string(),
        config.display().to_string(),
    ];
    let (child, started) = process::spawn(
        "miner-arbitrageur",
        &f.options.tao20_bin,
        &args,
        &f.options.dir.join("logs/miner-arbitrageur.log"),
        &[],
    )?;
    ctx.file.processes.push(started.clone());
    ctx.file.save()?;
    ctx.children.push((child, started));
    Ok(config)
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
