//! The transaction manager against a real anvil with mining switched off: an attempt that never
//! reached the node leaves no nonce gap, a stuck attempt is replaced at its nonce with higher
//! fees, exactly one of the two is mined, and the other is recognised as superseded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy::eips::Decodable2718;
use alloy::providers::ext::AnvilApi;
use alloy::providers::Provider;
use common::*;
use tao20_bevm::txman::{bumped, AttemptStatus, Prepared};
use tao20_bevm::writer::{Call, Confirmed};
use tao20_creation::eip712::Eip712Message;

#[tokio::test]
async fn a_stuck_transaction_is_replaced_at_its_nonce_and_only_one_is_mined() {
    let fx = Fixture::new().await;
    let file = fx.current_file().await;
    let call = Call::PublishEpoch {
        signatures: fx.sign(&Eip712Message::CreationFile(file.clone()), 4),
        file,
    };
    let writer = fx.writer(&fx.relayer).with_wallet(fx.relayer.clone());
    fx.provider.anvil_set_auto_mine(false).await.unwrap();
    let nonce = fx
        .provider
        .get_transaction_count(fx.relayer.address())
        .await
        .unwrap();

    // Built and signed, then lost before the node saw it: the next attempt takes the same nonce.
    let Prepared::Attempt(lost) = writer.prepare(&call, None).await.unwrap() else {
        panic!("the epoch is not published yet");
    };
    assert_eq!(lost.nonce, nonce);
    let Prepared::Attempt(first) = writer.prepare(&call, None).await.unwrap() else {
        panic!("the epoch is not published yet");
    };
    assert_eq!(first.nonce, nonce, "a lost broadcast leaves no nonce gap");
    // The raw bytes are the transaction whose hash is recorded.
    let decoded = alloy::consensus::TxEnvelope::decode_2718(&mut first.raw.as_ref()).unwrap();
    assert_eq!(*decoded.tx_hash(), first.hash);

    writer.broadcast(&first).await.unwrap();
    // A second broadcast of the same bytes (a restart re-driving it) is not an error.
    writer.broadcast(&first).await.unwrap();
    assert_eq!(
        writer.status(&call, &first).await.unwrap(),
        AttemptStatus::Pending
    );

    // Stuck: replaced at the same nonce, both fees up by at least an eighth.
    let Prepared::Attempt(second) = writer.prepare(&call, Some(&first)).await.unwrap() else {
        panic!("still unsettled");
    };
    assert_eq!(second.nonce, first.nonce);
    assert_ne!(second.hash, first.hash);
    assert!(second.max_fee_per_gas >= bumped(first.max_fee_per_gas));
    assert!(second.max_priority_fee_per_gas >= bumped(first.max_priority_fee_per_gas));
    writer.broadcast(&second).await.unwrap();

    fx.mine(1).await;
    let mined = writer.status(&call, &second).await.unwrap();
    assert!(
        matches!(mined, AttemptStatus::Mined(Confirmed::Included(ref inc)) if inc.tx == second.hash),
        "{mined:?}"
    );
    assert_eq!(
        writer.status(&call, &first).await.unwrap(),
        AttemptStatus::NonceUsed,
        "the replaced attempt is never mined"
    );
    assert_eq!(
        fx.provider
            .get_transaction_count(fx.relayer.address())
            .await
            .unwrap(),
        nonce + 1,
        "one transaction for the subject"
    );
    // Settled now: nothing more to build.
    assert!(matches!(
        writer.prepare(&call, None).await.unwrap(),
        Prepared::AlreadySettled { .. }
    ));
}

#[tokio::test]
async fn confirmations_hold_an_outcome_back_until_deep_enough() {
    let fx = Fixture::new().await;
    let file = fx.current_file().await;
    let call = Call::PublishEpoch {
        signatures: fx.sign(&Eip712Message::CreationFile(file.clone()), 4),
        file,
    };
    let provider = tao20_bevm::rpc::connect_with_signer(&fx.url, fx.relayer.clone()).unwrap();
    let writer = tao20_bevm::Writer::new(
        provider,
        fx.deployment.tao20,
        fx.relayer.address(),
        3,
        std::time::Duration::from_secs(20),
    )
    .with_wallet(fx.relayer.clone());
    fx.provider.anvil_set_auto_mine(false).await.unwrap();
    let Prepared::Attempt(a) = writer.prepare(&call, None).await.unwrap() else {
        panic!("the epoch is not published yet");
    };
    writer.broadcast(&a).await.unwrap();
    fx.mine(1).await;
    assert_eq!(
        writer.status(&call, &a).await.unwrap(),
        AttemptStatus::Confirming
    );
    fx.mine(2).await;
    assert!(matches!(
        writer.status(&call, &a).await.unwrap(),
        AttemptStatus::Mined(Confirmed::Included(_))
    ));
}
