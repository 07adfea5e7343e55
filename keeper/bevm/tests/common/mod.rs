//! A real anvil (the npm binary `make deps` installs) with the precompile mocks placed and TAO20
//! deployed from its forge artifact, for the adapter's integration tests.

#![allow(dead_code, missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use tao20_bevm::bindings::TAO20;
use tao20_bevm::localnet::{
    forge_deploy, place_mocks, DeployConfig, DeployEpoch, DeployFees, DeployFundHotkey,
};
use tao20_bevm::{Deployment, Reader, Writer};
use tao20_creation::eip712::{Asset, CreationFile, Eip712Message};
use tao20_creation::signing::{sort_signatures, ReportSigner};

alloy::sol! {
    #[sol(rpc)]
    interface StakingMock {
        function setStake(bytes32 hotkey, bytes32 coldkey, uint256 netuid, uint256 amount) external;
        function setSubnet(uint256 netuid, uint128 priceRao, bool transfersDisabled) external;
        function transferStakeFrom(bytes32 fromColdkey, bytes32 toColdkey, bytes32 hotkey, uint256 netuid, uint256 amount) external;
        function mirrorOf(address account) external view returns (bytes32);
    }
}

pub const STAKING: Address = tao20_bevm::bindings::STAKING_PRECOMPILE;
pub const NETUIDS: [u16; 3] = [1, 2, 3];
pub const EPOCH_LENGTH: u64 = 1_000;
pub const DELIVERY_WINDOW: u32 = 20;
pub const EXPIRY_GRACE: u32 = 10;
pub const BOND: u64 = 1_000_000_000_000_000_000;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The npm anvil binary; a clear failure when `make deps` has not run.
pub fn anvil_bin() -> PathBuf {
    let p = root().join("node_modules/.bin/anvil");
    assert!(
        p.exists(),
        "{} is missing: run `make deps` (npm ci) first",
        p.display()
    );
    p
}

pub fn test_signers() -> Vec<ReportSigner> {
    let mut s: Vec<ReportSigner> = (0..5)
        .map(|i| ReportSigner::from_bytes(&keccak256(format!("tao20.test.signer{i}"))).unwrap())
        .collect();
    s.sort_by_key(|k| k.address());
    s
}

pub fn fund_hotkey() -> B256 {
    keccak256("tao20.fund")
}

pub fn miner_hotkey(netuid: u16) -> B256 {
    keccak256(format!("tao20.minerhk.{netuid}"))
}

pub struct Fixture {
    pub anvil: AnvilInstance,
    pub url: String,
    pub deployment: Deployment,
    pub signers: Vec<ReportSigner>,
    pub owner: PrivateKeySigner,
    pub miner: PrivateKeySigner,
    pub relayer: PrivateKeySigner,
    pub provider: DynProvider,
}

/// One deployment through the project's deploy path, shared by every test of the binary: each
/// test's anvil loads its dumped state.
struct Template {
    state: Bytes,
    deployment: Deployment,
}

static TEMPLATE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();

fn deploy_config(signers: &[ReportSigner], owner: Address, fee_recipient: Address) -> DeployConfig {
    DeployConfig {
        owner,
        guardian: owner,
        signers: signers.iter().map(|s| s.address()).collect(),
        threshold: 4,
        fees: DeployFees {
            mint_bps: 50,
            redeem_bps: 50,
            management_bps: 100,
            recipient: fee_recipient,
        },
        creation_bond_wei: BOND.to_string(),
        epoch: DeployEpoch {
            genesis_block: 0,
            length: EPOCH_LENGTH,
        },
        delivery_window: DELIVERY_WINDOW.into(),
        expiry_grace: EXPIRY_GRACE.into(),
        min_stake_rao: 2_000_000,
        vault_coldkey: B256::ZERO,
        default_fund_hotkey: fund_hotkey(),
        fund_hotkeys: NETUIDS
            .iter()
            .map(|&netuid| DeployFundHotkey {
                netuid,
                hotkey: B256::ZERO,
            })
            .collect(),
        timelock: None,
    }
}

