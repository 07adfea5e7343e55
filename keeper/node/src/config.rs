//! The keeper's configuration: `keeper.toml` (every key documented in `keeper.example.toml`),
//! then `TAO20_…` environment variables (`TAO20_BEVM__RPC`, a double underscore between section
//! and key), then Bittensor's usual flags (`--netuid`, `--subtensor.network`,
//! `--subtensor.chain_endpoint`, `--wallet.name`, `--wallet.hotkey`, `--wallet.path`). Secrets are
//! never configuration values: the config names the file or variable that holds them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use tao20_creation::index::IndexParams;

use crate::{Error, Result};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeeperConfig {
    /// Subtensor.
    pub subtensor: SubtensorConfig,
    /// BEVM.
    pub bevm: BevmConfig,
    /// The substrate hotkey (a btcli wallet, or a secret URI file for development chains).
    #[serde(default)]
    pub wallet: WalletConfig,
    /// The report-signing key.
    pub signer: SignerConfig,
    /// A separate key that pays for the transactions (the report-signing key then holds no
    /// funds); absent: the report-signing key sends them.
    #[serde(default)]
    pub transmitter: Option<SignerConfig>,
    /// The database.
    pub store: StoreConfig,
    /// The signature exchange (HTTP, public).
    #[serde(default)]
    pub exchange: ExchangeConfig,
    /// Metrics, status and health (HTTP, for the operator).
    #[serde(default)]
    pub ops: OpsConfig,
    /// Mechanism 0: creation.
    #[serde(default)]
    pub creation: CreationConfig,
    /// Quorum transmission.
    #[serde(default)]
    pub transmit: TransmitConfig,
    /// The block loop.
    #[serde(default)]
    pub engine: EngineConfig,
    /// The subnet's mechanisms: price commitments, the hashrate auction, weights.
    #[serde(default)]
    pub mechanisms: MechanismsConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Follow the chain and log what would be signed, signing and sending nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Fault injection for demonstrations and tests; never set on a real network.
    #[serde(default)]
    pub testing: TestingConfig,
    /// `--init-journal`: start with a new, empty database. Never a configuration key: a keeper
    /// whose database went missing must not start afresh by itself (its empty journal would let
    /// it sign again what it signed before); the operator says so, once, or imports the journal.
    #[serde(skip)]
    pub init_journal: bool,
}

pub use tao20_chain::types::Network;

/// Subtensor access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtensorConfig {
    /// The network.
    pub network: Network,
    /// The endpoint; defaults to the network's public entry point.
    #[serde(default)]
    pub chain_endpoint: Option<String>,
    /// The TAO20 subnet.
    pub netuid: u16,
    /// Milliseconds a request to the node may take before it counts as an endpoint failure
    /// (the keeper waits it out and tries again; the connection is re-established meanwhile).
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

fn default_request_timeout_ms() -> u64 {
    u64::try_from(tao20_chain::client::DEFAULT_REQUEST_TIMEOUT.as_millis()).unwrap_or(30_000)
}

impl SubtensorConfig {
    /// The endpoint to connect to.
    pub fn endpoint(&self) -> Result<String> {
        match (&self.chain_endpoint, self.network.default_endpoint()) {
            (Some(e), _) => Ok(e.clone()),
            (None, Some(e)) => Ok(e.to_string()),
            (None, None) => Err(Error::Config {
                what: "subtensor.chain_endpoint".into(),
                reason: "the simulator has no default address: set host:port".into(),
            }),
        }
    }
}

