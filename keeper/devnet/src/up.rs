//! `tao20 devnet up` and `down`: anvil, the precompile mocks, TAO20 deployed through
//! `script/Deploy.s.sol`, the simulator on the shared ledger, subnets with pools, the signer set's
//! keys, and the first epoch's creation file, all described by `DIR/devnet.json`.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use serde::{Deserialize, Serialize};
use tao20_bevm::localnet::{
    forge_deploy, place_mocks, tool, DeployConfig, DeployEpoch, DeployFees, DeployFundHotkey,
    DEFAULT_MIN_STAKE,
};
use tao20_bevm::writer::{Call, Confirmed};
use tao20_bevm::{Deployment, Writer};
use tao20_chain::sim::{DevTransport, SimClient, SimConfig, SubnetSpec, WEIGHT_ONE};
use tao20_chain::types::Bytes32;
use tao20_chain::Subtensor;
use tao20_creation::eip712::{CreationFile, Eip712Message};
use tao20_creation::index::{self, Epoch, IndexInput, IndexParams, SubnetSnapshot};
use tao20_creation::pricing::{official_price, SpotSample};
use tao20_creation::signing::{sort_signatures, ReportSigner};

use crate::chain::ChainSpec;
use crate::keys::{self, EvmKey, SubstrateKey};
use crate::process::{self, Started};
use crate::{Error, Result};

/// The TAO20 subnet's netuid on the devnet (not a fund netuid).
pub const TAO20_NETUID: u16 = 1;
/// One TAO in rao.
pub const TAO: u64 = 1_000_000_000;

/// What `up` builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpOptions {
    /// The devnet's directory.
    pub dir: PathBuf,
    /// The repository (forge, anvil, the artifacts and the deploy script).
    pub root: PathBuf,
    /// The `tao20` binary that runs the chain process.
    pub tao20_bin: PathBuf,
    /// Milliseconds between blocks.
    pub block_time_ms: u64,
    /// Creation epoch length, blocks.
    pub epoch_length: u64,
    /// Alpha subnets (the fund's netuids are 2..=N+1).
    pub subnets: u16,
    /// Seed of keys, pools and the price walk.
    pub seed: u64,
    /// Signers in the fund's signer set (the validators' report keys).
    pub signers: usize,
    /// The official price window, blocks (keepers on this devnet must use the same).
    pub price_window: u64,
    /// Delivery window, blocks.
    pub delivery_window: u64,
    /// Grace after expiry, blocks.
    pub expiry_grace: u64,
    /// The TAO20 subnet's tempo.
    pub tempo: u16,
    /// Blocks the simulator's finality trails its head.
    pub finality_lag: u64,
    /// Keepers to run (`tao20 validator run`), one per signer from the first; 0 runs none and the
    /// devnet's creation files stay the one it published itself.
    #[serde(default)]
    pub validators: usize,
    /// Keepers that sign a wrong NAV on purpose (fault injection), counted from the last.
    #[serde(default)]
    pub faulty_validators: usize,
    /// Whether the keepers run the subnet's mechanisms (price commitments, the hashrate
    /// auction, weights) against the devnet's pool and price fixture.
    #[serde(default = "yes")]
    pub mechanisms: bool,
    /// Units of the genesis creation whose shares seed the TAO20/WTAO pair; 0 deploys no market.
    #[serde(default = "default_genesis_units")]
    pub genesis_units: u32,
    /// The pair's seed price above NAV, basis points (the creation miner's first opportunity).
    #[serde(default = "default_premium_bps")]
    pub market_premium_bps: u16,
    /// Blocks of EVM state the devnet's Frontier-like endpoint keeps (256, a lite node's
    /// default; `u64::MAX` for an archive node).
    #[serde(default = "default_evm_window")]
    pub evm_state_window: u64,
}

fn default_evm_window() -> u64 {
    crate::frontier::FrontierConfig::LITE.state_window
}

fn yes() -> bool {
    true
}

fn default_genesis_units() -> u32 {
    100
}

fn default_premium_bps() -> u16 {
    2_000
}