async fn template() -> &'static Template {
    TEMPLATE
        .get_or_init(|| async {
            let anvil = Anvil::new()
                .path(anvil_bin())
                .try_spawn()
                .expect("anvil starts");
            let owner = PrivateKeySigner::from(anvil.keys()[0].clone());
            let provider = ProviderBuilder::new()
                .wallet(EthereumWallet::from(owner.clone()))
                .connect_http(anvil.endpoint_url())
                .erased();
            place_mocks(&provider, &root()).await.unwrap();
            let mock = StakingMock::new(STAKING, provider.clone());
            for n in NETUIDS {
                mock.setSubnet(U256::from(n), 50_000_000, false)
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
            }
            let fee_recipient = PrivateKeySigner::from(anvil.keys()[9].clone()).address();
            let config = deploy_config(&test_signers(), owner.address(), fee_recipient);
            let key = B256::from_slice(&anvil.keys()[0].to_bytes());
            let url = anvil.endpoint();
            let (_, deployment) = forge_deploy(&root(), &url, &key, &config)
                .await
                .expect("script/Deploy.s.sol deploys");
            let state = provider.anvil_dump_state().await.unwrap();
            Template { state, deployment }
        })
        .await
}

impl Fixture {
    pub async fn new() -> Self {
        tao20_bevm::rpc::ensure_tls();
        let t = template().await;
        let anvil = Anvil::new()
            .path(anvil_bin())
            .try_spawn()
            .expect("anvil starts");
        let url = anvil.endpoint();
        let key = |i: usize| PrivateKeySigner::from(anvil.keys()[i].clone());
        let owner = key(0);
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(owner.clone()))
            .connect_http(anvil.endpoint_url())
            .erased();
        assert!(provider.anvil_load_state(t.state.clone()).await.unwrap());
        Fixture {
            miner: key(1),
            relayer: key(2),
            anvil,
            url,
            deployment: t.deployment.clone(),
            signers: test_signers(),
            owner,
            provider,
        }
    }

    pub fn reader(&self) -> Reader {
        Reader::new(
            tao20_bevm::rpc::connect(&self.url).unwrap(),
            &self.deployment,
        )
    }

    pub fn writer(&self, key: &PrivateKeySigner) -> Writer {
        let provider = tao20_bevm::rpc::connect_with_signer(&self.url, key.clone()).unwrap();
        Writer::new(
            provider,
            self.deployment.tao20,
            key.address(),
            1,
            Duration::from_secs(20),
        )
        .with_poll_interval(Duration::from_millis(20))
    }

    pub fn contract(&self) -> TAO20::TAO20Instance<DynProvider> {
        TAO20::new(self.deployment.tao20, self.provider.clone())
    }

    pub async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }

    pub async fn mine(&self, n: u64) {
        self.provider.anvil_mine(Some(n), None).await.unwrap();
    }

    /// Signatures of the first `count` signers (ascending by address) over `message`.
    pub fn sign(&self, message: &Eip712Message, count: usize) -> Vec<Bytes> {
        let digest = message.digest(self.deployment.chain_id, self.deployment.tao20);
        let raw: Vec<_> = self
            .signers
            .iter()
            .take(count)
            .map(|s| s.sign_digest(&digest).unwrap())
            .collect();
        sort_signatures(&digest, &raw)
            .unwrap()
            .into_iter()
            .map(|(_, s)| Bytes::from(s.to_vec()))
            .collect()
    }

    /// The creation file of the current epoch: one unit is 1000 rao of each netuid.
    pub async fn current_file(&self) -> CreationFile {
        let block = self.head().await + 1;
        let epoch = block / EPOCH_LENGTH;
        CreationFile {
            epoch_id: epoch,
            valid_from_block: epoch * EPOCH_LENGTH,
            valid_until_block: (epoch + 1) * EPOCH_LENGTH - 1,
            shares_per_unit: U256::from(10u64).pow(U256::from(21u64)),
            tolerance_bps: 50,
            min_units: 1,
            assets: vec![
                Asset {
                    netuid: 1,
                    qty_per_unit: 100_000_000,
                    weight_bps: 4_000,
                },
                Asset {
                    netuid: 2,
                    qty_per_unit: 100_000_000,
                    weight_bps: 3_000,
                },
                Asset {
                    netuid: 3,
                    qty_per_unit: 100_000_000,
                    weight_bps: 3_000,
                },
            ],
            signer_set_version: 1,
        }
    }

    /// A substrate `transfer_stake` of `amount` from `coldkey` to the vault under `hotkey`,
    /// through the staking mock (the coldkey's stake is minted first).
    pub async fn deliver(&self, coldkey: B256, hotkey: B256, netuid: u16, amount: u64) {
        let mock = StakingMock::new(STAKING, self.provider.clone());
        mock.setStake(hotkey, coldkey, U256::from(netuid), U256::from(amount))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        let r = mock
            .transferStakeFrom(
                coldkey,
                self.deployment.vault_coldkey,
                hotkey,
                U256::from(netuid),
                U256::from(amount),
            )
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
    }
}
