-- Issue 14 (MSC4268): pending room key bundles are kept per (room, sender), not per room, so that
-- an announcement from someone other than the inviter can no longer replace the inviter's. Rows
-- of version 3 keep their data (their key was (account, room), so they are unique per sender too).
ALTER TABLE pending_room_key_bundles DROP CONSTRAINT pending_room_key_bundles_pkey;
ALTER TABLE pending_room_key_bundles ADD PRIMARY KEY (account_id, room_id, inviter);
CREATE INDEX pending_room_key_bundles_age ON pending_room_key_bundles (account_id, received_at);
