-- Schema version 3: BEVM transaction attempts, written before each broadcast.
--
-- An attempt is a signed transaction of one outbox subject: its nonce, fees and raw bytes are kept
-- so that a restarted keeper reads its receipt back (never sending the subject twice), broadcasts
-- it again if the node lost it, and replaces it at the same nonce with higher fees when it sits
-- unmined. `state`: 'pending' (written, maybe broadcast), 'mined' (its receipt decided the
-- subject), 'superseded' (a replacement or another transaction took its nonce), 'failed'.
CREATE TABLE tx_attempts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    key                TEXT NOT NULL,
    call               TEXT NOT NULL,
    sender             TEXT NOT NULL,
    nonce              INTEGER NOT NULL,
    max_fee            TEXT NOT NULL,
    priority_fee       TEXT NOT NULL,
    gas_limit          INTEGER NOT NULL,
    raw                BLOB NOT NULL,
    tx_hash            TEXT NOT NULL UNIQUE,
    state              TEXT NOT NULL,
    sent_block         INTEGER NOT NULL,
    mined_block        INTEGER,
    at                 INTEGER NOT NULL
);
CREATE INDEX tx_attempts_open ON tx_attempts (key, state);

-- Outbox failures (errors, not waits) are counted apart from attempts; an item that failed too
-- often is set aside as a dead letter: done, `dead` = 1, counted and shown, never retried.
ALTER TABLE outbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN dead INTEGER NOT NULL DEFAULT 0;
