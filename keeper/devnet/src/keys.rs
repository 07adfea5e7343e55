//! The devnet's keys, derived from its seed so a run can be repeated: sr25519 accounts from
//! secret URIs (`//tao20-devnet/<seed>/<role>`), secp256k1 keys from their keccak256, and anvil's
//! well-known development accounts for the deployer. None of them may ever hold value.

use alloy::primitives::{keccak256, Address, B256};
use alloy::signers::local::PrivateKeySigner;
use serde::{Deserialize, Serialize};
use subxt_signer::sr25519::Keypair;
use subxt_signer::SecretUri;
use tao20_chain::types::Bytes32;

use crate::{Error, Result};

/// anvil's first development key (its first funded account): the deployer and governance.
pub const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A substrate account with the secret URI it derives from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstrateKey {
    /// The secret URI (a development secret).
    pub suri: String,
    /// The account id.
    pub account: Bytes32,
}

/// An EVM key (a development secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvmKey {
    /// The private key.
    pub secret: B256,
    /// Its address.
    pub address: Address,
}

/// The substrate account of `//tao20-devnet/<seed>/<role>`.
pub fn substrate(seed: u64, role: &str) -> Result<SubstrateKey> {
    let suri = format!("//tao20-devnet/{seed}/{role}");
    let uri: SecretUri = suri
        .parse()
        .map_err(|_| Error::Setup(format!("secret URI for {role}")))?;
    let pair = Keypair::from_uri(&uri).map_err(|e| Error::Setup(format!("{role}: {e}")))?;
    Ok(SubstrateKey {
        suri,
        account: Bytes32(pair.public_key().0),
    })
}

/// The EVM key `keccak256("tao20-devnet/<seed>/<role>")`.
pub fn evm(seed: u64, role: &str) -> Result<EvmKey> {
    let secret = keccak256(format!("tao20-devnet/{seed}/{role}"));
    let signer =
        PrivateKeySigner::from_bytes(&secret).map_err(|e| Error::Setup(format!("{role}: {e}")))?;
    Ok(EvmKey {
        secret,
        address: signer.address(),
    })
}

/// anvil's deployer key.
pub fn deployer() -> Result<EvmKey> {
    let secret: B256 = ANVIL_KEY_0
        .parse()
        .map_err(|e| Error::Setup(format!("anvil key: {e}")))?;
    let signer = PrivateKeySigner::from_bytes(&secret)
        .map_err(|e| Error::Setup(format!("anvil key: {e}")))?;
    Ok(EvmKey {
        secret,
        address: signer.address(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_a_function_of_seed_and_role() {
        assert_eq!(substrate(1, "a").unwrap(), substrate(1, "a").unwrap());
        assert_ne!(
            substrate(1, "a").unwrap().account,
            substrate(2, "a").unwrap().account
        );
        assert_ne!(evm(1, "a").unwrap().address, evm(1, "b").unwrap().address);
        assert_eq!(
            deployer().unwrap().address.to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }
}
