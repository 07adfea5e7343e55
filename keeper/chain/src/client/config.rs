//! The chain configuration of subtensor: substrate's hashing, header and sr25519 `MultiSignature`,
//! with a `MultiAddress<AccountId32, ()>` address (no account index), as the finney metadata's
//! `UncheckedExtrinsic` declares. Unlike subxt's `PolkadotConfig` it can be given a genesis hash,
//! which offline signing needs, and it carries no Polkadot relay-chain legacy types.

use subxt::config::substrate::{SpecVersionForRange, SubstrateConfig};
use subxt::config::{Config, DefaultTransactionExtensions, HashFor};
use subxt::utils::{AccountId32, MultiAddress, H256};
use subxt::ArcMetadata;

/// Subtensor's [`Config`].
#[derive(Debug, Clone, Default)]
pub struct SubtensorConfig(SubstrateConfig);

impl SubtensorConfig {
    /// For an online client: spec versions, metadata and genesis come from the node.
    pub fn new() -> Self {
        SubtensorConfig(SubstrateConfig::new())
    }

    /// For an offline client: one runtime (`metadata`, `spec_version`, `transaction_version`)
    /// for every block, and the chain's genesis hash.
    pub fn offline(
        metadata: ArcMetadata,
        spec_version: u32,
        transaction_version: u32,
        genesis_hash: [u8; 32],
    ) -> Self {
        SubtensorConfig(
            SubstrateConfig::builder()
                .set_genesis_hash(H256(genesis_hash))
                .set_metadata_for_spec_versions([(spec_version, metadata)])
                .set_spec_version_for_block_ranges([SpecVersionForRange {
                    block_range: 0..u64::MAX,
                    spec_version,
                    transaction_version,
                }])
                .build(),
        )
    }
}

impl Config for SubtensorConfig {
    type AccountId = AccountId32;
    type Signature = <SubstrateConfig as Config>::Signature;
    type Hasher = <SubstrateConfig as Config>::Hasher;
    type Header = <SubstrateConfig as Config>::Header;
    type AssetId = <SubstrateConfig as Config>::AssetId;
    type Address = MultiAddress<AccountId32, ()>;
    type TransactionExtensions = DefaultTransactionExtensions<Self>;

    fn genesis_hash(&self) -> Option<HashFor<Self>> {
        self.0.genesis_hash()
    }

    fn spec_and_transaction_version_for_block_number(
        &self,
        block_number: u64,
    ) -> Option<(u32, u32)> {
        self.0
            .spec_and_transaction_version_for_block_number(block_number)
    }

    fn metadata_for_spec_version(&self, spec_version: u32) -> Option<ArcMetadata> {
        self.0.metadata_for_spec_version(spec_version)
    }

    fn set_metadata_for_spec_version(&self, spec_version: u32, metadata: ArcMetadata) {
        self.0.set_metadata_for_spec_version(spec_version, metadata)
    }
}