/// BEVM access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BevmConfig {
    /// JSON-RPC URL.
    pub rpc: String,
    /// `deployments/<chainid>.json`.
    pub deployment: PathBuf,
    /// Blocks the keeper stays behind the subtensor finalized head for BEVM reads (0 on BEVM,
    /// where finality is shared; a depth on anvil).
    #[serde(default)]
    pub confirmations: u64,
    /// Seconds to wait for a transaction's receipt.
    #[serde(default = "default_tx_timeout")]
    pub tx_timeout_secs: u64,
    /// Milliseconds one JSON-RPC request may take before it counts as an endpoint failure (an
    /// endpoint that accepts and never answers would otherwise hold the engine for ever).
    #[serde(default = "default_bevm_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Blocks a transaction's receipt needs before its outcome counts (1: the including block).
    #[serde(default = "default_tx_confirmations")]
    pub tx_confirmations: u64,
    /// A transaction still unmined this many (keeper) blocks after its broadcast is replaced at
    /// the same nonce with fees raised by an eighth.
    #[serde(default = "default_replace_after")]
    pub replace_after_blocks: u64,
}

fn default_tx_confirmations() -> u64 {
    1
}
fn default_replace_after() -> u64 {
    5
}

fn default_tx_timeout() -> u64 {
    120
}
fn default_bevm_request_timeout_ms() -> u64 {
    u64::try_from(tao20_bevm::rpc::DEFAULT_REQUEST_TIMEOUT.as_millis()).unwrap_or(30_000)
}

/// The substrate hotkey.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletConfig {
    /// btcli wallets directory (`~/.bittensor/wallets`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Wallet name (`default`).
    #[serde(default)]
    pub name: Option<String>,
    /// Hotkey name (`default`).
    #[serde(default)]
    pub hotkey: Option<String>,
    /// Instead of a wallet: a file whose first line is a secret URI (development chains).
    #[serde(default)]
    pub suri_file: Option<PathBuf>,
}

/// The report-signing key (and a transmitter's, `[transmitter]`): a keystore and its password's
/// source.
pub type SignerConfig = tao20_bevm::keys::KeystoreConfig;

/// The database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file.
    pub path: PathBuf,
    /// History older than this many blocks is deleted (0: keep everything); see
    /// [`crate::store::retention`].
    #[serde(default = "default_retention")]
    pub retention_blocks: u64,
}

fn default_retention() -> u64 {
    216_000
}

/// The signature exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Where the HTTP server listens (signatures, status, metrics).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The address peers reach this keeper at, served as the hotkey's axon; none: not served.
    #[serde(default)]
    pub external: Option<SocketAddr>,
    /// Peers besides those found in the metagraph (`http://host:port`).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Find peers among the subnet's neurons with a validator permit and an axon.
    #[serde(default = "yes")]
    pub metagraph_peers: bool,
    /// Largest request body accepted, bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Requests per second one remote address may make (bursts of twice that).
    #[serde(default = "default_rate")]
    pub requests_per_sec: u32,
    /// Signatures held for digests this keeper has not computed yet, at most.
    #[serde(default = "default_held")]
    pub max_held_signatures: usize,
    /// Seconds a peer request may take.
    #[serde(default = "default_peer_timeout")]
    pub peer_timeout_secs: u64,
    /// Connections the exchange keeps open at once, in total.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections the exchange keeps open at once from one address.
    #[serde(default = "default_max_connections_per_ip")]
    pub max_connections_per_ip: usize,
    /// Seconds a connection may send nothing (headers, body or its next request) before it is
    /// closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Peer requests (pushes, pulls) in flight at once.
    #[serde(default = "default_peer_concurrency")]
    pub peer_concurrency: usize,
}

impl ExchangeConfig {
    /// The exchange's connection bounds.
    pub fn limits(&self) -> crate::listener::ConnLimits {
        crate::listener::ConnLimits {
            max_total: self.max_connections,
            per_ip: self.max_connections_per_ip,
            idle: std::time::Duration::from_secs(self.idle_timeout_secs),
        }
    }
}

