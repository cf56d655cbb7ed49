package io.github.mxe2ee.store;

import java.util.Map;
import java.util.Optional;

/** Reads each room's current outbound Megolm session and whom it was shared with. */
public interface OutboundGroupSessionStore {
  /** Returns the room's current outbound group session, if any. */
  Optional<OutboundGroupSessionRecord> outboundGroupSession(String roomId);

  /**
   * Returns the devices the room's current outbound session was shared with, each mapped to the
   * message index it was shared at; empty if there is no session.
   */
  Map<UserDevice, Long> outboundSharedWith(String roomId);
}
