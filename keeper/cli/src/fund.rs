//! `tao20 fund status|request`: the fund as the chain holds it, for integrators and operators.
//! NAV per share is computed with the keeper's own library from chain state at the block: every
//! position's stake less what redeemers have booked, at the Alpha precompile's spot price (the
//! official price of a valuation averages a window of spot prices; the status shows the inputs).

use std::path::PathBuf;

use alloy::eips::BlockId;
use alloy::primitives::{B256, U256};
use anyhow::Context;
use clap::{Args, Subcommand};
use tao20_bevm::bindings::{IAlpha, TAO20};
use tao20_bevm::events::ContractEvent;
use tao20_bevm::reader::RequestStatus;
use tao20_bevm::{Deployment, Reader};
use tao20_chain::types::Bytes32;
use tao20_chain::Subtensor;
use tao20_creation::nav::{self, Price};

use crate::output::{self, CliError, CliResult};

/// Fund subcommands.
#[derive(Debug, Subcommand)]
pub enum FundCmd {
    /// The fund at a block: supply, NAV per share (and its inputs), fees, positions, native TAO,
    /// epoch and creation file, signer set, open requests.
    Status(StatusArgs),
    /// One creation request.
    Request(RequestArgs),
}

/// Where the fund is.
#[derive(Debug, Args)]
pub struct Target {
    /// A devnet directory (its anvil and deployment).
    #[arg(long, conflicts_with_all = ["rpc", "deployment"])]
    devnet: Option<PathBuf>,
    /// A BEVM JSON-RPC URL.
    #[arg(long, requires = "deployment")]
    rpc: Option<String>,
    /// A deployment file (`deployments/<chainid>.json`).
    #[arg(long, requires = "rpc")]
    deployment: Option<PathBuf>,
    /// The block to read at (default: the latest).
    #[arg(long)]
    block: Option<u64>,
    /// A subtensor node (`ws://`, `wss://`): the positions' stake is also read there, at its
    /// finalized head, through the keeper's client. `--devnet` implies the devnet's endpoint.
    #[arg(long = "subtensor.chain_endpoint")]
    subtensor: Option<String>,
}

/// `tao20 fund status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    target: Target,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `tao20 fund request` options.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The request id (0x + 64 hex digits).
    id: String,
    #[command(flatten)]
    target: Target,
}

/// Runs a fund subcommand.
pub fn run(cmd: FundCmd) -> CliResult {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async move {
        match cmd {
            FundCmd::Status(a) => status(a).await,
            FundCmd::Request(a) => request(a).await,
        }
    })
}

fn connect(t: &Target) -> CliResult<(Reader, Deployment, String)> {
    let (rpc, path) = match (&t.devnet, &t.rpc, &t.deployment) {
        (Some(dir), _, _) => {
            let f = devnet(dir)?;
            (f.anvil_rpc, f.deployment)
        }
        (None, Some(rpc), Some(p)) => (rpc.clone(), p.clone()),
        _ => {
            return Err(CliError::input(
                "give --devnet DIR, or --rpc URL with --deployment FILE",
            ))
        }
    };
    let deployment = Deployment::load(&path)
        .map_err(|e| CliError::input(format!("--deployment {}: {e}", path.display())))?;
    let provider = tao20_bevm::rpc::connect(&rpc).map_err(|e| CliError::input(e.to_string()))?;
    Ok((Reader::new(provider, &deployment), deployment, rpc))
}

fn devnet(dir: &std::path::Path) -> CliResult<tao20_devnet::up::DevnetFile> {
    tao20_devnet::up::DevnetFile::load(dir)
        .map_err(|e| CliError::input(format!("--devnet {}: {e}", dir.display())))
}