impl UpOptions {
    /// The defaults for a devnet in `dir` of the repository at `root`.
    pub fn new(dir: PathBuf, root: PathBuf, tao20_bin: PathBuf) -> Self {
        Self {
            dir,
            root,
            tao20_bin,
            block_time_ms: 250,
            epoch_length: 1_200,
            subnets: 4,
            seed: 0,
            signers: 5,
            price_window: 30,
            delivery_window: 40,
            expiry_grace: 20,
            tempo: 360,
            finality_lag: 2,
            validators: 0,
            faulty_validators: 0,
            mechanisms: true,
            genesis_units: default_genesis_units(),
            market_premium_bps: default_premium_bps(),
            evm_state_window: default_evm_window(),
        }
    }

    /// The index methodology this devnet's creation files follow (keepers must use the same):
    /// the protocol's, with units of 10 shares so a unit is worth about 10 TAO at the start.
    pub fn index_params(&self) -> IndexParams {
        IndexParams {
            shares_per_unit: U256::from(10u64) * U256::from(10u64).pow(U256::from(18u64)),
            ..IndexParams::default()
        }
    }
}

/// One signer of the fund: its report key, and the hotkey and coldkey of its validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerKeys {
    /// The report-signing key.
    pub evm: EvmKey,
    /// The validator's hotkey.
    pub hotkey: SubstrateKey,
    /// The validator's coldkey.
    pub coldkey: SubstrateKey,
}

/// The devnet's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetKeys {
    /// Deployer and governance (anvil's first account).
    pub deployer: EvmKey,
    /// The fund's default hotkey (registered on every alpha subnet).
    pub fund_hotkey: SubstrateKey,
    /// The fund hotkey's coldkey.
    pub fund_operator: SubstrateKey,
    /// The TAO20 subnet's owner coldkey.
    pub owner: SubstrateKey,
    /// Its owner hotkey (uid 0, the burn uid).
    pub owner_hotkey: SubstrateKey,
    /// The signer set, ascending by report-key address.
    pub signers: Vec<SignerKeys>,
    /// The fee recipient.
    pub fee_recipient: EvmKey,
}

/// `DIR/devnet.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetFile {
    /// The options it was built with.
    pub options: UpOptions,
    /// anvil's JSON-RPC URL: the harness's archive view of the EVM (deployment, set-up, the
    /// demo's readings).
    pub anvil_rpc: String,
    /// The EVM as a subtensor node's Frontier answers it ([`crate::frontier`]): what keepers and
    /// miners use as `bevm.rpc`.
    pub bevm_rpc: String,
    /// The Substrate JSON-RPC endpoint (`ws://host:port`; HTTP on the same port): what every
    /// process reads and submits through, and the harness administers through (`dev_*`).
    pub substrate: String,
    /// The EVM chain id.
    pub chain_id: u64,
    /// The fund.
    pub tao20: Address,
    /// The vault coldkey.
    pub vault_coldkey: B256,
    /// The deployment block.
    pub deploy_block: u64,
    /// `DIR/deployment.json` (the deployment with its ABI, as integrators read it).
    pub deployment: PathBuf,
    /// The TAO20 subnet.
    pub tao20_netuid: u16,
    /// The fund's (alpha) netuids.
    pub alpha_netuids: Vec<u16>,
    /// The keys it made.
    pub keys: DevnetKeys,
    /// The keepers' exchange ports.
    #[serde(default)]
    pub keeper_ports: Vec<u16>,
    /// The keepers' operator ports (`/metrics`, `/v1/status`, `/healthz`, `/readyz`).
    #[serde(default)]
    pub ops_ports: Vec<u16>,
    /// The pool and price fixture's base URL (`http://host:port`).
    #[serde(default)]
    pub fixture_url: String,
    /// TAO20's market (WTAO, the Uniswap V2 factory, router and TAO20/WTAO pair), when deployed.
    #[serde(default)]
    pub market: Option<crate::market::DevnetMarket>,
    /// The processes it started.
    pub processes: Vec<Started>,
}