fn default_max_connections() -> usize {
    512
}
fn default_max_connections_per_ip() -> usize {
    16
}
fn default_idle_timeout() -> u64 {
    10
}
fn default_peer_concurrency() -> usize {
    16
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8091))
}
fn yes() -> bool {
    true
}
fn default_max_body() -> usize {
    64 * 1024
}
fn default_rate() -> u32 {
    50
}
fn default_held() -> usize {
    4096
}
fn default_peer_timeout() -> u64 {
    5
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            external: None,
            peers: Vec::new(),
            metagraph_peers: true,
            max_body_bytes: default_max_body(),
            requests_per_sec: default_rate(),
            max_held_signatures: default_held(),
            peer_timeout_secs: default_peer_timeout(),
            max_connections: default_max_connections(),
            max_connections_per_ip: default_max_connections_per_ip(),
            idle_timeout_secs: default_idle_timeout(),
            peer_concurrency: default_peer_concurrency(),
        }
    }
}

/// The operator's endpoint: `/metrics`, `/v1/status`, `/healthz`, `/readyz`. Apart from the
/// exchange so that it can stay on loopback (or a management network) while the exchange is
/// public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsConfig {
    /// Listen address.
    #[serde(default = "default_ops_listen")]
    pub listen: SocketAddr,
    /// `/healthz` fails once the engine has completed no round for this many seconds.
    #[serde(default = "default_stall_secs")]
    pub stall_secs: u64,
    /// `/readyz` fails while the engine is more than this many blocks behind the finalized head.
    #[serde(default = "default_ready_lag")]
    pub ready_lag_blocks: u64,
}

fn default_ops_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9620))
}
fn default_stall_secs() -> u64 {
    120
}
fn default_ready_lag() -> u64 {
    10
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            listen: default_ops_listen(),
            stall_secs: default_stall_secs(),
            ready_lag_blocks: default_ready_lag(),
        }
    }
}

/// Mechanism 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreationConfig {
    /// Official price window W, blocks.
    #[serde(default = "default_price_window")]
    pub price_window: u64,
    /// The index methodology (camelCase keys, as `tao20 index compute` takes them).
    #[serde(default)]
    pub index: IndexParams,
    /// Sign a sweep of stray vault stake every this many blocks (0: never).
    #[serde(default)]
    pub sweep_every_blocks: u64,
}

fn default_price_window() -> u64 {
    tao20_creation::pricing::DEFAULT_PRICE_WINDOW
}

impl Default for CreationConfig {
    fn default() -> Self {
        Self {
            price_window: default_price_window(),
            index: IndexParams::default(),
            sweep_every_blocks: 0,
        }
    }
}

/// Quorum transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransmitConfig {
    /// Blocks between one signer's turn to transmit and the next's (OCR2's stage).
    #[serde(default = "default_stage")]
    pub stage_blocks: u64,
}

fn default_stage() -> u64 {
    2
}

impl Default for TransmitConfig {
    fn default() -> Self {
        Self {
            stage_blocks: default_stage(),
        }
    }
}

/// The block loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Milliseconds between polls of the finalized head.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Blocks processed per round before the executors get a turn.
    #[serde(default = "default_batch")]
    pub max_blocks_per_round: u64,
    /// Blocks of strategy state kept to undo a reorganised BEVM block.
    #[serde(default = "default_history")]
    pub state_history_blocks: u64,
    /// Blocks whose recorded inputs (and the state before each) are kept for `tao20 validator
    /// replay`, when more than `state_history_blocks` (0: as many). At most
    /// `store.retention_blocks`, whose pruning removes what a replay compares with.
    #[serde(default)]
    pub record_blocks: u64,
    /// Behind the head, blocks whose independent reads go out together (1: one block at a
    /// time). At a remote node's latency this, not the keeper's computing, bounds a catch-up.
    #[serde(default = "default_read_ahead")]
    pub read_ahead_blocks: u64,
    /// Where to start on a new database (default: the deployment block).
    #[serde(default)]
    pub start_block: Option<u64>,
}

fn default_poll_ms() -> u64 {
    500
}
fn default_batch() -> u64 {
    128
}
fn default_read_ahead() -> u64 {
    128
}
fn default_history() -> u64 {
    64
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            poll_ms: default_poll_ms(),
            max_blocks_per_round: default_batch(),
            state_history_blocks: default_history(),
            record_blocks: 0,
            read_ahead_blocks: default_read_ahead(),
            start_block: None,
        }
    }
}

