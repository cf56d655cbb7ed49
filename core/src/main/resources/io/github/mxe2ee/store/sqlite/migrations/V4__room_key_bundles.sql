-- Issue 14 (MSC4268): pending room key bundles are kept per (room, sender), not per room, so that
-- an announcement from someone other than the inviter can no longer replace the inviter's. Rows
-- of version 3 keep their data (their key was (account, room), so they are unique per sender too).
CREATE TABLE pending_room_key_bundles_v4 (
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  room_id TEXT NOT NULL,
  inviter TEXT NOT NULL,
  bundle_json TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, room_id, inviter)
);
INSERT INTO pending_room_key_bundles_v4 (account_id, room_id, inviter, bundle_json, received_at)
  SELECT account_id, room_id, inviter, bundle_json, received_at FROM pending_room_key_bundles;
DROP TABLE pending_room_key_bundles;
ALTER TABLE pending_room_key_bundles_v4 RENAME TO pending_room_key_bundles;
CREATE INDEX pending_room_key_bundles_age ON pending_room_key_bundles (account_id, received_at);
