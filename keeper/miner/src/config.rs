//! `miner.toml`, the creation miner's configuration (every key in `examples/miner.toml` and
//! `docs/miners.md`): the file, then `TAO20_SECTION__KEY` environment variables. Secrets are never
//! values here: the config names the wallet, keystore and password file or variable.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use tao20_chain::types::AccountId;
use tao20_core::Fp18;

use crate::{Error, Result};

/// Parses an amount of TAO written as a decimal ("12.5", at most 9 fractional digits) into rao.
pub fn parse_tao(text: &str) -> Result<u64> {
    let fp = Fp18::parse(text.trim())
        .map_err(|e| Error::Invalid(format!("TAO amount {text:?}: {e}")))?;
    let raw = fp.raw();
    if raw % 1_000_000_000 != 0 {
        return Err(Error::Invalid(format!(
            "TAO amount {text:?}: more than 9 decimals (rao are the smallest unit)"
        )));
    }
    u64::try_from(raw / 1_000_000_000)
        .map_err(|_| Error::Invalid(format!("TAO amount {text:?} is too large")))
}

/// Writes rao as a decimal TAO amount ("12.5").
pub fn format_tao(rao: i128) -> String {
    let sign = if rao < 0 { "-" } else { "" };
    let abs = rao.unsigned_abs();
    let whole = abs / 1_000_000_000;
    let frac = abs % 1_000_000_000;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:09}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Reads an account written as ss58 or `0x` + 64 hex digits.
pub fn parse_account(text: &str) -> Result<AccountId> {
    let t = text.trim();
    if t.starts_with("0x") {
        return t
            .parse()
            .map_err(|e: tao20_chain::Error| Error::Invalid(format!("account {text:?}: {e}")));
    }
    tao20_wallet::ss58::decode(t)
        .map(tao20_chain::types::Bytes32)
        .map_err(|e| Error::Invalid(format!("account {text:?}: {e}")))
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
}

impl SubtensorConfig {
    /// The endpoint to connect to.
    pub fn endpoint(&self) -> Result<String> {
        match (&self.chain_endpoint, self.network.default_endpoint()) {
            (Some(e), _) => Ok(e.clone()),
            (None, Some(e)) => Ok(e.to_string()),
            (None, None) => Err(Error::config(
                "subtensor.chain_endpoint",
                "the simulator has no default address: set host:port",
            )),
        }
    }
}

/// BEVM access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BevmConfig {
    /// JSON-RPC URL.
    pub rpc: String,
    /// `deployments/<chainid>.json` (or a devnet's `deployment.json`).
    pub deployment: PathBuf,
    /// Seconds to wait for a transaction's receipt.
    #[serde(default = "default_tx_timeout")]
    pub tx_timeout_secs: u64,
}

fn default_tx_timeout() -> u64 {
    120
}

/// The TAO20 market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// A Uniswap V2 router (its `WETH()` is the wrapped TAO).
    pub router: Address,
    /// The TAO20/WTAO pair.
    pub pair: Address,
}

/// A substrate key: a btcli wallet or (development chains) a secret-URI file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletConfig {
    /// btcli wallets directory (`~/.bittensor/wallets`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Wallet name (`default`).
    #[serde(default)]
    pub name: Option<String>,
    /// Hotkey name (`default`; the bidder signs with it).
    #[serde(default)]
    pub hotkey: Option<String>,
    /// Instead of a wallet: a file whose first line is a secret URI.
    #[serde(default)]
    pub suri_file: Option<PathBuf>,
}

impl WalletConfig {
    /// The btcli wallet it names.
    pub fn wallet(&self) -> Result<tao20_wallet::Wallet> {
        let path = self
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.bittensor/wallets".into());
        tao20_wallet::Wallet::new(
            &path,
            self.name.as_deref().unwrap_or("default"),
            self.hotkey.as_deref().unwrap_or("default"),
        )
        .map_err(|e| Error::config("wallet", e))
    }

