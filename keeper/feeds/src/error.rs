//! The error type of the feeds: every variant says what was wrong, and the source it came from is
//! named by the caller ([`SourceFailure`], or the `source` field of a log line). URLs are left
//! out on purpose: an operator may have put a key in one.

use std::fmt;

use crate::prices::Metric;

/// Everything that can go wrong while reading a price source or the pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable; `what` names the entry.
    #[error("invalid config {what}: {reason}")]
    Config {
        /// The offending entry, e.g. `prices.tao_usdc.sources[1].pointer`.
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// An environment variable the configuration names is not set (or not valid UTF-8 or not a
    /// valid header value). Its value is never part of an error or a log line.
    #[error("environment variable {var} (for {what}) is not set or not usable")]
    MissingEnv {
        /// The variable.
        var: String,
        /// What needed it.
        what: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The source answered with a status other than 2xx (redirects are not followed).
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// No complete answer within the source's timeout.
    #[error("no complete answer within {timeout_ms} ms")]
    Timeout {
        /// The timeout.
        timeout_ms: u64,
    },
    /// Connecting, sending or receiving failed.
    #[error("transport: {reason}")]
    Transport {
        /// What the HTTP client said (without the URL).
        reason: String,
    },
    /// The body is longer than the source's limit.
    #[error("body larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not JSON, or not of the expected shape.
    #[error("malformed body: {reason}")]
    Malformed {
        /// What the parser said.
        reason: String,
    },
    /// The body has nothing at the configured JSON pointer.
    #[error("nothing at JSON pointer {pointer:?}")]
    MissingPointer {
        /// The pointer.
        pointer: String,
    },
    /// The value found is not a usable number.
    #[error("value {text} at {pointer:?}: {reason}")]
    BadValue {
        /// Where it was (a JSON pointer).
        pointer: String,
        /// The value's JSON text, cut to 64 characters.
        text: String,
        /// Why it is refused.
        reason: String,
    },
    /// The answer's timestamp is older than the source's maximum age.
    #[error(
        "stale: observed at {observed_at}, {age_secs} s before now, more than {max_age_secs} s"
    )]
    Stale {
        /// The answer's unix time in seconds.
        observed_at: u64,
        /// Its age.
        age_secs: u64,
        /// The source's maximum age.
        max_age_secs: u64,
    },
    /// A paginated answer went on past the configured number of pages.
    #[error("more than {max_pages} pages")]
    TooManyPages {
        /// The limit.
        max_pages: u32,
    },
    /// Fewer fresh answers than the metric requires.
    #[error("{metric}: {fresh} fresh answers, {required} required; {}", FailureList(.failures))]
    TooFewSources {
        /// The metric.
        metric: Metric,
        /// Fresh answers received.
        fresh: usize,
        /// The configured minimum.
        required: usize,
        /// Every source that failed, and why.
        failures: Vec<SourceFailure>,
    },
}

/// One source that gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailure {
    /// The source's configured name.
    pub source: String,
    /// What was wrong.
    pub error: Error,
}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.error)
    }
}

struct FailureList<'a>(&'a [SourceFailure]);

impl fmt::Display for FailureList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no failures");
        }
        for (i, failure) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl Error {
    /// An [`Error::Config`] for `what`.
    pub fn config(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Config {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Malformed`].
    pub fn malformed(reason: impl fmt::Display) -> Self {
        Self::Malformed {
            reason: reason.to_string(),
        }
    }
}

/// The result type of the feeds.
pub type Result<T, E = Error> = std::result::Result<T, E>;
