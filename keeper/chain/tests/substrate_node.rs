//! The devnet's Substrate node front, read through the real client: every read `SubxtClient`
//! makes over JSON-RPC (storage at the runtime's keys, runtime APIs, blocks, events) equals what
//! the simulator answers directly, and the node answers errors as a node does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use serde_json::Value;
use subxt::rpcs::{rpc_params, RpcClient};
use tao20_chain::client::{self, Signer, SubxtClient, CHECKED_SPEC_VERSION};
use tao20_chain::sim::node::{dev_accounts, NodeConfig, NodeServer};
use tao20_chain::sim::{SimConfig, Simulator, SubnetSpec, WeightsRules, WEIGHT_ONE};
use tao20_chain::types::{Bytes32, Call, Event, TransferStake};
use tao20_chain::Subtensor;

const TAO: u64 = 1_000_000_000;
const OWNER: Bytes32 = Bytes32([1; 32]);
const MINER: Bytes32 = Bytes32([3; 32]);
const MINER_HOT: Bytes32 = Bytes32([4; 32]);
const VALI: Bytes32 = Bytes32([6; 32]);
const VALI_HOT: Bytes32 = Bytes32([7; 32]);

fn spec(netuid: u16) -> SubnetSpec {
    SubnetSpec {
        netuid,
        owner: OWNER,
        owner_hotkey: Bytes32([100 + u8::try_from(netuid).unwrap(); 32]),
        tempo: 10,
        tao_in: 1_000 * TAO,
        alpha_in: 4_000 * TAO,
        weight_tao: WEIGHT_ONE / 2,
    }
}

