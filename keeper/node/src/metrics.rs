//! Prometheus metrics, served as text on `/metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use std::sync::{Arc, Mutex, PoisonError};

use crate::{Error, Result};

/// The keeper's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Held while a block's pair of metrics moves and while a scrape reads them, so a scrape
    /// never sees the counter of one block with the gauge of the one before.
    block_pair: Arc<Mutex<()>>,
    /// Finalized blocks processed.
    blocks_processed: IntCounter,
    /// The last block processed.
    last_block: IntGauge,
    /// Finalized head minus the last processed block.
    pub finality_lag: IntGauge,
    /// Reports signed, by kind.
    pub reports_signed: IntCounterVec,
    /// Signatures refused by the journal (different content for a signed subject).
    pub reports_refused: IntCounter,
    /// Transactions sent, by call and outcome.
    pub reports_submitted: IntCounterVec,
    /// Blocks from a report's creation to its quorum.
    pub quorum_latency_blocks: Histogram,
    /// Peer requests that failed or were refused, by cause.
    pub peer_errors: IntCounterVec,
    /// Peer signatures newly stored (pushed to this keeper or pulled by it).
    pub peer_signatures: IntCounter,
    /// Outbox items not yet done.
    pub outbox_depth: IntGauge,
    /// Outbox items set aside after too many failures.
    pub dead_letters: IntGauge,
    /// Transactions replaced at their nonce with higher fees, by call.
    pub tx_replaced: IntCounterVec,
    /// Endpoint failures the keeper waited out, by endpoint.
    pub rpc_failures: IntCounterVec,
    /// JSON-RPC requests this process sent to its subtensor node (every task's).
    pub subtensor_requests: IntCounter,
    /// The `spec_version` of the subtensor runtime at the last block read.
    pub subtensor_spec_version: IntGauge,
    /// Runtime upgrades seen while running.
    pub runtime_upgrades: IntCounter,
    /// 1 when the node runs a runtime newer than any the client was checked against.
    pub runtime_unchecked: IntGauge,
    /// Auction windows settled, by outcome (`auction`, `skipped`).
    pub windows_settled: IntCounterVec,
    /// Winners this keeper banned for under-delivery.
    pub bans: IntCounter,
    /// Weights submitted, by mechanism and method (`set`, `timelocked`).
    pub weights_submitted: IntCounterVec,
    /// Weights the chain refused, by mechanism and the runtime's reason (`StakeAmountTooLow`,
    /// `RateLimitExceeded`, `NeuronNoValidatorPermit`, ...).
    pub weights_refused: IntCounterVec,
    /// Weights read back, by mechanism and result (`matched`, `mismatch`, `superseded`).
    pub weights_checked: IntCounterVec,
    /// Price commitments, by outcome (`included`, `refused`, `superseded`).
    pub commitments: IntCounterVec,
    /// Pool samples, by outcome (`recorded`, `skipped`).
    pub pool_samples: IntCounterVec,
    /// Price feed reads, by metric and outcome.
    pub price_reads: IntCounterVec,
    /// Unix time of the engine's last completed round (a block processed, or the head checked
    /// with nothing to do): a liveness signal that stops moving when the engine stalls or ends.
    pub last_progress: IntGauge,
    /// 1 while most peers run other consensus parameters (this keeper then signs nothing).
    pub config_digest_mismatch: IntGauge,
    /// 1 once this keeper's own signer was seen signing something this keeper did not sign
    /// (another process with the same key): the keeper signs nothing more until restarted.
    pub doppelganger: IntGauge,
}