impl DevnetFile {
    /// `DIR/devnet.json`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("devnet.json")
    }

    /// Reads `DIR/devnet.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let p = Self::path(dir);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Setup(format!("{}: {e}", p.display())))
    }

    /// Writes it atomically.
    pub fn save(&self) -> Result<()> {
        let p = Self::path(&self.options.dir);
        let tmp = p.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Setup(format!("devnet.json: {e}")))?;
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &p).map_err(|e| Error::io(&p, e))
    }

    /// The harness's administration of the chain (the node's `dev_simulator` method).
    pub fn simulator(&self) -> SimClient<DevTransport> {
        SimClient::connect(self.substrate.clone())
    }

    /// The deployment.
    pub fn deployment(&self) -> Result<Deployment> {
        Ok(Deployment::load(&self.deployment)?)
    }
}

/// The running processes of a devnet directory (what `down` would stop).
pub fn live_processes(dir: &Path) -> Vec<Started> {
    DevnetFile::load(dir)
        .map(|f| {
            f.processes
                .into_iter()
                .filter(process::is_running)
                .collect()
        })
        .unwrap_or_default()
}

/// Stops every process `DIR/devnet.json` lists; returns each with whether it was still running.
pub fn down(dir: &Path) -> Result<Vec<(Started, bool)>> {
    let file = DevnetFile::load(dir)?;
    let mut out = Vec::new();
    // Clients first, the chains last.
    for p in file.processes.iter().rev() {
        let running = process::is_running(p);
        if running {
            process::stop(p, Duration::from_secs(5));
        }
        out.push((p.clone(), running));
    }
    Ok(out)
}

