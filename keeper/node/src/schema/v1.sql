-- Schema version 1: the creation keeper. Integers that can exceed 2^63 (U256 values) are stored
-- as decimal text; hashes and addresses as 0x-prefixed lowercase hex.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Where block processing stands: the next substrate block to process and the BEVM event cursor.
CREATE TABLE cursor (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    next_block     INTEGER NOT NULL,
    bevm           TEXT NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- Each strategy's state after the last processed block, and the recent history of it (so a
-- reorganised BEVM block can be undone by restoring the state before it).
CREATE TABLE strategy_state (
    name   TEXT PRIMARY KEY,
    block  INTEGER NOT NULL,
    state  TEXT NOT NULL
);
CREATE TABLE state_history (
    block  INTEGER NOT NULL,
    name   TEXT NOT NULL,
    state  TEXT NOT NULL,
    PRIMARY KEY (block, name)
);

-- The official-price history: one spot sample per (netuid, block), FP18 raw as decimal text.
CREATE TABLE prices (
    netuid INTEGER NOT NULL,
    block  INTEGER NOT NULL,
    price  TEXT NOT NULL,
    PRIMARY KEY (netuid, block)
) WITHOUT ROWID;

-- Requests as the keeper sees them (a queryable copy of the creation machine's state).
CREATE TABLE requests (
    request_id     TEXT PRIMARY KEY,
    miner          TEXT NOT NULL,
    epoch_id       INTEGER NOT NULL,
    units          INTEGER NOT NULL,
    request_block  INTEGER NOT NULL,
    expiry_block   INTEGER NOT NULL,
    status         TEXT NOT NULL,
    delivery_block INTEGER,
    delivery_index INTEGER,
    valid          INTEGER,
    detail         TEXT,
    updated_block  INTEGER NOT NULL
);

-- The signing journal: one row per subject; `content_hash` never changes once written.
CREATE TABLE journal (
    subject            TEXT PRIMARY KEY,
    signer             TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    digest             TEXT,
    signer_set_version INTEGER NOT NULL,
    message            TEXT,
    signature          BLOB,
    first_block        INTEGER NOT NULL,
    imported           INTEGER NOT NULL DEFAULT 0
);
-- Every refusal to sign different content for a signed subject.
CREATE TABLE journal_refusals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    subject       TEXT NOT NULL,
    signed_hash   TEXT NOT NULL,
    proposed_hash TEXT NOT NULL,
    block         INTEGER NOT NULL,
    at            INTEGER NOT NULL
);

-- Reports this keeper signed (or will sign), keyed by digest, with their quorum progress.
CREATE TABLE reports (
    digest             TEXT PRIMARY KEY,
    subject            TEXT NOT NULL,
    kind               TEXT NOT NULL,
    message            TEXT NOT NULL,
    signer_set_version INTEGER NOT NULL,
    created_block      INTEGER NOT NULL,
    quorum_block       INTEGER,
    settled_block      INTEGER,
    outcome            TEXT
);
-- Verified signatures (own and peers'), by digest and signer.
CREATE TABLE signatures (
    digest      TEXT NOT NULL,
    signer      TEXT NOT NULL,
    signature   BLOB NOT NULL,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (digest, signer)
) WITHOUT ROWID;

-- Actions decided in a block transaction and carried out after it (idempotent, keyed).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    key              TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_block    INTEGER NOT NULL,
    not_before_block INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    done_at          INTEGER
);
CREATE INDEX outbox_pending ON outbox (done_at, not_before_block);

-- Transactions this keeper sent, so a restart confirms them instead of sending again.
CREATE TABLE transactions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL,
    call        TEXT NOT NULL,
    tx_hash     TEXT,
    state       TEXT NOT NULL,
    sent_block  INTEGER,
    mined_block INTEGER,
    gas_used    INTEGER,
    detail      TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX transactions_key ON transactions (key);
