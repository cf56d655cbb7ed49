-- Issue 11: bounds on what a remote party can make the bot store.
-- Withheld notices get their arrival time, so that the oldest are pruned first when a cap is
-- reached; rows from before this version count as oldest (0).
ALTER TABLE withheld_sessions ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX withheld_sessions_age ON withheld_sessions (account_id, received_at);
CREATE INDEX withheld_sessions_sender_age ON withheld_sessions (account_id, sender_key, received_at);
-- Unwedging times now live in one bounded value ('olm.unwedged'); the one row per sender key of
-- version 1 was never pruned.
DELETE FROM key_values WHERE key LIKE 'olm.unwedged.%';
