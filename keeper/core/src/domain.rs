//! The TAO20 EIP-712 domain: `{name: "TAO20", version: "1", chainId, verifyingContract}`.
//!
//! Every report a keeper signs is bound to one chain and one contract through this domain, so a
//! signature for testnet (945) can never be replayed on finney (964) or against another deployment.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::Eip712Domain;

/// The domain's `name`.
pub const DOMAIN_NAME: &str = "TAO20";
/// The domain's `version`.
pub const DOMAIN_VERSION: &str = "1";

/// BEVM chain id on finney (mainnet).
pub const CHAIN_ID_FINNEY: u64 = 964;
/// BEVM chain id on the Bittensor testnet.
pub const CHAIN_ID_TESTNET: u64 = 945;
/// anvil's default chain id, used by the tests and the demo.
pub const CHAIN_ID_ANVIL: u64 = 31337;

/// The TAO20 domain for one chain and contract.
pub fn tao20_domain(chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(DOMAIN_NAME.into()),
        Some(DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(verifying_contract),
        None,
    )
}

/// `keccak256(abi.encode(EIP712Domain typehash, name hash, version hash, chainId, contract))`.
pub fn domain_separator(chain_id: u64, verifying_contract: Address) -> B256 {
    tao20_domain(chain_id, verifying_contract).separator()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, keccak256};
    use alloy_sol_types::SolValue;

    #[test]
    fn matches_the_hand_built_encoding() {
        let contract = address!("0x1111111111111111111111111111111111111111");
        let typehash = keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        );
        let expected = keccak256(
            (
                typehash,
                keccak256("TAO20"),
                keccak256("1"),
                U256::from(964u64),
                contract,
            )
                .abi_encode(),
        );
        assert_eq!(domain_separator(CHAIN_ID_FINNEY, contract), expected);
        assert_ne!(domain_separator(CHAIN_ID_TESTNET, contract), expected);
    }
}
