//! One ledger for both chains: a delivery made in the simulator is minted by the contract on
//! anvil, redeemed back to a coldkey the simulator then reports, and a failed `batch_all` leaves
//! no trace on either side. Both chains keep one block number throughout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::node_bindings::Anvil;
use alloy::primitives::{keccak256, Bytes, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use tao20_bevm::localnet::{
    forge_deploy, place_mocks, DeployConfig, DeployEpoch, DeployFees, DeployFundHotkey,
};
use tao20_bevm::writer::{Call, Confirmed};
use tao20_bevm::{Reader, Writer};
use tao20_chain::sim::{SimClient, SimConfig};
use tao20_chain::types::{Bytes32, Event, TransferStake};
use tao20_chain::Subtensor;
use tao20_creation::eip712::{creation_file_hash, CreationReport, Eip712Message, Position};
use tao20_creation::ids::delivery_remark;
use tao20_creation::signing::{sort_signatures, ReportSigner};
use tao20_devnet::chain::{Chain, ChainSpec};
use tao20_devnet::keys;
use tao20_devnet::up::{self, UpOptions, TAO};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_delivery_is_minted_on_anvil_and_redeemed_back_into_the_simulator() {
    tao20_bevm::rpc::ensure_tls();
    let anvil = Anvil::new()
        .path(root().join("node_modules/.bin/anvil"))
        .try_spawn()
        .expect("anvil starts (run `make deps`)");
    let rpc = anvil.endpoint();
    let opts = UpOptions {
        block_time_ms: 0,
        subnets: 2,
        ..UpOptions::new("unused".into(), root(), "unused".into())
    };
    let keys = up::make_keys(&opts).unwrap();
    let deployer = PrivateKeySigner::from_bytes(&keys.deployer.secret).unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer.clone()))
        .connect_http(anvil.endpoint_url())
        .erased();
    place_mocks(&provider, &root()).await.unwrap();
    let alpha = [2u16, 3];
    let config = DeployConfig {
        owner: keys.deployer.address,
        guardian: keys.deployer.address,
        signers: keys.signers.iter().map(|s| s.evm.address).collect(),
        threshold: 4,
        fees: DeployFees {
            mint_bps: 0,
            redeem_bps: 0,
            management_bps: 0,
            recipient: keys.fee_recipient.address,
        },
        creation_bond_wei: (100_000_000 * TAO).to_string(),
        epoch: DeployEpoch {
            genesis_block: 0,
            length: 10_000,
        },
        delivery_window: 40,
        expiry_grace: 20,
        min_stake_rao: 2_000_000,
        vault_coldkey: B256::ZERO,
        default_fund_hotkey: B256::from(keys.fund_hotkey.account.0),
        fund_hotkeys: alpha
            .iter()
            .map(|&netuid| DeployFundHotkey {
                netuid,
                hotkey: B256::ZERO,
            })
            .collect(),
        timelock: None,
    };
    let (_, deployment) = forge_deploy(&root(), &rpc, &keys.deployer.secret, &config)
        .await
        .unwrap();
    provider.anvil_set_auto_mine(false).await.unwrap();
    let chain = Chain::start(&ChainSpec {
        anvil: rpc.clone(),
        listen: "127.0.0.1:0".into(),
        block_time_ms: 0,
        sim: SimConfig::default(),
        tao20: Some(deployment.tao20),
        vault: Some(deployment.vault_coldkey),
        fixture: None,
        frontier: None,
        evm_state_window: u64::MAX,
    })
    .await
    .unwrap();
    let node = tao20_chain::client::SubxtClient::connect(&chain.node.url(), None)
        .await
        .unwrap();
    let sim = SimClient::connect(chain.node.url());
    up::setup_subnets(&sim, &opts, &keys, &alpha).await.unwrap();
    sim.advance(opts.price_window + 1).await.unwrap();
    // Blocks are produced in the background below: compare between two equal simulator heads.
    let same_height = || async {
        loop {
            let before = sim.finalized_head().await.unwrap().number;
            let a = provider.get_block_number().await.unwrap();
            let after = sim.finalized_head().await.unwrap().number;
            if before == after {
                assert_eq!(a, before, "anvil and the simulator share one block number");
                return a;
            }
        }
    };
    same_height().await;

    let writer = Writer::new(
        tao20_bevm::rpc::connect_with_signer(&rpc, deployer).unwrap(),
        deployment.tao20,
        keys.deployer.address,
        1,
        Duration::from_secs(30),
    )
    .with_poll_interval(Duration::from_millis(20));
    // Blocks come only from the simulator: produce them while the writer waits.
    let ticker = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                let _ = sim.advance(1).await;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    let file = up::publish_current_epoch(&sim, &opts, &keys, &deployment, &alpha, &writer)
        .await
        .unwrap();

    // A miner buys alpha in the simulator: the contract's staking precompile sees it.
    let miner_ck = keys::substrate(7, "miner/coldkey").unwrap().account;
    let miner_hk = keys::substrate(7, "miner/hotkey").unwrap().account;
    for &n in &alpha {
        sim.register_neuron(n, miner_hk, miner_ck).await.unwrap();
        sim.as_signer(miner_ck)
            .add_stake(miner_hk, n, 50 * TAO)
            .await
            .unwrap();
    }
    let reader = Reader::new(tao20_bevm::rpc::connect(&rpc).unwrap(), &deployment);
    let head = same_height().await;
    for &n in &alpha {
        let evm = reader
            .stake(B256::from(miner_hk.0), B256::from(miner_ck.0), n, head)
            .await
            .unwrap();
        let subst = sim.stake(head, miner_ck, miner_hk, n).await.unwrap();
        assert!(evm > 0);
        assert_eq!(evm, subst, "netuid {n}: one ledger");
        // The Substrate endpoint reads the same ledger through the real client.
        assert_eq!(
            tao20_chain::Subtensor::stake(&node, head, miner_ck, miner_hk, n)
                .await
                .unwrap(),
            subst,
            "netuid {n}: the Substrate endpoint"
        );
    }

    // A failed batch (the second transfer exceeds nothing: it moves from an empty position)
    // leaves no trace on either side.
    let before = reader
        .stake(B256::from(miner_hk.0), B256::from(miner_ck.0), 2, head)
        .await
        .unwrap();
    let failed = sim
        .as_signer(miner_ck)
        .deliver(
            vec![0; 32],
            vec![
                TransferStake {
                    destination_coldkey: Bytes32(deployment.vault_coldkey.0),
                    hotkey: miner_hk,
                    origin_netuid: 2,
                    destination_netuid: 2,
                    alpha_amount: 1_000 * TAO,
                },
                TransferStake {
                    destination_coldkey: Bytes32(deployment.vault_coldkey.0),
                    hotkey: Bytes32([0xee; 32]),
                    origin_netuid: 3,
                    destination_netuid: 3,
                    alpha_amount: 1,
                },
            ],
        )
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let head = same_height().await;
    assert_eq!(
        reader
            .stake(B256::from(miner_hk.0), B256::from(miner_ck.0), 2, head)
            .await
            .unwrap(),
        before
    );
    assert_eq!(
        reader
            .stake(B256::from(miner_hk.0), deployment.vault_coldkey, 2, head)
            .await
            .unwrap(),
        0
    );

    // The miner requests a creation on BEVM and delivers in the simulator.
    let miner_evm = PrivateKeySigner::from_bytes(&keccak256("tao20.test.miner")).unwrap();
    provider
        .anvil_set_balance(
            miner_evm.address(),
            U256::from(10u64).pow(U256::from(21u64)),
        )
        .await
        .unwrap();
    let miner_writer = Writer::new(
        tao20_bevm::rpc::connect_with_signer(&rpc, miner_evm.clone()).unwrap(),
        deployment.tao20,
        miner_evm.address(),
        1,
        Duration::from_secs(30),
    )
    .with_poll_interval(Duration::from_millis(20));
    let (request_id, inc) = miner_writer
        .request_creation(
            1,
            B256::from(miner_ck.0),
            miner_evm.address(),
            U256::ZERO,
            U256::from(100_000_000 * TAO),
        )
        .await
        .unwrap();
    let remark = delivery_remark(deployment.chain_id, deployment.vault_coldkey, request_id);
    let transfers: Vec<TransferStake> = file
        .assets
        .iter()
        .map(|a| TransferStake {
            destination_coldkey: Bytes32(deployment.vault_coldkey.0),
            hotkey: miner_hk,
            origin_netuid: a.netuid,
            destination_netuid: a.netuid,
            alpha_amount: a.qty_per_unit,
        })
        .collect();
    let delivered = sim
        .as_signer(miner_ck)
        .deliver(remark.to_vec(), transfers)
        .await
        .unwrap();
    assert!(delivered.block.number > inc.block);
    let mut positions: Vec<Position> = delivered
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StakeAdded(s) if s.coldkey.0 == deployment.vault_coldkey.0 => Some(Position {
                netuid: s.netuid,
                hotkey: B256::from(s.hotkey.0),
                amount: s.alpha,
            }),
            _ => None,
        })
        .collect();
    positions.sort();
    assert_eq!(positions.len(), alpha.len());

    // The quorum's report mints: the contract checks the vault holds what the simulator moved.
    let report = CreationReport {
        request_id,
        epoch_id: file.epoch_id,
        creation_file_hash: creation_file_hash(&file),
        receiver: miner_evm.address(),
        units: 1,
        positions: positions.clone(),
        delivery_block: delivered.block.number,
        delivery_index: delivered.index,
        value_rao: U256::from(10 * TAO),
        nav_per_share: U256::from(TAO),
        signer_set_version: 1,
    };
    let digest =
        Eip712Message::CreationReport(report.clone()).digest(deployment.chain_id, deployment.tao20);
    let raw: Vec<_> = keys
        .signers
        .iter()
        .take(4)
        .map(|s| {
            ReportSigner::from_bytes(&s.evm.secret)
                .unwrap()
                .sign_digest(&digest)
                .unwrap()
        })
        .collect();
    let signatures: Vec<Bytes> = sort_signatures(&digest, &raw)
        .unwrap()
        .into_iter()
        .map(|(_, s)| Bytes::from(s.to_vec()))
        .collect();
    let out = writer
        .submit(&Call::Mint { report, signatures })
        .await
        .unwrap();
    assert!(matches!(out, Confirmed::Included(_)), "{out:?}");
    let head = same_height().await;
    let fund_hk = keys.fund_hotkey.account;
    for p in &positions {
        // Moved onto the fund hotkey, as both chains report.
        let onchain = reader
            .stake(
                B256::from(fund_hk.0),
                deployment.vault_coldkey,
                p.netuid,
                head,
            )
            .await
            .unwrap();
        assert_eq!(onchain, p.amount);
        assert_eq!(
            sim.stake(head, Bytes32(deployment.vault_coldkey.0), fund_hk, p.netuid)
                .await
                .unwrap(),
            p.amount
        );
    }

    // Redeemed in kind to a coldkey the simulator then reports, and can unstake from.
    let redeemer = keys::substrate(7, "redeemer").unwrap().account;
    let shares = tao20_bevm::bindings::TAO20::new(deployment.tao20, provider.clone())
        .balanceOf(miner_evm.address())
        .call()
        .await
        .unwrap();
    assert!(shares > U256::ZERO);
    let positions_n = reader.fund(head).await.unwrap().positions.len();
    miner_writer
        .redeem(
            shares / U256::from(2u8),
            B256::from(redeemer.0),
            vec![U256::ZERO; positions_n + 1],
            vec![false; positions_n + 1],
        )
        .await
        .unwrap();
    let head = same_height().await;
    for p in &positions {
        let got = sim.stake(head, redeemer, fund_hk, p.netuid).await.unwrap();
        assert!(
            got > 0,
            "netuid {}: the redeemer's alpha is in the simulator",
            p.netuid
        );
        assert_eq!(
            got,
            reader
                .stake(
                    B256::from(fund_hk.0),
                    B256::from(redeemer.0),
                    p.netuid,
                    head
                )
                .await
                .unwrap()
        );
    }
    // The neuron's stake in the simulator counts the contract's moves (fund hotkey totals).
    let neurons = sim.neurons(head, alpha[0]).await.unwrap();
    let fund_neuron = neurons.iter().find(|n| n.hotkey == fund_hk).unwrap();
    assert_eq!(
        fund_neuron.stake,
        positions
            .iter()
            .find(|p| p.netuid == alpha[0])
            .unwrap()
            .amount,
        "vault and redeemer together hold everything under the fund hotkey"
    );
    ticker.abort();
    drop(chain);
}