/// Two subnets with neurons, stake, a commitment, weights, an axon, balances and a failed call.
fn populated(state_window: u64) -> Simulator {
    let mut sim = Simulator::new(SimConfig {
        state_window,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(spec(1)).unwrap();
    // Subnet 2 is a balancer pool with unequal weights (30 % TAO), as most of finney's are.
    sim.register_subnet(SubnetSpec {
        weight_tao: 300_000_000_000_000_000,
        ..spec(2)
    })
    .unwrap();
    sim.set_mechanisms(1, 2, None).unwrap();
    sim.set_commit_reveal(1, false, 1).unwrap();
    sim.set_transfers_enabled(2, false).unwrap();
    sim.register_neuron(1, MINER_HOT, MINER).unwrap();
    sim.register_neuron(1, VALI_HOT, VALI).unwrap();
    sim.faucet(MINER, 50).unwrap();
    sim.faucet(VALI, 50).unwrap();
    sim.add_stake(MINER, MINER_HOT, 1, 10 * TAO).unwrap();
    sim.add_stake(VALI, VALI_HOT, 1, 20 * TAO).unwrap();
    let data: Vec<u8> = (0..200u8).collect(); // two raw fields
    sim.submit(Some(MINER_HOT), Call::SetCommitment { netuid: 1, data })
        .unwrap();
    sim.submit(
        Some(VALI_HOT),
        Call::SetMechanismWeights {
            netuid: 1,
            mecid: 1,
            dests: vec![0, 1],
            weights: vec![1, 65_535],
            version_key: 0,
        },
    )
    .unwrap();
    sim.submit(
        Some(MINER_HOT),
        Call::ServeAxon {
            netuid: 1,
            version: 7,
            ip: 0x7f00_0001,
            port: 8091,
            ip_type: 4,
            protocol: 0,
        },
    )
    .unwrap();
    // A dispatch failure lands in its block with `ExtrinsicFailed`.
    let _ = sim.submit(
        Some(MINER),
        Call::AddStake {
            hotkey: MINER_HOT,
            netuid: 9,
            amount_staked: TAO,
        },
    );
    sim.advance(3).unwrap();
    sim
}

async fn serve(sim: Simulator) -> (Arc<Mutex<Simulator>>, NodeServer) {
    let sim = Arc::new(Mutex::new(sim));
    let server = NodeServer::start("127.0.0.1:0", sim.clone(), NodeConfig::default())
        .await
        .unwrap();
    (sim, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subxt_client_reads_what_the_simulator_holds() {
    let (sim, server) = serve(populated(256)).await;
    let client = SubxtClient::connect(&server.url(), None).await.unwrap();
    assert_eq!(client.runtime_spec_version(), CHECKED_SPEC_VERSION);

    let head = client.finalized_head().await.unwrap();
    // The lock is taken per read: the server needs it while the client waits.
    let s = || sim.lock().unwrap();
    assert_eq!(head.number, s().finalized_head().number);
    let mut blocks_with_calls = 0;
    for at in 0..=head.number {
        // Every block's extrinsics and events decode to what the simulator applied.
        let ours = client.block_extrinsics(at).await.unwrap();
        let theirs = s().block_extrinsics(at).unwrap();
        assert_eq!(ours, theirs, "block {at}");
        blocks_with_calls += usize::from(theirs.len() > 1);
        assert_eq!(
            client.chain_time(at).await.unwrap(),
            s().chain_time(at).unwrap()
        );
    }
    assert_eq!(blocks_with_calls, 6); // two stakes, a commitment, weights, an axon, a failure
    let at = head.number;
    for who in [MINER, VALI, OWNER] {
        assert_eq!(
            client.free_balance(at, who).await.unwrap(),
            s().free_balance(at, who).unwrap()
        );
    }
    assert!(client.free_balance(at, MINER).await.unwrap() > 0);
    for netuid in [1, 2] {
        for (cold, hot) in [(MINER, MINER_HOT), (VALI, VALI_HOT), (VALI, MINER_HOT)] {
            assert_eq!(
                client.stake(at, cold, hot, netuid).await.unwrap(),
                s().stake(at, cold, hot, netuid).unwrap(),
                "stake of {cold} on {hot} in {netuid}"
            );
        }
        assert_eq!(
            client.commitments(at, netuid).await.unwrap(),
            s().commitments(at, netuid).unwrap()
        );
        assert_eq!(
            client
                .commitment_space(at, netuid, MINER_HOT)
                .await
                .unwrap(),
            s().commitment_space(at, netuid, MINER_HOT).unwrap()
        );
        assert_eq!(
            client.mechanism_emission_split(at, netuid).await.unwrap(),
            s().mechanism_emission_split(at, netuid).unwrap()
        );
        assert_eq!(
            client.current_alpha_price(at, netuid).await.unwrap(),
            s().current_alpha_price(at, netuid).unwrap()
        );
        assert_eq!(
            client.pool_reserves(at, netuid).await.unwrap(),
            s().pool_reserves(at, netuid).unwrap()
        );
        assert_eq!(
            client.epoch_schedule(at, netuid).await.unwrap(),
            s().epoch_schedule(at, netuid).unwrap()
        );
        let pool = client.swap_pool(at, netuid).await.unwrap();
        assert_eq!(pool, s().swap_pool(at, netuid).unwrap());
        assert_eq!(
            pool.balancer()
                .unwrap()
                .price_rao(pool.reserves.alpha_in, pool.reserves.tao_in),
            client.current_alpha_price(at, netuid).await.unwrap(),
            "the pool's weights and reserves give the runtime API's price"
        );
        assert_eq!(
            client.tempo(at, netuid).await.unwrap(),
            s().tempo(at, netuid).unwrap()
        );
        assert_eq!(
            client.neurons(at, netuid).await.unwrap(),
            s().neurons(at, netuid).unwrap()
        );
        assert_eq!(
            client.subnet_owner(at, netuid).await.unwrap(),
            s().subnet_owner(at, netuid).unwrap()
        );
        assert_eq!(
            client.transfers_enabled(at, netuid).await.unwrap(),
            s().transfers_enabled(at, netuid).unwrap()
        );
        assert_eq!(
            client.weights_settings(at, netuid).await.unwrap(),
            s().weights_settings(at, netuid).unwrap()
        );
        for mecid in [0, 1] {
            for uid in 0..3 {
                assert_eq!(
                    client.weights(at, netuid, mecid, uid).await.unwrap(),
                    s().weights(at, netuid, mecid, uid).unwrap()
                );
            }
        }
    }
    // The beacon timelocked weights are encrypted to is the one the chain verifies against.
    assert_eq!(client.beacon().await.unwrap(), s().beacon());
    assert_ne!(s().beacon(), tao20_chain::drand::quicknet());
    // The values the comparisons above must have exercised, not defaults on both sides.
    assert_eq!(client.commitments(at, 1).await.unwrap()[0].data.len(), 200);
    assert_eq!(client.weights(at, 1, 1, 2).await.unwrap().len(), 2);
    assert_eq!(
        client.mechanism_emission_split(at, 1).await.unwrap().len(),
        2
    );
    assert!(!client.transfers_enabled(at, 2).await.unwrap());
    let neurons = client.neurons(at, 1).await.unwrap();
    assert!(neurons.iter().any(|n| n.axon.is_some() && n.stake > 0));
    assert!(server.requests() > 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_chain_by_blake2_header_hashes_and_old_state_is_discarded() {
    let (sim, server) = serve(populated(16)).await;
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let head = sim.lock().unwrap().head();

    // Each header's hash is blake2-256 of its SCALE encoding and the next header names it.
    let mut parent = [0u8; 32];
    for n in 0..=head {
        let hash: String = rpc
            .request("chain_getBlockHash", rpc_params![n])
            .await
            .unwrap();
        let header: Value = rpc
            .request("chain_getHeader", rpc_params![hash.clone()])
            .await
            .unwrap();
        assert_eq!(header["parentHash"], hex(&parent), "block {n}");
        assert_eq!(header["number"], format!("0x{n:x}"));
        let encoded = [
            &parent[..],
            &codec::Encode::encode(&codec::Compact(u32::try_from(n).unwrap()))[..],
            &unhex(header["stateRoot"].as_str().unwrap()),
            &unhex(header["extrinsicsRoot"].as_str().unwrap()),
            &[0u8][..],
        ]
        .concat();
        let computed = sp_crypto_hashing::blake2_256(&encoded);
        assert_eq!(hex(&computed), hash, "block {n}");
        parent = computed;
    }
    let past: Value = rpc
        .request("chain_getBlockHash", rpc_params![head + 1])
        .await
        .unwrap();
    assert!(past.is_null(), "a block not yet produced has no hash");

    // State older than the window answers the node's error; blocks themselves stay.
    sim.lock().unwrap().advance(20).unwrap();
    let old: String = rpc
        .request("chain_getBlockHash", rpc_params![2])
        .await
        .unwrap();
    let key = format!(
        "0x{}{}",
        hex::encode(sp_crypto_hashing::twox_128(b"Timestamp")),
        hex::encode(sp_crypto_hashing::twox_128(b"Now"))
    );
    let err = rpc
        .request::<Value>("state_getStorage", rpc_params![key.clone(), old.clone()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("State already discarded"), "{err}");
    let block: Value = rpc
        .request("chain_getBlock", rpc_params![old])
        .await
        .unwrap();
    assert!(!block["block"]["extrinsics"].as_array().unwrap().is_empty());
    let client = SubxtClient::connect(&server.url(), None).await.unwrap();
    let err = client.tempo(2, 1).await.unwrap_err().to_string();
    assert!(err.contains("State already discarded"), "{err}");
    let now: Value = rpc
        .request("state_getStorage", rpc_params![key])
        .await
        .unwrap();
    assert!(now.is_string());

    // What a client sends wrong gets JSON-RPC's errors, and the node goes on serving.
    for (method, params, code) in [
        ("no_suchMethod", rpc_params![], "-32601"),
        ("state_getStorage", rpc_params!["zz"], "-32602"),
        ("state_getStorage", rpc_params!["0x00", "0x1234"], "-32602"),
        ("chain_getBlockHash", rpc_params![[1, 2]], "-32602"),
        (
            "state_getStorage",
            rpc_params!["0x00", format!("0x{}", "ab".repeat(32))],
            "4003",
        ),
        ("state_getKeysPaged", rpc_params!["0x", 5000], "4002"),
        ("state_call", rpc_params!["Nope_nothing", "0x"], "4003"),
    ] {
        let err = rpc
            .request::<Value>(method, params)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(code), "{method}: {err}");
    }
    let methods: Value = rpc.request("rpc_methods", rpc_params![]).await.unwrap();
    let methods = methods["methods"].as_array().unwrap();
    for needed in [
        "chain_subscribeFinalizedHeads",
        "state_getKeysPaged",
        "state_queryStorageAt",
        "system_health",
        "rpc_methods",
    ] {
        assert!(methods.iter().any(|m| m == needed), "{needed}");
    }
    assert_eq!(
        client.finalized_head().await.unwrap().number,
        sim.lock().unwrap().finalized_head().number
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalized_heads_arrive_in_order_as_the_chain_moves() {
    let (sim, server) = serve(populated(256)).await;
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let mut sub = rpc
        .subscribe::<Value>(
            "chain_subscribeFinalizedHeads",
            rpc_params![],
            "chain_unsubscribeFinalizedHeads",
        )
        .await
        .unwrap();
    let start = sim.lock().unwrap().finalized_head().number;
    let first = sub.next().await.unwrap().unwrap();
    assert_eq!(first["number"], format!("0x{start:x}"));
    // Several blocks between two polls still arrive one by one.
    sim.lock().unwrap().advance(25).unwrap();
    for n in start + 1..=start + 25 {
        let h = sub.next().await.unwrap().unwrap();
        assert_eq!(h["number"], format!("0x{n:x}"));
    }
}

fn hex(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

async fn serve_with(sim: Simulator, config: NodeConfig) -> (Arc<Mutex<Simulator>>, NodeServer) {
    let sim = Arc::new(Mutex::new(sim));
    let server = NodeServer::start("127.0.0.1:0", sim.clone(), config)
        .await
        .unwrap();
    (sim, server)
}

fn dev_config() -> NodeConfig {
    NodeConfig {
        dev_account_balance: 1_000 * TAO,
        ..NodeConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subxt_client_signs_and_submits_and_the_node_applies_it() {
    let (sim, server) = serve_with(populated(256), dev_config()).await;
    let alice = Signer::from_suri("//Alice", "test").unwrap();
    let who = alice.account();
    assert_eq!(who, dev_accounts()[0]);
    let client = SubxtClient::connect(&server.url(), Some(alice))
        .await
        .unwrap();
    let head = sim.lock().unwrap().head();
    assert_eq!(client.free_balance(head, who).await.unwrap(), 1_000 * TAO);

    let inclusion = client
        .submit(Call::AddStake {
            hotkey: MINER_HOT,
            netuid: 1,
            amount_staked: 5 * TAO,
        })
        .await
        .unwrap();
    assert!(inclusion
        .events
        .iter()
        .any(|e| matches!(e, Event::StakeAdded(s) if s.coldkey == who && s.netuid == 1)));
    let at = inclusion.block.number;
    let held = client.stake(at, who, MINER_HOT, 1).await.unwrap();
    assert!(held > 0);
    assert_eq!(
        held,
        sim.lock().unwrap().stake(at, who, MINER_HOT, 1).unwrap()
    );
    // The block's body holds the bytes Alice signed, not a stand-in.
    let body = client.block_extrinsics(at).await.unwrap();
    assert_eq!(body[1].signer, Some(who));

    // A dispatch failure comes back as the runtime's module error, and still uses the nonce.
    let err = client
        .submit(Call::AddStake {
            hotkey: MINER_HOT,
            netuid: 9,
            amount_staked: TAO,
        })
        .await
        .unwrap_err();
    assert_eq!(err.dispatch_error_name(), Some("SubnetNotExists"), "{err}");
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let ss58 = subxt::utils::AccountId32(who.0).to_string();
    let next: u64 = rpc
        .request("system_accountNextIndex", rpc_params![ss58])
        .await
        .unwrap();
    assert_eq!(next, 2);
    client
        .submit(Call::Remark {
            data: b"third".to_vec(),
        })
        .await
        .unwrap();
}

/// A signed `remark` built offline against the node's genesis (or another), for a nonce.
fn signed_remark(genesis: [u8; 32], nonce: u64, signer: &Signer) -> Vec<u8> {
    signed_call(
        genesis,
        nonce,
        signer,
        &Call::Remark {
            data: b"offline".to_vec(),
        },
    )
}

/// A signed extrinsic of `call` built offline against the node's genesis, for a nonce.
fn signed_call(genesis: [u8; 32], nonce: u64, signer: &Signer, call: &Call) -> Vec<u8> {
    let metadata = subxt::ArcMetadata::from(client::metadata().unwrap());
    let offline = subxt::OfflineClient::new_with_config(client::SubtensorConfig::offline(
        metadata,
        CHECKED_SPEC_VERSION,
        1,
        genesis,
    ));
    let at = offline.at_block(0u64).unwrap();
    let bytes = client::encode_call(&client::metadata().unwrap(), call).unwrap();
    let tx = at.tx();
    let payload = tx.from_call_data_bytes(&bytes).unwrap();
    let params = subxt::config::DefaultExtrinsicParamsBuilder::new()
        .nonce(nonce)
        .build();
    let mut signable = tx.create_v4_signable_offline(&payload, params).unwrap();
    signable.sign(signer.keypair()).unwrap().encoded().to_vec()
}

/// The node's genesis hash.
async fn genesis_of(rpc: &RpcClient) -> [u8; 32] {
    let hash: String = rpc
        .request("chain_getBlockHash", rpc_params![0])
        .await
        .unwrap();
    unhex(&hash).try_into().unwrap()
}

/// `author_submitExtrinsic`: the hash, or the node's error as text.
async fn submit_bytes(rpc: &RpcClient, bytes: &[u8]) -> Result<String, String> {
    rpc.request::<String>("author_submitExtrinsic", rpc_params![hex(bytes)])
        .await
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_refuses_bad_extrinsics_with_its_errors_and_goes_on() {
    let (sim, server) = serve_with(populated(256), dev_config()).await;
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let genesis = genesis_of(&rpc).await;
    let bob = Signer::from_suri("//Bob", "test").unwrap();
    let submit = |bytes: Vec<u8>| {
        let rpc = rpc.clone();
        async move { submit_bytes(&rpc, &bytes).await }
    };

    // The genuine extrinsic goes in, once.
    let good = signed_remark(genesis, 0, &bob);
    let hash = submit(good.clone()).await.unwrap();
    assert_eq!(hash, hex(&sp_crypto_hashing::blake2_256(&good)));
    let head = sim.lock().unwrap().head();
    let err = submit(good).await.unwrap_err();
    assert!(
        err.contains("1010") && err.contains("Transaction is outdated"),
        "{err}"
    );

    // A flipped signature bit, another chain's genesis, a nonce ahead.
    let mut tampered = signed_remark(genesis, 1, &bob);
    tampered[40] ^= 1; // inside the 64-byte signature (after length, version, address)
    for (bytes, reason) in [
        (tampered, "Transaction has a bad signature"),
        (
            signed_remark([7; 32], 1, &bob),
            "Transaction has a bad signature",
        ),
        (
            signed_remark(genesis, 5, &bob),
            "Transaction will be valid in the future",
        ),
    ] {
        let err = submit(bytes).await.unwrap_err();
        assert!(
            err.contains("1010") && err.contains(reason),
            "{reason}: {err}"
        );
    }
    // Not an extrinsic at all, a truncated one, an unsigned one.
    let good = signed_remark(genesis, 1, &bob);
    for bytes in [vec![0xde, 0xad], good[..good.len() - 3].to_vec()] {
        let err = submit(bytes).await.unwrap_err();
        assert!(err.contains("1002"), "{err}");
    }
    let err = submit(vec![0x0c, 0x04, 0x00, 0x00]).await.unwrap_err();
    assert!(err.contains("1010"), "{err}");
    assert_eq!(
        sim.lock().unwrap().head(),
        head,
        "nothing refused was applied"
    );

    // The node still takes the next valid one.
    submit(good).await.unwrap();
    assert_eq!(sim.lock().unwrap().head(), head + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_at_a_finalized_block_cost_one_request_each() {
    let (_sim, server) = serve(populated(256)).await;
    let client = SubxtClient::connect(&server.url(), None).await.unwrap();
    let head = client.finalized_head().await.unwrap().number;
    // Following the head costs two plain reads a poll (hash, header), never a runtime call.
    let before = server.requests();
    for _ in 0..5 {
        assert_eq!(client.finalized_head().await.unwrap().number, head);
    }
    assert_eq!(server.requests() - before, 10);
    // The block's hash and runtime version are looked up at its first read, not per read.
    client.tempo(head, 1).await.unwrap();
    let before = server.requests();
    for _ in 0..10 {
        client.tempo(head, 1).await.unwrap();
    }
    assert_eq!(server.requests() - before, 10);
    // The six items of the epoch schedule are one `state_queryStorageAt`.
    let before = server.requests();
    let schedule = client.epoch_schedule(head, 1).await.unwrap();
    assert_eq!(server.requests() - before, 1);
    assert_eq!(schedule.tempo, client.tempo(head, 1).await.unwrap());
    // So are a pool's reserves, weights and fee.
    let before = server.requests();
    let pool = client.swap_pool(head, 2).await.unwrap();
    assert_eq!(server.requests() - before, 1);
    assert_eq!(pool.quote_weight, 300_000_000_000_000_000);
    assert_eq!(pool.fee_rate, SimConfig::default().swap_fee_rate);
    // An older finalized block is looked up on its first read only.
    let before = server.requests();
    client.tempo(head - 1, 1).await.unwrap();
    let first = server.requests() - before;
    assert!(first > 1, "{first}");
    client.tempo(head - 1, 1).await.unwrap();
    assert_eq!(server.requests() - before, first + 1);
}

/// The Python of the cross-check's virtual environment (`tools/deps.sh` makes it: the
/// `async-substrate-interface` it installs conflicts with the project's pinned `scalecodec`).
fn substrate_python() -> std::path::PathBuf {
    match std::env::var_os("TAO20_SUBSTRATE_PYTHON") {
        Some(p) => p.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/substrate-venv/bin/python"),
    }
}

fn ss58(a: Bytes32) -> String {
    subxt::utils::AccountId32(a.0).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_substrate_interface_reads_signs_and_is_refused_as_on_a_node() {
    let (sim, server) = serve_with(populated(256), dev_config()).await;
    let head = sim.lock().unwrap().finalized_head().number;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/substrate_client.py");
    let python = substrate_python();
    let url = server.url();
    let args = [ss58(MINER_HOT), ss58(MINER), ss58(MINER_HOT)];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .arg(url)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e} (run tools/deps.sh)", python.display()))
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    let s = || sim.lock().unwrap();

    // Reads at the finalized head, decoded with the client's own codec from the served metadata.
    assert_eq!(out["head"], head);
    assert_eq!(out["spec_version"], CHECKED_SPEC_VERSION);
    assert_eq!(out["tempo"], s().tempo(head, 1).unwrap());
    let row: Vec<(u16, u16)> = serde_json::from_value(out["weights"].clone()).unwrap();
    assert_eq!(row, s().weights(head, 1, 1, 2).unwrap());
    assert!(!row.is_empty());
    let commitment = &s().commitments(head, 1).unwrap()[0];
    assert_eq!(out["commitment"]["block"], commitment.block);
    let fields: Vec<u8> = out["commitment"]["info"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            unhex(
                f.as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(fields, commitment.data);
    assert_eq!(
        out["stake"]["stake"],
        s().stake(head, MINER, MINER_HOT, 1).unwrap()
    );
    assert_eq!(out["stake"]["hotkey"], ss58(MINER_HOT));

    // Alice's add_stake, signed by the client, is applied and read back.
    assert_eq!(out["add_stake_success"], true);
    let block = out["add_stake_block"].as_u64().unwrap();
    let alice = dev_accounts()[0];
    let staked = s().stake(block, alice, MINER_HOT, 1).unwrap();
    assert!(staked > 0);
    assert_eq!(out["alice_stake"]["stake"], staked);
    let events: Vec<(String, String)> = serde_json::from_value(out["events"].clone()).unwrap();
    let expected: Vec<(String, String)> = s()
        .block_extrinsics(block)
        .unwrap()
        .iter()
        .flat_map(|x| x.events.iter())
        .map(|e| match e {
            Event::ExtrinsicSuccess => ("System".into(), "ExtrinsicSuccess".into()),
            Event::StakeAdded(_) => ("SubtensorModule".into(), "StakeAdded".into()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(events, expected);

    // Broken extrinsics get the node's errors; the genuine one after them goes in.
    assert_eq!(
        out["stale"],
        "1010 Invalid Transaction: Transaction is outdated"
    );
    for case in ["tampered", "wrong_genesis"] {
        assert_eq!(
            out[case], "1010 Invalid Transaction: Transaction has a bad signature",
            "{case}"
        );
    }
    assert!(out["good_after"].is_null(), "{}", out["good_after"]);
    assert_eq!(s().head(), block + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polkadot_api_reads_the_same_values_and_follows_finalized_heads() {
    // Archive state: the chain moves while the client runs, and its reads are compared after.
    let (sim, server) = serve_with(populated(u64::MAX), dev_config()).await;
    let head = sim.lock().unwrap().finalized_head().number;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/substrate_client.js");
    let url = server.url();
    let args = [ss58(MINER_HOT), ss58(MINER), ss58(MINER_HOT)];
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .arg(url)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("node: {e} (run make deps)"))
    });
    // The chain moves only as this test advances it, until the client has seen its 20 heads.
    let producer = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                sim.lock().unwrap().advance(1).unwrap();
            }
        })
    };
    let output = child.await.unwrap();
    producer.abort();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    let s = || sim.lock().unwrap();
    // Reads at the head the client saw as finalized (the chain has moved on since).
    let at = out["head"].as_u64().unwrap();
    assert!(at >= head);
    assert_eq!(out["specVersion"], CHECKED_SPEC_VERSION);
    assert_eq!(out["chain"], NodeConfig::default().chain);
    assert_eq!(out["tempo"], s().tempo(at, 1).unwrap());
    let row: Vec<(u16, u16)> = serde_json::from_value(out["weights"].clone()).unwrap();
    assert_eq!(row, s().weights(at, 1, 1, 2).unwrap());
    let commitment = &s().commitments(at, 1).unwrap()[0];
    assert_eq!(out["commitmentBlock"], commitment.block);
    let fields: Vec<u8> = out["commitmentFields"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| unhex(f.as_str().unwrap()))
        .collect();
    assert_eq!(fields, commitment.data);
    assert_eq!(
        out["stake"],
        s().stake(at, MINER, MINER_HOT, 1).unwrap().to_string()
    );
    assert_eq!(out["aliceFree"], (1_000 * TAO).to_string());
    // Twenty finalized heads in a row, each naming the one before, hashed as the node hashes.
    let followed = out["followed"].as_array().unwrap();
    assert_eq!(followed.len(), 20);
    assert!(
        followed.iter().skip(1).all(|h| h["linked"] == true),
        "{followed:?}"
    );
    assert_eq!(followed[19]["hash"], out["lastHashFromNode"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_upgrade_is_seen_per_block_and_the_client_signs_for_the_new_runtime() {
    let (sim, server) = serve_with(populated(256), dev_config()).await;
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let genesis = genesis_of(&rpc).await;
    let charlie = Signer::from_suri("//Charlie", "test").unwrap();
    // Connected before the upgrade, as a keeper that runs through one.
    let client = SubxtClient::connect(&server.url(), Some(charlie.clone()))
        .await
        .unwrap();
    let mut versions = rpc
        .subscribe::<Value>(
            "state_subscribeRuntimeVersion",
            rpc_params![],
            "state_unsubscribeRuntimeVersion",
        )
        .await
        .unwrap();
    let first = versions.next().await.unwrap().unwrap();
    assert_eq!(first["specVersion"], CHECKED_SPEC_VERSION);

    // Signed for the runtime of today: accepted now.
    submit_bytes(&rpc, &signed_remark(genesis, 0, &charlie))
        .await
        .unwrap();

    let before = sim.lock().unwrap().head();
    let too_low: Result<Value, _> = rpc
        .request("dev_upgradeRuntime", rpc_params![CHECKED_SPEC_VERSION])
        .await;
    assert!(
        format!("{too_low:?}").contains("must raise it"),
        "{too_low:?}"
    );
    let enacted: Value = rpc
        .request("dev_upgradeRuntime", rpc_params![CHECKED_SPEC_VERSION + 1])
        .await
        .unwrap();
    assert_eq!(enacted["from"], before + 1);
    sim.lock().unwrap().advance(1).unwrap();
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), versions.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(next["specVersion"], CHECKED_SPEC_VERSION + 1);

    // Each block answers with the runtime its state holds.
    let version_at = |n: u64| {
        let rpc = rpc.clone();
        async move {
            let hash: String = rpc
                .request("chain_getBlockHash", rpc_params![n])
                .await
                .unwrap();
            let v: Value = rpc
                .request("state_getRuntimeVersion", rpc_params![hash])
                .await
                .unwrap();
            v["specVersion"].as_u64().unwrap()
        }
    };
    assert_eq!(version_at(before).await, u64::from(CHECKED_SPEC_VERSION));
    assert_eq!(
        version_at(before + 1).await,
        u64::from(CHECKED_SPEC_VERSION) + 1
    );

    // A transaction signed for the old runtime is a bad proof now...
    let stale = submit_bytes(&rpc, &signed_remark(genesis, 1, &charlie))
        .await
        .unwrap_err();
    assert!(stale.contains("bad signature"), "{stale}");
    // ...and the client, connected before the upgrade, signs for the new one and reads across it.
    let inclusion = client
        .submit(Call::Remark {
            data: b"after the upgrade".to_vec(),
        })
        .await
        .unwrap();
    assert!(inclusion.block.number > before + 1);
    let who = charlie.account();
    let at = inclusion.block.number;
    assert_eq!(
        client.free_balance(before, who).await.unwrap(),
        sim.lock().unwrap().free_balance(before, who).unwrap()
    );
    assert_eq!(
        client.free_balance(at, who).await.unwrap(),
        sim.lock().unwrap().free_balance(at, who).unwrap()
    );
    // The client saw the upgrade in the blocks it read, once, and reads the new runtime's
    // version; an older block read again is not a downgrade.
    let seen = client.runtime_seen();
    assert_eq!(
        (seen.spec_version, seen.upgrades),
        (CHECKED_SPEC_VERSION + 1, 1),
        "{seen:?}"
    );
    client.free_balance(before - 1, who).await.unwrap();
    assert_eq!(client.runtime_seen(), seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_validity_and_fee_queries_answer_as_the_runtime_api_does() {
    let (_sim, server) = serve_with(populated(256), dev_config()).await;
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let genesis = genesis_of(&rpc).await;
    let dave = Signer::from_suri("//Dave", "test").unwrap();
    let validate = |tx: Vec<u8>| {
        let rpc = rpc.clone();
        async move {
            // (TransactionSource::External, the extrinsic, the block hash)
            let mut args = vec![2u8];
            args.extend_from_slice(&tx);
            args.extend_from_slice(&genesis);
            let out: String = rpc
                .request(
                    "state_call",
                    rpc_params!["TaggedTransactionQueue_validate_transaction", hex(&args)],
                )
                .await
                .unwrap();
            unhex(&out)
        }
    };
    let good = signed_remark(genesis, 0, &dave);
    let valid = validate(good.clone()).await;
    assert_eq!(valid[0], 0, "Ok(ValidTransaction): {valid:?}");
    // A nonce ahead of the account's: valid later, requiring the one before it.
    let ahead = validate(signed_remark(genesis, 1, &dave)).await;
    assert_eq!(&ahead[..], &[1, 0, 2], "Future");
    let mut tampered = good.clone();
    let at = tampered.len() - 10;
    tampered[at] ^= 1;
    let bad = validate(tampered).await;
    assert_eq!(
        &bad[..3],
        &[1, 0, 4],
        "BadProof (or the call no longer decodes)"
    );
    // Once applied, the same transaction is stale.
    submit_bytes(&rpc, &good).await.unwrap();
    assert_eq!(&validate(good.clone()).await[..], &[1, 0, 3], "Stale");

    // The fee query: a nominal weight, class Normal, no fee (the devnet charges none).
    let mut args = good.clone();
    args.extend_from_slice(&u32::try_from(good.len()).unwrap().to_le_bytes());
    let info: String = rpc
        .request(
            "state_call",
            rpc_params!["TransactionPaymentApi_query_info", hex(&args)],
        )
        .await
        .unwrap();
    let info = unhex(&info);
    assert_eq!(
        &info[info.len() - 9..],
        &[0u8; 9],
        "Normal, partial_fee 0: {info:?}"
    );
}

/// subtensor's transaction extension refuses weights before the pool, with
/// `InvalidTransaction::Custom(n)`: the node answers as a node does (1010, "Custom error: n")
/// and the client names the code (`StakeAmountTooLow`, `RateLimitExceeded`) with the retry each
/// allows; a refusal makes no block and spends no nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_the_runtime_refuses_before_the_pool_come_back_named() {
    let mut sim = populated(256);
    let alice = Signer::from_suri("//Alice", "test").unwrap();
    let hot = alice.account();
    // Without stake it has no permit: it weights itself, which needs none.
    let uid = sim.register_neuron(1, hot, VALI).unwrap();
    sim.set_weights_rules(
        1,
        WeightsRules {
            stake_threshold: 1,
            ..WeightsRules::default()
        },
    )
    .unwrap();
    let (sim, server) = serve_with(sim, dev_config()).await;
    let client = SubxtClient::connect(&server.url(), Some(alice.clone()))
        .await
        .unwrap();
    let weights = || Call::SetMechanismWeights {
        netuid: 1,
        mecid: 0,
        dests: vec![uid],
        weights: vec![65_535],
        version_key: 0,
    };
    let head = sim.lock().unwrap().head();
    let err = client.submit(weights()).await.unwrap_err();
    match &err {
        tao20_chain::Error::Refused { call, validity } => {
            assert_eq!(call, "SubtensorModule::set_mechanism_weights");
            assert_eq!(
                (validity.name.as_str(), validity.custom),
                ("StakeAmountTooLow", Some(1))
            );
        }
        other => panic!("not a pool refusal: {other:?}"),
    }
    assert_eq!(err.retry(), tao20_chain::Retry::Never);
    assert_eq!(err.final_refusal().as_deref(), Some("StakeAmountTooLow"));
    assert_eq!(sim.lock().unwrap().head(), head, "no block for a refusal");

    // The same refusal as the raw RPC and the runtime API answer it.
    let rpc = RpcClient::from_insecure_url(server.url()).await.unwrap();
    let genesis = genesis_of(&rpc).await;
    let raw = submit_bytes(&rpc, &signed_call(genesis, 0, &alice, &weights()))
        .await
        .unwrap_err();
    assert!(
        raw.contains("1010") && raw.contains("Custom error: 1"),
        "{raw}"
    );

    // Enough stake, a rate limit of 100 blocks: the first set lands, the second is refused
    // for the rate limit (a retry later can succeed), then it lands once the limit passed.
    sim.lock()
        .unwrap()
        .set_weights_rules(
            1,
            WeightsRules {
                rate_limit: 100,
                ..WeightsRules::default()
            },
        )
        .unwrap();
    let first = client.submit(weights()).await.unwrap();
    let err = client.submit(weights()).await.unwrap_err();
    match &err {
        tao20_chain::Error::Refused { validity, .. } => {
            assert_eq!(
                (validity.name.as_str(), validity.custom),
                ("RateLimitExceeded", Some(6))
            );
        }
        other => panic!("not a pool refusal: {other:?}"),
    }
    assert_eq!(err.retry(), tao20_chain::Retry::Later);
    assert_eq!(err.final_refusal(), None);
    sim.lock().unwrap().advance(100).unwrap();
    let later = client.submit(weights()).await.unwrap();
    assert!(later.block.number >= first.block.number + 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_alpha_reads_through_the_runtime_api_and_its_refusal_comes_back_named() {
    let (sim, server) = serve_with(populated(256), dev_config()).await;
    let alice = Signer::from_suri("//Alice", "test").unwrap();
    let who = alice.account();
    let client = SubxtClient::connect(&server.url(), Some(alice))
        .await
        .unwrap();
    let staked = client
        .submit(Call::AddStake {
            hotkey: MINER_HOT,
            netuid: 1,
            amount_staked: 5 * TAO,
        })
        .await
        .unwrap();
    let held = client
        .stake(staked.block.number, who, MINER_HOT, 1)
        .await
        .unwrap();
    let head = {
        let mut s = sim.lock().unwrap();
        s.lock_stake(who, MINER_HOT, 1, held / 4).unwrap();
        s.advance(3).unwrap();
        s.finalized_head().number
    };
    let read = client.stake_availability(head, who).await.unwrap().unwrap();
    assert_eq!(
        read,
        sim.lock().unwrap().stake_availability(head, who).unwrap()
    );
    let one = read[&1];
    assert_eq!(one.total, held);
    assert!(one.locked > 0 && one.locked <= held / 4, "{one:?}");
    assert_eq!(one.available, held - one.locked);

    // A delivery of everything held includes locked alpha: the vault does not accept it, and the
    // batch fails whole with the runtime's error, named through the node's metadata.
    let vault = Bytes32([9; 32]);
    let deliver = |amount| {
        vec![TransferStake {
            destination_coldkey: vault,
            hotkey: MINER_HOT,
            origin_netuid: 1,
            destination_netuid: 1,
            alpha_amount: amount,
        }]
    };
    let err = client
        .deliver(b"all".to_vec(), deliver(held))
        .await
        .unwrap_err();
    assert_eq!(
        err.dispatch_error_name(),
        Some("AccountRejectsLockedAlpha"),
        "{err}"
    );
    // What is available moves.
    let inc = client
        .deliver(b"free".to_vec(), deliver(one.available))
        .await
        .unwrap();
    let at = inc.block.number;
    assert!(client.stake(at, vault, MINER_HOT, 1).await.unwrap() > 0);
}
