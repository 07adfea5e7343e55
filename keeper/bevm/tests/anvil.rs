//! The adapter against a real anvil: every writer path, revert decoding, the fund reader, the
//! event cursor across a restart, reorgs below and above the processed blocks, and `anvil_reorg`s
//! shallower and deeper than the confirmation depth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy::primitives::{B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::Provider;
use common::*;
use tao20_bevm::cursor::Cursor;
use tao20_bevm::events::ContractEvent;
use tao20_bevm::reader::RequestStatus;
use tao20_bevm::writer::{Call, Confirmed, Sent};
use tao20_bevm::Error;
use tao20_creation::eip712::{CreationReport, Eip712Message, Position, RefundReport, Sweep};

async fn publish(fx: &Fixture) -> tao20_creation::eip712::CreationFile {
    let file = fx.current_file().await;
    let sigs = fx.sign(&Eip712Message::CreationFile(file.clone()), 4);
    let call = Call::PublishEpoch {
        file: file.clone(),
        signatures: sigs,
    };
    let out = fx.writer(&fx.relayer).submit(&call).await.unwrap();
    assert!(matches!(out, Confirmed::Included(_)), "{out:?}");
    file
}

fn basket(units: u64) -> Vec<Position> {
    NETUIDS
        .iter()
        .map(|&n| Position {
            netuid: n,
            hotkey: miner_hotkey(n),
            amount: units * 100_000_000,
        })
        .collect()
}

async fn request(fx: &Fixture, coldkey: B256) -> (B256, u64) {
    let (id, inc) = fx
        .writer(&fx.miner)
        .request_creation(1, coldkey, fx.miner.address(), U256::ZERO, U256::from(BOND))
        .await
        .unwrap();
    (id, inc.block)
}

fn report(fx: &Fixture, file_hash: B256, id: B256, delivery_block: u64) -> CreationReport {
    let mut positions = basket(1);
    positions.sort();
    CreationReport {
        request_id: id,
        epoch_id: 0,
        creation_file_hash: file_hash,
        receiver: fx.miner.address(),
        units: 1,
        positions,
        delivery_block,
        delivery_index: 1,
        value_rao: U256::from(15_000_000u64),
        nav_per_share: U256::from(1_000_000_000u64),
        signer_set_version: 1,
    }
}

