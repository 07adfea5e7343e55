//! The subnet's mechanisms on a devnet, with nothing scripted on the keepers' side: three
//! `tao20 validator run` processes fetch prices and sample the pool from the devnet's fixture
//! (over HTTP, as from Luxor), publish price commitments, settle every window of two subnet
//! epochs, ban a winner that delivers nothing, and commit both mechanisms' weights timelocked;
//! after the reveal the weights on chain equal what every keeper computed, and
//! `tao20 validator status` shows windows, winners, bans and weights.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;

use common::{status, up};

use tao20_auction::commitment::Commitment;
use tao20_chain::Subtensor;
use tao20_devnet::fixture::FixtureClient;
use tao20_devnet::keepers;

const PH: u128 = 1_000_000_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_settle_two_subnet_epochs_ban_a_lazy_winner_and_their_weights_land_on_chain() {
    // The keepers reach subtensor through SubxtClient and the devnet's Substrate endpoint: their
    // price commitments and timelocked weights are signed extrinsics the node validates.
    let net = up(&[
        "--validators",
        "3",
        "--block-time-ms",
        "100",
        "--subnets",
        "2",
    ]);
    let f = &net.file;
    let sim = f.simulator();
    let fixture = FixtureClient::new(&f.fixture_url).unwrap();
    // Two bidders: one rig delivers the 0.5 PH it bid, the other bids and delivers nothing.
    let mut miners = BTreeMap::new();
    for (name, bid) in [
        ("diligent", "2;b;BTC,1=0.25:2"),
        ("lazy", "2;b;BTC,1=0.2:1"),
    ] {
        let cold = tao20_devnet::keys::substrate(0, &format!("bidder/{name}/coldkey"))
            .unwrap()
            .account;
        let hot = tao20_devnet::keys::substrate(0, &format!("bidder/{name}/hotkey"))
            .unwrap()
            .account;
        let uid = sim
            .register_neuron(f.tao20_netuid, hot, cold)
            .await
            .unwrap();
        sim.as_signer(hot)
            .set_commitment(f.tao20_netuid, bid.as_bytes().to_vec())
            .await
            .unwrap();
        miners.insert(name, (hot, uid));
    }
    let diligent = tao20_node::mechanisms::hotkey_name(&miners["diligent"].0);
    fixture
        .set_worker(&format!("{diligent}.rig1"), PH / 4)
        .await
        .unwrap();
    fixture
        .set_worker(&format!("{diligent}.rig2"), PH / 4)
        .await
        .unwrap();
    let lazy_uid = miners["lazy"].1;

    // Until every keeper has had both mechanisms' weights of two epochs (after its first,
    // partial one) read back from the chain.
    let dbs: Vec<PathBuf> = (0..3)
        .map(|i| keepers::keeper_dir(&f.options.dir, i).join("keeper.sqlite"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(420);
    let matched = |doc: &serde_json::Value| -> Vec<(u64, u64)> {
        doc["mechanisms"]["weights"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .filter(|w| w["status"] == "matched")
                    .map(|w| (w["mecid"].as_u64().unwrap(), w["epoch"].as_u64().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let docs = loop {
        let docs: Vec<serde_json::Value> = dbs.iter().map(|d| status(d)).collect();
        let done = docs.iter().all(|d| {
            let m = matched(d);
            (0..2).all(|mecid| m.iter().filter(|(k, _)| *k == mecid).count() >= 2)
        });
        if done {
            break docs;
        }
        assert!(
            Instant::now() < deadline,
            "weights of two epochs were not matched in time: {:#}",
            docs[0]["mechanisms"]
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };

    for (i, doc) in docs.iter().enumerate() {
        let m = &doc["mechanisms"];
        assert!(
            m["windowsSettled"].as_u64().unwrap() >= 12,
            "keeper {i}: {m:#}"
        );
        // The lazy bidder won, delivered nothing and was banned by every keeper.
        assert!(
            m["bans"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["uid"] == u64::from(lazy_uid)),
            "keeper {i} did not ban the lazy bidder: {m:#}"
        );
        assert_eq!(
            m["lastCommitment"]["bans"],
            serde_json::json!([lazy_uid]),
            "keeper {i}: {m:#}"
        );
        assert!(m["pool"]["samples"].as_u64().unwrap() > 100);
        // The diligent bidder wins windows once the ban excludes the other.
        assert!(m["windows"].as_array().unwrap().iter().any(|w| {
            w["winners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["hotkey"].as_str().unwrap())
                .collect::<Vec<_>>()
                == vec![diligent.as_str()]
        }));
    }
    // Every keeper settled the same windows the same way, and computed the same weights.
    let settled = |db: &Path| -> BTreeMap<i64, String> {
        let c = rusqlite_conn(db);
        let mut stmt = c
            .conn()
            .prepare("SELECT start, result FROM windows")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let weights = |db: &Path| -> BTreeMap<(i64, i64), (String, String)> {
        let c = rusqlite_conn(db);
        let mut stmt = c
            .conn()
            .prepare("SELECT mecid, epoch_block, uids, weight_values FROM weights WHERE status = 'matched'")
            .unwrap();
        stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    // Every keeper selects the same winners at the same prices from the chain; delivery is judged
    // on its own pool samples (a keeper whose sampling stalled skips the check), so weights agree
    // wherever the keepers' delivery verdicts of that epoch agreed.
    let parsed = |s: &BTreeMap<i64, String>| -> BTreeMap<i64, serde_json::Value> {
        s.iter()
            .map(|(k, v)| (*k, serde_json::from_str(v).unwrap()))
            .collect()
    };
    let selection = |r: &serde_json::Value| {
        let mut r = r.clone();
        for k in ["deliverySkipped", "failed", "payments"] {
            r.as_object_mut().unwrap().remove(k);
        }
        r
    };
    let (w0, s0) = (weights(&dbs[0]), parsed(&settled(&dbs[0])));
    let mut compared = 0;
    for db in &dbs[1..] {
        let s = parsed(&settled(db));
        let mut divergent = BTreeSet::new();
        for (start, result) in &s {
            if let Some(r0) = s0.get(start) {
                assert_eq!(selection(r0), selection(result), "window {start}");
                if r0 != result {
                    divergent.insert(result["window"]["subnet_epoch_start"].as_i64().unwrap());
                }
            }
        }
        for (k, v) in weights(db) {
            // An epoch's first window ends before the epoch starts: skip both neighbours.
            if divergent.range(k.1 - 400..=k.1 + 400).next().is_some() {
                continue;
            }
            if let Some(v0) = w0.get(&k) {
                assert_eq!(v0, &v, "weights {k:?}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 2, "weights compared across keepers: {compared}");
    // The chain holds, for every keeper, the last weights it saw revealed.
    let head = sim.finalized_head().await.unwrap().number;
    let neurons = sim.neurons(head, f.tao20_netuid).await.unwrap();
    let commitments = sim.commitments(head, f.tao20_netuid).await.unwrap();
    for (i, db) in dbs.iter().enumerate() {
        let hotkey = f.keys.signers[i].hotkey.account;
        let uid = neurons.iter().find(|n| n.hotkey == hotkey).unwrap().uid;
        let c = commitments.iter().find(|c| c.hotkey == hotkey).unwrap();
        assert!(matches!(
            Commitment::decode(&c.data),
            Ok(Commitment::Price(_))
        ));
        let w = weights(db);
        // Every row of a mechanism from its latest matched epoch on (a later epoch's reveal may
        // have replaced the matched weights since the status was read).
        let later = |mecid: i64, from: i64| -> Vec<Vec<(u16, u16)>> {
            let c = rusqlite_conn(db);
            let mut stmt = c
                .conn()
                .prepare("SELECT uids, weight_values FROM weights WHERE mecid = ?1 AND epoch_block >= ?2")
                .unwrap();
            stmt.query_map([mecid, from], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .unwrap()
            .map(|r| {
                let (u, v) = r.unwrap();
                let u: Vec<u16> = serde_json::from_str(&u).unwrap();
                let v: Vec<u16> = serde_json::from_str(&v).unwrap();
                u.into_iter().zip(v).collect()
            })
            .collect()
        };
        for mecid in [0i64, 1] {
            let latest = w
                .keys()
                .filter(|(m, _)| *m == mecid)
                .map(|(_, e)| *e)
                .max()
                .unwrap();
            let onchain = sim
                .weights(head, f.tao20_netuid, u8::try_from(mecid).unwrap(), uid)
                .await
                .unwrap();
            let n = tao20_node::chain_executor::normalise;
            let candidates = later(mecid, latest);
            assert!(
                candidates
                    .iter()
                    .any(|c| tao20_node::chain_executor::same_weights(&n(&onchain), &n(c))),
                "keeper {i} mechanism {mecid}: on chain {onchain:?}, computed {candidates:?}"
            );
        }
    }
    let st = fixture.state().await.unwrap();
    assert!(st.polls > 100, "keepers sampled the pool API: {st:?}");

    // The fund's positions as `tao20 fund status` reads them on subtensor (SubxtClient) equal
    // what the bittensor SDK's client reads at the same block.
    let doc = common::tao20_json(&[
        "fund".as_ref(),
        "status".as_ref(),
        "--json".as_ref(),
        "--devnet".as_ref(),
        f.options.dir.as_os_str(),
    ]);
    let sub = &doc["substrate"];
    assert_eq!(sub["client"], "SubxtClient");
    let positions = sub["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 2);
    let held: u64 = positions
        .iter()
        .map(|p| p["stake"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(held > 0, "the genesis creation staked the basket: {sub}");
    let ss58 = |hex: &str| {
        let b: [u8; 32] = alloy::hex::decode(hex).unwrap().try_into().unwrap();
        tao20_wallet::PublicKey(b).ss58()
    };
    let pairs: Vec<String> = positions
        .iter()
        .map(|p| format!("{}:{}", p["netuid"], ss58(p["hotkey"].as_str().unwrap())))
        .collect();
    let python = common::root().join("target/substrate-venv/bin/python");
    let out = std::process::Command::new(&python)
        .arg(common::root().join("keeper/chain/tests/substrate_client.py"))
        .arg("positions")
        .arg(&f.substrate)
        .arg(sub["block"].to_string())
        .arg(ss58(sub["vaultColdkey"].as_str().unwrap()))
        .args(&pairs)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run tools/deps.sh)", python.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(py["block_hash"], sub["blockHash"]);
    for (p, q) in positions.iter().zip(py["stakes"].as_array().unwrap()) {
        assert_eq!(p["netuid"], q["netuid"]);
        assert_eq!(
            p["stake"].as_str().unwrap(),
            q["stake"].to_string(),
            "netuid {}: tao20 fund status and async-substrate-interface",
            p["netuid"]
        );
    }
}

fn rusqlite_conn(db: &Path) -> tao20_node::store::Store {
    tao20_node::store::Store::open_read_only(db).unwrap()
}