/// The fund's positions as subtensor holds them: the vault coldkey's stake on each position's
/// hotkey and subnet, read through `SubxtClient` at the node's finalized head.
async fn substrate_positions(
    t: &Target,
    deployment: &Deployment,
    positions: &[(u16, B256)],
) -> CliResult<Option<serde_json::Value>> {
    let endpoint = match (&t.subtensor, &t.devnet) {
        (Some(e), _) => e.clone(),
        (None, Some(dir)) => devnet(dir)?.substrate,
        (None, None) => return Ok(None),
    };
    let client = tao20_chain::client::SubxtClient::connect(&endpoint, None)
        .await
        .map_err(|e| CliError::input(format!("--subtensor.chain_endpoint {endpoint}: {e}")))?;
    let head = client
        .finalized_head()
        .await
        .map_err(|e| CliError::Internal(e.into()))?;
    let vault = Bytes32(deployment.vault_coldkey.0);
    let mut out = Vec::with_capacity(positions.len());
    for (netuid, hotkey) in positions {
        let stake = client
            .stake(head.number, vault, Bytes32(hotkey.0), *netuid)
            .await
            .map_err(|e| CliError::Internal(e.into()))?;
        out.push(
            serde_json::json!({ "netuid": netuid, "hotkey": hotkey, "stake": stake.to_string() }),
        );
    }
    Ok(Some(serde_json::json!({
        "endpoint": endpoint,
        "client": "SubxtClient",
        "runtimeSpecVersion": client.runtime_spec_version(),
        "block": head.number,
        "blockHash": head.hash,
        "vaultColdkey": deployment.vault_coldkey,
        "positions": out,
    })))
}

async fn at_block(reader: &Reader, t: &Target) -> CliResult<u64> {
    match t.block {
        Some(b) => Ok(b),
        None => reader
            .head()
            .await
            .map_err(|e| CliError::Internal(e.into())),
    }
}