#[tokio::test]
async fn publishes_mints_and_reports_the_second_mint_as_already_settled() {
    let fx = Fixture::new().await;
    let reader = fx.reader();
    let before = reader.fund(fx.head().await).await.unwrap();
    assert_eq!(before.total_supply, U256::ZERO);
    assert_eq!(before.creation_file, None);
    assert_eq!(before.positions.len(), 3);
    assert!(before.positions.iter().all(|p| p.hotkey == fund_hotkey()));
    assert_eq!(before.signer_set.threshold, 4);
    assert_eq!(
        before.signer_set.signers,
        fx.signers.iter().map(|s| s.address()).collect::<Vec<_>>()
    );

    let file = publish(&fx).await;
    let again = fx
        .writer(&fx.relayer)
        .send(&Call::PublishEpoch {
            file: file.clone(),
            signatures: fx.sign(&Eip712Message::CreationFile(file.clone()), 4),
        })
        .await
        .unwrap();
    assert!(
        matches!(&again, Sent::AlreadySettled { reason } if reason.name == "EpochAlreadyPublished"),
        "{again:?}"
    );
    let head = fx.head().await;
    assert_eq!(
        reader.creation_file(0, head).await.unwrap(),
        Some(file.clone()),
        "the stored file is reconstructed from the contract's views"
    );

    let coldkey = keccak("coldkey.miner");
    let (id, request_block) = request(&fx, coldkey).await;
    let stored = reader.request(id, fx.head().await).await.unwrap().unwrap();
    assert_eq!(stored.status, RequestStatus::Pending);
    assert_eq!(stored.request_block, request_block);
    for p in basket(1) {
        fx.deliver(coldkey, p.hotkey, p.netuid, p.amount).await;
    }
    let file_hash = tao20_creation::eip712::creation_file_hash(&file);
    let r = report(&fx, file_hash, id, request_block + 1);
    let message = Eip712Message::CreationReport(r.clone());

    // Three signatures are below the threshold: a decoded revert, not a settled subject.
    let short = fx
        .writer(&fx.relayer)
        .send(&Call::Mint {
            report: r.clone(),
            signatures: fx.sign(&message, 3),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&short, Error::Reverted { error, .. } if error.name == "BelowThreshold"),
        "{short}"
    );
    // Reordered signatures are refused by the contract's ordering rule.
    let mut reordered = fx.sign(&message, 4);
    reordered.swap(0, 1);
    let err = fx
        .writer(&fx.relayer)
        .send(&Call::Mint {
            report: r.clone(),
            signatures: reordered,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Reverted { error, .. } if error.name == "UnsortedSignatures"),
        "{err}"
    );

    let mint = Call::Mint {
        report: r.clone(),
        signatures: fx.sign(&message, 4),
    };
    let out = fx.writer(&fx.relayer).submit(&mint).await.unwrap();
    let Confirmed::Included(inc) = out else {
        panic!("{out:?}")
    };
    assert!(inc.gas_used > 21_000);
    let second = fx.writer(&fx.owner).submit(&mint).await.unwrap();
    assert!(
        matches!(&second, Confirmed::AlreadySettled { reason, .. } if reason.name == "RequestNotPending"),
        "{second:?}"
    );

    let after = reader.fund(fx.head().await).await.unwrap();
    assert!(after.total_supply > U256::ZERO);
    assert!(after.positions.iter().all(|p| p.amount == 100_000_000));
    assert_eq!(
        reader
            .request(id, fx.head().await)
            .await
            .unwrap()
            .unwrap()
            .status,
        RequestStatus::Minted
    );

    let batch = Cursor::starting_at(fx.deployment.deploy_block)
        .poll(&reader, fx.head().await)
        .await
        .unwrap();
    let names: Vec<&str> = batch
        .events
        .iter()
        .filter_map(|e| match &e.event {
            ContractEvent::EpochPublished { .. } => Some("published"),
            ContractEvent::CreationRequested(r) if r.request_id == id => Some("requested"),
            ContractEvent::CreationMinted(m) if m.request_id == id => Some("minted"),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["published", "requested", "minted"]);
}

fn keccak(s: &str) -> B256 {
    alloy::primitives::keccak256(s)
}

#[tokio::test]
async fn refunds_after_expiry_expires_and_sweeps() {
    let fx = Fixture::new().await;
    let file = publish(&fx).await;
    let coldkey = keccak("coldkey.refunded");
    let (id, request_block) = request(&fx, coldkey).await;
    // An incomplete basket: only netuid 1 arrives.
    fx.deliver(coldkey, miner_hotkey(1), 1, 100_000_000).await;
    let refund = RefundReport {
        request_id: id,
        coldkey,
        positions: vec![Position {
            netuid: 1,
            hotkey: miner_hotkey(1),
            amount: 100_000_000,
        }],
        delivery_block: request_block + 1,
        delivery_index: 1,
        signer_set_version: 1,
    };
    let call = Call::Refund {
        report: refund.clone(),
        signatures: fx.sign(&Eip712Message::RefundReport(refund.clone()), 4),
    };
    let early = fx.writer(&fx.relayer).send(&call).await.unwrap_err();
    assert!(
        matches!(&early, Error::Reverted { error, .. } if error.name == "RefundBeforeExpiry"),
        "{early}"
    );
    fx.mine(DELIVERY_WINDOW.into()).await;
    let out = fx.writer(&fx.relayer).submit(&call).await.unwrap();
    assert!(matches!(out, Confirmed::Included(_)), "{out:?}");
    let reader = fx.reader();
    let head = fx.head().await;
    assert_eq!(
        reader
            .stake(miner_hotkey(1), coldkey, 1, head)
            .await
            .unwrap(),
        100_000_000,
        "the delivery is back with its coldkey"
    );
    assert!(matches!(
        fx.writer(&fx.relayer).submit(&call).await.unwrap(),
        Confirmed::AlreadySettled { .. }
    ));

    // A second request nobody delivers to: `expire` after expiry + grace.
    let (id2, _) = request(&fx, coldkey).await;
    let expire = Call::Expire { request_id: id2 };
    let early = fx.writer(&fx.relayer).send(&expire).await.unwrap_err();
    assert!(
        matches!(&early, Error::Reverted { error, .. } if error.name == "ExpiryNotReached"),
        "{early}"
    );
    fx.mine(u64::from(DELIVERY_WINDOW + EXPIRY_GRACE + 1)).await;
    assert!(matches!(
        fx.writer(&fx.relayer).submit(&expire).await.unwrap(),
        Confirmed::Included(_)
    ));
    assert!(matches!(
        fx.writer(&fx.relayer).send(&expire).await.unwrap(),
        Sent::AlreadySettled { .. }
    ));

    // Stray stake under a non-fund hotkey is swept onto the fund hotkey.
    let stray = keccak("stray.hotkey");
    fx.deliver(keccak("coldkey.stray"), stray, 2, 50_000_000)
        .await;
    let order = Sweep {
        positions: vec![Position {
            netuid: 2,
            hotkey: stray,
            amount: 50_000_000,
        }],
        nonce: 0,
        signer_set_version: 1,
    };
    let sweep = Call::Sweep {
        order: order.clone(),
        signatures: fx.sign(&Eip712Message::Sweep(order), 4),
    };
    assert!(matches!(
        fx.writer(&fx.relayer).submit(&sweep).await.unwrap(),
        Confirmed::Included(_)
    ));
    assert!(
        matches!(
            fx.writer(&fx.relayer).send(&sweep).await.unwrap(),
            Sent::AlreadySettled { .. }
        ),
        "a used sweep nonce is settled"
    );
    let snap = reader.fund(fx.head().await).await.unwrap();
    assert_eq!(snap.sweep_nonce, 1);
    assert_eq!(
        snap.positions
            .iter()
            .find(|p| p.netuid == 2)
            .unwrap()
            .amount,
        50_000_000
    );
    let _ = file;
}

#[tokio::test]
async fn a_mined_failure_is_explained_by_re_simulation() {
    // With automine off, two relayers send the same mint into one block: the second receipt
    // fails without revert data, and re-simulating at its block says another keeper was first.
    let fx = Fixture::new().await;
    let file = publish(&fx).await;
    let coldkey = keccak("coldkey.race");
    let (id, request_block) = request(&fx, coldkey).await;
    for p in basket(1) {
        fx.deliver(coldkey, p.hotkey, p.netuid, p.amount).await;
    }
    let r = report(
        &fx,
        tao20_creation::eip712::creation_file_hash(&file),
        id,
        request_block + 1,
    );
    let mint = Call::Mint {
        signatures: fx.sign(&Eip712Message::CreationReport(r.clone()), 4),
        report: r,
    };
    fx.provider.anvil_set_auto_mine(false).await.unwrap();
    let a = fx.writer(&fx.relayer);
    let b = fx.writer(&fx.owner);
    let Sent::Broadcast { tx: ta } = a.send(&mint).await.unwrap() else {
        panic!("the first relayer broadcasts")
    };
    // The simulation runs against the pending block: a second relayer sees the first one's
    // transaction and does not send a duplicate.
    let sb = b.send(&mint).await.unwrap();
    assert!(
        matches!(&sb, Sent::AlreadySettled { reason } if reason.name == "RequestNotPending"),
        "{sb:?}"
    );
    // A relayer that sent anyway (no simulation, fixed gas) gets a failed receipt without data.
    let raw = alloy::rpc::types::TransactionRequest::default()
        .to(fx.deployment.tao20)
        .input(mint.calldata().into())
        .gas_limit(2_000_000);
    let owner_provider = tao20_bevm::rpc::connect_with_signer(&fx.url, fx.owner.clone()).unwrap();
    let tb = *owner_provider
        .send_transaction(raw)
        .await
        .unwrap()
        .tx_hash();
    fx.provider.evm_mine(None).await.unwrap();
    let (ra, rb) = (
        a.confirm(&mint, ta).await.unwrap(),
        b.confirm(&mint, tb).await.unwrap(),
    );
    assert!(matches!(ra, Confirmed::Included(_)), "{ra:?}");
    let receipt = fx
        .provider
        .get_transaction_receipt(tb)
        .await
        .unwrap()
        .unwrap();
    assert!(!receipt.status(), "the duplicate failed on chain");
    assert!(
        matches!(&rb, Confirmed::AlreadySettled { reason, .. } if reason.name == "RequestNotPending"),
        "{rb:?}"
    );
}

#[tokio::test]
async fn the_cursor_resumes_after_a_restart_and_detects_reorgs_below_it() {
    let fx = Fixture::new().await;
    let reader = fx.reader();
    publish(&fx).await;
    let (id1, _) = request(&fx, keccak("c1")).await;
    let start = Cursor::starting_at(fx.deployment.deploy_block);
    let first = start.poll(&reader, fx.head().await).await.unwrap();
    assert_eq!(first.undo_from, None);
    let requested = |b: &tao20_bevm::cursor::Batch| -> Vec<B256> {
        b.events
            .iter()
            .filter_map(|e| match &e.event {
                ContractEvent::CreationRequested(r) => Some(r.request_id),
                _ => None,
            })
            .collect()
    };
    assert_eq!(requested(&first), [id1]);

    // Persist and reload, as a restarted keeper does: nothing is delivered twice.
    let saved = serde_json::to_string(&first.next).unwrap();
    let snapshot = fx.provider.anvil_snapshot().await.unwrap();
    let fork_block = fx.head().await;
    let (id2, _) = request(&fx, keccak("c2")).await;
    let (id3, _) = request(&fx, keccak("c3")).await;
    let restored: Cursor = serde_json::from_str(&saved).unwrap();
    let second = restored.poll(&fx.reader(), fx.head().await).await.unwrap();
    assert_eq!(second.undo_from, None);
    assert_eq!(requested(&second), [id2, id3]);
    assert!(second.events.iter().all(|e| e.block > fork_block));

    // Reorg *above* the processed blocks: nothing to undo.
    let third = second.next.poll(&reader, fx.head().await).await.unwrap();
    assert_eq!(third.undo_from, None);
    assert!(third.events.is_empty());

    // Reorg *below* the cursor: go back to the snapshot and build a different chain.
    assert!(fx.provider.anvil_revert(snapshot).await.unwrap());
    fx.mine(1).await;
    let (id4, _) = request(&fx, keccak("c4")).await;
    fx.mine(2).await;
    let after = third.next.poll(&reader, fx.head().await).await.unwrap();
    assert_eq!(
        after.undo_from,
        Some(fork_block + 1),
        "the first block after the fork point"
    );
    assert_eq!(
        requested(&after),
        [id4],
        "the new branch's events replace the old ones"
    );
    assert_eq!(after.next.next, fx.head().await + 1);
}

#[tokio::test]
async fn keystores_written_by_cast_decrypt_and_ours_decrypt_in_cast() {
    use tao20_bevm::keys::{load, PasswordSource};
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "tao20 devnet\n").unwrap();
    let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let cast = root().join("node_modules/.bin/cast");
    let out = std::process::Command::new(&cast)
        .args(["wallet", "import", "keeper", "--private-key", secret])
        .args(["--unsafe-password", "tao20 devnet", "--keystore-dir"])
        .arg(dir.path())
        .output()
        .expect("cast runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let source = PasswordSource::File(pw.clone());
    let signer = load(&dir.path().join("keeper"), &source).unwrap();
    assert_eq!(
        signer.address().to_string(),
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    );

    let ours = dir.path().join("ours");
    let addr = tao20_bevm::keys::import(
        &ours,
        "k",
        &tao20_bevm::keys::parse_secret(secret).unwrap(),
        &source,
    )
    .unwrap();
    let out = std::process::Command::new(&cast)
        .args(["wallet", "address", "--keystore"])
        .arg(ours.join("k"))
        .args(["--password-file"])
        .arg(&pw)
        .output()
        .expect("cast runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        addr.to_string()
    );
    let mode = std::fs::metadata(ours.join("k")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn rpc_failures_are_retryable_errors() {
    let fx = Fixture::new().await;
    let reader = fx.reader();
    let head = fx.head().await;
    drop(fx);
    let err = reader.fund(head).await.unwrap_err();
    assert_eq!(err.retry(), tao20_bevm::Retry::Later, "{err}");
    assert!(err.to_string().contains("BEVM RPC"), "{err}");
    let _ = reader.provider().get_chain_id().await.unwrap_err();
}

/// The confirmation depth standing in for finality on anvil (the engine reads BEVM events up to
/// `head - confirmations`, `bevm.confirmations` in the keeper's config).
const CONFIRMATIONS: u64 = 3;

/// One poll of the cursor as the engine makes it: up to the confirmed head only.
async fn poll_confirmed(
    fx: &Fixture,
    reader: &tao20_bevm::Reader,
    cursor: &Cursor,
) -> tao20_bevm::cursor::Batch {
    let target = fx.head().await.saturating_sub(CONFIRMATIONS);
    cursor.poll(reader, target).await.unwrap()
}

/// `(coldkey, block, blockHash)` of every `CreationRequested` in a batch: the coldkey tells two
/// requests apart that reuse one request id (a reorganised chain replays the miner's nonce).
fn requests_in(b: &tao20_bevm::cursor::Batch) -> Vec<(B256, u64, B256)> {
    b.events
        .iter()
        .filter_map(|e| match &e.event {
            ContractEvent::CreationRequested(r) => Some((r.coldkey, e.block, e.block_hash)),
            _ => None,
        })
        .collect()
}

/// A `requestCreation` from the miner for `coldkey`, as a transaction anvil mines into the new
/// branch of a reorg.
fn request_tx(fx: &Fixture, coldkey: B256) -> alloy::rpc::types::anvil::TransactionData {
    use alloy::sol_types::SolCall;
    let data = tao20_bevm::bindings::TAO20::requestCreationCall {
        units: 1,
        coldkey,
        receiver: fx.miner.address(),
        minSharesOut: U256::ZERO,
    }
    .abi_encode();
    alloy::rpc::types::anvil::TransactionData::JSON(
        alloy::rpc::types::TransactionRequest::default()
            .from(fx.miner.address())
            .to(fx.deployment.tao20)
            .value(U256::from(BOND))
            .gas_limit(1_000_000)
            .input(alloy::primitives::Bytes::from(data).into()),
    )
}

async fn reorg(
    fx: &Fixture,
    depth: u64,
    txs: Vec<(alloy::rpc::types::anvil::TransactionData, u64)>,
) {
    fx.provider
        .anvil_reorg(alloy::rpc::types::anvil::ReorgOptions {
            depth,
            tx_block_pairs: txs,
        })
        .await
        .unwrap();
}

async fn hash_of(reader: &tao20_bevm::Reader, block: u64) -> B256 {
    reader.block_hash(block).await.unwrap().unwrap()
}

/// `anvil_reorg` below and above the confirmation depth. (a) A reorg shallower than the depth
/// replaces only blocks the cursor has not read as confirmed: nothing to undo, and the replaced
/// request is never delivered, only its replacement. (b) A reorg deeper than the depth replaces a
/// block whose event was delivered: the cursor finds the hash it remembered changed, reports the
/// first block after the fork point for the engine to undo from, and the events it reads from
/// there are the new branch's.
#[tokio::test]
async fn reorgs_below_the_confirmation_depth_deliver_nothing_twice_and_deeper_ones_report_the_fork()
{
    let fx = Fixture::new().await;
    let reader = fx.reader();
    publish(&fx).await;
    let mut delivered: Vec<(B256, u64, B256)> = Vec::new();

    let (_, b1) = request(&fx, keccak("r1")).await;
    fx.mine(CONFIRMATIONS).await;
    let first = poll_confirmed(
        &fx,
        &reader,
        &Cursor::starting_at(fx.deployment.deploy_block),
    )
    .await;
    assert_eq!(first.undo_from, None);
    assert_eq!(
        requests_in(&first),
        [(keccak("r1"), b1, hash_of(&reader, b1).await)]
    );
    delivered.extend(requests_in(&first));
    let cursor = first.next;

    // (a) r2 sits in the unconfirmed top of the chain when the keeper polls.
    let (_, b2) = request(&fx, keccak("r2")).await;
    fx.mine(1).await;
    let head = fx.head().await;
    assert_eq!(head, b2 + 1);
    let unconfirmed = poll_confirmed(&fx, &reader, &cursor).await;
    assert_eq!(unconfirmed.undo_from, None);
    assert_eq!(requests_in(&unconfirmed), []);
    assert_eq!(unconfirmed.next.next, head - CONFIRMATIONS + 1);
    let cursor = unconfirmed.next;
    let old_b2 = hash_of(&reader, b2).await;
    // A reorg of the top two blocks (< 3): r2's block is replaced by one carrying r2' instead.
    reorg(
        &fx,
        CONFIRMATIONS - 1,
        vec![(request_tx(&fx, keccak("r2'")), 0)],
    )
    .await;
    assert_eq!(fx.head().await, head, "anvil_reorg keeps the height");
    let new_b2 = hash_of(&reader, b2).await;
    assert_ne!(new_b2, old_b2, "block {b2} was replaced");
    fx.mine(CONFIRMATIONS).await;
    let after_shallow = poll_confirmed(&fx, &reader, &cursor).await;
    assert_eq!(
        after_shallow.undo_from, None,
        "nothing confirmed was reorganised"
    );
    assert_eq!(requests_in(&after_shallow), [(keccak("r2'"), b2, new_b2)]);
    delivered.extend(requests_in(&after_shallow));
    let cursor = after_shallow.next;

    // (b) r3 is delivered as confirmed, then a reorg deeper than the depth replaces its block.
    let settled = poll_confirmed(&fx, &reader, &cursor).await;
    assert_eq!(requests_in(&settled), []);
    let fork = fx.head().await - CONFIRMATIONS; // the last block both branches share
    let fork_hash = hash_of(&reader, fork).await;
    let cursor = settled.next;
    assert_eq!(cursor.next, fork + 1);
    let (_, b3) = request(&fx, keccak("r3")).await;
    fx.mine(CONFIRMATIONS).await;
    let confirmed = poll_confirmed(&fx, &reader, &cursor).await;
    assert_eq!(confirmed.undo_from, None);
    let old_b3 = hash_of(&reader, b3).await;
    assert_eq!(requests_in(&confirmed), [(keccak("r3"), b3, old_b3)]);
    delivered.extend(requests_in(&confirmed));
    let cursor = confirmed.next;
    let head = fx.head().await;
    let depth = head - fork;
    assert!(depth > CONFIRMATIONS, "{depth}");
    // The new branch carries r3' one block after its first block.
    reorg(&fx, depth, vec![(request_tx(&fx, keccak("r3'")), 1)]).await;
    assert_eq!(
        hash_of(&reader, fork).await,
        fork_hash,
        "the fork point survives"
    );
    assert_ne!(
        hash_of(&reader, b3).await,
        old_b3,
        "r3's block was replaced"
    );
    fx.mine(CONFIRMATIONS).await;
    let undone = poll_confirmed(&fx, &reader, &cursor).await;
    assert_eq!(
        undone.undo_from,
        Some(fork + 1),
        "the first block after the fork point"
    );
    let r3b = fork + 2;
    assert_eq!(
        requests_in(&undone),
        [(keccak("r3'"), r3b, hash_of(&reader, r3b).await)],
        "the events re-read after the fork are the new branch's"
    );
    assert_eq!(undone.next.next, fx.head().await - CONFIRMATIONS + 1);
    for &(n, h) in &undone.next.recent {
        assert_eq!(
            hash_of(&reader, n).await,
            h,
            "block {n} remembered from the new branch"
        );
    }
    // Across the run, r2 (reorganised away before it was confirmed) was never delivered; r3 was,
    // and is the one the engine undoes.
    assert!(delivered.iter().all(|(c, ..)| *c != keccak("r2")));
    assert!(delivered.iter().any(|(c, ..)| *c == keccak("r3")));
}

#[tokio::test]
async fn a_deployment_file_whose_schedule_is_not_the_contracts_is_refused() {
    let fx = Fixture::new().await;
    let reader = fx.reader();
    reader.check_deployment(&fx.deployment).await.unwrap();
    let mut edited = fx.deployment.clone();
    edited.expiry_grace += 1;
    let err = reader
        .check_deployment(&edited)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expiryGrace") && err.contains(&fx.deployment.expiry_grace.to_string()),
        "{err}"
    );
}