/// The devnet's keys for `opts` (a function of its seed).
pub fn make_keys(opts: &UpOptions) -> Result<DevnetKeys> {
    let seed = opts.seed;
    let mut signers = (0..opts.signers)
        .map(|i| {
            Ok(SignerKeys {
                evm: keys::evm(seed, &format!("validator/{i}/report"))?,
                hotkey: keys::substrate(seed, &format!("validator/{i}/hotkey"))?,
                coldkey: keys::substrate(seed, &format!("validator/{i}/coldkey"))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    signers.sort_by_key(|s| s.evm.address);
    Ok(DevnetKeys {
        deployer: keys::deployer()?,
        fund_hotkey: keys::substrate(seed, "fund/hotkey")?,
        fund_operator: keys::substrate(seed, "fund/operator")?,
        owner: keys::substrate(seed, "subnet/owner")?,
        owner_hotkey: keys::substrate(seed, "subnet/owner-hotkey")?,
        signers,
        fee_recipient: keys::evm(seed, "fees")?,
    })
}

async fn wait_rpc(provider: &DynProvider, child: &mut Child, started: &Started) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if provider.get_block_number().await.is_ok() {
            return Ok(());
        }
        check_alive(child, started)?;
        if Instant::now() > deadline {
            return Err(Error::Setup(format!(
                "anvil did not answer in 20 s; last lines of {}:\n{}",
                started.log.display(),
                process::tail(&started.log, 20)
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An error naming the process and its last log lines if `child` has exited.
pub fn check_alive(child: &mut Child, started: &Started) -> Result<()> {
    if let Ok(Some(_)) = child.try_wait() {
        return Err(Error::Died {
            name: started.name.clone(),
            pid: started.pid,
            log: started.log.display().to_string(),
            tail: process::tail(&started.log, 20),
        });
    }
    Ok(())
}

fn account(k: &SubstrateKey) -> Bytes32 {
    k.account
}

/// Builds a devnet in `opts.dir`; returns its description and the child processes (anvil, the
/// chain), which the caller stops (or leaves running with `--detach`).
pub async fn up(opts: &UpOptions) -> Result<(DevnetFile, Vec<(Child, Started)>)> {
    let live = live_processes(&opts.dir);
    if !live.is_empty() {
        return Err(Error::Live {
            dir: opts.dir.display().to_string(),
            pids: live
                .iter()
                .map(|p| format!("{} {}", p.name, p.pid))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if opts.subnets == 0 || opts.signers == 0 {
        return Err(Error::Setup(
            "need at least one subnet and one signer".into(),
        ));
    }
    std::fs::create_dir_all(opts.dir.join("logs")).map_err(|e| Error::io(&opts.dir, e))?;
    let dir = std::fs::canonicalize(&opts.dir).map_err(|e| Error::io(&opts.dir, e))?;
    let mut children: Vec<(Child, Started)> = Vec::new();
    let result = build(opts, &dir, &mut children).await;
    match result {
        Ok(file) => Ok((file, children)),
        Err(e) => {
            for (mut c, s) in children {
                process::stop(&s, Duration::from_secs(2));
                let _ = c.wait();
            }
            Err(e)
        }
    }
}

async fn build(
    opts: &UpOptions,
    dir: &Path,
    children: &mut Vec<(Child, Started)>,
) -> Result<DevnetFile> {
    let keys = make_keys(opts)?;

    // anvil, with the mocks and the fund.
    let port = process::free_port()?;
    let anvil_args: Vec<String> = [
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--chain-id",
        "31337",
        // Frontier's defaults on subtensor: a 20 gwei base fee and a 75M block gas limit.
        "--base-fee",
        "20000000000",
        "--gas-limit",
        "75000000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let anvil_bin = tool(&opts.root, "anvil")?;
    // Anvil writes the states it evicts from memory under $HOME/.foundry/anvil/tmp and removes
    // them only on a clean exit: a devnet that is killed would leave them in the user's home
    // (tens of GB over a few hundred test runs). Under the devnet's directory they go with it.
    let anvil_home = dir.join("anvil-home");
    std::fs::create_dir_all(&anvil_home).map_err(|e| Error::io(&anvil_home, e))?;
    let (mut child, started) = process::spawn(
        "anvil",
        &anvil_bin,
        &anvil_args,
        &dir.join("logs/anvil.log"),
        &[("HOME".to_string(), anvil_home.display().to_string())],
    )?;
    let rpc = format!("http://127.0.0.1:{port}");
    tao20_bevm::rpc::ensure_tls();
    let deployer = PrivateKeySigner::from_bytes(&keys.deployer.secret)
        .map_err(|e| Error::Setup(format!("deployer key: {e}")))?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer.clone()))
        .connect_http(
            rpc.parse()
                .map_err(|e| Error::Setup(format!("anvil URL: {e}")))?,
        )
        .erased();
    wait_rpc(&provider, &mut child, &started).await?;
    children.push((child, started));
    place_mocks(&provider, &opts.root).await?;
    // Keepers pay gas for the reports they relay.
    for s in &keys.signers {
        provider
            .anvil_set_balance(
                s.evm.address,
                U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64)),
            )
            .await
            .map_err(|e| Error::Setup(format!("anvil_setBalance: {e}")))?;
    }

    let alpha_netuids: Vec<u16> = (0..opts.subnets).map(|i| TAO20_NETUID + 1 + i).collect();
    let threshold = u8::try_from(2 * opts.signers / 3 + 1)
        .map_err(|_| Error::Setup("too many signers".into()))?;
    let config = DeployConfig {
        owner: keys.deployer.address,
        guardian: keys.deployer.address,
        signers: keys.signers.iter().map(|s| s.evm.address).collect(),
        threshold,
        fees: DeployFees {
            mint_bps: 50,
            redeem_bps: 50,
            management_bps: 100,
            recipient: keys.fee_recipient.address,
        },
        creation_bond_wei: (100_000_000u64 * TAO).to_string(),
        epoch: DeployEpoch {
            genesis_block: 0,
            length: opts.epoch_length,
        },
        delivery_window: opts.delivery_window,
        expiry_grace: opts.expiry_grace,
        min_stake_rao: DEFAULT_MIN_STAKE,
        vault_coldkey: B256::ZERO,
        default_fund_hotkey: B256::from(keys.fund_hotkey.account.0),
        fund_hotkeys: alpha_netuids
            .iter()
            .map(|&netuid| DeployFundHotkey {
                netuid,
                hotkey: B256::ZERO,
            })
            .collect(),
        timelock: None,
    };
    let (deployment_json, deployment) =
        forge_deploy(&opts.root, &rpc, &keys.deployer.secret, &config).await?;
    let deployment_path = dir.join("deployment.json");
    let text = serde_json::to_string_pretty(&deployment_json)
        .map_err(|e| Error::Setup(format!("deployment: {e}")))?;
    std::fs::write(&deployment_path, text).map_err(|e| Error::io(&deployment_path, e))?;
    // After the fund, so that its address is the one a devnet always had.
    let market_contracts = if opts.genesis_units > 0 {
        Some(crate::market::deploy(&provider, &opts.root, keys.deployer.address).await?)
    } else {
        None
    };
    // From here on, blocks come from the simulator, in lock-step with anvil.
    provider
        .anvil_set_auto_mine(false)
        .await
        .map_err(|e| Error::Setup(format!("evm_setAutomine: {e}")))?;

    // The simulator on the shared ledger.
    let fixture_port = process::free_port()?;
    let substrate_port = process::free_port()?;
    let frontier_port = process::free_port()?;
    let spec = ChainSpec {
        anvil: rpc.clone(),
        listen: format!("127.0.0.1:{substrate_port}"),
        block_time_ms: opts.block_time_ms,
        sim: SimConfig {
            seed: opts.seed,
            finality_lag: opts.finality_lag,
            // An archive node: keepers start from the deployment block, whose state (the
            // runtime version a client reads first at any block) a pruned node has discarded.
            state_window: u64::MAX,
            ..SimConfig::default()
        },
        tao20: Some(deployment.tao20),
        vault: Some(deployment.vault_coldkey),
        fixture: Some(format!("127.0.0.1:{fixture_port}")),
        frontier: Some(format!("127.0.0.1:{frontier_port}")),
        evm_state_window: opts.evm_state_window,
    };
    let spec_path = dir.join("chain.json");
    let text = serde_json::to_string_pretty(&spec)
        .map_err(|e| Error::Setup(format!("chain.json: {e}")))?;
    std::fs::write(&spec_path, text).map_err(|e| Error::io(&spec_path, e))?;
    let chain_args = vec![
        "devnet".to_string(),
        "chain".to_string(),
        "--spec".to_string(),
        spec_path.display().to_string(),
    ];
    let (mut child, started) = process::spawn(
        "chain",
        &opts.tao20_bin,
        &chain_args,
        &dir.join("logs/chain.log"),
        &[("TAO20_LOG".into(), "info".into())],
    )?;
    let substrate = format!("ws://127.0.0.1:{substrate_port}");
    let sim = SimClient::connect(substrate.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.finalized_head().await.is_err() {
        check_alive(&mut child, &started)?;
        if Instant::now() > deadline {
            return Err(Error::Setup(format!(
                "the chain did not answer in 30 s; last lines of {}:\n{}",
                started.log.display(),
                process::tail(&started.log, 20)
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    children.push((child, started));

    setup_subnets(&sim, opts, &keys, &alpha_netuids).await?;
    // The first creation file averages prices over a whole window.
    sim.advance(opts.price_window + 1).await?;
    let writer = Writer::new(
        tao20_bevm::rpc::connect_with_signer(&rpc, deployer.clone())?,
        deployment.tao20,
        keys.deployer.address,
        1,
        Duration::from_secs(60),
    );
    let first =
        publish_current_epoch(&sim, opts, &keys, &deployment, &alpha_netuids, &writer).await?;
    let market = match market_contracts {
        Some(contracts) => Some(
            crate::market::seed(
                &sim,
                // A provider of its own: the deployer's nonce has moved on through the writer.
                &tao20_bevm::rpc::connect_with_signer(&rpc, deployer.clone())?,
                opts,
                &keys,
                &deployment,
                &first,
                &writer,
                contracts,
                opts.genesis_units,
                opts.market_premium_bps,
            )
            .await?,
        ),
        None => None,
    };
    if let Some(m) = &market {
        // Beside deployment.json, in the deployments/ shape: what an integrator trades through.
        let path = dir.join("market.json");
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "chainId": deployment.chain_id,
            "tao20": deployment.tao20,
            "wtao": m.wtao,
            "factory": m.factory,
            "router": m.router,
            "pair": m.pair,
        }))
        .map_err(|e| Error::Setup(format!("market.json: {e}")))?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    }

    let mut file = DevnetFile {
        options: UpOptions {
            dir: dir.to_path_buf(),
            ..opts.clone()
        },
        anvil_rpc: rpc,
        bevm_rpc: format!("http://127.0.0.1:{frontier_port}"),
        substrate,
        chain_id: deployment.chain_id,
        tao20: deployment.tao20,
        vault_coldkey: deployment.vault_coldkey,
        deploy_block: deployment.deploy_block,
        deployment: deployment_path,
        tao20_netuid: TAO20_NETUID,
        alpha_netuids,
        keys,
        fixture_url: format!("http://127.0.0.1:{fixture_port}"),
        market,
        keeper_ports: (0..opts.validators.min(opts.signers))
            .map(|_| process::free_port())
            .collect::<Result<Vec<_>>>()?,
        ops_ports: (0..opts.validators.min(opts.signers))
            .map(|_| process::free_port())
            .collect::<Result<Vec<_>>>()?,
        processes: children.iter().map(|(_, s)| s.clone()).collect(),
    };
    file.save()?;
    for i in 0..opts.validators.min(opts.signers) {
        let faulty = i >= opts.validators.saturating_sub(opts.faulty_validators);
        let config = crate::keepers::write_keeper(&file, i, faulty)?;
        let (child, started) = crate::keepers::spawn_keeper(&file, i, &config)?;
        children.push((child, started));
        file.processes = children.iter().map(|(_, s)| s.clone()).collect();
        file.save()?;
    }
    Ok(file)
}

/// The alpha subnets' pool weights (TAO side, parts of [`WEIGHT_ONE`]): one equal-weight pool
/// and four balancer pools leaning either way.
const POOL_TAO_WEIGHTS: [u64; 5] = [
    WEIGHT_ONE / 2,
    350_000_000_000_000_000,
    650_000_000_000_000_000,
    450_000_000_000_000_000,
    550_000_000_000_000_000,
];

/// Subnets, pools, the fund hotkey on every alpha subnet, the validators with stake on the TAO20
/// subnet (so they hold validator permits), and its two mechanisms.
pub async fn setup_subnets(
    sim: &SimClient<DevTransport>,
    opts: &UpOptions,
    keys: &DevnetKeys,
    alpha: &[u16],
) -> Result<()> {
    sim.register_subnet(SubnetSpec {
        netuid: TAO20_NETUID,
        owner: account(&keys.owner),
        owner_hotkey: account(&keys.owner_hotkey),
        tempo: opts.tempo,
        tao_in: 10_000 * TAO,
        alpha_in: 10_000 * TAO,
        weight_tao: WEIGHT_ONE / 2,
    })
    .await?;
    for (i, &netuid) in alpha.iter().enumerate() {
        let i = u64::try_from(i).unwrap_or(0);
        // Prices from 0.02 to about 0.1 TAO per alpha, deeper pools for the larger subnets.
        let tao_in = (2_000 + 1_000 * ((opts.seed + i) % 5)) * TAO;
        let alpha_in = tao_in * (10 + 10 * ((opts.seed + 3 * i) % 5));
        // Balancer pools, as finney's are: the TAO side weighs 35-65 %. The TAO reserve is
        // scaled by w_tao / w_alpha so the spot price stays the one above.
        let weight_tao = POOL_TAO_WEIGHTS[usize::try_from((opts.seed + 2 * i) % 5).unwrap_or(0)];
        let tao_in = u64::try_from(
            u128::from(tao_in) * u128::from(weight_tao) / u128::from(WEIGHT_ONE - weight_tao),
        )
        .unwrap_or(tao_in);
        sim.register_subnet(SubnetSpec {
            netuid,
            owner: account(&keys.owner),
            owner_hotkey: account(&keys::substrate(
                opts.seed,
                &format!("subnet/{netuid}/owner-hotkey"),
            )?),
            tempo: opts.tempo,
            tao_in,
            alpha_in,
            weight_tao,
        })
        .await?;
        sim.register_neuron(
            netuid,
            account(&keys.fund_hotkey),
            account(&keys.fund_operator),
        )
        .await?;
        // Alpha outstanding (staked alpha) gives each subnet its market cap.
        let owner_hotkey = keys::substrate(opts.seed, &format!("subnet/{netuid}/owner-hotkey"))?;
        sim.as_signer(account(&keys.owner))
            .add_stake(
                account(&owner_hotkey),
                netuid,
                (200 + 100 * ((opts.seed + i) % 7)) * TAO,
            )
            .await?;
    }
    for s in &keys.signers {
        sim.register_neuron(TAO20_NETUID, account(&s.hotkey), account(&s.coldkey))
            .await?;
        sim.as_signer(account(&s.coldkey))
            .add_stake(account(&s.hotkey), TAO20_NETUID, 100 * TAO)
            .await?;
    }
    // Two mechanisms and no split stored, as a subnet has right after it raises its mechanism
    // count: the runtime splits evenly, and so must the keepers and the bidders.
    sim.set_mechanisms(TAO20_NETUID, 2, None).await?;
    // As on mainnet subnets: weights are committed timelocked and revealed an epoch later.
    sim.set_commit_reveal(TAO20_NETUID, true, 1).await?;
    // And as on a new subnet: `MinAllowedWeights` 1024, so weights must name every uid.
    sim.set_weights_rules(
        TAO20_NETUID,
        tao20_chain::sim::WeightsRules {
            min_allowed_weights: 1024,
            ..tao20_chain::sim::WeightsRules::default()
        },
    )
    .await?;
    Ok(())
}

/// Computes the current epoch's creation file from the simulator's state, as a keeper computes it
/// at a boundary (official prices over the price window, market caps, the fund's empty NAV), signs
/// it with the signer set and publishes it: until keepers run, the devnet does this itself.
pub async fn publish_current_epoch(
    sim: &SimClient<DevTransport>,
    opts: &UpOptions,
    keys: &DevnetKeys,
    deployment: &Deployment,
    alpha: &[u16],
    writer: &Writer,
) -> Result<CreationFile> {
    let head = sim.finalized_head().await?.number;
    let epoch_id = index::epoch_of(head + 1, deployment.genesis_block, deployment.epoch_length)
        .ok_or_else(|| Error::Setup("before genesis".into()))?;
    let w = opts.price_window;
    let mut subnets = Vec::new();
    for &n in alpha {
        let mut samples = Vec::new();
        for b in head - w..head {
            samples.push(SpotSample {
                block: b,
                rao_per_alpha: sim.current_alpha_price(b, n).await?,
            });
        }
        let price = official_price(n, head, w, &samples)?.raw();
        let reserves = sim.pool_reserves(head, n).await?;
        subnets.push(SubnetSnapshot {
            netuid: n,
            price,
            alpha_outstanding: u128::from(reserves.alpha_out),
            trading: reserves.tao_in > 0 && reserves.alpha_in > 0,
            transfers_enabled: sim.transfers_enabled(head, n).await?,
        });
    }
    let out = index::compute(&IndexInput {
        epoch: Epoch {
            epoch_id,
            genesis_block: deployment.genesis_block,
            epoch_length: deployment.epoch_length,
        },
        params: opts.index_params(),
        nav_per_share: U256::from(TAO),
        signer_set_version: 1,
        subnets,
    })?;
    let file = out.creation_file;
    let message = Eip712Message::CreationFile(file.clone());
    let digest = message.digest(deployment.chain_id, deployment.tao20);
    let mut raw = Vec::new();
    for s in &keys.signers {
        raw.push(ReportSigner::from_bytes(&s.evm.secret)?.sign_digest(&digest)?);
    }
    let signatures: Vec<Bytes> = sort_signatures(&digest, &raw)?
        .into_iter()
        .map(|(_, s)| Bytes::from(s.to_vec()))
        .collect();
    match writer
        .submit(&Call::PublishEpoch {
            file: file.clone(),
            signatures,
        })
        .await?
    {
        Confirmed::Included(_) | Confirmed::AlreadySettled { .. } => Ok(file),
    }
}