/// The subnet's mechanisms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanismsConfig {
    /// Run them (price commitments, auction windows, weights); off: creation only.
    #[serde(default)]
    pub enabled: bool,
    /// The auction's mechanism id.
    #[serde(default = "one")]
    pub auction_mecid: u8,
    /// The budget cap this keeper publishes (0.4).
    #[serde(default = "default_cap")]
    pub cap: tao20_core::Fp18,
    /// gamma-MSI coverage (0.67).
    #[serde(default = "default_gamma")]
    pub gamma: tao20_core::Fp18,
    /// Items priced above this multiplier are dropped (1.05).
    #[serde(default = "default_max_price")]
    pub max_price: tao20_core::Fp18,
    /// Share of the committed hashrate a winner must deliver (0.1).
    #[serde(default = "default_threshold")]
    pub delivery_threshold: tao20_core::Fp18,
    /// Largest sampling gap, blocks, before delivery is not checked (10).
    #[serde(default = "default_gap")]
    pub max_gap_blocks: u64,
    /// Bans published for this many blocks (3600 = 12 hours).
    #[serde(default = "default_ban_lookback")]
    pub ban_lookback_blocks: u64,
    /// Seconds per block, for bid staleness (12).
    #[serde(default = "default_block_time")]
    pub block_time_secs: u64,
    /// Bids older than this at the window start are stale (150 minutes).
    #[serde(default = "default_bid_age")]
    pub bid_max_age_secs: u64,
    /// From this window start on, v1 bids are ignored.
    #[serde(default)]
    pub v2_only_from_block: Option<u64>,
    /// The price commitment is refreshed at least this often, blocks (it is also refreshed
    /// whenever its content changes, within the chain's space limit per epoch).
    #[serde(default = "default_refresh")]
    pub commitment_refresh_blocks: u64,
    /// The weights version key.
    #[serde(default)]
    pub version_key: u64,
    /// Where the auction's unused budget goes. A protocol rule
    /// ([`tao20_auction::weights::PROTOCOL_UNUSED_BUDGET`]), not a setting: accepted only when it
    /// names the rule, so a keeper configured for another destination refuses to start rather
    /// than set weights its peers do not.
    #[serde(default)]
    pub unused_budget: Option<tao20_auction::weights::UnusedBudget>,
    /// TAO_USDC and HASHP_USDC sources.
    #[serde(default)]
    pub prices: Option<tao20_feeds::prices::PricesConfig>,
    /// How often the prices are fetched, milliseconds.
    #[serde(default = "default_price_poll")]
    pub price_poll_ms: u64,
    /// Pool telemetry.
    #[serde(default)]
    pub pool: Option<tao20_feeds::pool::PoolConfig>,
}

fn one() -> u8 {
    1
}
fn fp(raw: u128) -> tao20_core::Fp18 {
    tao20_core::Fp18::from_raw(raw)
}
fn default_cap() -> tao20_core::Fp18 {
    fp(400_000_000_000_000_000)
}
fn default_gamma() -> tao20_core::Fp18 {
    fp(670_000_000_000_000_000)
}
fn default_max_price() -> tao20_core::Fp18 {
    fp(1_050_000_000_000_000_000)
}
fn default_threshold() -> tao20_core::Fp18 {
    fp(100_000_000_000_000_000)
}
fn default_gap() -> u64 {
    10
}
fn default_ban_lookback() -> u64 {
    3_600
}
fn default_block_time() -> u64 {
    12
}
fn default_bid_age() -> u64 {
    150 * 60
}
fn default_refresh() -> u64 {
    100
}
fn default_price_poll() -> u64 {
    30_000
}

