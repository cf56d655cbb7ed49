package io.github.mxe2ee.store;

import java.util.Optional;

/** Reads received {@code m.room_key.withheld} notices. */
public interface WithheldStore {
  /** Returns the withheld notice for this (room, session), if any. */
  Optional<WithheldRecord> withheld(String roomId, String sessionId);
}
