//! `deployments/<chainid>.json`, as `script/Deploy.s.sol` writes it: where the fund lives and
//! the constants a keeper or integrator needs before its first call.

use std::path::Path;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A TAO20 deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The EVM chain id (964 finney, 945 testnet, 31337 anvil).
    pub chain_id: u64,
    /// The core contract.
    pub tao20: Address,
    /// Block of the deployment transaction: events are read from here.
    pub deploy_block: u64,
    /// The vault: the contract's substrate mirror account.
    pub vault_coldkey: B256,
    /// First block of epoch 0.
    pub genesis_block: u64,
    /// Blocks per epoch.
    pub epoch_length: u64,
    /// Blocks after a request in which its delivery may land.
    pub delivery_window: u64,
    /// Blocks after expiry before `expire` may close a request.
    pub expiry_grace: u64,
    /// The StakingV2 precompile.
    pub staking_precompile: Address,
    /// The Alpha precompile.
    pub alpha_precompile: Address,
    /// The signer set at deployment.
    #[serde(default)]
    pub signers: Vec<Address>,
    /// Its threshold.
    #[serde(default)]
    pub threshold: u8,
}

impl Deployment {
    /// Reads a deployment file; unknown fields (the ABI, the owner) are ignored.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut de = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| Error::decode(format!("{} at {}", path.display(), e.path()), e.inner()))
    }
}