async fn status(a: StatusArgs) -> CliResult {
    let (reader, deployment, rpc) = connect(&a.target)?;
    let block = at_block(&reader, &a.target).await?;
    let fund = reader
        .fund(block)
        .await
        .map_err(|e| CliError::Internal(e.into()))?;
    let alpha = IAlpha::new(deployment.alpha_precompile, reader.provider().clone());
    let mut prices = Vec::new();
    for p in &fund.positions {
        let wei = alpha
            .getAlphaPrice(p.netuid)
            .block(BlockId::number(block))
            .call()
            .await
            .context("getAlphaPrice")?;
        // Wei of TAO per whole alpha is FP18 TAO per alpha already.
        prices.push(Price {
            netuid: p.netuid,
            price: u128::try_from(wei).context("price beyond u128")?,
        });
    }
    let state = fund.fund_state();
    let nav = nav::nav(&state, &prices, block).map_err(|e| CliError::Internal(e.into()))?;
    // Open requests: every CreationRequested since the deployment still Pending at the block.
    let mut open = Vec::new();
    let events = reader
        .logs(deployment.deploy_block, block)
        .await
        .map_err(|e| CliError::Internal(e.into()))?;
    for e in events {
        if let ContractEvent::CreationRequested(r) = e.event {
            if let Some(info) = reader
                .request(r.request_id, block)
                .await
                .map_err(|e| CliError::Internal(e.into()))?
            {
                if info.status == RequestStatus::Pending {
                    open.push(info);
                }
            }
        }
    }
    let held: Vec<(u16, B256)> = fund
        .positions
        .iter()
        .map(|p| (p.netuid, p.hotkey))
        .collect();
    let substrate = substrate_positions(&a.target, &deployment, &held).await?;
    let doc = serde_json::json!({
        "substrate": substrate,
        "rpc": rpc,
        "contract": deployment.tao20,
        "block": block,
        "totalSupply": fund.total_supply.to_string(),
        "navPerShare": nav.nav_per_share.to_string(),
        "navInputs": {
            "valueRao": nav.value_rao.to_string(),
            "supplyWithAccruedFee": nav.supply.to_string(),
            "accruedFee": nav.accrued_fee.to_string(),
            "spotPrices": prices.iter().map(|p| serde_json::json!({"netuid": p.netuid, "fp18": p.price.to_string()})).collect::<Vec<_>>(),
        },
        "fees": fund.fees,
        "lastAccrual": fund.last_accrual,
        "positions": fund.positions.iter().zip(&fund.reserved).map(|(p, r)| serde_json::json!({
            "netuid": p.netuid, "hotkey": p.hotkey, "amount": p.amount.to_string(), "reservedForRedeemers": r.to_string(),
        })).collect::<Vec<_>>(),
        "nativeWei": fund.native_wei.to_string(),
        "currentEpoch": fund.current_epoch,
        "creationFile": fund.creation_file,
        "signerSet": fund.signer_set,
        "paused": fund.paused,
        "openRequests": open,
    });
    if a.json {
        return output::print_json(&doc);
    }
    let tao = |rao: U256| {
        format!(
            "{}.{:09}",
            rao / U256::from(1_000_000_000u64),
            rao % U256::from(1_000_000_000u64)
        )
    };
    println!("TAO20 {} at block {block} ({rpc})", deployment.tao20);
    println!("  supply        {} shares (18 decimals)", fund.total_supply);
    println!(
        "  NAV/share     {} TAO (spot; value {} TAO)",
        tao(nav.nav_per_share),
        tao(nav.value_rao)
    );
    println!(
        "  fees          mint {} bps, redeem {} bps, management {} bps/year",
        fund.fees.mint_bps, fund.fees.redeem_bps, fund.fees.management_bps
    );
    for (p, r) in fund.positions.iter().zip(&fund.reserved) {
        println!(
            "  netuid {:>4}   {} rao of alpha under {} ({} booked to redeemers)",
            p.netuid, p.amount, p.hotkey, r
        );
    }
    println!("  native        {} wei", fund.native_wei);
    match &fund.creation_file {
        Some(f) => println!(
            "  epoch {}      creation file with {} assets, valid {}..={}",
            fund.current_epoch,
            f.assets.len(),
            f.valid_from_block,
            f.valid_until_block
        ),
        None => println!("  epoch {}      no creation file yet", fund.current_epoch),
    }
    println!(
        "  signers       version {}, {} of {}",
        fund.signer_set.version,
        fund.signer_set.threshold,
        fund.signer_set.signers.len()
    );
    println!("  open requests {}", open.len());
    if let Some(s) = &substrate {
        println!(
            "  subtensor     {} at finalized block {} (spec {})",
            s["endpoint"].as_str().unwrap_or_default(),
            s["block"],
            s["runtimeSpecVersion"]
        );
        for p in s["positions"].as_array().into_iter().flatten() {
            println!(
                "  netuid {:>4}   {} rao of alpha staked by the vault",
                p["netuid"],
                p["stake"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn request(a: RequestArgs) -> CliResult {
    let id: B256 = a
        .id
        .parse()
        .map_err(|_| CliError::input(format!("request id {:?} is not 0x + 64 hex digits", a.id)))?;
    let (reader, deployment, _) = connect(&a.target)?;
    let block = at_block(&reader, &a.target).await?;
    let info = reader
        .request(id, block)
        .await
        .map_err(|e| CliError::Internal(e.into()))?
        .ok_or_else(|| CliError::input(format!("no request {id} at block {block}")))?;
    let expireable = reader
        .expireable_at(id, block)
        .await
        .map_err(|e| CliError::Internal(e.into()))?;
    let remark = TAO20::new(deployment.tao20, reader.provider().clone())
        .deliveryRemark(id)
        .call()
        .await
        .context("deliveryRemark")?;
    output::print_json(&serde_json::json!({
        "block": block,
        "request": info,
        "deliveryWindow": [info.request_block + 1, info.request_block + deployment.delivery_window],
        "deliveryRemark": remark,
        "expireableAt": expireable,
    }))
}
