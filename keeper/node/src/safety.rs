//! Doppelganger detection, as lighthouse does it for validators: a signature that recovers to
//! this keeper's own report key over a digest its journal never signed was made by another
//! process holding the same key (a second instance, a restored backup, a copied keystore). Two
//! such processes need not sign the same content for a subject, so the first sign of one stops
//! this keeper's signing until an operator restarts it; the outbox keeps what it would have
//! signed.

use std::sync::Mutex;

use alloy_primitives::B256;

use crate::metrics::Metrics;

/// The doppelganger latch: once set, it stays set for the life of the process.
#[derive(Debug)]
pub struct Doppelganger {
    seen: Mutex<Option<String>>,
    metrics: Metrics,
}

impl Doppelganger {
    /// A latch that has seen nothing.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            seen: Mutex::new(None),
            metrics,
        }
    }

    /// Records that this keeper's signer signed `digest`, which it never signed itself, as
    /// `source` (a peer's push, a pull) shows.
    pub fn detected(&self, digest: &B256, source: &str) {
        let detail =
            format!("own signer's signature over {digest}, never signed here, from {source}");
        tracing::error!(target: "keeper::safety", %digest, source,
            "DOPPELGANGER: another process signs with this keeper's report key; signing stops until restart. \
             Stop the other instance before restarting this one.");
        self.metrics.doppelganger.set(1);
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.is_none() {
            *seen = Some(detail);
        }
    }

    /// Whether signing must stop.
    pub fn tripped(&self) -> bool {
        self.detail().is_some()
    }

    /// What was seen first, if anything.
    pub fn detail(&self) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
