//! The keeper's HTTP inputs: the prices it publishes in its price commitment and the pool
//! telemetry delivery verification needs. An adapter: it translates, it never decides (the
//! auction core in `tao20-auction` decides).
//!
//! - [`prices`]: `TAO_USDC` and `HASHP_USDC` (USD per PH per day) from several configured HTTP
//!   sources each (URL, RFC 6901 JSON pointer, power-of-ten scale, headers with API keys from the
//!   environment, timeout, staleness rule). A metric's value is the **lower median** of the fresh
//!   answers: the middle one of an odd count, the lower middle one of an even count, so it is
//!   always one source's exact value and nothing is rounded. Every failed source is reported
//!   with what was wrong; fewer fresh answers than the configured minimum is an error.
//! - [`pool`]: Luxor's `GET /v2/pool/workers/BTC` (or a proxy in the same shape) into
//!   [`tao20_auction::delivery::WorkerReading`]s, paging included, and worker-name parsing.
//! - [`sampler`]: polls the pool about every 20 s into a [`sampler::SampleSink`]; a bad answer
//!   skips that sample and never stops the sampler.
//!
//! # Numbers
//! No floating point: numbers are parsed from their JSON text ([`decimal`]), a JSON number or a
//! string holding one, exactly; digits below the target precision (FP18's 18 decimals for prices,
//! whole H/s for hashrates, whole seconds for timestamps) are dropped, i.e. rounded down.
//!
//! # HTTP
//! Every request has a deadline over the whole exchange and a body limit, follows no redirects
//! (so a key header never reaches another host), and reports non-2xx statuses, timeouts,
//! transport failures, oversized and malformed bodies as distinct [`Error`]s. Values read from
//! the environment are marked sensitive: they appear in no error, log line or `Debug` output.
//! Errors name no URL (an operator may have put a key in one); callers name the source.

pub mod decimal;
pub mod error;
pub mod http;
mod json;
pub mod pool;
pub mod prices;
pub mod sampler;

pub use error::{Error, Result, SourceFailure};
pub use pool::{PoolClient, PoolConfig, PoolSourceConfig, PoolSourceKind};
pub use prices::{Metric, MetricReading, PriceFeeds, PricesConfig};
pub use sampler::{MemorySink, PoolSample, SampleSink, Sampler};
