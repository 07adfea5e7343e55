//! The sampler: polls the pool on an interval (about every 20 s) and hands each complete answer
//! to a [`SampleSink`] (the keeper's SQLite store; [`MemorySink`] in tests).
//!
//! A sample is stamped when its poll starts, with the unix time and, when the keeper supplies a
//! [`BlockSource`], the current block. A failed poll (HTTP error, timeout, malformed or oversized
//! body, too many pages) records nothing: it is logged and counted, and the next tick polls
//! again. A missing sample is what delivery's sampling-gap rule sees; a sample made up of zeros
//! would have been a false ban. An answer with no workers is a valid sample (the pool is up and
//! nobody hashes). The sampler stops only when its `stop` future completes.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tao20_auction::delivery::{Sample, WorkerReading};
use tokio::time::MissedTickBehavior;

use crate::pool::{PoolClient, PoolSourceKind};
use crate::Error;

/// One complete poll of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSample {
    /// The block when the poll started, if a block source was given.
    pub block: Option<u64>,
    /// The unix time (seconds) when the poll started.
    pub unix_time: u64,
    /// Whether the answer came from a proxy source.
    pub from_proxy: bool,
    /// Every worker reported, by pool name, in H/s.
    pub workers: Vec<WorkerReading>,
}

impl PoolSample {
    /// The sample in the form delivery verification takes, when it has a block.
    pub fn to_delivery(&self) -> Option<Sample> {
        Some(Sample {
            block: self.block?,
            workers: self.workers.clone(),
        })
    }
}

/// Why a sink refused a sample.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where samples go.
pub trait SampleSink {
    /// Stores one sample. An error is logged and counted; the sampler goes on.
    fn record(&mut self, sample: PoolSample) -> Result<(), SinkError>;
}

/// A sink in memory, shared by its clones (keep one to read what the sampler recorded).
#[derive(Debug, Clone, Default)]
pub struct MemorySink(Arc<Mutex<Vec<PoolSample>>>);

impl MemorySink {
    /// Every sample recorded so far, in order.
    pub fn samples(&self) -> Vec<PoolSample> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many samples were recorded.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SampleSink for MemorySink {
    fn record(&mut self, sample: PoolSample) -> Result<(), SinkError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sample);
        Ok(())
    }
}

/// The current block, as the keeper knows it (`None` when it does not yet).
pub type BlockSource = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickOutcome {
    /// A sample with this many workers went to the sink.
    Recorded {
        /// Workers in the sample.
        workers: usize,
    },
    /// The poll failed; nothing was recorded.
    Skipped(Error),
    /// The poll succeeded but the sink refused the sample.
    SinkFailed(String),
}

/// Counts of the ticks so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SamplerStats {
    /// Samples the sink took.
    pub recorded: u64,
    /// Polls that failed.
    pub skipped: u64,
    /// Samples the sink refused.
    pub sink_failures: u64,
}

/// Polls a [`PoolClient`] every `interval` into a [`SampleSink`].
pub struct Sampler<S> {
    client: PoolClient,
    sink: S,
    interval: Duration,
    block: Option<BlockSource>,
    stats: SamplerStats,
}

impl<S: SampleSink> Sampler<S> {
    /// A sampler of `client` into `sink`, one poll per `interval`.
    pub fn new(client: PoolClient, sink: S, interval: Duration) -> Self {
        Self {
            client,
            sink,
            interval,
            block: None,
            stats: SamplerStats::default(),
        }
    }

    /// Stamps samples with the block `source` gives.
    #[must_use]
    pub fn with_block_source(mut self, source: BlockSource) -> Self {
        self.block = Some(source);
        self
    }

    /// The counts so far.
    pub fn stats(&self) -> SamplerStats {
        self.stats
    }

    /// Polls once and records the sample.
    pub async fn tick(&mut self) -> TickOutcome {
        let block = self.block.as_ref().and_then(|b| b());
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let source = self.client.kind().name();
        let workers = match self.client.fetch_workers().await {
            Ok(workers) => workers,
            Err(error) => {
                self.stats.skipped += 1;
                tracing::warn!(target: "keeper::feeds", source, ?block, %error, "pool sample skipped");
                return TickOutcome::Skipped(error);
            }
        };
        let count = workers.len();
        let sample = PoolSample {
            block,
            unix_time,
            from_proxy: self.client.kind() == PoolSourceKind::Proxy,
            workers,
        };
        match self.sink.record(sample) {
            Ok(()) => {
                self.stats.recorded += 1;
                tracing::debug!(target: "keeper::feeds", source, ?block, workers = count, "pool sample recorded");
                TickOutcome::Recorded { workers: count }
            }
            Err(error) => {
                self.stats.sink_failures += 1;
                tracing::warn!(target: "keeper::feeds", source, ?block, %error, "pool sample not stored");
                TickOutcome::SinkFailed(error.to_string())
            }
        }
    }

    /// Polls every `interval` (the first poll at once; a poll longer than the interval delays the
    /// next one rather than bunching them) until `stop` completes, which also cancels a poll in
    /// flight. Returns the sink and the counts.
    pub async fn run_until(mut self, stop: impl Future<Output = ()>) -> (S, SamplerStats) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                () = &mut stop => break,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                biased;
                () = &mut stop => break,
                _ = self.tick() => {}
            }
        }
        (self.sink, self.stats)
    }
}
