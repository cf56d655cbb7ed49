-- Issue 10, defect 2: a Megolm session is bound to its room, its sender's Curve25519 key and its
-- ratchet. Inbound sessions and withheld notices are keyed by (room id, sender key, session id),
-- and a session's authenticated flag and sender user move from key_values entries keyed by the
-- session id alone (igs.unauthenticated.<session>, igs.sender.<room>|<session>) into its row.
-- A V1 session is authenticated unless it carried the mark, or its session id also exists under
-- another room (a genuine session belongs to one room, so such a pair was forged or attacked).

CREATE TABLE inbound_group_sessions_v2 (
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  sender_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  signing_key TEXT NOT NULL,
  first_known_index INTEGER NOT NULL,
  shared_history INTEGER NOT NULL,
  backed_up INTEGER NOT NULL,
  authenticated INTEGER NOT NULL,
  sender_user TEXT,
  pickle TEXT NOT NULL,
  PRIMARY KEY (account_id, room_id, sender_key, session_id)
);

INSERT INTO inbound_group_sessions_v2 (account_id, room_id, sender_key, session_id, signing_key,
    first_known_index, shared_history, backed_up, authenticated, sender_user, pickle)
  SELECT s.account_id, s.room_id, s.sender_key, s.session_id, s.signing_key,
    s.first_known_index, s.shared_history, s.backed_up,
    CASE
      WHEN EXISTS (SELECT 1 FROM key_values kv WHERE kv.account_id = s.account_id
          AND kv.key = 'igs.unauthenticated.' || s.session_id) THEN 0
      WHEN EXISTS (SELECT 1 FROM inbound_group_sessions o WHERE o.account_id = s.account_id
          AND o.session_id = s.session_id AND o.room_id <> s.room_id) THEN 0
      ELSE 1
    END,
    (SELECT CAST(kv.value AS TEXT) FROM key_values kv WHERE kv.account_id = s.account_id
        AND kv.key = 'igs.sender.' || s.room_id || '|' || s.session_id),
    s.pickle
  FROM inbound_group_sessions s;

DROP TABLE inbound_group_sessions;

ALTER TABLE inbound_group_sessions_v2 RENAME TO inbound_group_sessions;

-- Events without sender_key (MSC3700) look a session up by room and session id.
CREATE INDEX inbound_group_sessions_by_session
  ON inbound_group_sessions (account_id, room_id, session_id);

CREATE INDEX inbound_group_sessions_to_back_up
  ON inbound_group_sessions (account_id) WHERE backed_up = 0;

CREATE INDEX inbound_group_sessions_shared_history
  ON inbound_group_sessions (account_id, room_id) WHERE shared_history = 1;

DELETE FROM key_values
  WHERE substr(key, 1, 20) = 'igs.unauthenticated.' OR substr(key, 1, 11) = 'igs.sender.';

CREATE TABLE withheld_sessions_v2 (
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  sender_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  code TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (account_id, room_id, sender_key, session_id)
);

INSERT INTO withheld_sessions_v2 (account_id, room_id, sender_key, session_id, code, reason)
  SELECT account_id, room_id, sender_key, session_id, code, reason FROM withheld_sessions;

DROP TABLE withheld_sessions;

ALTER TABLE withheld_sessions_v2 RENAME TO withheld_sessions;

CREATE INDEX withheld_sessions_by_session ON withheld_sessions (account_id, room_id, session_id);
