//! Offline tests of the real client's call encoding: each extrinsic's call data is encoded against
//! the checked-in metadata, decoded back by an independent implementation (PyPI `scalecodec`,
//! installed by `tools/deps.sh`) reading the same file, and compared with the expected pallet,
//! call and arguments. Also: our encoder agrees byte for byte with subxt's static payloads, the
//! reverse mapping restores every call, and a signed extrinsic is built offline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::{json, Value};
use tao20_chain::client::{self, finney};
use tao20_chain::types::{Bytes32, Call, TransferStake};

const METADATA_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../finney/metadata/finney.scale"
);
const DECODER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/decode_calls.py");

fn account(byte: u8) -> Bytes32 {
    Bytes32([byte; 32])
}

fn hex32(byte: u8) -> String {
    format!("0x{}", hex::encode([byte; 32]))
}

/// Non-UTF-8 bytes so scalecodec prints them as hex.
fn blob(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| 0x80u8 | (u8::try_from(i % 128).unwrap()))
        .collect()
}

fn transfer(netuid: u16, amount: u64) -> TransferStake {
    TransferStake {
        destination_coldkey: account(0xAA),
        hotkey: account(0xBB),
        origin_netuid: netuid,
        destination_netuid: netuid,
        alpha_amount: amount,
    }
}

fn cases() -> Vec<(Call, Value)> {
    let remark = blob(32);
    let commit = blob(200);
    let commitment = blob(150);
    vec![
        (
            Call::SetCommitment {
                netuid: 7,
                data: commitment.clone(),
            },
            json!({"pallet": "Commitments", "call": "set_commitment", "args": {
            "netuid": 7,
            "info": {"fields": [
                {"Raw128": format!("0x{}", hex::encode(&commitment[..128]))},
                {"Raw22": format!("0x{}", hex::encode(&commitment[128..]))},
            ]}}}),
        ),
        (
            Call::BatchAll {
                calls: vec![
                    Call::Remark {
                        data: remark.clone(),
                    },
                    Call::TransferStake(transfer(3, 1_500_000_000)),
                    Call::TransferStake(transfer(9, u64::MAX)),
                ],
            },
            json!({"pallet": "Utility", "call": "batch_all", "args": {"calls": [
                {"System": {"remark": {"remark": format!("0x{}", hex::encode(&remark))}}},
                {"SubtensorModule": {"transfer_stake": {
                    "destination_coldkey": hex32(0xAA), "hotkey": hex32(0xBB),
                    "origin_netuid": 3, "destination_netuid": 3, "alpha_amount": 1_500_000_000u64}}},
                {"SubtensorModule": {"transfer_stake": {
                    "destination_coldkey": hex32(0xAA), "hotkey": hex32(0xBB),
                    "origin_netuid": 9, "destination_netuid": 9, "alpha_amount": u64::MAX}}},
            ]}}),
        ),
        (
            Call::SetMechanismWeights {
                netuid: 12,
                mecid: 1,
                dests: vec![0, 5, 17],
                weights: vec![65535, 1, 300],
                version_key: 843_000,
            },
            json!({"pallet": "SubtensorModule", "call": "set_mechanism_weights", "args": {
                "netuid": 12, "mecid": 1, "dests": [0, 5, 17], "weights": [65535, 1, 300],
                "version_key": 843_000}}),
        ),
        (
            Call::CommitTimelockedMechanismWeights {
                netuid: 12,
                mecid: 1,
                commit: commit.clone(),
                reveal_round: 17_200_000,
                commit_reveal_version: 4,
            },
            json!({"pallet": "SubtensorModule", "call": "commit_timelocked_mechanism_weights",
                "args": {"netuid": 12, "mecid": 1, "commit": format!("0x{}", hex::encode(&commit)),
                "reveal_round": 17_200_000, "commit_reveal_version": 4}}),
        ),
        (
            Call::AddStake {
                hotkey: account(0xBB),
                netuid: 9,
                amount_staked: 12_345_678_901,
            },
            json!({"pallet": "SubtensorModule", "call": "add_stake", "args": {
                "hotkey": hex32(0xBB), "netuid": 9, "amount_staked": 12_345_678_901u64}}),
        ),
        (
            Call::RemoveStake {
                hotkey: account(0xCC),
                netuid: 64,
                amount_unstaked: u64::MAX - 1,
            },
            json!({"pallet": "SubtensorModule", "call": "remove_stake", "args": {
                "hotkey": hex32(0xCC), "netuid": 64, "amount_unstaked": u64::MAX - 1}}),
        ),
        (
            Call::BatchAll {
                calls: vec![
                    Call::AddStake {
                        hotkey: account(0xBB),
                        netuid: 3,
                        amount_staked: 2_000_000,
                    },
                    Call::AddStake {
                        hotkey: account(0xBB),
                        netuid: 5,
                        amount_staked: 3_000_000_000,
                    },
                ],
            },
            json!({"pallet": "Utility", "call": "batch_all", "args": {"calls": [
                {"SubtensorModule": {"add_stake": {
                    "hotkey": hex32(0xBB), "netuid": 3, "amount_staked": 2_000_000u64}}},
                {"SubtensorModule": {"add_stake": {
                    "hotkey": hex32(0xBB), "netuid": 5, "amount_staked": 3_000_000_000u64}}},
            ]}}),
        ),
        (
            Call::ServeAxon {
                netuid: 12,
                version: 3,
                ip: 0x7f00_0001,
                port: 8091,
                ip_type: 4,
                protocol: 4,
            },
            json!({"pallet": "SubtensorModule", "call": "serve_axon", "args": {
                "netuid": 12, "version": 3, "ip": 0x7f00_0001u64, "port": 8091, "ip_type": 4,
                "protocol": 4, "placeholder1": 0, "placeholder2": 0}}),
        ),
    ]
}

