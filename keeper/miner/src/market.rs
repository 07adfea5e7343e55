//! TAO20's market on BEVM: a Uniswap V2 pair TAO20/WTAO, traded through a Uniswap V2 router (so a
//! swap is one transaction with a minimum output and a deadline), WTAO a WETH9-style wrapper of
//! native TAO. Bindings from the ABIs of the published npm artifacts (`@uniswap/v2-core` 1.0.1,
//! `@uniswap/v2-periphery` 1.1.0-beta.0), checked in under `abi/` (`tests/abi.rs` compares them
//! with `node_modules`). Any Uniswap-V2-compatible pair and router work.

#![allow(missing_docs, clippy::too_many_arguments)]

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolCall;
use serde::{Deserialize, Serialize};

use crate::sizing::PairReserves;
use crate::{Error, Result};

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    UniswapV2Factory,
    "abi/UniswapV2Factory.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    UniswapV2Pair,
    "abi/UniswapV2Pair.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    UniswapV2Router02,
    "abi/UniswapV2Router02.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    WETH9,
    "abi/WETH9.json"
);

/// Where the market is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketAddresses {
    /// The Uniswap V2 factory.
    pub factory: Address,
    /// The router trades go through.
    pub router: Address,
    /// The TAO20/WTAO pair.
    pub pair: Address,
    /// The wrapped-TAO token (the router's `WETH()`).
    pub wtao: Address,
}

/// Reads the pair's reserves at `block`, ordered as (TAO20 shares, WTAO).
pub async fn reserves(
    provider: &DynProvider,
    pair: Address,
    tao20: Address,
    block: u64,
) -> Result<PairReserves> {
    let p = UniswapV2Pair::new(pair, provider);
    let at = BlockId::number(block);
    let token0 = p
        .token0()
        .block(at)
        .call()
        .await
        .map_err(|e| Error::rpc(format!("pair {pair} token0 at {block}"), e))?;
    let r = p
        .getReserves()
        .block(at)
        .call()
        .await
        .map_err(|e| Error::rpc(format!("pair {pair} getReserves at {block}"), e))?;
    let (r0, r1) = (U256::from(r._reserve0), U256::from(r._reserve1));
    Ok(if token0 == tao20 {
        PairReserves {
            shares: r0,
            tao: r1,
        }
    } else {
        PairReserves {
            shares: r1,
            tao: r0,
        }
    })
}

/// `swapExactTokensForETH(shares, minOut, [TAO20, WTAO], to, deadline)`: sells shares for native
/// TAO (the router unwraps the WTAO).
pub fn sell_shares_calldata(
    tao20: Address,
    wtao: Address,
    shares: U256,
    min_out_wei: U256,
    to: Address,
    deadline: U256,
) -> Bytes {
    UniswapV2Router02::swapExactTokensForETHCall {
        amountIn: shares,
        amountOutMin: min_out_wei,
        path: vec![tao20, wtao],
        to,
        deadline,
    }
    .abi_encode()
    .into()
}

/// `swapExactETHForTokens(minShares, [WTAO, TAO20], to, deadline)` with the TAO as the value: buys
/// shares.
pub fn buy_shares_calldata(
    tao20: Address,
    wtao: Address,
    min_shares: U256,
    to: Address,
    deadline: U256,
) -> Bytes {
    UniswapV2Router02::swapExactETHForTokensCall {
        amountOutMin: min_shares,
        path: vec![wtao, tao20],
        to,
        deadline,
    }
    .abi_encode()
    .into()
}

/// ERC-20 `approve(spender, amount)`.
pub fn approve_calldata(spender: Address, amount: U256) -> Bytes {
    UniswapV2Pair::approveCall {
        spender,
        value: amount,
    }
    .abi_encode()
    .into()
}
