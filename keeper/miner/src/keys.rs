//! The miners' keys: substrate keys from a btcli wallet (the coldkey's `$NACL` password from
//! `TAO20_WALLET_PASSWORD` or a prompt on a terminal) or, on development chains, from a
//! secret-URI file; the EVM key from an encrypted keystore. Secrets never reach a log line.

use alloy::signers::local::PrivateKeySigner;
use tao20_chain::client::keys::Signer;
use tao20_chain::types::{AccountId, Bytes32};
use tao20_wallet::PasswordSource;

use crate::config::{expand, parse_account, EvmConfig, StakeConfig, WalletConfig};
use crate::{Error, Result};

/// The coldkey (signs stake purchases, deliveries and unstakes).
pub fn coldkey(w: &WalletConfig) -> Result<Signer> {
    if let Some(file) = &w.suri_file {
        return Signer::from_file(&expand(file)).map_err(|e| Error::Key(e.to_string()));
    }
    let pair = w
        .wallet()?
        .coldkey_pair(&PasswordSource::env_or_prompt())
        .map_err(|e| Error::Key(format!("wallet coldkey: {e}")))?;
    Ok(Signer::from_keypair(pair.into_subxt()))
}

/// The hotkey (signs the bidder's commitments).
pub fn hotkey(w: &WalletConfig) -> Result<Signer> {
    if let Some(file) = &w.suri_file {
        return Signer::from_file(&expand(file)).map_err(|e| Error::Key(e.to_string()));
    }
    let pair = w
        .wallet()?
        .hotkey_pair(&PasswordSource::env_or_prompt())
        .map_err(|e| Error::Key(format!("wallet hotkey: {e}")))?;
    Ok(Signer::from_keypair(pair.into_subxt()))
}

/// The hotkey the creation miner stakes under: `stake.hotkey`, else the wallet's hotkey (its
/// public key only; no password needed).
pub fn stake_hotkey(stake: &StakeConfig, w: &WalletConfig) -> Result<AccountId> {
    if let Some(h) = &stake.hotkey {
        return parse_account(h);
    }
    if w.suri_file.is_some() {
        return Err(Error::config(
            "stake.hotkey",
            "with wallet.suri_file the staking hotkey must be given",
        ));
    }
    let public = w
        .wallet()?
        .hotkey_public()
        .map_err(|e| Error::Key(format!("wallet hotkey: {e}")))?;
    Ok(Bytes32(*public.as_bytes()))
}

/// The EVM key from its keystore.
pub fn evm(cfg: &EvmConfig) -> Result<PrivateKeySigner> {
    Ok(cfg.load()?)
}
