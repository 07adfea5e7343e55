//! Connecting to a BEVM (or anvil) JSON-RPC endpoint.

use alloy::network::EthereumWallet;
use alloy::providers::fillers::{BlobGasFiller, GasFiller};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::client::RpcClient;
use alloy::signers::local::PrivateKeySigner;
use std::time::Duration;

use crate::{Error, Result};

/// Installs rustls' ring provider once per process: reqwest is built without a default TLS
/// backend (the aws-lc one needs a C toolchain and cmake), so HTTPS endpoints need one chosen.
pub fn ensure_tls() {
    // Err means a provider is already installed, which is all this asks for.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn parse(url: &str) -> Result<reqwest::Url> {
    url.parse()
        .map_err(|e| Error::invalid(format!("RPC URL {url:?}"), format!("{e}")))
}

/// How long one request may wait for its answer unless the caller says otherwise: reqwest has
/// no limit of its own, so an endpoint that accepts a connection and never answers would hold
/// its caller for ever.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP JSON-RPC client whose every request (connect, send, answer) ends within `timeout`;
/// a request that times out is a transport error, which [`crate::Error::retry`] classes
/// "retry later".
fn client(url: &str, timeout: Duration) -> Result<RpcClient> {
    ensure_tls();
    let url = parse(url)?;
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| Error::invalid(format!("HTTP client for {url}"), e.to_string()))?;
    Ok(alloy::rpc::client::ClientBuilder::default().http_with_client(http, url))
}

/// A read-only provider, every request bounded by [`DEFAULT_REQUEST_TIMEOUT`].
pub fn connect(url: &str) -> Result<DynProvider> {
    connect_timed(url, DEFAULT_REQUEST_TIMEOUT)
}

/// A read-only provider, every request bounded by `timeout`.
pub fn connect_timed(url: &str, timeout: Duration) -> Result<DynProvider> {
    Ok(ProviderBuilder::new()
        .connect_client(client(url, timeout)?)
        .erased())
}

/// A provider that signs and sends transactions as `signer`: gas and chain id filled as alloy's
/// recommended fillers do, the nonce read from the node's `pending` count for every transaction.
///
/// Not alloy's default cached nonce: it counts up locally from the first read and never looks
/// again, so one transaction the node never mined (dropped from the pool, lost with a node's
/// restart, refused after the nonce was taken) leaves every later one queued behind a gap until
/// the process restarts. The pending count (the chain's nonce plus the sender's transactions
/// ready in the pool, on Frontier as on geth) is right after such a loss, and a writer sends one
/// transaction at a time, so it loses nothing by asking.
pub fn connect_with_signer(url: &str, signer: PrivateKeySigner) -> Result<DynProvider> {
    connect_with_signer_timed(url, signer, DEFAULT_REQUEST_TIMEOUT)
}

/// As [`connect_with_signer`], every request bounded by `timeout`.
pub fn connect_with_signer_timed(
    url: &str,
    signer: PrivateKeySigner,
    timeout: Duration,
) -> Result<DynProvider> {
    Ok(ProviderBuilder::default()
        .filler(GasFiller::default())
        .filler(BlobGasFiller::default())
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_client(client(url, timeout)?)
        .erased())
}
