-- mxe2ee crypto store for PostgreSQL, schema version 1. Same tables, keys and indexes as the SQLite
-- schema (store/sqlite/migrations/V1__init.sql), so both backends share their SQL.
-- Every row belongs to one account (user id + device id) so one file can hold several bots or the
-- devices of a bridge. Pickles are encrypted by the caller; this file never holds a raw key.
-- Statements are separated by a semicolon at the end of a line.
-- Stored codes: trust 0 unset, 1 verified, 2 blacklisted; key request state 0 unsent, 1 sent,
-- 2 cancellation pending; booleans 0/1; times in milliseconds since the epoch.

CREATE TABLE accounts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  pickle TEXT,
  shared_with_server INTEGER NOT NULL DEFAULT 0,
  sync_token TEXT,
  UNIQUE (user_id, device_id)
);

CREATE TABLE olm_sessions (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  sender_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  pickle TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_decrypted_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, sender_key, session_id)
);

CREATE TABLE inbound_group_sessions (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  sender_key TEXT NOT NULL,
  signing_key TEXT NOT NULL,
  first_known_index BIGINT NOT NULL,
  shared_history INTEGER NOT NULL,
  backed_up INTEGER NOT NULL,
  pickle TEXT NOT NULL,
  PRIMARY KEY (account_id, room_id, session_id)
);

-- Backup uploads page through the sessions not backed up yet.
CREATE INDEX inbound_group_sessions_to_back_up
  ON inbound_group_sessions (account_id) WHERE backed_up = 0;

-- Room key bundles (MSC4268) collect a room's shared-history sessions.
CREATE INDEX inbound_group_sessions_shared_history
  ON inbound_group_sessions (account_id, room_id) WHERE shared_history = 1;

CREATE TABLE outbound_group_sessions (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  pickle TEXT NOT NULL,
  message_index BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, room_id),
  UNIQUE (account_id, room_id, session_id)
);

CREATE TABLE outbound_shared_with (
  account_id BIGINT NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  message_index BIGINT NOT NULL,
  PRIMARY KEY (account_id, room_id, user_id, device_id),
  FOREIGN KEY (account_id, room_id, session_id)
    REFERENCES outbound_group_sessions (account_id, room_id, session_id) ON DELETE CASCADE
);

-- The foreign key's child side, so deleting or rotating an outbound session finds its rows.
CREATE INDEX outbound_shared_with_session
  ON outbound_shared_with (account_id, room_id, session_id);

CREATE TABLE devices (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  keys_json TEXT NOT NULL,
  trust INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_id, device_id)
);

CREATE TABLE cross_signing_identities (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  user_id TEXT NOT NULL,
  keys_json TEXT NOT NULL,
  trust INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_id)
);

CREATE TABLE tracked_users (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  user_id TEXT NOT NULL,
  outdated INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_id)
);

CREATE INDEX tracked_users_outdated ON tracked_users (account_id, user_id) WHERE outdated = 1;

CREATE TABLE outgoing_key_requests (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  request_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  PRIMARY KEY (account_id, request_id),
  UNIQUE (account_id, room_id, session_id)
);

CREATE INDEX outgoing_key_requests_state ON outgoing_key_requests (account_id, state);

CREATE TABLE withheld_sessions (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  sender_key TEXT NOT NULL,
  code TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (account_id, room_id, session_id)
);

CREATE TABLE pending_room_key_bundles (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  inviter TEXT NOT NULL,
  bundle_json TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, room_id)
);

CREATE TABLE key_values (
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  key TEXT NOT NULL,
  value BYTEA NOT NULL,
  PRIMARY KEY (account_id, key)
);
