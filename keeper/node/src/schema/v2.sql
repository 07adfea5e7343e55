-- Schema version 2: the subnet's mechanisms (the hashrate auction, price commitments, weights).

-- Pool telemetry as the keeper sampled it: one poll per row (a poll with no workers is still a
-- sample), its workers in `telemetry_workers`.
CREATE TABLE telemetry_polls (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    block      INTEGER NOT NULL,
    unix_time  INTEGER NOT NULL,
    from_proxy INTEGER NOT NULL
);
CREATE INDEX telemetry_polls_block ON telemetry_polls (block);
CREATE TABLE telemetry_workers (
    poll     INTEGER NOT NULL REFERENCES telemetry_polls (id) ON DELETE CASCADE,
    worker   TEXT NOT NULL,
    hashrate TEXT NOT NULL,
    PRIMARY KEY (poll, worker)
) WITHOUT ROWID;

-- Settled validation windows, by their first block, with the whole result.
CREATE TABLE windows (
    start          INTEGER PRIMARY KEY,
    epoch_block    INTEGER NOT NULL,
    idx            INTEGER NOT NULL,
    end_block      INTEGER NOT NULL,
    settled_block  INTEGER NOT NULL,
    skipped        TEXT,
    budget_ph      TEXT,
    winners        INTEGER NOT NULL,
    result         TEXT NOT NULL
);

-- Bans this keeper decided (failed winners), published in its price commitment for 12 hours.
CREATE TABLE bans (
    uid          INTEGER NOT NULL,
    hotkey       TEXT NOT NULL,
    block        INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    PRIMARY KEY (uid, window_start)
);

-- CreationMinted records with the delivering coldkey (mechanism 0's input).
CREATE TABLE mints (
    request_id TEXT PRIMARY KEY,
    miner      TEXT NOT NULL,
    coldkey    TEXT NOT NULL,
    value_rao  TEXT NOT NULL,
    block      INTEGER NOT NULL
);

-- Weights submitted per mechanism and subnet epoch, and what reading them back found.
CREATE TABLE weights (
    mecid         INTEGER NOT NULL,
    epoch_block   INTEGER NOT NULL,
    uids          TEXT NOT NULL,
    weight_values TEXT NOT NULL,
    method        TEXT,
    commit_block  INTEGER,
    reveal_round  INTEGER,
    reveal_block  INTEGER,
    status        TEXT NOT NULL,
    matches       INTEGER,
    detail        TEXT,
    PRIMARY KEY (mecid, epoch_block)
);

-- Price commitments published (payload in hex: it ends in the binary ban bitmap).
CREATE TABLE commitments (
    block   INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,
    state   TEXT NOT NULL
);
