package io.github.mxe2ee.store;

import java.util.List;

/** Reads received {@code m.room_key.withheld} notices. */
public interface WithheldStore {
  /**
   * Returns the withheld notices for this room and session id, one per withholding device's
   * Curve25519 key, ordered by that key: the caller picks the one of the event's sender, so that
   * one user cannot mark another's session withheld.
   */
  List<WithheldRecord> withheld(String roomId, String sessionId);
}
