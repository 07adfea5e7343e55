//! EIP-712 against eth-account (PyPI, a client nobody on this project wrote): for every report
//! type, its digest equals ours, its signature by a test key equals ours byte for byte (RFC 6979),
//! and ours recovers to the same signer in eth-account.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use alloy_primitives::{address, b256, keccak256, U256};
use tao20_creation::eip712::{
    Asset, CreationFile, CreationReport, Eip712Message, Position, RefundReport, Sweep,
};
use tao20_creation::signing::ReportSigner;

fn messages() -> Vec<Eip712Message> {
    let positions = vec![
        Position {
            netuid: 3,
            hotkey: b256!("0101010101010101010101010101010101010101010101010101010101010101"),
            amount: 123_456_789,
        },
        Position {
            netuid: 64,
            hotkey: b256!("ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00"),
            amount: u64::MAX,
        },
    ];
    vec![
        Eip712Message::CreationFile(CreationFile {
            epoch_id: 7,
            valid_from_block: 705_600,
            valid_until_block: 806_399,
            shares_per_unit: U256::from(10u64).pow(U256::from(21u64)),
            tolerance_bps: 10,
            min_units: 1,
            assets: vec![
                Asset {
                    netuid: 3,
                    qty_per_unit: 31_250_000_000,
                    weight_bps: 6_000,
                },
                Asset {
                    netuid: 64,
                    qty_per_unit: 1,
                    weight_bps: 4_000,
                },
            ],
            signer_set_version: 2,
        }),
        Eip712Message::CreationReport(CreationReport {
            request_id: keccak256("request"),
            epoch_id: 7,
            creation_file_hash: keccak256("file"),
            receiver: address!("70997970c51812dc3a010c7d01b50e0d17dc79c8"),
            units: 3,
            positions: positions.clone(),
            delivery_block: 705_700,
            delivery_index: 4,
            value_rao: U256::from(30_000_000_123u64),
            nav_per_share: U256::MAX,
            signer_set_version: 2,
        }),
        Eip712Message::RefundReport(RefundReport {
            request_id: alloy_primitives::B256::ZERO,
            coldkey: keccak256("coldkey"),
            positions: positions.clone(),
            delivery_block: 1,
            delivery_index: 0,
            signer_set_version: 1,
        }),
        Eip712Message::Sweep(Sweep {
            positions,
            nonce: 9,
            signer_set_version: 3,
        }),
    ]
}

#[test]
fn digests_and_signatures_agree_with_eth_account() {
    let chain_id = 964u64;
    let contract = address!("cf7ed3acca5a467e9e704c703e8d87f634fb0fc9");
    let key = keccak256("tao20.test.signer0");
    let signer = ReportSigner::from_bytes(&key).unwrap();
    let msgs = messages();
    let request = serde_json::json!({
        "chainId": chain_id,
        "contract": contract.to_string(),
        "key": key.to_string(),
        "messages": msgs.iter().map(|m| {
            let mut v = serde_json::to_value(m).unwrap();
            v["keeperSignature"] = serde_json::Value::String(format!(
                "0x{}",
                hex::encode(signer.sign(m, chain_id, contract).unwrap())
            ));
            v
        }).collect::<Vec<_>>(),
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/py/eth_account_eip712.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "eth-account side failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), msgs.len());
    for (m, a) in msgs.iter().zip(&answers) {
        let digest = m.digest(chain_id, contract);
        assert_eq!(a["digest"], digest.to_string(), "{}", m.type_name());
        let ours = format!(
            "0x{}",
            hex::encode(signer.sign(m, chain_id, contract).unwrap())
        );
        assert_eq!(
            a["signature"],
            ours,
            "{}: RFC 6979 gives one signature",
            m.type_name()
        );
        assert_eq!(
            a["recovered"].as_str().unwrap().to_lowercase(),
            signer.address().to_string().to_lowercase(),
            "{}",
            m.type_name()
        );
    }
}
