//! The Frontier relay against a real anvil: each way a subtensor node answers differently from
//! anvil (pruned state, blocks past the head, the logs limit, revert shape, finality, a restart's
//! lost pool, a dropped broadcast, batches and garbage), and the keeper's and the miner's own code
//! meeting those answers: a keeper back after the window, a miner back after the window, two
//! keepers racing one settlement through a live pool, and a dropped keeper transaction. Blocks are
//! mined by the tests (anvil's automine off where a pool matters).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../bevm/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{address, Address, Bytes, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use common::{anvil_bin, Fixture};
use serde_json::{json, Value};
use tao20_bevm::cursor::Cursor;
use tao20_bevm::events::ContractEvent;
use tao20_bevm::writer::{Call, Confirmed, Sent};
use tao20_bevm::{Reader, Retry, Writer};
use tao20_creation::eip712::Eip712Message;
use tao20_devnet::frontier::{
    FinalizedSource, FrontierConfig, FrontierRelay, INTERNAL_ERROR, INVALID_PARAMS,
    INVALID_REQUEST, PARSE_ERROR, REVERT_MESSAGE,
};
use tao20_miner::evm::{EvmAccount, TxState};

/// Emits one empty log (`LOG0`) per call.
const EMITTER: Address = address!("00000000000000000000000000000000000e0001");
/// Reverts with the four bytes `0xdeadbeef`.
const REVERTER: Address = address!("00000000000000000000000000000000000e0002");

fn window(state_window: u64) -> FrontierConfig {
    FrontierConfig {
        state_window,
        max_logs: 10_000,
    }
}

async fn relay(upstream: &str, cfg: FrontierConfig) -> FrontierRelay {
    FrontierRelay::start("127.0.0.1:0", upstream, cfg, FinalizedSource::new(0))
        .await
        .unwrap()
}

/// A bare anvil with the emitter and the reverter placed, automine off, and a provider signing
/// as its first account.
async fn bare_anvil() -> (AnvilInstance, DynProvider) {
    tao20_bevm::rpc::ensure_tls();
    let anvil = Anvil::new().path(anvil_bin()).try_spawn().unwrap();
    let key = PrivateKeySigner::from(anvil.keys()[0].clone());
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key))
        .connect_http(anvil.endpoint_url())
        .erased();
    // PUSH1 0 PUSH1 0 LOG0 STOP
    provider
        .anvil_set_code(EMITTER, Bytes::from_static(&[0x60, 0, 0x60, 0, 0xa0, 0]))
        .await
        .unwrap();
    // PUSH4 deadbeef PUSH1 224 SHL PUSH1 0 MSTORE PUSH1 4 PUSH1 0 REVERT
    let reverter = hex::decode("63deadbeef60e01b60005260046000fd").unwrap();
    provider
        .anvil_set_code(REVERTER, reverter.into())
        .await
        .unwrap();
    provider.anvil_set_auto_mine(false).await.unwrap();
    (anvil, provider)
}

async fn post(url: &str, body: impl Into<reqwest::Body>) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// One JSON-RPC call's whole answer (`result` or `error`).
async fn rpc(url: &str, method: &str, params: Value) -> Value {
    post(
        url,
        json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string(),
    )
    .await
}

fn error_code(answer: &Value) -> Option<i64> {
    answer["error"]["code"].as_i64()
}

fn hex_of(n: u64) -> String {
    format!("{n:#x}")
}

