//! Connecting to a BEVM (or anvil) JSON-RPC endpoint.

use alloy::network::EthereumWallet;
use alloy::providers::fillers::{BlobGasFiller, GasFiller};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;

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

/// A read-only provider.
pub fn connect(url: &str) -> Result<DynProvider> {
    ensure_tls();
    Ok(ProviderBuilder::new().connect_http(parse(url)?).erased())
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
    ensure_tls();
    Ok(ProviderBuilder::default()
        .filler(GasFiller::default())
        .filler(BlobGasFiller::default())
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(parse(url)?)
        .erased())
}
