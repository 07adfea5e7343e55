//! A faulty peer against a keeper's signature exchange, over real HTTP on a bound port: garbage,
//! oversized bodies, signatures of non-signers and over other digests, a stale signer set, a
//! replayed signature and a flood beyond the rate limit each get their status and a JSON error
//! body, nothing of theirs is stored, and an honest report still reaches its quorum afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, RwLock};

use alloy_primitives::{address, keccak256, Address, Bytes, B256};
use tao20_bevm::reader::SignerSet;
use tao20_creation::eip712::{Eip712Message, Position, RefundReport};
use tao20_creation::signing::{recover, ReportSigner};
use tao20_node::consensus::{vouch_digest, ConfigAnswer, PeerDigests};
use tao20_node::exchange::{
    Exchange, HeldPool, PeerClient, RateLimiter, Signatures, SignedMessage, VouchedDigest,
};
use tao20_node::journal::{self, Checked};
use tao20_node::listener::ConnLimits;
use tao20_node::metrics::Metrics;
use tao20_node::safety::Doppelganger;
use tao20_node::store::{reports, Store};

const CHAIN: u64 = 31337;
const CONTRACT: Address = address!("00000000000000000000000000000000000000c0");
const VERSION: u64 = 3;
const MAX_BODY: usize = 4096;
const RATE: u32 = 5;
/// The exchange's idle time. Longer than opening a thousand connections takes on a loaded
/// machine: were the first admitted ones closed as idle while the rest still arrive, later ones
/// would take their slots instead of being refused, and the refusal count would vary.
const IDLE: std::time::Duration = std::time::Duration::from_secs(4);

fn key(name: &str) -> ReportSigner {
    ReportSigner::from_bytes(&keccak256(name)).unwrap()
}

fn refund(amount: u64, version: u64) -> Eip712Message {
    Eip712Message::RefundReport(RefundReport {
        request_id: B256::repeat_byte(7),
        coldkey: B256::repeat_byte(9),
        positions: vec![Position {
            netuid: 2,
            hotkey: B256::repeat_byte(2),
            amount,
        }],
        delivery_block: 10,
        delivery_index: 3,
        signer_set_version: version,
    })
}

/// `by`'s vouched answer for the config digest `digest`.
fn config_answer(by: &ReportSigner, digest: B256) -> ConfigAnswer {
    ConfigAnswer {
        signer: by.address(),
        config_digest: digest,
        signature: Bytes::from(
            by.sign_digest(&vouch_digest(CHAIN, CONTRACT, digest))
                .unwrap()
                .to_vec(),
        ),
        params: serde_json::json!({}),
    }
}

fn signed(by: &ReportSigner, message: &Eip712Message) -> SignedMessage {
    let sig = by.sign(message, CHAIN, CONTRACT).unwrap();
    SignedMessage {
        message: message.clone(),
        signature: Bytes::from(sig.to_vec()),
        config: None,
    }
}

/// [`signed`], carrying the config digest `digest` vouched for by `voucher`.
fn signed_with_digest(
    by: &ReportSigner,
    message: &Eip712Message,
    voucher: &ReportSigner,
    digest: B256,
) -> SignedMessage {
    let answer = config_answer(voucher, digest);
    SignedMessage {
        config: Some(VouchedDigest {
            config_digest: digest,
            signature: answer.signature,
        }),
        ..signed(by, message)
    }
}

