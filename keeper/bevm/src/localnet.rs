//! A TAO20 deployment on anvil, for the devnet and the integration tests: the precompile mocks
//! placed from the forge artifacts, and the contracts deployed through the project's own deploy
//! path (`script/Deploy.s.sol`, run by forge) from a generated configuration.
//!
//! Everything here needs a repository checkout with `forge build` done (`make deps` installs
//! forge); the private keys it takes are anvil's development keys, passed to forge on its command
//! line — never use it with a key that holds value.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use alloy::primitives::{address, Address, Bytes, B256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::DynProvider;
use serde::{Deserialize, Serialize};

use crate::bindings::{ADDRESS_MAPPING_PRECOMPILE, ALPHA_PRECOMPILE, STAKING_PRECOMPILE};
use crate::{Deployment, Error, Result};

/// Where the devnet places its [`StakeTotals`](../../../test/mocks/StakeTotals.sol) helper.
pub const STAKE_TOTALS: Address = address!("000000000000000000000000000000000007a020");

/// The runtime's `DefaultMinStake`, rao.
pub const DEFAULT_MIN_STAKE: u64 = 2_000_000;

/// The configuration `script/Deploy.s.sol` reads (see `script/config/example.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployConfig {
    /// Governance (the timelock's proposer).
    pub owner: Address,
    /// May pause requests and mints.
    pub guardian: Address,
    /// Report signers, ascending.
    pub signers: Vec<Address>,
    /// Signatures a report needs.
    pub threshold: u8,
    /// Fees.
    pub fees: DeployFees,
    /// The bond, wei (whole rao).
    pub creation_bond_wei: String,
    /// Epochs.
    pub epoch: DeployEpoch,
    /// Delivery window, blocks.
    pub delivery_window: u64,
    /// Grace after expiry, blocks.
    pub expiry_grace: u64,
    /// `DefaultMinStake`, rao.
    pub min_stake_rao: u64,
    /// Zero: the AddressMapping precompile computes the vault.
    pub vault_coldkey: B256,
    /// The default fund hotkey.
    pub default_fund_hotkey: B256,
    /// The fund's netuids (hotkey zero: the default one).
    pub fund_hotkeys: Vec<DeployFundHotkey>,
    /// Governance timelock, blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelock: Option<DeployTimelock>,
}

/// Fees of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployFees {
    /// Mint fee, bps.
    pub mint_bps: u16,
    /// Redeem fee, bps.
    pub redeem_bps: u16,
    /// Management fee, bps a year.
    pub management_bps: u16,
    /// Fee recipient.
    pub recipient: Address,
}

/// Epoch parameters of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployEpoch {
    /// First block of epoch 0.
    pub genesis_block: u64,
    /// Blocks per epoch.
    pub length: u64,
}

/// One fund netuid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployFundHotkey {
    /// The subnet.
    pub netuid: u16,
    /// Its own hotkey, or zero for the default.
    pub hotkey: B256,
}

/// The governance timelock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployTimelock {
    /// Delay, blocks.
    pub delay_blocks: u64,
    /// Lapse window, blocks.
    pub lapse_blocks: u64,
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The repository root: the nearest ancestor of the current directory with a `foundry.toml`.
pub fn repo_root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| io(Path::new("."), e))?;
    cwd.ancestors()
        .find(|p| p.join("foundry.toml").exists() && p.join("script/Deploy.s.sol").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Error::invalid(
                "repository",
                format!(
                    "{} is not inside the TAO20 repository (no foundry.toml above it)",
                    cwd.display()
                ),
            )
        })
}

/// A tool from the repository's `node_modules/.bin` (forge, anvil, cast).
pub fn tool(root: &Path, name: &str) -> Result<PathBuf> {
    let p = root.join("node_modules/.bin").join(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(Error::invalid(
            name,
            format!("{} is missing: run `make deps` first", p.display()),
        ))
    }
}