    fn validate(&self) -> Result<()> {
        if self.suri_file.is_some() && (self.name.is_some() || self.path.is_some()) {
            return Err(Error::config(
                "wallet",
                "give either suri_file or a wallet (path, name), not both",
            ));
        }
        Ok(())
    }
}

/// The hotkey the basket's alpha is staked under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakeConfig {
    /// Any existing hotkey (ss58 or 0x hex), not a fund hotkey; none: the wallet's hotkey.
    #[serde(default)]
    pub hotkey: Option<String>,
}

/// The EVM key: a keystore and its password's source.
pub type EvmConfig = tao20_bevm::keys::KeystoreConfig;

/// The database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file.
    pub path: PathBuf,
}

/// When and how much to trade. Amounts of TAO are decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Create when the pool's price is at least this far above NAV, basis points.
    #[serde(default = "default_threshold")]
    pub threshold_bps: u16,
    /// Create at all.
    #[serde(default = "yes")]
    pub create: bool,
    /// Redeem (buy below NAV, redeem in kind, unstake) at all.
    #[serde(default = "yes")]
    pub redeem: bool,
    /// `minSharesOut` and every swap's minimum output: the expected amount less this, bps.
    #[serde(default = "default_slippage")]
    pub slippage_bps: u16,
    /// Extra TAO spent on each asset of the basket, bps (the pools move while the basket is bought;
    /// alpha left over is sold back).
    #[serde(default = "default_buffer")]
    pub buy_buffer_bps: u16,
    /// Largest creation, units.
    #[serde(default = "default_max_units")]
    pub max_units: u32,
    /// Most TAO of the coldkey's free balance one creation spends (default: all of it).
    #[serde(default)]
    pub max_creation_tao: Option<String>,
    /// Most TAO one redemption spends on shares (default: all the EVM balance above the reserve).
    #[serde(default)]
    pub max_redemption_tao: Option<String>,
    /// The redemption search grid, TAO.
    #[serde(default = "default_step")]
    pub redemption_step_tao: String,
    /// Native TAO kept on the EVM account for gas and bonds.
    #[serde(default = "default_evm_reserve")]
    pub evm_reserve_tao: String,
    /// The smallest expected profit worth an operation, TAO.
    #[serde(default = "default_min_profit")]
    pub min_profit_tao: String,
    /// Gas units a creation's EVM transactions use, for its fixed cost.
    #[serde(default = "default_creation_gas")]
    pub creation_gas: u64,
    /// Gas units a redemption's EVM transactions use.
    #[serde(default = "default_redemption_gas")]
    pub redemption_gas: u64,
    /// The keepers' official price window W, blocks (the devnet's is in its devnet.json).
    #[serde(default = "default_price_window")]
    pub price_window: u64,
    /// A delivery is not started with fewer blocks of its window left.
    #[serde(default = "default_margin")]
    pub delivery_margin_blocks: u64,
    /// Blocks a submitted delivery may take to appear before it counts as lost (and a purchase or
    /// sale submitted by a process that died before recording it, before the blocks are searched
    /// for it).
    #[serde(default = "default_inflight")]
    pub inflight_blocks: u64,
    /// Blocks between two operations.
    #[serde(default = "default_cooldown")]
    pub cooldown_blocks: u64,
}

fn default_threshold() -> u16 {
    100
}
fn yes() -> bool {
    true
}
fn default_slippage() -> u16 {
    100
}
fn default_buffer() -> u16 {
    30
}
fn default_max_units() -> u32 {
    1_000
}
fn default_step() -> String {
    "0.1".into()
}
fn default_evm_reserve() -> String {
    "1".into()
}
fn default_min_profit() -> String {
    "0".into()
}
fn default_creation_gas() -> u64 {
    700_000
}
fn default_redemption_gas() -> u64 {
    1_200_000
}
fn default_price_window() -> u64 {
    tao20_creation::pricing::DEFAULT_PRICE_WINDOW
}
fn default_margin() -> u64 {
    3
}
fn default_inflight() -> u64 {
    10
}
fn default_cooldown() -> u64 {
    2
}

