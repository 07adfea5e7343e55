//! Errors of the keeper node.

/// Errors of the node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database is not in a state the keeper can use (a newer schema, a missing row).
    #[error("store {what}: {reason}")]
    Store {
        /// The operation or file.
        what: String,
        /// Why.
        reason: String,
    },
    /// SQLite failed an operation.
    #[error("store {what}: {source}")]
    Sql {
        /// The operation.
        what: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A file of the store could not be created, read or written.
    #[error("store {what}: {source}")]
    Io {
        /// The file.
        what: String,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the database's lock.
    #[error("{path} is in use by another keeper (pid {holder}); stop it first")]
    Locked {
        /// The database.
        path: String,
        /// The holder's pid, as it wrote it.
        holder: String,
    },
    /// The database belongs to another deployment or signer.
    #[error(
        "the database was made for {key} {stored}, the configuration says {configured}: \
         point the keeper at its own database"
    )]
    Identity {
        /// `chain_id`, `contract` or `signer`.
        key: String,
        /// What the database records.
        stored: String,
        /// What the configuration says.
        configured: String,
    },
    /// The configuration is invalid.
    #[error("config {what}: {reason}")]
    Config {
        /// The key or file.
        what: String,
        /// Why.
        reason: String,
    },
    /// Stored data does not decode (a bug or a damaged database).
    #[error("decoding {what}: {reason}")]
    Decode {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
    /// JSON the keeper stores or records does not encode or decode.
    #[error("decoding {what}: {source}")]
    Json {
        /// What.
        what: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The journal refused to sign different content for a subject it signed before.
    #[error(
        "refusing to sign {subject}: different content ({proposed}) than signed before ({signed})"
    )]
    Refused {
        /// The subject.
        subject: String,
        /// The content signed before.
        signed: String,
        /// The content proposed now.
        proposed: String,
    },
    /// A task of the keeper ended while the rest ran: the process stops.
    #[error("the {task} stopped: {source}")]
    TaskEnded {
        /// Which task.
        task: &'static str,
        /// Why it ended.
        #[source]
        source: Box<Error>,
    },
    /// A task of the keeper ended without an error while nothing asked it to stop.
    #[error("the {0} ended on its own")]
    TaskReturned(&'static str),
    /// A journal import would let the keeper sign something it must not.
    #[error("journal import: {0}")]
    Import(String),
    /// A pure core refused an input.
    #[error(transparent)]
    Creation(#[from] tao20_creation::Error),
    /// The auction core refused an input.
    #[error(transparent)]
    Auction(#[from] tao20_auction::Error),
    /// Subtensor access failed.
    #[error("subtensor: {0}")]
    Subtensor(#[from] tao20_chain::Error),
    /// BEVM access failed.
    #[error("BEVM: {0}")]
    Bevm(#[from] tao20_bevm::Error),
    /// A peer's message was refused.
    #[error("peer message: {0}")]
    Peer(String),
    /// A request to a peer failed on the way (connection, timeout, body).
    #[error("peer message: {what}: {source}")]
    PeerRequest {
        /// The request and the peer.
        what: String,
        /// What the HTTP client said.
        #[source]
        source: reqwest::Error,
    },
    /// A peer's answer does not decode.
    #[error("peer message: {what}: {source}")]
    PeerAnswer {
        /// The request and the peer.
        what: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// Something the configuration names could not be set up (a wallet, a price feed, a listen
    /// address, the metrics registry, the configuration file itself).
    #[error("config {what}: {source}")]
    Setup {
        /// The key or file.
        what: String,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Whether the failure is the environment's (an endpoint down, a timeout): the keeper waits
    /// and retries the same step rather than giving up on it.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Subtensor(e) => e.retry() != tao20_chain::Retry::Never,
            Error::Bevm(e) => e.retry() == tao20_bevm::Retry::Later,
            _ => false,
        }
    }
}

/// The node's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