/// Sends a call to the emitter (one log) and returns its hash; mined by the caller.
async fn emit(provider: &DynProvider) -> B256 {
    let tx = TransactionRequest::default().with_to(EMITTER);
    *provider.send_transaction(tx).await.unwrap().tx_hash()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_old_future_and_finalized_blocks_as_a_pruned_frontier_node() {
    let (anvil, direct) = bare_anvil().await;
    let finalized = FinalizedSource::new(0);
    let relay = FrontierRelay::start(
        "127.0.0.1:0",
        &anvil.endpoint(),
        FrontierConfig {
            state_window: 8,
            max_logs: 3,
        },
        finalized.clone(),
    )
    .await
    .unwrap();
    let url = relay.url();
    let me = direct.get_accounts().await.unwrap()[0];

    let old_tx = emit(&direct).await;
    direct.anvil_mine(Some(1), None).await.unwrap();
    let old_block = direct.get_block_number().await.unwrap();
    let old_hash = direct
        .get_block_by_number(old_block.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    direct.anvil_mine(Some(20), None).await.unwrap();
    let head = direct.get_block_number().await.unwrap();
    let lowest = head - 7;

    // Blocks: null below the window, there inside it, an error past the head (anvil: null).
    let old = rpc(
        &url,
        "eth_getBlockByNumber",
        json!([hex_of(old_block), false]),
    )
    .await;
    assert_eq!(old["result"], Value::Null, "{old}");
    let kept = rpc(&url, "eth_getBlockByNumber", json!([hex_of(lowest), false])).await;
    assert_eq!(kept["result"]["number"], hex_of(lowest), "{kept}");
    let below = rpc(
        &url,
        "eth_getBlockByNumber",
        json!([hex_of(lowest - 1), false]),
    )
    .await;
    assert_eq!(below["result"], Value::Null, "{below}");
    let future = rpc(
        &url,
        "eth_getBlockByNumber",
        json!([hex_of(head + 1), false]),
    )
    .await;
    assert_eq!(error_code(&future), Some(INTERNAL_ERROR), "{future}");
    assert!(future["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Expect block number from id"));
    assert!(direct
        .get_block_by_number((head + 1).into())
        .await
        .unwrap()
        .is_none());
    let by_hash = rpc(&url, "eth_getBlockByHash", json!([old_hash, false])).await;
    assert_eq!(by_hash["result"], Value::Null, "{by_hash}");

    // Receipts and transactions of discarded blocks are gone; anvil still has them.
    let receipt = rpc(&url, "eth_getTransactionReceipt", json!([old_tx])).await;
    assert_eq!(receipt["result"], Value::Null, "{receipt}");
    let tx = rpc(&url, "eth_getTransactionByHash", json!([old_tx])).await;
    assert_eq!(tx["result"], Value::Null, "{tx}");
    assert!(direct
        .get_transaction_receipt(old_tx)
        .await
        .unwrap()
        .is_some());

    // Logs over discarded blocks: silently nothing, where anvil has the old log.
    let all = json!([{"address": EMITTER, "fromBlock": "0x0", "toBlock": "latest"}]);
    let logs = rpc(&url, "eth_getLogs", all.clone()).await;
    assert_eq!(logs["result"], json!([]), "{logs}");
    assert_eq!(
        rpc(&anvil.endpoint(), "eth_getLogs", all.clone()).await["result"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // State reads at a discarded block fail; inside the window they answer; past the head fail.
    let at = |b: u64| hex_of(b);
    let reads = [
        ("eth_getBalance", json!([me, at(old_block)])),
        ("eth_getCode", json!([EMITTER, at(old_block)])),
        ("eth_getStorageAt", json!([EMITTER, "0x0", at(old_block)])),
        ("eth_getTransactionCount", json!([me, at(old_block)])),
        ("eth_call", json!([{"to": EMITTER}, at(old_block)])),
        (
            "eth_call",
            json!([{"to": EMITTER}, {"blockHash": old_hash}]),
        ),
        ("eth_estimateGas", json!([{"to": EMITTER}, at(old_block)])),
    ];
    for (method, params) in reads {
        let a = rpc(&url, method, params.clone()).await;
        assert_eq!(
            error_code(&a),
            Some(INTERNAL_ERROR),
            "{method} {params}: {a}"
        );
        assert!(rpc(&anvil.endpoint(), method, params).await["result"].is_string());
    }
    let now = rpc(&url, "eth_getBalance", json!([me, at(lowest)])).await;
    assert!(now["result"].is_string(), "{now}");
    let latest = rpc(&url, "eth_getTransactionCount", json!([me, "latest"])).await;
    assert_eq!(latest["result"], "0x1", "{latest}");
    let ahead = rpc(&url, "eth_getBalance", json!([me, at(head + 1)])).await;
    assert_eq!(error_code(&ahead), Some(INTERNAL_ERROR), "{ahead}");

    // More logs than the node's limit is an error; fewer pass; a range past the head is
    // clamped, and one starting past it is empty.
    for _ in 0..2 {
        emit(&direct).await;
    }
    direct.anvil_mine(Some(1), None).await.unwrap();
    let two = direct.get_block_number().await.unwrap();
    for _ in 0..2 {
        emit(&direct).await;
    }
    direct.anvil_mine(Some(1), None).await.unwrap();
    let range = |from: u64, to: u64| json!([{"address": EMITTER, "fromBlock": hex_of(from), "toBlock": hex_of(to)}]);
    let ok = rpc(&url, "eth_getLogs", range(two + 1, two + 100)).await;
    assert_eq!(ok["result"].as_array().map(Vec::len), Some(2), "{ok}");
    let ok = rpc(&url, "eth_getLogs", range(two, two)).await;
    assert_eq!(ok["result"].as_array().map(Vec::len), Some(2), "{ok}");
    let too_many = rpc(&url, "eth_getLogs", range(two, two + 1)).await;
    assert_eq!(error_code(&too_many), Some(INTERNAL_ERROR), "{too_many}");
    assert!(too_many["error"]["message"]
        .as_str()
        .unwrap()
        .contains("more than 3 results"));
    let past = rpc(&url, "eth_getLogs", range(two + 5, two + 9)).await;
    assert_eq!(past["result"], json!([]), "{past}");

    // finalized and safe are the substrate side's number, not anvil's `head - 64`.
    let tag = |t: &'static str| {
        let url = url.clone();
        async move {
            rpc(&url, "eth_getBlockByNumber", json!([t, false])).await["result"]["number"].clone()
        }
    };
    // Nothing finalized yet past genesis, which the node no longer keeps.
    assert_eq!(tag("finalized").await, Value::Null);
    finalized.set(head - 2);
    assert_eq!(tag("finalized").await, hex_of(head - 2));
    assert_eq!(tag("safe").await, hex_of(head - 2));
    finalized.set(3);
    assert_eq!(
        tag("safe").await,
        hex_of(head - 2),
        "finality never moves back"
    );
    let bal = rpc(&url, "eth_getBalance", json!([me, "finalized"])).await;
    assert!(bal["result"].is_string(), "{bal}");
    let reader = Reader::new(tao20_bevm::rpc::connect(&url).unwrap(), &bare_deployment());
    assert_eq!(reader.finalized().await.unwrap(), head - 2);
}

/// A deployment record for a reader that only asks about blocks.
fn bare_deployment() -> tao20_bevm::Deployment {
    tao20_bevm::Deployment {
        chain_id: 31337,
        tao20: EMITTER,
        deploy_block: 0,
        vault_coldkey: B256::ZERO,
        genesis_block: 0,
        epoch_length: 1,
        delivery_window: 1,
        expiry_grace: 1,
        staking_precompile: REVERTER,
        alpha_precompile: REVERTER,
        signers: Vec::new(),
        threshold: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverts_batches_garbage_restarts_and_dropped_held_and_refused_sends() {
    let (anvil, direct) = bare_anvil().await;
    let relay = relay(&anvil.endpoint(), FrontierConfig::LITE).await;
    let url = relay.url();

    // A revert is -32603 with Frontier's message and the data, where anvil says code 3; alloy
    // still finds the revert data in it.
    let params = json!([{"to": REVERTER}, "latest"]);
    let reverted = rpc(&url, "eth_call", params.clone()).await;
    assert_eq!(error_code(&reverted), Some(INTERNAL_ERROR), "{reverted}");
    assert_eq!(reverted["error"]["message"], REVERT_MESSAGE);
    assert_eq!(reverted["error"]["data"], "0xdeadbeef");
    assert_eq!(
        error_code(&rpc(&anvil.endpoint(), "eth_call", params).await),
        Some(3)
    );
    let through = tao20_bevm::rpc::connect(&url).unwrap();
    let e = through
        .call(TransactionRequest::default().with_to(REVERTER))
        .await
        .unwrap_err();
    assert_eq!(
        e.as_error_resp().and_then(|r| r.as_revert_data()),
        Some(Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]))
    );
    let gas = rpc(&url, "eth_estimateGas", json!([{"to": REVERTER}])).await;
    assert_eq!(gas["error"]["message"], REVERT_MESSAGE, "{gas}");

    // A batch is answered call by call, ids kept, a bad member refused on its own.
    let before = relay.requests();
    let batch = post(
        &url,
        json!([
            {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
            {"jsonrpc": "2.0", "id": "two", "method": "eth_getBlockByNumber", "params": ["0x9999", false]},
            {"jsonrpc": "2.0", "id": 3, "method": "eth_chainId"},
            17
        ])
        .to_string(),
    )
    .await;
    let batch = batch.as_array().unwrap();
    assert_eq!(batch.len(), 4);
    assert_eq!(batch[0]["id"], 1);
    assert!(batch[0]["result"].is_string());
    assert_eq!(batch[1]["id"], "two");
    assert_eq!(error_code(&batch[1]), Some(INTERNAL_ERROR));
    assert_eq!(batch[2]["result"], "0x7a69");
    assert_eq!(error_code(&batch[3]), Some(INVALID_REQUEST));
    assert_eq!(relay.requests(), before + 3);

    // Garbage in, JSON-RPC errors out.
    assert_eq!(error_code(&post(&url, "not json").await), Some(PARSE_ERROR));
    assert_eq!(error_code(&post(&url, "[]").await), Some(INVALID_REQUEST));
    assert_eq!(error_code(&post(&url, "{}").await), Some(INVALID_REQUEST));
    let bad = [
        ("eth_getBlockByNumber", json!(["0xzz", false])),
        ("eth_getBlockByNumber", json!([])),
        ("eth_getBalance", json!([Address::ZERO, {"nonsense": 1}])),
        ("eth_getLogs", json!(["not a filter"])),
        ("eth_getLogs", json!([{"fromBlock": "yesterday"}])),
        ("eth_sendRawTransaction", json!(["0xnothex"])),
    ];
    for (method, params) in bad {
        let a = rpc(&url, method, params.clone()).await;
        assert_eq!(
            error_code(&a),
            Some(INVALID_PARAMS),
            "{method} {params}: {a}"
        );
    }
    let a = post(
        &url,
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":5}"#,
    )
    .await;
    assert_eq!(error_code(&a), Some(INVALID_PARAMS), "{a}");

    // A restart flushes the pool.
    let key = PrivateKeySigner::from(anvil.keys()[1].clone());
    let sender = tao20_bevm::rpc::connect_with_signer(&url, key).unwrap();
    let pooled = *sender
        .send_transaction(TransactionRequest::default().with_to(EMITTER))
        .await
        .unwrap()
        .tx_hash();
    assert!(sender
        .get_transaction_by_hash(pooled)
        .await
        .unwrap()
        .is_some());
    relay.restart().await.unwrap();
    assert!(sender
        .get_transaction_by_hash(pooled)
        .await
        .unwrap()
        .is_none());
    direct.anvil_mine(Some(1), None).await.unwrap();
    assert!(sender
        .get_transaction_receipt(pooled)
        .await
        .unwrap()
        .is_none());

    // Back-to-back sends each get the next nonce: the pending count includes the pool.
    let mut queued = Vec::new();
    for _ in 0..2 {
        let tx = sender
            .send_transaction(TransactionRequest::default().with_to(EMITTER))
            .await
            .unwrap();
        queued.push(*tx.tx_hash());
    }
    direct.anvil_mine(Some(1), None).await.unwrap();
    for tx in queued {
        let r = sender.get_transaction_receipt(tx).await.unwrap();
        assert!(r.is_some_and(|r| r.status()), "{tx} mined");
    }

    // A dropped send: its hash comes back, no pool ever sees it.
    relay.drop_next_sends(1);
    let dropped = *sender
        .send_transaction(TransactionRequest::default().with_to(EMITTER))
        .await
        .unwrap()
        .tx_hash();
    assert_eq!(relay.dropped(), vec![dropped]);
    assert!(direct
        .get_transaction_by_hash(dropped)
        .await
        .unwrap()
        .is_none());

    // A held send: its hash comes back, no block ever includes it.
    relay.hold_next_sends(1);
    let held = *sender
        .send_transaction(TransactionRequest::default().with_to(EMITTER))
        .await
        .unwrap()
        .tx_hash();
    assert_eq!(relay.held(), vec![held]);
    direct.anvil_mine(Some(1), None).await.unwrap();
    assert!(direct
        .get_transaction_by_hash(held)
        .await
        .unwrap()
        .is_none());

    // A refused call never reaches anvil; the next one does. A harness out of process arms
    // the same faults and reads what they caught through the `devnet_*` methods.
    let armed = rpc(&url, "devnet_failNext", json!(["eth_estimateGas", 1])).await;
    assert_eq!(armed["result"], true, "{armed}");
    let faults = rpc(&url, "devnet_faults", json!([])).await;
    assert_eq!(
        faults["result"]["failuresPending"]["eth_estimateGas"], 1,
        "{faults}"
    );
    assert_eq!(faults["result"]["held"], json!([held.to_string()]));
    let estimate = TransactionRequest::default().with_to(EMITTER);
    let refused = sender.estimate_gas(estimate.clone()).await.unwrap_err();
    assert!(refused.to_string().contains("refused"), "{refused}");
    assert!(sender.estimate_gas(estimate).await.unwrap() > 0);
    let bad = rpc(&url, "devnet_failNext", json!([7])).await;
    assert_eq!(error_code(&bad), Some(INVALID_PARAMS), "{bad}");

    relay.stop();
    let stopped = tokio::time::timeout(
        Duration::from_secs(5),
        reqwest::Client::new().post(&url).body("{}").send(),
    )
    .await
    .unwrap();
    assert!(stopped.is_err(), "a stopped relay serves nothing");
}

// ----- the keeper's and the miner's code through the relay -------------------------------------

async fn publish_call(fx: &Fixture) -> Call {
    let file = fx.current_file().await;
    let signatures = fx.sign(&Eip712Message::CreationFile(file.clone()), 4);
    Call::PublishEpoch { file, signatures }
}

fn writer_through(url: &str, key: &PrivateKeySigner, fx: &Fixture, timeout: Duration) -> Writer {
    Writer::new(
        tao20_bevm::rpc::connect_with_signer(url, key.clone()).unwrap(),
        fx.deployment.tao20,
        key.address(),
        1,
        timeout,
    )
    .with_poll_interval(Duration::from_millis(20))
}

/// Reads the events up to `target` as the keeper's engine does, one cursor poll after another.
async fn follow(cursor: &mut Cursor, reader: &Reader, target: u64) -> Vec<ContractEvent> {
    let mut events = Vec::new();
    while cursor.next <= target {
        let batch = cursor.poll(reader, target).await.unwrap();
        events.extend(batch.events.into_iter().map(|e| e.event));
        *cursor = batch.next;
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_back_after_the_window_is_told_to_use_an_archive_node() {
    let fx = Fixture::new().await;
    let pruned = relay(&fx.url, window(16)).await;
    let archive = relay(&fx.url, FrontierConfig::ARCHIVE).await;
    let reader = Reader::new(
        tao20_bevm::rpc::connect(&pruned.url()).unwrap(),
        &fx.deployment,
    );
    fx.mine(20).await;
    // The keeper runs: an event inside the window is read.
    let mut cursor = Cursor::starting_at(fx.head().await - 3);
    let call = publish_call(&fx).await;
    let out = fx.writer(&fx.relayer).submit(&call).await.unwrap();
    assert!(matches!(out, Confirmed::Included(_)), "{out:?}");
    let events = follow(&mut cursor, &reader, fx.head().await).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ContractEvent::EpochPublished { .. })),
        "{events:?}"
    );
    let stopped_at = cursor.clone();

    // It is down longer than the node keeps state; an event lands meanwhile.
    fx.mine(10).await;
    let (missed, _) = fx
        .writer(&fx.miner)
        .request_creation(
            1,
            alloy::primitives::keccak256("coldkey"),
            fx.miner.address(),
            U256::ZERO,
            U256::from(common::BOND),
        )
        .await
        .unwrap();
    fx.mine(30).await;
    let head = fx.head().await;

    // Back: the remembered block is gone, which is neither a reorg nor an endpoint hiccup.
    let e = stopped_at.poll(&reader, head).await.unwrap_err();
    let remembered = stopped_at.recent.last().unwrap().0;
    assert!(
        matches!(e, tao20_bevm::Error::StateDiscarded { block, .. } if block == remembered),
        "{e:?}"
    );
    assert_eq!(e.retry(), Retry::Never, "the engine must stop, not retry");
    assert!(e.to_string().contains("archive node"), "{e}");

    // A fresh database starting at the deployment block meets the same, before reading a log.
    let fresh = Cursor::starting_at(fx.deployment.deploy_block);
    let e = fresh.poll(&reader, head).await.unwrap_err();
    assert!(
        matches!(e, tao20_bevm::Error::StateDiscarded { block, .. } if block == fx.deployment.deploy_block),
        "{e:?}"
    );
    // The node itself says nothing: its logs over those blocks are just empty.
    let silent = rpc(
        &pruned.url(),
        "eth_getLogs",
        json!([{"address": fx.deployment.tao20, "fromBlock": hex_of(stopped_at.next), "toBlock": "latest"}]),
    )
    .await;
    assert_eq!(silent["result"], json!([]), "{silent}");
    // Direct reads at a discarded block name the same cause.
    for e in [
        reader.fund(stopped_at.next).await.unwrap_err(),
        reader.logs(stopped_at.next, head).await.unwrap_err(),
        reader.deployed_at(0).await.unwrap_err(),
    ] {
        assert!(
            matches!(e, tao20_bevm::Error::StateDiscarded { .. }),
            "{e:?}"
        );
        assert_eq!(e.retry(), Retry::Never);
    }

    // Through an archive node the same cursor catches up and sees the event it missed.
    let archive_reader = Reader::new(
        tao20_bevm::rpc::connect(&archive.url()).unwrap(),
        &fx.deployment,
    );
    let mut resumed = stopped_at.clone();
    let caught_up = follow(&mut resumed, &archive_reader, head).await;
    assert!(
        caught_up
            .iter()
            .any(|e| matches!(e, ContractEvent::CreationRequested(r) if r.request_id == missed)),
        "{caught_up:?}"
    );
    assert!(archive_reader.fund(stopped_at.next).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miner_back_after_the_window_never_calls_a_mined_transaction_replaced() {
    let (anvil, direct) = bare_anvil().await;
    let pruned = relay(&anvil.endpoint(), window(8)).await;
    let archive = relay(&anvil.endpoint(), FrontierConfig::ARCHIVE).await;
    let key = PrivateKeySigner::from(anvil.keys()[4].clone());
    let miner = EvmAccount::connect(&pruned.url(), key.clone())
        .await
        .unwrap()
        .with_poll_interval(Duration::from_millis(10));
    let on_archive = EvmAccount::connect(&archive.url(), key).await.unwrap();
    let to = Address::repeat_byte(0x42);

    let mined = miner
        .sign("pay", to, Bytes::new(), U256::from(1))
        .await
        .unwrap();
    miner.broadcast(&mined).await.unwrap();
    direct.anvil_mine(Some(1), None).await.unwrap();
    assert!(matches!(
        miner.state(&mined).await.unwrap(),
        TxState::Mined(_)
    ));

    // Inside the window a transaction whose nonce another one took is told apart.
    let lost = miner
        .sign("pay", to, Bytes::new(), U256::from(2))
        .await
        .unwrap();
    let winner = miner
        .sign("pay", to, Bytes::new(), U256::from(3))
        .await
        .unwrap();
    assert_eq!(lost.nonce, winner.nonce);
    miner.broadcast(&winner).await.unwrap();
    direct.anvil_mine(Some(1), None).await.unwrap();
    assert!(matches!(
        miner.state(&lost).await.unwrap(),
        TxState::Replaced
    ));

    // The miner is down past the window: the receipt is gone and the nonce has moved on.
    direct.anvil_mine(Some(20), None).await.unwrap();
    // The relay reuses its read of anvil's head for 20 ms, and these blocks were mined behind
    // its back: a faster mine than that would still be answered from the old head.
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    let receipt = rpc(
        &pruned.url(),
        "eth_getTransactionReceipt",
        json!([mined.hash]),
    )
    .await;
    assert_eq!(receipt["result"], Value::Null);
    for tx in [&mined, &lost] {
        match miner.state(tx).await {
            Err(tao20_miner::Error::Bevm(e @ tao20_bevm::Error::StateDiscarded { .. })) => {
                assert!(e.to_string().contains("archive node"), "{e}");
            }
            other => panic!("{}: expected StateDiscarded, got {other:?}", tx.purpose),
        }
    }
    // An archive node still tells them apart.
    assert!(matches!(
        on_archive.state(&mined).await.unwrap(),
        TxState::Mined(_)
    ));
    assert!(matches!(
        on_archive.state(&lost).await.unwrap(),
        TxState::Replaced
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keepers_racing_one_pending_settlement_send_one_transaction() {
    let fx = Fixture::new().await;
    let relay = relay(&fx.url, FrontierConfig::LITE).await;
    fx.provider.anvil_set_auto_mine(false).await.unwrap();
    let call = publish_call(&fx).await;
    let first = writer_through(&relay.url(), &fx.relayer, &fx, Duration::from_secs(20));
    let second = writer_through(&relay.url(), &fx.miner, &fx, Duration::from_secs(20));
    let nonce_of = |a: Address| {
        let p = fx.provider.clone();
        async move { p.get_transaction_count(a).pending().await.unwrap() }
    };
    let second_nonce = nonce_of(second.from()).await;

    let Sent::Broadcast { tx } = first.send(&call).await.unwrap() else {
        panic!("the first keeper broadcasts")
    };
    let pooled = fx
        .provider
        .get_transaction_by_hash(tx)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pooled.block_number, None, "still in the pool");

    // The second simulates on the pending block, which holds the first's transaction: that one
    // `eth_call` settles it, before any nonce or fee is filled. (alloy's gas estimate, also on
    // `pending`, would catch it one step later; the simulation must not lean on that.)
    let before = relay.requests();
    let raced = second.send(&call).await.unwrap();
    assert!(
        matches!(&raced, Sent::AlreadySettled { reason } if reason.name == "EpochAlreadyPublished"),
        "{raced:?}"
    );
    assert_eq!(
        relay.requests() - before,
        1,
        "settled by the simulation alone"
    );
    assert_eq!(
        nonce_of(second.from()).await,
        second_nonce,
        "the second sent nothing"
    );

    fx.mine(1).await;
    let out = first.confirm(&call, tx).await.unwrap();
    let Confirmed::Included(included) = out else {
        panic!("{out:?}")
    };
    let block = fx
        .provider
        .get_block_by_number(included.block.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.transactions.len(), 1, "exactly one transaction");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_keeper_transaction_leaves_no_nonce_gap() {
    let fx = Fixture::new().await;
    let relay = relay(&fx.url, FrontierConfig::LITE).await;
    fx.provider.anvil_set_auto_mine(false).await.unwrap();
    let call = publish_call(&fx).await;
    let keeper = writer_through(&relay.url(), &fx.relayer, &fx, Duration::from_millis(500));
    let nonce = fx
        .provider
        .get_transaction_count(keeper.from())
        .await
        .unwrap();

    relay.drop_next_sends(1);
    let Sent::Broadcast { tx: lost } = keeper.send(&call).await.unwrap() else {
        panic!("the simulation passes")
    };
    assert_eq!(relay.dropped(), vec![lost]);
    fx.mine(2).await;
    let e = keeper.confirm(&call, lost).await.unwrap_err();
    assert!(matches!(e, tao20_bevm::Error::Timeout { .. }), "{e:?}");

    // The keeper sends again, as its executor does after a timeout: the nonce is the chain's.
    let Sent::Broadcast { tx } = keeper.send(&call).await.unwrap() else {
        panic!("still unpublished")
    };
    let sent = fx
        .provider
        .get_transaction_by_hash(tx)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        alloy::consensus::Transaction::nonce(&sent),
        nonce,
        "the dropped transaction's nonce is used again"
    );
    fx.mine(1).await;
    let out = keeper.confirm(&call, tx).await.unwrap();
    assert!(matches!(out, Confirmed::Included(_)), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_mined_between_the_status_reads_is_mined_not_superseded() {
    let fx = Fixture::new().await;
    let relay = relay(&fx.url, FrontierConfig::LITE).await;
    fx.provider.anvil_set_auto_mine(false).await.unwrap();
    let call = publish_call(&fx).await;
    let keeper = writer_through(&relay.url(), &fx.relayer, &fx, Duration::from_millis(500))
        .with_wallet(fx.relayer.clone());
    let tao20_bevm::txman::Prepared::Attempt(attempt) = keeper.prepare(&call, None).await.unwrap()
    else {
        panic!("the epoch is not published yet")
    };
    keeper.broadcast(&attempt).await.unwrap();
    assert_eq!(
        keeper.status(&call, &attempt).await.unwrap(),
        tao20_bevm::txman::AttemptStatus::Pending
    );

    // The block with the attempt is mined right after the node answers the receipt read
    // ("none yet"), so the nonce read that follows finds the nonce used: by this very attempt.
    relay.mine_after_next("eth_getTransactionReceipt", 1);
    let status = keeper.status(&call, &attempt).await.unwrap();
    assert!(
        matches!(
            status,
            tao20_bevm::txman::AttemptStatus::Mined(Confirmed::Included(ref inc))
                if inc.tx == attempt.hash
        ),
        "{status:?}"
    );
    let receipt = fx
        .provider
        .get_transaction_receipt(attempt.hash)
        .await
        .unwrap();
    assert!(receipt.is_some_and(|r| r.status()));
}
