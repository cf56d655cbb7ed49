-- Issue 10, defect 2: a Megolm session is bound to its room, its sender's Curve25519 key and its
-- ratchet. Same change as store/sqlite/migrations/V2__session_binding.sql: inbound sessions and
-- withheld notices are keyed by (room id, sender key, session id), and a session's authenticated
-- flag and sender user move from key_values entries keyed by the session id alone into its row.
-- A V1 session is authenticated unless it carried the mark, or its session id also exists under
-- another room.

ALTER TABLE inbound_group_sessions ADD COLUMN authenticated INTEGER NOT NULL DEFAULT 1;

ALTER TABLE inbound_group_sessions ADD COLUMN sender_user TEXT;

UPDATE inbound_group_sessions s SET authenticated = 0
  WHERE EXISTS (SELECT 1 FROM key_values kv WHERE kv.account_id = s.account_id
      AND kv.key = 'igs.unauthenticated.' || s.session_id)
    OR EXISTS (SELECT 1 FROM inbound_group_sessions o WHERE o.account_id = s.account_id
      AND o.session_id = s.session_id AND o.room_id <> s.room_id);

UPDATE inbound_group_sessions s SET sender_user = (
    SELECT convert_from(kv.value, 'UTF8') FROM key_values kv WHERE kv.account_id = s.account_id
      AND kv.key = 'igs.sender.' || s.room_id || '|' || s.session_id);

ALTER TABLE inbound_group_sessions ALTER COLUMN authenticated DROP DEFAULT;

ALTER TABLE inbound_group_sessions DROP CONSTRAINT inbound_group_sessions_pkey;

ALTER TABLE inbound_group_sessions ADD PRIMARY KEY (account_id, room_id, sender_key, session_id);

-- Events without sender_key (MSC3700) look a session up by room and session id.
CREATE INDEX inbound_group_sessions_by_session
  ON inbound_group_sessions (account_id, room_id, session_id);

DELETE FROM key_values
  WHERE substr(key, 1, 20) = 'igs.unauthenticated.' OR substr(key, 1, 11) = 'igs.sender.';

ALTER TABLE withheld_sessions DROP CONSTRAINT withheld_sessions_pkey;

ALTER TABLE withheld_sessions ADD PRIMARY KEY (account_id, room_id, sender_key, session_id);

CREATE INDEX withheld_sessions_by_session ON withheld_sessions (account_id, room_id, session_id);
