//! Connecting to a BEVM (or anvil) JSON-RPC endpoint.

use alloy::network::EthereumWallet;
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

/// A provider that signs and sends transactions as `signer` (nonce, gas and chain id filled by
/// alloy's recommended fillers).
pub fn connect_with_signer(url: &str, signer: PrivateKeySigner) -> Result<DynProvider> {
    ensure_tls();
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(parse(url)?)
        .erased())
}