struct Keeper {
    _dir: tempfile::TempDir,
    ex: Arc<Exchange>,
    url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A keeper's exchange on a free port, with `own` recorded as a report it computed itself.
async fn keeper(signers: &[Address], own: &Eip712Message) -> (Keeper, B256) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("keeper.sqlite")).unwrap();
    let me = key("signer0").address();
    let digest = store
        .write(
            |tx| match journal::check_and_record(tx, me, own, CHAIN, CONTRACT, 5)? {
                Checked::Sign { subject, digest } => {
                    reports::insert_report(tx, digest, &subject, own, 5)?;
                    Ok(digest)
                }
                other => panic!("a fresh journal signs: {other:?}"),
            },
        )
        .unwrap();
    let mut sorted = signers.to_vec();
    sorted.sort();
    let metrics = Metrics::new().unwrap();
    let ex = Arc::new(Exchange {
        chain_id: CHAIN,
        contract: CONTRACT,
        store: Arc::new(Mutex::new(store)),
        signers: Arc::new(RwLock::new(SignerSet {
            version: VERSION,
            signers: sorted,
            threshold: 4,
        })),
        held: Mutex::new(HeldPool::new(16)),
        metrics: metrics.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
        limiter: Mutex::new(RateLimiter::new(RATE)),
        max_body: MAX_BODY,
        conn: ConnLimits {
            max_total: 64,
            per_ip: 8,
            idle: IDLE,
        },
        me,
        doppelganger: Arc::new(Doppelganger::new(metrics.clone())),
        config: config_answer(&key("signer0"), B256::repeat_byte(0xcf)),
        digests: Arc::new(PeerDigests::new(B256::repeat_byte(0xcf), metrics.clone())),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = ex.clone();
    let (_keep, stop) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(async move {
        let _keep = _keep;
        let _ = serving.serve(listener, stop).await;
    });
    (
        Keeper {
            _dir: dir,
            ex,
            url,
            server,
        },
        digest,
    )
}

/// A client whose requests come from `127.0.0.<last>` (every loopback address is local on
/// Linux), so that each phase has a rate-limit bucket of its own.
fn client(last: u8) -> reqwest::Client {
    tao20_bevm::rpc::ensure_tls();
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .unwrap()
}

/// Posts `body` to the keeper's push endpoint; the status and the JSON answer.
async fn post(c: &reqwest::Client, k: &Keeper, body: Vec<u8>) -> (u16, serde_json::Value) {
    let resp = c
        .post(format!("{}/v1/signatures", k.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer {code} is not JSON ({e}): {text:?}"));
    (code, json)
}

async fn push(c: &reqwest::Client, k: &Keeper, m: &SignedMessage) -> (u16, serde_json::Value) {
    post(c, k, serde_json::to_vec(m).unwrap()).await
}

fn stored(k: &Keeper, digest: &B256) -> Vec<(Address, Vec<u8>)> {
    let store = k.ex.store.lock().unwrap();
    reports::signatures(store.conn(), digest).unwrap()
}

/// The value of `name` (with its labels, as exposed) in the keeper's metrics text.
fn metric(k: &Keeper, name: &str) -> u64 {
    let text = k.ex.metrics.render();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

fn refused_with(answer: &(u16, serde_json::Value), code: u16, cause: &str) {
    assert_eq!(answer.0, code, "{}", answer.1);
    assert_eq!(answer.1["error"], cause, "{}", answer.1);
    assert!(
        answer.1["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "a refusal says what was wrong: {}",
        answer.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_peer_is_refused_and_stores_nothing_and_an_honest_quorum_still_forms() {
    let set: Vec<ReportSigner> = (0..5).map(|i| key(&format!("signer{i}"))).collect();
    let members: Vec<Address> = set.iter().map(ReportSigner::address).collect();
    let honest = refund(500, VERSION);
    let (k, digest) = keeper(&members, &honest).await;
    let bad = client(2);

    // Garbage, and JSON of the wrong shape.
    refused_with(
        &post(&bad, &k, b"\x00\xffnot json at all".to_vec()).await,
        400,
        "malformed",
    );
    refused_with(
        &post(&bad, &k, br#"{"message": 1, "signature": "0x00"}"#.to_vec()).await,
        400,
        "malformed",
    );
    // Larger than exchange.max_body_bytes: refused before it is parsed.
    let mut huge = serde_json::to_vec(&signed(&set[1], &honest)).unwrap();
    huge.extend(std::iter::repeat_n(b' ', MAX_BODY));
    refused_with(&post(&bad, &k, huge).await, 413, "too_large");
    // A signature that is not 65 bytes.
    let mut short = signed(&set[1], &honest);
    short.signature = Bytes::from(vec![1u8; 12]);
    refused_with(&push(&bad, &k, &short).await, 400, "bad_signature");
    // A well-formed signature by a key outside the signer set.
    let outsider = key("outsider");
    refused_with(
        &push(&bad, &k, &signed(&outsider, &honest)).await,
        403,
        "not_a_signer",
    );
    // A member's signature over another digest, attached to the honest report: it recovers to
    // some other address, which is not a signer.
    let other = refund(501, VERSION);
    let mut swapped = signed(&set[1], &other);
    swapped.message = honest.clone();
    refused_with(&push(&bad, &k, &swapped).await, 403, "not_a_signer");
    // A member's signature under an old signer-set version.
    refused_with(
        &push(&bad, &k, &signed(&set[1], &refund(500, VERSION - 1))).await,
        409,
        "stale_signer_set",
    );
    // A member's signature over a digest this keeper never computed: held in memory, bounded,
    // never stored.
    let held = push(&bad, &k, &signed(&set[2], &other)).await;
    assert_eq!(held.0, 202, "{}", held.1);
    assert_eq!(held.1["status"], "held");
    let other_digest = other.digest(CHAIN, CONTRACT);
    {
        let store = k.ex.store.lock().unwrap();
        assert!(reports::report(store.conn(), &other_digest)
            .unwrap()
            .is_none());
        assert!(reports::signatures(store.conn(), &other_digest)
            .unwrap()
            .is_empty());
    }
    assert_eq!(k.ex.held.lock().unwrap().len(), 1);
    assert!(
        stored(&k, &digest).is_empty(),
        "no faulty push reached the store"
    );
    for (cause, n) in [
        ("malformed", 2),
        ("too_large", 1),
        ("bad_signature", 1),
        ("not_a_signer", 2),
        ("stale_signer_set", 1),
    ] {
        assert_eq!(
            metric(&k, &format!("tao20_peer_errors_total{{cause=\"{cause}\"}}")),
            n,
            "{cause}"
        );
    }

    // Pulls: a digest that is no digest, and one this keeper does not know.
    let r = bad
        .get(format!("{}/v1/signatures/0x1234", k.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = bad
        .get(format!("{}/v1/signatures/{other_digest}", k.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "unknown_digest"
    );

    // A valid signature, then the same one replayed: accepted once, stored once.
    let peer = client(5);
    let first = push(&peer, &k, &signed(&set[1], &honest)).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first.1["status"], "accepted");
    let replay = push(&peer, &k, &signed(&set[1], &honest)).await;
    assert_eq!(replay.0, 200, "{}", replay.1);
    assert_eq!(stored(&k, &digest).len(), 1, "a replay adds nothing");

    // A flood from one address: beyond the burst (twice the rate), refused with 429.
    let flood = client(3);
    let garbage = signed(&outsider, &honest);
    let mut limited = 0;
    let mut verdicts = 0;
    for _ in 0..40 {
        let a = push(&flood, &k, &garbage).await;
        match a.0 {
            429 => {
                refused_with(&a, 429, "rate_limited");
                limited += 1;
            }
            403 => verdicts += 1,
            other => panic!("unexpected {other}: {}", a.1),
        }
    }
    let burst = 2 * RATE as usize;
    assert!(
        verdicts >= burst && verdicts <= burst + 5,
        "{verdicts} requests got through a burst of {burst}"
    );
    assert_eq!(limited + verdicts, 40);
    assert_eq!(
        metric(&k, "tao20_peer_errors_total{cause=\"rate_limited\"}"),
        limited as u64
    );

    // Honest peers from elsewhere still reach this keeper; with its own signature (the
    // executor's, here added directly) the report has its threshold of four.
    {
        let store = k.ex.store.lock().unwrap();
        let own = set[0].sign(&honest, CHAIN, CONTRACT).unwrap();
        reports::add_signature(store.conn(), &digest, &members[0], &own, "own").unwrap();
    }
    let good = client(4);
    for s in &set[2..4] {
        let a = push(&good, &k, &signed(s, &honest)).await;
        assert_eq!(a.0, 200, "{}", a.1);
    }
    let sigs = stored(&k, &digest);
    assert_eq!(sigs.len(), 4, "the threshold");
    let mut want: Vec<Address> = members[..4].to_vec();
    want.sort();
    assert_eq!(
        sigs.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        want,
        "exactly the honest signers"
    );
    for (signer, sig) in &sigs {
        assert_eq!(recover(&digest, sig).unwrap(), *signer);
    }
    assert_eq!(metric(&k, "tao20_peer_signatures_total"), 3);
    // And a peer pulling the digest gets the same four.
    let pulled: Signatures = good
        .get(format!("{}/v1/signatures/{digest}", k.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pulled.digest, digest);
    assert_eq!(
        pulled
            .signatures
            .iter()
            .map(|s| s.signer)
            .collect::<Vec<_>>(),
        want
    );
    // Nothing else grew: the outsider's flood and the forged pushes left no trace.
    let store = k.ex.store.lock().unwrap();
    let total: i64 = store
        .conn()
        .query_row("SELECT COUNT(*) FROM signatures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, 4);
}

/// Another process with this keeper's key: its signature over a digest this keeper's journal
/// never held trips the latch (and nothing of it is stored), while this keeper's own signature
/// echoed back over a digest it holds is harmless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_of_its_own_key_over_a_digest_it_never_signed_is_a_doppelganger() {
    let set: Vec<ReportSigner> = (0..5).map(|i| key(&format!("signer{i}"))).collect();
    let members: Vec<Address> = set.iter().map(ReportSigner::address).collect();
    let honest = refund(500, VERSION);
    let (k, digest) = keeper(&members, &honest).await;
    let peer = client(7);

    // Its own signature over the report it journaled, relayed back by a peer: no alarm.
    let echo = push(&peer, &k, &signed(&set[0], &honest)).await;
    assert_eq!(echo.0, 200, "{}", echo.1);
    assert!(!k.ex.doppelganger.tripped());
    assert_eq!(metric(&k, "tao20_doppelganger_detected"), 0);
    assert!(
        stored(&k, &digest).is_empty(),
        "a peer never supplies this keeper's own signature"
    );

    // The same key over other content for the same request: another process signed it.
    let other = refund(499, VERSION);
    let answer = push(&peer, &k, &signed(&set[0], &other)).await;
    refused_with(&answer, 409, "own_signer");
    assert!(k.ex.doppelganger.tripped());
    assert_eq!(metric(&k, "tao20_doppelganger_detected"), 1);
    let other_digest = other.digest(CHAIN, CONTRACT);
    assert!(stored(&k, &other_digest).is_empty());
    assert!(
        k.ex.held.lock().unwrap().take(&other_digest).is_empty(),
        "not held for later either"
    );
    assert!(k
        .ex
        .doppelganger
        .detail()
        .is_some_and(|d| d.contains(&other_digest.to_string())));
}

/// Opens a connection to the keeper from `127.0.0.<last>` and sends nothing.
async fn idle_connection(k: &Keeper, last: u8) -> Option<tokio::net::TcpStream> {
    let addr: std::net::SocketAddr = k.url.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(std::net::SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
            0,
        ))
        .unwrap();
    socket.connect(addr).await.ok()
}

/// Whether the server closed `s` within `within` (a read that ends rather than waits).
async fn closed_within(s: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(within, s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// The connections the server closed within 100 ms, and the others (checked all at once: one
/// after another, the first admitted ones would reach the idle time while the last are checked).
async fn split_closed(
    conns: Vec<tokio::net::TcpStream>,
) -> (Vec<tokio::net::TcpStream>, Vec<tokio::net::TcpStream>) {
    let mut checks = tokio::task::JoinSet::new();
    for mut c in conns {
        checks.spawn(async move {
            let closed = closed_within(&mut c, std::time::Duration::from_millis(100)).await;
            (closed, c)
        });
    }
    let (mut closed, mut open) = (Vec::new(), Vec::new());
    while let Some(r) = checks.join_next().await {
        let (was_closed, c) = r.unwrap();
        if was_closed {
            closed.push(c);
        } else {
            open.push(c);
        }
    }
    (closed, open)
}

/// A thousand connections that send nothing, from one address: all but that address's share
/// are closed at once, the rest once idle, and an honest peer elsewhere is answered meanwhile.
/// Connections from many addresses are capped in total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_hold_the_exchange() {
    let set: Vec<ReportSigner> = (0..5).map(|i| key(&format!("signer{i}"))).collect();
    let members: Vec<Address> = set.iter().map(ReportSigner::address).collect();
    let honest = refund(500, VERSION);
    let (k, digest) = keeper(&members, &honest).await;

    let mut idle = Vec::new();
    for _ in 0..1000 {
        if let Some(c) = idle_connection(&k, 2).await {
            idle.push(c);
        }
    }
    assert_eq!(idle.len(), 1000, "the kernel accepted every connection");
    let t = std::time::Instant::now();
    let answer = push(&client(3), &k, &signed(&set[1], &honest)).await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "an honest peer waited {:?} behind idle connections",
        t.elapsed()
    );
    assert_eq!(stored(&k, &digest).len(), 1);
    let (closed, held) = split_closed(idle).await;
    let closed_at_once = closed.len();
    assert_eq!(held.len(), 8, "one address keeps its share open");
    assert_eq!(closed_at_once, 992);
    assert!(
        metric(&k, "tao20_peer_errors_total{cause=\"connection_limit\"}") >= 992,
        "refusals are counted"
    );
    // The held ones, sending nothing, are closed once idle.
    for mut c in held {
        assert!(
            closed_within(&mut c, IDLE * 3).await,
            "an idle connection outlived the idle time"
        );
    }

    // Many addresses: the total is capped (ten addresses of eight each, 64 admitted).
    let before = metric(&k, "tao20_peer_errors_total{cause=\"connection_limit\"}");
    let mut spread: Vec<tokio::net::TcpStream> = Vec::new();
    for last in 10..20u8 {
        for _ in 0..8 {
            spread.extend(idle_connection(&k, last).await);
        }
    }
    let (refused, admitted) = split_closed(spread).await;
    assert_eq!(refused.len(), 16, "80 connections, 64 admitted");
    assert_eq!(admitted.len(), 64);
    assert!(metric(&k, "tao20_peer_errors_total{cause=\"connection_limit\"}") >= before + 16);
}

/// A peer that accepts and never answers.
async fn hanging_peer() -> (String, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (url, task)
}

/// Ten peers that never answer cost a push one timeout (they are asked concurrently), and the
/// next push none (they are left alone while they back off); the live peer gets both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_unreachable_peers_cost_one_timeout_then_none() {
    let set: Vec<ReportSigner> = (0..5).map(|i| key(&format!("signer{i}"))).collect();
    let members: Vec<Address> = set.iter().map(ReportSigner::address).collect();
    let honest = refund(500, VERSION);
    let (k, digest) = keeper(&members, &honest).await;
    let mut peers = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (url, task) = hanging_peer().await;
        peers.push(url);
        tasks.push(task);
    }
    peers.push(k.url.clone());
    let timeout = std::time::Duration::from_secs(2);
    let peer_client = PeerClient::new(timeout, 1 << 20).unwrap();

    let t = std::time::Instant::now();
    let first = peer_client
        .push_all(peers.clone(), &signed(&set[1], &honest))
        .await;
    let took = t.elapsed();
    assert_eq!((first.delivered, first.failed, first.skipped), (1, 10, 0));
    assert!(
        took < timeout * 2,
        "ten hanging peers took {took:?}: asked one after another?"
    );
    let t = std::time::Instant::now();
    let second = peer_client
        .push_all(peers.clone(), &signed(&set[2], &honest))
        .await;
    assert_eq!(
        (second.delivered, second.failed, second.skipped),
        (1, 0, 10)
    );
    assert!(
        t.elapsed() < timeout / 2,
        "backing-off peers were asked again"
    );
    assert_eq!(stored(&k, &digest).len(), 2);
    for t in tasks {
        t.abort();
    }
}

/// Peers' config digests count only when vouched for by a current signer's report key; this
/// keeper refuses to sign once a strict majority of the counted peers share another digest, and
/// signs again once they agree with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_digests_count_only_when_vouched_and_a_minority_keeper_refuses() {
    let set: Vec<ReportSigner> = (0..5).map(|i| key(&format!("signer{i}"))).collect();
    let members: Vec<Address> = set.iter().map(ReportSigner::address).collect();
    let (k, _) = keeper(&members, &refund(500, VERSION)).await;
    let mine = B256::repeat_byte(0xcf);
    let other = B256::repeat_byte(0x0d);
    // Served on the public port, as every keeper fetches it.
    let served: ConfigAnswer = client(8)
        .get(format!("{}/v1/config", k.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served.config_digest, mine);

    // Forged: a signature by someone else, a non-member, this keeper's own key.
    let mut forged = config_answer(&set[1], other);
    forged.signer = set[2].address();
    assert!(k.ex.count_config(&forged).is_err());
    assert!(k
        .ex
        .count_config(&config_answer(&key("outsider"), other))
        .is_err());
    assert!(k.ex.count_config(&config_answer(&set[0], other)).is_err());
    assert!(
        k.ex.digests.tally().is_empty(),
        "nothing unvouched is counted"
    );

    // Two of four peers differ: no strict majority, signing goes on.
    for s in &set[1..3] {
        k.ex.count_config(&config_answer(s, other)).unwrap();
    }
    for s in &set[3..5] {
        k.ex.count_config(&config_answer(s, mine)).unwrap();
    }
    assert!(!k.ex.digests.refusing());
    assert_eq!(metric(&k, "tao20_config_digest_mismatch"), 0);
    // Three of four: this keeper is the odd one out and signs nothing.
    k.ex.count_config(&config_answer(&set[3], other)).unwrap();
    assert!(k.ex.digests.refusing());
    assert_eq!(metric(&k, "tao20_config_digest_mismatch"), 1);
    // A peer's later answer replaces its earlier one: agreement restores signing.
    for s in &set[1..4] {
        k.ex.count_config(&config_answer(s, mine)).unwrap();
    }
    assert!(!k.ex.digests.refusing());
    assert_eq!(metric(&k, "tao20_config_digest_mismatch"), 0);
}

/// A pushed signature carries its signer's config digest: it counts towards the peers' digests
/// as a `/v1/config` answer does, under the message signer's own vouch only; a push whose
/// digest another key vouched for is refused and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_signature_carries_its_signers_config_digest_under_its_own_vouch() {
    let set: Vec<ReportSigner> = (0..5).map(|i| key(&format!("signer{i}"))).collect();
    let members: Vec<Address> = set.iter().map(ReportSigner::address).collect();
    let honest = refund(500, VERSION);
    let (k, digest) = keeper(&members, &honest).await;
    let other = B256::repeat_byte(0x0d);
    let c = client(9);

    // Vouched for by another signer than the message's: refused, nothing stored or counted.
    let relayed = signed_with_digest(&set[1], &honest, &set[2], other);
    refused_with(&push(&c, &k, &relayed).await, 400, "bad_signature");
    assert!(stored(&k, &digest).is_empty());
    assert!(k.ex.digests.tally().is_empty());

    // Three peers push under another digest: this keeper learns it is in the minority from
    // their pushes alone, and still stores their signatures.
    for s in &set[1..4] {
        let answer = push(&c, &k, &signed_with_digest(s, &honest, s, other)).await;
        assert_eq!(answer.0, 200, "{}", answer.1);
    }
    assert_eq!(stored(&k, &digest).len(), 3);
    assert_eq!(k.ex.digests.tally().get(&other), Some(&3));
    assert!(k.ex.digests.refusing());
    assert_eq!(metric(&k, "tao20_config_digest_mismatch"), 1);

    // A push without a digest (a keeper that predates it) is stored and changes no count.
    let answer = push(&c, &k, &signed(&set[4], &honest)).await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(k.ex.digests.tally().get(&other), Some(&3));
    assert_eq!(k.ex.digests.tally().len(), 1);
}