#[test]
fn call_data_decodes_with_scalecodec_as_the_expected_calls() {
    let metadata = client::metadata().unwrap();
    let cases = cases();
    let hexes: Vec<String> = cases
        .iter()
        .map(|(call, _)| hex::encode(client::encode_call(&metadata, call).unwrap()))
        .collect();
    let output = Command::new("python3")
        .arg(DECODER)
        .arg(METADATA_PATH)
        .args(&hexes)
        .output()
        .expect("python3 runs (tools/deps.sh installs scalecodec)");
    assert!(
        output.status.success(),
        "decoder failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoded: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decoded.len(), cases.len());
    for ((call, expected), got) in cases.iter().zip(&decoded) {
        assert_eq!(got, expected, "{}", call.name());
    }
}

#[test]
fn the_reverse_mapping_restores_every_call() {
    let metadata = client::metadata().unwrap();
    for (call, _) in cases() {
        let bytes = client::encode_call(&metadata, &call).unwrap();
        assert_eq!(client::decode_call(&metadata, &bytes).unwrap(), call);
        // A truncated call does not decode.
        assert!(client::decode_call(&metadata, &bytes[..bytes.len() - 1]).is_err());
    }
    assert!(client::encode_call(
        &metadata,
        &Call::Other {
            pallet: "Balances".into(),
            call: "transfer_all".into()
        }
    )
    .is_err());
}

/// An offline client for finney's runtime (finney's genesis hash).
fn offline_client() -> subxt::OfflineClient<client::ChainConfig> {
    let genesis: [u8; 32] =
        hex::decode("2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03")
            .unwrap()
            .try_into()
            .unwrap();
    let metadata = subxt::ArcMetadata::from(client::metadata().unwrap());
    subxt::OfflineClient::new_with_config(client::SubtensorConfig::offline(metadata, 1, 1, genesis))
}

#[test]
fn our_encoding_matches_subxt_static_payloads() {
    let metadata = client::metadata().unwrap();
    let offline = offline_client();
    let at = offline.at_block(0u64).unwrap();
    let static_transfer = finney::tx().subtensor_module().transfer_stake(
        subxt::utils::AccountId32([0xAA; 32]),
        subxt::utils::AccountId32([0xBB; 32]),
        3,
        3,
        1_500_000_000,
    );
    assert_eq!(
        at.tx().call_data(&static_transfer).unwrap(),
        client::encode_call(&metadata, &Call::TransferStake(transfer(3, 1_500_000_000))).unwrap()
    );
    let static_add = finney::tx().subtensor_module().add_stake(
        subxt::utils::AccountId32([0xBB; 32]),
        9,
        12_345_678_901,
    );
    assert_eq!(
        at.tx().call_data(&static_add).unwrap(),
        client::encode_call(
            &metadata,
            &Call::AddStake {
                hotkey: account(0xBB),
                netuid: 9,
                amount_staked: 12_345_678_901
            }
        )
        .unwrap()
    );
    let static_remove =
        finney::tx()
            .subtensor_module()
            .remove_stake(subxt::utils::AccountId32([0xCC; 32]), 4, 77);
    assert_eq!(
        at.tx().call_data(&static_remove).unwrap(),
        client::encode_call(
            &metadata,
            &Call::RemoveStake {
                hotkey: account(0xCC),
                netuid: 4,
                amount_unstaked: 77
            }
        )
        .unwrap()
    );
    let static_weights =
        finney::tx()
            .subtensor_module()
            .set_mechanism_weights(12, 1, vec![0, 5], vec![7, 9], 1);
    assert_eq!(
        at.tx().call_data(&static_weights).unwrap(),
        client::encode_call(
            &metadata,
            &Call::SetMechanismWeights {
                netuid: 12,
                mecid: 1,
                dests: vec![0, 5],
                weights: vec![7, 9],
                version_key: 1
            }
        )
        .unwrap()
    );
}

#[tokio::test]
async fn a_delivery_is_signed_offline_and_decodes_back_with_its_signer() {
    let metadata = client::metadata().unwrap();
    let offline = offline_client();
    let at = offline.at_block(0u64).unwrap();
    let delivery = Call::BatchAll {
        calls: vec![
            Call::Remark { data: blob(32) },
            Call::TransferStake(transfer(3, 1_500_000_000)),
        ],
    };
    let bytes = client::encode_call(&metadata, &delivery).unwrap();
    let tx = at.tx();
    let payload = tx.from_call_data_bytes(&bytes).unwrap();
    let signer = client::Signer::from_suri("//Alice", "test").unwrap();
    let mut signable = tx
        .create_v4_signable_offline(&payload, Default::default())
        .unwrap();
    let signed = signable.sign(signer.keypair()).unwrap();
    let encoded = signed.encoded().to_vec();

    let extrinsics = at.extrinsics().from_bytes(vec![encoded]).await;
    let ext = extrinsics.iter().next().unwrap().unwrap();
    assert!(ext.is_signed());
    assert_eq!(
        (ext.pallet_name(), ext.call_name()),
        ("Utility", "batch_all")
    );
    let mut address = vec![0u8];
    address.extend_from_slice(&signer.account().0);
    assert_eq!(ext.address_bytes().unwrap(), &address[..]);
    assert_eq!(ext.call_data_bytes(), &bytes[..]);
    assert_eq!(
        client::decode_call(&metadata, ext.call_data_bytes()).unwrap(),
        delivery
    );
}

/// The pallet and call indices the checked-in metadata (spec 365) gives the calls the keeper
/// submits are those of spec 425's source (subtensor `main` 14bc6f9f): `runtime/src/lib.rs:1604-1622`
/// (System 0, SubtensorModule 7, Utility 11, Commitments 18), `pallets/subtensor/src/macros/
/// dispatches.rs` (`add_stake` 2, `remove_stake` 3, `serve_axon` 4, `transfer_stake` 86,
/// `commit_timelocked_mechanism_weights` 118, `set_mechanism_weights` 119; the amounts there are
/// `TaoBalance`/`AlphaBalance`, newtypes of `u64` that encode as one), `pallets/utility/src/lib.rs:308` (`batch_all` 2),
/// `pallets/commitments/src/lib.rs:211` (`set_commitment` 0) and frame_system (`remark` 0). The
/// argument lists there are the same too, so these bytes mean the same calls on spec 425.
#[test]
fn call_indices_are_those_of_spec_425() {
    let metadata = client::metadata().unwrap();
    let index = |call: &Call| {
        let bytes = client::encode_call(&metadata, call).unwrap();
        (bytes[0], bytes[1])
    };
    let weights = Call::SetMechanismWeights {
        netuid: 1,
        mecid: 1,
        dests: vec![],
        weights: vec![],
        version_key: 0,
    };
    let commit = Call::CommitTimelockedMechanismWeights {
        netuid: 1,
        mecid: 1,
        commit: vec![1],
        reveal_round: 1,
        commit_reveal_version: 4,
    };
    let axon = Call::ServeAxon {
        netuid: 1,
        version: 0,
        ip: 0,
        port: 0,
        ip_type: 4,
        protocol: 0,
    };
    assert_eq!(index(&Call::Remark { data: vec![] }), (0, 0));
    assert_eq!(index(&Call::TransferStake(transfer(1, 1))), (7, 86));
    assert_eq!(
        index(&Call::AddStake {
            hotkey: account(1),
            netuid: 1,
            amount_staked: 1
        }),
        (7, 2)
    );
    assert_eq!(
        index(&Call::RemoveStake {
            hotkey: account(1),
            netuid: 1,
            amount_unstaked: 1
        }),
        (7, 3)
    );
    assert_eq!(index(&Call::BatchAll { calls: vec![] }), (11, 2));
    assert_eq!(
        index(&Call::SetCommitment {
            netuid: 1,
            data: vec![]
        }),
        (18, 0)
    );
    assert_eq!(index(&weights), (7, 119));
    assert_eq!(index(&commit), (7, 118));
    assert_eq!(index(&axon), (7, 4));
}