/// A contract's code from its forge artifact (`which` = `bytecode` or `deployedBytecode`).
pub fn artifact_code(root: &Path, file: &str, name: &str, which: &str) -> Result<Bytes> {
    let dir = root.join("out").join(file);
    let path = [
        format!("{name}.json"),
        format!("{name}.default.json"),
        format!("{name}.ir.json"),
    ]
    .iter()
    .map(|n| dir.join(n))
    .find(|p| p.exists())
    .ok_or_else(|| {
        io(
            &dir.join(format!("{name}.json")),
            "no artifact: run `forge build`",
        )
    })?;
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::decode(path.display().to_string(), e))?;
    json[which]["object"]
        .as_str()
        .ok_or_else(|| Error::decode(path.display().to_string(), format!("no {which}")))?
        .parse()
        .map_err(|e| Error::decode(path.display().to_string(), e))
}

/// Places the StakingV2, Alpha and AddressMapping mocks at the precompile addresses, and the
/// devnet's stake-totals helper.
pub async fn place_mocks(provider: &DynProvider, root: &Path) -> Result<()> {
    for (addr, file, name) in [
        (STAKING_PRECOMPILE, "StakingMock.sol", "StakingMock"),
        (ALPHA_PRECOMPILE, "AlphaMock.sol", "AlphaMock"),
        (
            ADDRESS_MAPPING_PRECOMPILE,
            "AddressMappingMock.sol",
            "AddressMappingMock",
        ),
        (STAKE_TOTALS, "StakeTotals.sol", "StakeTotals"),
    ] {
        let code = artifact_code(root, file, name, "deployedBytecode")?;
        provider
            .anvil_set_code(addr, code)
            .await
            .map_err(|e| Error::rpc(format!("anvil_setCode({name})"), e))?;
    }
    Ok(())
}

static DEPLOYS: AtomicU64 = AtomicU64::new(0);

/// Deploys the timelock and TAO20 with `script/Deploy.s.sol` (forge, broadcasting with
/// `deployer_key`), from `config`; returns the deployment file forge wrote and its contents.
pub async fn forge_deploy(
    root: &Path,
    rpc: &str,
    deployer_key: &B256,
    config: &DeployConfig,
) -> Result<(serde_json::Value, Deployment)> {
    let forge = tool(root, "forge")?;
    let n = DEPLOYS.fetch_add(1, Ordering::SeqCst);
    let dir = root
        .join("target/deploy")
        .join(format!("{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let cfg_path = dir.join("config.json");
    let out_path = dir.join("deployment.json");
    let text =
        serde_json::to_string_pretty(config).map_err(|e| Error::decode("deploy config", e))?;
    std::fs::write(&cfg_path, text).map_err(|e| io(&cfg_path, e))?;
    let out = tokio::process::Command::new(&forge)
        .current_dir(root)
        .args([
            "script",
            "script/Deploy.s.sol:Deploy",
            "--rpc-url",
            rpc,
            "--broadcast",
            "-q",
        ])
        .arg("--private-key")
        .arg(deployer_key.to_string())
        .env("DEPLOY_CONFIG", &cfg_path)
        .env("DEPLOYMENT_OUT", &out_path)
        .output()
        .await
        .map_err(|e| io(&forge, e))?;
    if !out.status.success() {
        return Err(Error::invalid(
            "forge script script/Deploy.s.sol",
            format!(
                "exit {}: {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ));
    }
    let text = std::fs::read_to_string(&out_path).map_err(|e| io(&out_path, e))?;
    let mut json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::decode(out_path.display().to_string(), e))?;
    let mut deployment = Deployment::load(&out_path)?;
    let _ = std::fs::remove_dir_all(&dir);
    // The script records the block it ran at; the creation landed in a later one.
    let reader = crate::Reader::new(crate::rpc::connect(rpc)?, &deployment);
    deployment.deploy_block = reader.deployed_at(deployment.deploy_block).await?;
    json["deployBlock"] = deployment.deploy_block.into();
    Ok((json, deployment))
}
