//! TAO20's market on the devnet: WTAO (the WETH9 of npm `@uniswap/v2-periphery`), a Uniswap V2
//! factory (npm `@uniswap/v2-core` 1.0.1) and router (`UniswapV2Router02`), deployed from the
//! published artifacts, and a TAO20/WTAO pair seeded with the shares of a genesis creation.
//!
//! The genesis creation is an ordinary one (request, basket bought with `add_stake`, delivery
//! with the remark, a quorum-signed report) made by the devnet's market maker before any keeper
//! runs; the devnet signs the report itself, as it signs the first creation file. The pair is
//! seeded above NAV (`premium_bps`), so the creation miner finds an opportunity on a new devnet.

use std::path::Path;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolValue;
use serde::{Deserialize, Serialize};
use tao20_bevm::writer::{Call, Confirmed};
use tao20_bevm::{Deployment, Writer};
use tao20_chain::sim::{DevTransport, SimClient};
use tao20_chain::types::{Bytes32, Event, TransferStake};
use tao20_chain::Subtensor;
use tao20_creation::eip712::Position;
use tao20_creation::eip712::{creation_file_hash, CreationFile, CreationReport, Eip712Message};
use tao20_creation::ids::delivery_remark;
use tao20_creation::signing::{sort_signatures, ReportSigner};

use crate::keys::{self, SubstrateKey};
use crate::up::{DevnetKeys, UpOptions, TAO};
use crate::{Error, Result};

alloy::sol! {
    #[sol(rpc)]
    interface IDevnetFactory {
        function getPair(address a, address b) external view returns (address);
    }
    #[sol(rpc)]
    interface IDevnetRouter {
        function addLiquidityETH(address token, uint256 amountTokenDesired, uint256 amountTokenMin,
            uint256 amountETHMin, address to, uint256 deadline)
            external payable returns (uint256 amountToken, uint256 amountETH, uint256 liquidity);
    }
    #[sol(rpc)]
    interface IDevnetErc20 {
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address who) external view returns (uint256);
    }
}

/// The market's contracts and its seed, as `devnet.json` records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetMarket {
    /// WTAO (WETH9).
    pub wtao: Address,
    /// The Uniswap V2 factory.
    pub factory: Address,
    /// The Uniswap V2 router (`WETH()` is `wtao`).
    pub router: Address,
    /// The TAO20/WTAO pair.
    pub pair: Address,
    /// The genesis creation's request id.
    pub genesis_request: B256,
    /// Shares the genesis creation minted (wei of a share).
    pub genesis_shares: U256,
    /// Shares seeded into the pair.
    pub seeded_shares: U256,
    /// WTAO seeded into the pair (wei).
    pub seeded_wtao: U256,
    /// The seed's premium over NAV, basis points.
    pub premium_bps: u16,
}

/// The market maker's keys: the coldkey that buys the genesis basket, its hotkey.
pub fn maker_keys(seed: u64) -> Result<(SubstrateKey, SubstrateKey)> {
    Ok((
        keys::substrate(seed, "market/coldkey")?,
        keys::substrate(seed, "market/hotkey")?,
    ))
}

async fn deploy_code(provider: &DynProvider, what: &str, code: Bytes) -> Result<Address> {
    let tx = TransactionRequest::default().with_deploy_code(code);
    let receipt = provider
        .send_transaction(tx)
        .await
        .map_err(|e| Error::Setup(format!("deploy {what}: {e}")))?
        .get_receipt()
        .await
        .map_err(|e| Error::Setup(format!("deploy {what}: {e}")))?;
    if !receipt.status() {
        return Err(Error::Setup(format!("deploy {what}: reverted")));
    }
    receipt
        .contract_address
        .ok_or_else(|| Error::Setup(format!("deploy {what}: no contract address")))
}