impl Default for StrategyConfig {
    fn default() -> Self {
        Self {
            threshold_bps: default_threshold(),
            create: true,
            redeem: true,
            slippage_bps: default_slippage(),
            buy_buffer_bps: default_buffer(),
            max_units: default_max_units(),
            max_creation_tao: None,
            max_redemption_tao: None,
            redemption_step_tao: default_step(),
            evm_reserve_tao: default_evm_reserve(),
            min_profit_tao: default_min_profit(),
            creation_gas: default_creation_gas(),
            redemption_gas: default_redemption_gas(),
            price_window: default_price_window(),
            delivery_margin_blocks: default_margin(),
            inflight_blocks: default_inflight(),
            cooldown_blocks: default_cooldown(),
        }
    }
}

/// The strategy's amounts, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amounts {
    /// `max_creation_tao` in rao (`u64::MAX`: no cap).
    pub max_creation_rao: u64,
    /// `max_redemption_tao` in rao.
    pub max_redemption_rao: u64,
    /// `redemption_step_tao` in rao.
    pub step_rao: u64,
    /// `evm_reserve_tao` in rao.
    pub evm_reserve_rao: u64,
    /// `min_profit_tao` in rao.
    pub min_profit_rao: u64,
}

impl StrategyConfig {
    /// The amounts in rao.
    pub fn amounts(&self) -> Result<Amounts> {
        let opt = |v: &Option<String>| {
            v.as_deref()
                .map(parse_tao)
                .transpose()
                .map(|x| x.unwrap_or(u64::MAX))
        };
        Ok(Amounts {
            max_creation_rao: opt(&self.max_creation_tao)?,
            max_redemption_rao: opt(&self.max_redemption_tao)?,
            step_rao: parse_tao(&self.redemption_step_tao)?.max(1),
            evm_reserve_rao: parse_tao(&self.evm_reserve_tao)?,
            min_profit_rao: parse_tao(&self.min_profit_tao)?,
        })
    }
}

/// The loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Milliseconds between polls of the finalized head.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

fn default_poll_ms() -> u64 {
    500
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            poll_ms: default_poll_ms(),
        }
    }
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    #[serde(default = "default_format")]
    pub format: String,
    /// A tracing filter.
    #[serde(default = "default_level")]
    pub level: String,
}

