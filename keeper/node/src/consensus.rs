//! The parameters every keeper must share, bound rather than trusted: hashed into a config digest
//! that each keeper serves (`GET /v1/config` on the exchange, `/v1/status` on the ops port) and
//! attaches to the signatures it pushes. A keeper in the minority — a strict majority of the
//! peers that answered carries one digest that is not its own — signs nothing until that
//! changes: signing a report its peers compute differently would only commit its journal to
//! content the quorum never reaches (and refuse the right content later).
//!
//! What the contract holds (signer set, epoch length, expiry grace, fees) is read from the
//! contract; what only the keepers' configuration holds is hashed here.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use alloy_primitives::{keccak256, Address, B256};
use serde::Serialize;
use tao20_bevm::Deployment;
use tao20_creation::index::IndexParams;

use crate::config::KeeperConfig;
use crate::metrics::Metrics;

/// The parameters a report's content, its subjects or its transmission depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusParams {
    /// The EIP-712 domain.
    pub chain_id: u64,
    /// The contract.
    pub contract: Address,
    /// The deployment block the keepers start from.
    pub deploy_block: u64,
    /// BEVM blocks behind the subtensor finalized head at which BEVM is read.
    pub bevm_confirmations: u64,
    /// The official price window.
    pub price_window: u64,
    /// The index methodology.
    pub index: IndexParams,
    /// Sweep cadence (its nonces are subjects).
    pub sweep_every_blocks: u64,
    /// Transmission turns.
    pub stage_blocks: u64,
    /// The mechanisms' shared rules (the budget cap each keeper publishes is its own).
    pub mechanisms: MechanismParams,
}

/// The mechanisms' parameters that must agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MechanismParams {
    /// Whether they run.
    pub enabled: bool,
    /// The auction's mechanism id.
    pub auction_mecid: u8,
    /// gamma-MSI coverage, FP18 raw.
    pub gamma: String,
    /// Price multiplier cut, FP18 raw.
    pub max_price: String,
    /// Delivery threshold, FP18 raw.
    pub delivery_threshold: String,
    /// Largest sampling gap.
    pub max_gap_blocks: u64,
    /// Ban publication length.
    pub ban_lookback_blocks: u64,
    /// Seconds per block (bid staleness).
    pub block_time_secs: u64,
    /// Bid staleness.
    pub bid_max_age_secs: u64,
    /// From this window start on, v1 bids are ignored.
    pub v2_only_from_block: Option<u64>,
    /// The weights version key.
    pub version_key: u64,
}

impl ConsensusParams {
    /// The parameters of `cfg` for `deployment`.
    pub fn of(cfg: &KeeperConfig, deployment: &Deployment) -> Self {
        let m = &cfg.mechanisms;
        Self {
            chain_id: deployment.chain_id,
            contract: deployment.tao20,
            deploy_block: deployment.deploy_block,
            bevm_confirmations: cfg.bevm.confirmations,
            price_window: cfg.creation.price_window,
            index: cfg.creation.index.clone(),
            sweep_every_blocks: cfg.creation.sweep_every_blocks,
            stage_blocks: cfg.transmit.stage_blocks,
            mechanisms: MechanismParams {
                enabled: m.enabled,
                auction_mecid: m.auction_mecid,
                gamma: m.gamma.raw().to_string(),
                max_price: m.max_price.raw().to_string(),
                delivery_threshold: m.delivery_threshold.raw().to_string(),
                max_gap_blocks: m.max_gap_blocks,
                ban_lookback_blocks: m.ban_lookback_blocks,
                block_time_secs: m.block_time_secs,
                bid_max_age_secs: m.bid_max_age_secs,
                v2_only_from_block: m.v2_only_from_block,
                version_key: m.version_key,
            },
        }
    }

    /// keccak256 of the parameters' JSON (fields in declaration order, so every build of the
    /// same version hashes the same bytes).
    pub fn digest(&self) -> B256 {
        // Serialising plain fields cannot fail; an empty document would still differ from every
        // peer's and be noticed.
        keccak256(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// What a keeper signs to vouch for its digest: EIP-191 with version byte `T` (0x54), so it can
/// never be the preimage of an EIP-712 digest (version byte 0x01) or of a signed report.
pub fn vouch_digest(chain_id: u64, contract: Address, digest: B256) -> B256 {
    let mut buf = Vec::with_capacity(2 + 12 + 8 + 20 + 32);
    buf.extend_from_slice(b"\x19T");
    buf.extend_from_slice(b"TAO20 config");
    buf.extend_from_slice(&chain_id.to_be_bytes());
    buf.extend_from_slice(contract.as_slice());
    buf.extend_from_slice(digest.as_slice());
    keccak256(buf)
}

/// A keeper's answer to `GET /v1/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigAnswer {
    /// Its report signer.
    pub signer: Address,
    /// Its digest.
    pub config_digest: B256,
    /// Its report key's signature of [`vouch_digest`].
    pub signature: alloy_primitives::Bytes,
    /// The parameters hashed (for an operator comparing two keepers).
    pub params: serde_json::Value,
}

/// What the peers' digests say about this keeper's.
#[derive(Debug)]
pub struct PeerDigests {
    mine: B256,
    seen: Mutex<BTreeMap<String, (B256, Instant)>>,
    metrics: Metrics,
}

/// A peer's digest older than this no longer counts (a peer gone quiet).
const DIGEST_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

impl PeerDigests {
    /// A tracker for this keeper's digest `mine`.
    pub fn new(mine: B256, metrics: Metrics) -> Self {
        Self {
            mine,
            seen: Mutex::new(BTreeMap::new()),
            metrics,
        }
    }

    /// This keeper's digest.
    pub fn mine(&self) -> B256 {
        self.mine
    }

    /// Records the digest `peer` (a URL or a signer address) reported.
    pub fn saw(&self, peer: &str, digest: B256) {
        let before = self.refusing();
        {
            let mut seen = self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            seen.insert(peer.to_string(), (digest, Instant::now()));
        }
        if digest != self.mine {
            tracing::warn!(target: "keeper::consensus", peer, theirs = %digest, mine = %self.mine,
                "a peer's config digest differs from this keeper's");
        }
        let after = self.refusing();
        self.metrics.config_digest_mismatch.set(i64::from(after));
        if after && !before {
            tracing::error!(target: "keeper::consensus", mine = %self.mine,
                "most peers run other consensus parameters: signing stops until they agree (compare `GET /v1/config` of each)");
        } else if before && !after {
            tracing::info!(target: "keeper::consensus", "the peers' config digests agree again: signing resumes");
        }
    }

    /// The digests counted now, by digest.
    pub fn tally(&self) -> BTreeMap<B256, usize> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut tally = BTreeMap::new();
        for (d, at) in seen.values() {
            if at.elapsed() < DIGEST_TTL {
                *tally.entry(*d).or_insert(0usize) += 1;
            }
        }
        tally
    }

    /// Whether this keeper is in the minority: a strict majority of the peers counted share a
    /// digest that is not this keeper's.
    pub fn refusing(&self) -> bool {
        let tally = self.tally();
        let total: usize = tally.values().sum();
        tally
            .iter()
            .any(|(d, n)| *d != self.mine && n.saturating_mul(2) > total)
    }
}