impl Default for MechanismsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            auction_mecid: one(),
            cap: default_cap(),
            gamma: default_gamma(),
            max_price: default_max_price(),
            delivery_threshold: default_threshold(),
            max_gap_blocks: default_gap(),
            ban_lookback_blocks: default_ban_lookback(),
            block_time_secs: default_block_time(),
            bid_max_age_secs: default_bid_age(),
            v2_only_from_block: None,
            commitment_refresh_blocks: default_refresh(),
            version_key: 0,
            unused_budget: None,
            prices: None,
            price_poll_ms: default_price_poll(),
            pool: None,
        }
    }
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    #[serde(default = "default_format")]
    pub format: LogFormat,
    /// A tracing filter (`info`, `keeper=debug`).
    #[serde(default = "default_level")]
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

fn default_format() -> LogFormat {
    LogFormat::Text
}
fn default_level() -> String {
    "info".into()
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: default_format(),
            level: default_level(),
        }
    }
}

/// Fault injection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingConfig {
    /// A deliberate fault, for demonstrations of the quorum outvoting a bad keeper.
    #[serde(default)]
    pub fault: Option<Fault>,
}

/// A deliberate fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Sign every creation report with a NAV per share 1 % too high.
    WrongNav,
}

/// Bittensor's flags, each overriding its config key when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlagOverrides {
    /// `--netuid`.
    pub netuid: Option<u16>,
    /// `--subtensor.network`.
    pub network: Option<String>,
    /// `--subtensor.chain_endpoint`.
    pub chain_endpoint: Option<String>,
    /// `--wallet.name`.
    pub wallet_name: Option<String>,
    /// `--wallet.hotkey`.
    pub wallet_hotkey: Option<String>,
    /// `--wallet.path`.
    pub wallet_path: Option<PathBuf>,
}

impl FlagOverrides {
    fn figment(&self) -> Figment {
        let mut f = Figment::new();
        let mut set = |key: &str, value: figment::value::Value| {
            f = std::mem::take(&mut f).merge(Serialized::default(key, value));
        };
        if let Some(n) = self.netuid {
            set("subtensor.netuid", n.into());
        }
        if let Some(n) = &self.network {
            set("subtensor.network", n.clone().into());
        }
        if let Some(e) = &self.chain_endpoint {
            set("subtensor.chain_endpoint", e.clone().into());
        }
        if let Some(n) = &self.wallet_name {
            set("wallet.name", n.clone().into());
        }
        if let Some(h) = &self.wallet_hotkey {
            set("wallet.hotkey", h.clone().into());
        }
        if let Some(p) = &self.wallet_path {
            set("wallet.path", p.display().to_string().into());
        }
        f
    }
}

pub use tao20_runtime::paths::expand_home as expand;

impl KeeperConfig {
    /// Loads `file`, then the `TAO20_` environment, then the flags; validates the result.
    pub fn load(file: &Path, flags: &FlagOverrides) -> Result<Self> {
        if !file.exists() {
            return Err(Error::Config {
                what: file.display().to_string(),
                reason: "no such file (see keeper.example.toml)".into(),
            });
        }
        let figment = Figment::new()
            .merge(Toml::file(file))
            // Only SECTION__KEY variables: TAO20_LOG, TAO20_WALLET_PASSWORD and the like are read
            // by the keeper itself and are not configuration keys.
            .merge(
                Env::prefixed("TAO20_")
                    .filter(|k| k.as_str().contains("__"))
                    .split("__"),
            )
            .merge(flags.figment());
        Self::from_figment(figment, &file.display().to_string())
    }