fn default_format() -> String {
    "text".into()
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

/// `miner.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinerConfig {
    /// Subtensor.
    pub subtensor: SubtensorConfig,
    /// BEVM.
    pub bevm: BevmConfig,
    /// The market.
    pub market: MarketConfig,
    /// The coldkey.
    #[serde(default)]
    pub wallet: WalletConfig,
    /// The staking hotkey.
    #[serde(default = "default_stake")]
    pub stake: StakeConfig,
    /// The EVM key.
    pub evm: EvmConfig,
    /// The database.
    pub store: StoreConfig,
    /// The strategy.
    #[serde(default)]
    pub strategy: StrategyConfig,
    /// The loop.
    #[serde(default)]
    pub engine: EngineConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

fn default_stake() -> StakeConfig {
    StakeConfig { hotkey: None }
}

pub use tao20_runtime::paths::expand_home as expand;

impl MinerConfig {
    /// Loads `file`, then the `TAO20_SECTION__KEY` environment; validates the result.
    pub fn load(file: &Path) -> Result<Self> {
        if !file.exists() {
            return Err(Error::config(
                file.display().to_string(),
                "no such file (see examples/miner.toml)",
            ));
        }
        let figment = Figment::new().merge(Toml::file(file)).merge(
            Env::prefixed("TAO20_")
                .filter(|k| k.as_str().contains("__"))
                .split("__"),
        );
        let mut cfg: MinerConfig = figment
            .extract()
            .map_err(|e| Error::config(file.display().to_string(), e))?;
        // Relative paths are relative to the config file's directory.
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let fix = |p: &Path| {
            let p = expand(p);
            if p.is_relative() {
                base.join(p)
            } else {
                p
            }
        };
        cfg.bevm.deployment = fix(&cfg.bevm.deployment);
        cfg.evm.map_paths(fix);
        cfg.store.path = fix(&cfg.store.path);
        cfg.wallet.suri_file = cfg.wallet.suri_file.as_deref().map(fix);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses a configuration from TOML text (tests).
    pub fn from_toml(text: &str) -> Result<Self> {
        let cfg: MinerConfig = Figment::new()
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| Error::config("config", e))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Rejects configurations the miner cannot run with.
    pub fn validate(&self) -> Result<()> {
        self.subtensor.endpoint()?;
        self.evm.password().map_err(|e| Error::config("evm", e))?;
        self.wallet.validate()?;
        let s = &self.strategy;
        crate::sizing::check_bps("strategy.slippage_bps", s.slippage_bps)?;
        crate::sizing::check_bps("strategy.buy_buffer_bps", s.buy_buffer_bps)?;
        if s.threshold_bps == 0 {
            return Err(Error::config("strategy.threshold_bps", "must be above 0"));
        }
        if s.price_window == 0 {
            return Err(Error::config(
                "strategy.price_window",
                "must be at least 1 block",
            ));
        }
        if s.max_units == 0 {
            return Err(Error::config("strategy.max_units", "must be at least 1"));
        }
        s.amounts()?;
        if let Some(h) = &self.stake.hotkey {
            parse_account(h)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tao_amounts_are_exact() {
        assert_eq!(parse_tao("12.5").unwrap(), 12_500_000_000);
        assert_eq!(parse_tao("0.000000001").unwrap(), 1);
        assert!(parse_tao("0.0000000001").is_err());
        assert!(parse_tao("-1").is_err());
        assert_eq!(format_tao(12_500_000_000), "12.5");
        assert_eq!(format_tao(-1), "-0.000000001");
        assert_eq!(format_tao(3_000_000_000), "3");
    }

    #[test]
    fn a_minimal_config_takes_the_defaults_and_bad_ones_are_refused() {
        let base = r#"
[subtensor]
network = "local"
chain_endpoint = "ws://127.0.0.1:1"
[bevm]
rpc = "http://127.0.0.1:2"
deployment = "d.json"
[market]
router = "0x0000000000000000000000000000000000000001"
pair = "0x0000000000000000000000000000000000000002"
[wallet]
suri_file = "ck.suri"
[evm]
keystore = "k"
password_env = "PW"
[store]
path = "m.sqlite"
"#;
        let cfg = MinerConfig::from_toml(base).unwrap();
        assert_eq!(cfg.strategy.threshold_bps, 100);
        assert_eq!(cfg.strategy.amounts().unwrap().max_creation_rao, u64::MAX);
        let bad = format!("{base}[strategy]\nslippage_bps = 10000\n");
        assert!(MinerConfig::from_toml(&bad).is_err());
        let unknown = format!("{base}[strategy]\nthreshold = 5\n");
        assert!(MinerConfig::from_toml(&unknown).is_err());
        let both = base.replace("suri_file = \"ck.suri\"", "suri_file = \"a\"\nname = \"b\"");
        assert!(MinerConfig::from_toml(&both).is_err());
    }

    #[test]
    fn accounts_read_as_ss58_or_hex() {
        let hex = format!("0x{}", "11".repeat(32));
        let a = parse_account(&hex).unwrap();
        let ss58 = tao20_wallet::ss58::encode(&a.0);
        assert_eq!(parse_account(&ss58).unwrap(), a);
        assert!(parse_account("5Nope").is_err());
    }

    #[test]
    fn the_example_configs_parse() {
        let cfg = MinerConfig::from_toml(include_str!("../../../examples/miner.toml")).unwrap();
        assert_eq!(
            cfg.strategy,
            StrategyConfig {
                price_window: 30,
                ..StrategyConfig::default()
            }
        );
        let bids = crate::bid::file::parse(
            include_str!("../../../examples/bids.toml"),
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(bids.payload).unwrap(),
            "2;b;BTC,0.95=0.2:2;BTC,1=0.1:3,0.25:1"
        );
    }
}
