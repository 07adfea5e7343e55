-- Schema version 5: why a journal refusal was made.
--
-- `content`: the subject was signed before with other content (`signed_hash`).
-- `watermark`: the subject is an ordered one (an epoch, a sweep nonce) below the highest of its
-- kind in the journal; `signed_hash` is that highest subject's key.
ALTER TABLE journal_refusals ADD COLUMN reason TEXT NOT NULL DEFAULT 'content';