    /// Parses a configuration from TOML text (tests, `--print-config`).
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::from_figment(Figment::new().merge(Toml::string(text)), "config")
    }

    fn from_figment(figment: Figment, source: &str) -> Result<Self> {
        let mut cfg: KeeperConfig = figment.extract().map_err(|e| Error::Setup {
            what: source.to_string(),
            source: Box::new(e),
        })?;
        cfg.bevm.deployment = expand(&cfg.bevm.deployment);
        cfg.signer.map_paths(expand);
        cfg.store.path = expand(&cfg.store.path);
        if let Some(t) = &mut cfg.transmitter {
            t.map_paths(expand);
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Rejects configurations the keeper cannot run with.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, reason: &str| {
            Err(Error::Config {
                what: what.into(),
                reason: reason.into(),
            })
        };
        for (what, keystore) in [
            ("signer", Some(&self.signer)),
            ("transmitter", self.transmitter.as_ref()),
        ] {
            if let Some(Err(e)) = keystore.map(SignerConfig::password) {
                return bad(what, &e.to_string());
            }
        }
        if self.bevm.tx_confirmations == 0 || self.bevm.replace_after_blocks == 0 {
            return bad(
                "bevm.tx_confirmations / bevm.replace_after_blocks",
                "must be at least 1 block",
            );
        }
        self.subtensor.endpoint()?;
        self.creation.index.validate()?;
        if self.creation.price_window == 0 {
            return bad("creation.price_window", "must be at least 1 block");
        }
        if self.transmit.stage_blocks == 0 {
            return bad("transmit.stage_blocks", "must be at least 1 block");
        }
        if self.engine.max_blocks_per_round == 0 {
            return bad("engine.max_blocks_per_round", "must be at least 1");
        }
        // The subtensor client keeps its handles on the last 256 blocks read: more read ahead
        // would be read twice.
        if !(1..=256).contains(&self.engine.read_ahead_blocks) {
            return bad("engine.read_ahead_blocks", "must be from 1 to 256");
        }
        if self.ops.listen == self.exchange.listen {
            return bad(
                "ops.listen",
                "must differ from exchange.listen (the exchange is public, metrics and health are not)",
            );
        }
        if self.exchange.max_connections == 0
            || self.exchange.max_connections_per_ip == 0
            || self.exchange.idle_timeout_secs == 0
            || self.exchange.peer_concurrency == 0
        {
            return bad(
                "exchange.max_connections / max_connections_per_ip / idle_timeout_secs / peer_concurrency",
                "must be at least 1",
            );
        }
        if self.store.retention_blocks != 0
            && self.store.retention_blocks < crate::store::retention::MIN_RETENTION_BLOCKS
        {
            return bad(
                "store.retention_blocks",
                "0 (keep everything) or at least 14400 (two days of blocks)",
            );
        }
        if self.store.retention_blocks != 0
            && self.engine.record_blocks > self.store.retention_blocks
        {
            return bad(
                "engine.record_blocks",
                "at most store.retention_blocks: older reports, windows and weights are pruned, \
                 so older records could not be replayed against them",
            );
        }
        if self.ops.stall_secs == 0 {
            return bad("ops.stall_secs", "must be at least 1 second");
        }
        if self.bevm.request_timeout_ms == 0 || self.subtensor.request_timeout_ms == 0 {
            return bad(
                "bevm.request_timeout_ms / subtensor.request_timeout_ms",
                "must be at least 1 ms",
            );
        }
        if self.exchange.max_body_bytes < 1024 {
            return bad("exchange.max_body_bytes", "below 1 KiB no report fits");
        }
        if self.wallet.suri_file.is_some()
            && (self.wallet.name.is_some() || self.wallet.hotkey.is_some())
        {
            return bad(
                "wallet",
                "give either suri_file or a wallet name and hotkey, not both",
            );
        }
        if self.testing.fault.is_some() && self.subtensor.network == Network::Finney {
            return bad("testing.fault", "fault injection is refused on finney");
        }
        let rule = tao20_auction::weights::PROTOCOL_UNUSED_BUDGET;
        if let Some(set) = self.mechanisms.unused_budget.filter(|u| *u != rule) {
            return bad(
                "mechanisms.unused_budget",
                &format!(
                    "{set:?} is not this protocol's rule ({rule:?}): where the unused budget goes is \
                     part of the weights every keeper must compute alike, so it changes only with \
                     a release for all of them (docs/auction.md); remove the setting"
                ),
            );
        }
        Ok(())
    }
}
