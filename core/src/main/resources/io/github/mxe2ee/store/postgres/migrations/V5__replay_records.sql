-- Megolm replay records kept across restarts (spec: End-to-End Encryption, "Megolm": clients must
-- guard against replay attacks): which event first used each (session, message index). The session
-- is keyed by its full identity, as inbound_group_sessions is. seq orders rows by insertion so the
-- machine can keep only the newest (the bound is the machine's, ReplayGuard.MAX_ENTRIES).
CREATE TABLE replay_records (
  seq BIGSERIAL PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  sender_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  message_index BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  origin_ts BIGINT NOT NULL,
  UNIQUE (account_id, room_id, sender_key, session_id, message_index)
);
CREATE INDEX replay_records_age ON replay_records (account_id, seq);