fn m(e: prometheus::Error) -> Error {
    Error::Setup {
        what: "metrics".into(),
        source: Box::new(e),
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(r: &Registry, c: C) -> Result<C> {
    r.register(Box::new(c.clone())).map_err(m)?;
    Ok(c)
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Result<Self> {
        let r = Registry::new_custom(Some("tao20".into()), None).map_err(m)?;
        let counter =
            |name: &str, help: &str| register(&r, IntCounter::new(name, help).map_err(m)?);
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                &r,
                IntCounterVec::new(Opts::new(name, help), labels).map_err(m)?,
            )
        };
        let gauge = |name: &str, help: &str| register(&r, IntGauge::new(name, help).map_err(m)?);
        Ok(Metrics {
            blocks_processed: counter("blocks_processed_total", "finalized blocks processed")?,
            last_block: gauge("last_block", "the last finalized block processed")?,
            finality_lag: gauge(
                "finality_lag_blocks",
                "finalized head minus the last block processed",
            )?,
            reports_signed: counter_vec("reports_signed_total", "reports signed", &["kind"])?,
            reports_refused: counter(
                "reports_refused_total",
                "signatures the journal refused (different content for a signed subject)",
            )?,
            reports_submitted: counter_vec(
                "reports_submitted_total",
                "transactions sent",
                &["call", "outcome"],
            )?,
            quorum_latency_blocks: register(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "quorum_latency_blocks",
                        "blocks from a report's creation to its quorum",
                    )
                    .buckets(vec![0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
                )
                .map_err(m)?,
            )?,
            peer_errors: counter_vec(
                "peer_errors_total",
                "peer requests failed or refused",
                &["cause"],
            )?,
            peer_signatures: counter(
                "peer_signatures_total",
                "peer signatures newly stored (pushed or pulled)",
            )?,
            outbox_depth: gauge("outbox_depth", "outbox items not yet done")?,
            dead_letters: gauge(
                "outbox_dead_letters",
                "outbox items set aside after too many failures",
            )?,
            tx_replaced: counter_vec(
                "transactions_replaced_total",
                "transactions replaced at their nonce with higher fees",
                &["call"],
            )?,
            rpc_failures: counter_vec(
                "rpc_failures_total",
                "endpoint failures waited out",
                &["endpoint"],
            )?,
            subtensor_requests: counter(
                "subtensor_requests_total",
                "JSON-RPC requests sent to the subtensor node",
            )?,
            subtensor_spec_version: gauge(
                "subtensor_spec_version",
                "the subtensor runtime's spec_version at the last block read",
            )?,
            runtime_upgrades: counter(
                "runtime_upgrades_total",
                "subtensor runtime upgrades seen while running",
            )?,
            runtime_unchecked: gauge(
                "runtime_unchecked",
                "1 when subtensor runs a runtime newer than the client was checked against",
            )?,
            windows_settled: counter_vec(
                "windows_settled_total",
                "auction windows settled",
                &["outcome"],
            )?,
            bans: counter("bans_total", "winners banned for under-delivery")?,
            weights_submitted: counter_vec(
                "weights_submitted_total",
                "weights submitted",
                &["mecid", "method"],
            )?,
            weights_refused: counter_vec(
                "weights_refused_total",
                "weights the chain refused, by the runtime's reason",
                &["mecid", "reason"],
            )?,
            weights_checked: counter_vec(
                "weights_checked_total",
                "weights read back from the chain",
                &["mecid", "result"],
            )?,
            commitments: counter_vec("price_commitments_total", "price commitments", &["outcome"])?,
            pool_samples: counter_vec("pool_samples_total", "pool samples", &["outcome"])?,
            price_reads: counter_vec(
                "price_reads_total",
                "price feed reads",
                &["metric", "outcome"],
            )?,
            last_progress: gauge(
                "last_progress_timestamp_seconds",
                "unix time of the engine's last completed round",
            )?,
            config_digest_mismatch: gauge(
                "config_digest_mismatch",
                "1 while most peers' config digests differ from this keeper's (signing stops)",
            )?,
            doppelganger: gauge(
                "doppelganger_detected",
                "1 once another process was seen signing with this keeper's report key",
            )?,
            registry: r,
            block_pair: Arc::new(Mutex::new(())),
        })
    }

    /// Block `b` is processed: the counter and the gauge move together.
    pub fn block_processed(&self, b: i64) {
        let _pair = self
            .block_pair
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.blocks_processed.inc();
        self.last_block.set(b);
    }

    /// The full name of every registered metric (`tao20_...`), whether or not it has a sample
    /// yet: what dashboards and alert rules may refer to.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .registry
            .gather()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        // A labelled family with no sample yet is absent from `gather`; its descriptor is not.
        for c in [
            &self.reports_signed,
            &self.reports_submitted,
            &self.tx_replaced,
            &self.peer_errors,
            &self.rpc_failures,
            &self.windows_settled,
            &self.weights_submitted,
            &self.weights_refused,
            &self.weights_checked,
            &self.commitments,
            &self.pool_samples,
            &self.price_reads,
        ] {
            use prometheus::core::Collector;
            // The registry adds its prefix when it gathers, not to the descriptors.
            names.extend(c.desc().iter().map(|d| format!("tao20_{}", d.fq_name)));
        }
        names.sort();
        names.dedup();
        names
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let families = {
            let _pair = self
                .block_pair
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.registry.gather()
        };
        let _ = TextEncoder::new().encode(&families, &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}
