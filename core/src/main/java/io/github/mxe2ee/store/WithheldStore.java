package io.github.mxe2ee.store;

import java.util.List;

/**
 * Reads received {@code m.room_key.withheld} notices. Anyone can send them, so the machine bounds
 * how many it keeps (overall and per sending device) and prunes the oldest: hence the counts and
 * the age-ordered listing.
 */
public interface WithheldStore {
  /**
   * Returns the withheld notices for this room and session id, one per withholding device's
   * Curve25519 key, ordered by that key: the caller picks the one of the event's sender, so that
   * one user cannot mark another's session withheld.
   */
  List<WithheldRecord> withheld(String roomId, String sessionId);

  /**
   * Returns how many withheld notices are stored, from {@code senderKey} only if it is not null.
   */
  long withheldCount(String senderKey);

  /**
   * Returns stored withheld notices oldest first (by {@link WithheldRecord#receivedAtMillis()},
   * then room and session id), from {@code senderKey} only if it is not null, skipping {@code
   * offset} and returning at most {@code limit}.
   */
  List<WithheldRecord> oldestWithheld(String senderKey, int offset, int limit);
}