fn npm_code(root: &Path, package: &str, name: &str) -> Result<Bytes> {
    let path = root.join(format!("node_modules/@uniswap/{package}/build/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(&path, format!("{e} (run `npm ci` in the repository)")))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::io(&path, e))?;
    let hex = v
        .get("bytecode")
        .and_then(|b| b.as_str())
        .ok_or_else(|| Error::io(&path, "no bytecode"))?;
    hex.parse::<Bytes>().map_err(|e| Error::io(&path, e))
}

/// Deploys WTAO, the factory and the router from the npm artifacts (anvil still automining).
/// Returns (wtao, factory, router).
pub async fn deploy(
    provider: &DynProvider,
    root: &Path,
    fee_to_setter: Address,
) -> Result<(Address, Address, Address)> {
    let wtao = deploy_code(provider, "WETH9", npm_code(root, "v2-periphery", "WETH9")?).await?;
    let mut factory_code = npm_code(root, "v2-core", "UniswapV2Factory")?.to_vec();
    factory_code.extend_from_slice(&fee_to_setter.abi_encode());
    let factory = deploy_code(provider, "UniswapV2Factory", factory_code.into()).await?;
    let mut router_code = npm_code(root, "v2-periphery", "UniswapV2Router02")?.to_vec();
    router_code.extend_from_slice(&(factory, wtao).abi_encode_params());
    let router = deploy_code(provider, "UniswapV2Router02", router_code.into()).await?;
    Ok((wtao, factory, router))
}

/// The genesis creation of `units` units (for the deployer) and the pair seeded with
/// `seed_shares_bps` of its shares at `premium_bps` above NAV.
#[allow(clippy::too_many_arguments)]
pub async fn seed(
    sim: &SimClient<DevTransport>,
    provider: &DynProvider,
    opts: &UpOptions,
    keys: &DevnetKeys,
    deployment: &Deployment,
    file: &CreationFile,
    writer: &Writer,
    contracts: (Address, Address, Address),
    units: u32,
    premium_bps: u16,
) -> Result<DevnetMarket> {
    let (wtao, factory, router) = contracts;
    let (maker_ck, maker_hk) = maker_keys(opts.seed)?;
    let (ck, hk) = (maker_ck.account, maker_hk.account);
    // The basket, bought through the subnets' pools (the faucet pays).
    let head = sim.finalized_head().await?.number;
    let mut transfers = Vec::new();
    let mut last_purchase = head;
    for a in &file.assets {
        sim.register_neuron(a.netuid, hk, ck).await?;
        let qty = a.qty_per_unit * u64::from(units);
        let pool = sim.swap_pool(head, a.netuid).await?;
        let balancer = pool.balancer().ok_or_else(|| {
            Error::Setup(format!("subnet {}: pool weights out of range", a.netuid))
        })?;
        // The exact input for `qty` through the balancer pool, plus a margin (left with the
        // market maker).
        let net = balancer
            .tao_to_buy(
                pool.reserves.tao_in,
                pool.reserves.alpha_in,
                qty,
                pool.fee_rate,
            )
            .ok_or_else(|| {
                Error::Setup(format!(
                    "genesis creation: subnet {} cannot supply {qty} alpha",
                    a.netuid
                ))
            })?;
        let gross = u128::from(net) * 102 / 100 + u128::from(TAO);
        let bought = sim
            .as_signer(ck)
            .add_stake(hk, a.netuid, u64::try_from(gross).unwrap_or(u64::MAX))
            .await?;
        last_purchase = last_purchase.max(bought.block.number);
        transfers.push(TransferStake {
            destination_coldkey: Bytes32(deployment.vault_coldkey.0),
            hotkey: hk,
            origin_netuid: a.netuid,
            destination_netuid: a.netuid,
            alpha_amount: qty,
        });
    }
    // Valued at the spot prices after every purchase (which moved them), where the keepers'
    // official prices settle: at the last purchase's block, not the finalized head, which may
    // not include it yet.
    let mut value = U256::ZERO;
    for t in &transfers {
        let price = sim
            .current_alpha_price(last_purchase, t.origin_netuid)
            .await?;
        value += U256::from(t.alpha_amount) * U256::from(price) / U256::from(TAO);
    }
    let bond = U256::from(100_000_000u64) * U256::from(TAO);
    let (request_id, _) = writer
        .request_creation(
            units,
            B256::from(ck.0),
            keys.deployer.address,
            U256::ZERO,
            bond,
        )
        .await?;
    let remark = delivery_remark(deployment.chain_id, deployment.vault_coldkey, request_id);
    let delivered = sim
        .as_signer(ck)
        .deliver(remark.to_vec(), transfers)
        .await?;
    let mut positions: Vec<Position> = delivered
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StakeAdded(s) if s.coldkey.0 == deployment.vault_coldkey.0 => Some(Position {
                netuid: s.netuid,
                hotkey: B256::from(s.hotkey.0),
                amount: s.alpha,
            }),
            _ => None,
        })
        .collect();
    positions.sort();
    let nav = U256::from(TAO);
    let report = CreationReport {
        request_id,
        epoch_id: file.epoch_id,
        creation_file_hash: creation_file_hash(file),
        receiver: keys.deployer.address,
        units,
        positions,
        delivery_block: delivered.block.number,
        delivery_index: delivered.index,
        value_rao: value,
        nav_per_share: nav,
        signer_set_version: file.signer_set_version,
    };
    let digest =
        Eip712Message::CreationReport(report.clone()).digest(deployment.chain_id, deployment.tao20);
    let mut raw = Vec::new();
    for s in &keys.signers {
        raw.push(ReportSigner::from_bytes(&s.evm.secret)?.sign_digest(&digest)?);
    }
    let signatures: Vec<Bytes> = sort_signatures(&digest, &raw)?
        .into_iter()
        .map(|(_, s)| Bytes::from(s.to_vec()))
        .collect();
    match writer.submit(&Call::Mint { report, signatures }).await? {
        Confirmed::Included(_) => {}
        Confirmed::AlreadySettled { reason, .. } => {
            return Err(Error::Setup(format!("genesis mint: {reason}")))
        }
    }
    let token = IDevnetErc20::new(deployment.tao20, provider.clone());
    let shares = token
        .balanceOf(keys.deployer.address)
        .call()
        .await
        .map_err(|e| Error::Setup(format!("balanceOf: {e}")))?;
    // Half the shares into the pool, priced at NAV plus the premium.
    let seeded_shares = shares / U256::from(2u8);
    let seeded_wtao = seeded_shares * nav * U256::from(10_000u64 + u64::from(premium_bps))
        / U256::from(10_000u64)
        / U256::from(TAO);
    let send = |what: &'static str, tx: alloy::rpc::types::TransactionRequest| async move {
        let receipt = provider
            .send_transaction(tx)
            .await
            .map_err(|e| Error::Setup(format!("{what}: {e}")))?
            .get_receipt()
            .await
            .map_err(|e| Error::Setup(format!("{what}: {e}")))?;
        if receipt.status() {
            Ok(())
        } else {
            Err(Error::Setup(format!("{what}: reverted")))
        }
    };
    let approve = token
        .approve(router, seeded_shares)
        .into_transaction_request();
    send("approve TAO20 to the router", approve).await?;
    let add = IDevnetRouter::new(router, provider.clone())
        .addLiquidityETH(
            deployment.tao20,
            seeded_shares,
            seeded_shares,
            seeded_wtao,
            keys.deployer.address,
            U256::from(u64::MAX),
        )
        .value(seeded_wtao)
        .into_transaction_request();
    send("addLiquidityETH", add).await?;
    let pair = IDevnetFactory::new(factory, provider.clone())
        .getPair(deployment.tao20, wtao)
        .call()
        .await
        .map_err(|e| Error::Setup(format!("getPair: {e}")))?;
    if pair == Address::ZERO {
        return Err(Error::Setup("the router made no TAO20/WTAO pair".into()));
    }
    Ok(DevnetMarket {
        wtao,
        factory,
        router,
        pair,
        genesis_request: request_id,
        genesis_shares: shares,
        seeded_shares,
        seeded_wtao,
        premium_bps,
    })
}
