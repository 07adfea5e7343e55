-- Schema version 4: each processed block's inputs, recorded with its decisions.
--
-- `inputs` is the JSON of the block's `BlockInputs` and the decision parameters: with the
-- creation state of the block before it (`state_history`), `tao20 validator replay` recomputes
-- the block's decision and compares it with what was committed. Kept as long as `state_history`.
CREATE TABLE block_inputs (
    block   INTEGER PRIMARY KEY,
    inputs  TEXT NOT NULL
);
