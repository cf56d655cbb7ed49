package io.github.mxe2ee.store;

import java.util.List;
import java.util.Optional;

/**
 * Reads Megolm inbound group sessions. Every method is a query: backends never hold all sessions in
 * memory. See {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}.
 */
public interface InboundGroupSessionStore {
  /** Returns the session with this room id, sender Curve25519 key and session id, if stored. */
  Optional<InboundGroupSessionRecord> inboundGroupSession(
      String roomId, String senderKey, String sessionId);

  /**
   * Returns every stored copy of a session id in a room, one per sender key, ordered by sender key
   * (for events without {@code sender_key}, MSC3700). Usually one or none.
   */
  List<InboundGroupSessionRecord> inboundGroupSessions(String roomId, String sessionId);

  /** Returns up to {@code limit} sessions that are not backed up yet, in no particular order. */
  List<InboundGroupSessionRecord> inboundGroupSessionsToBackUp(int limit);

  /** Returns the room's sessions flagged {@code shared_history} (for an MSC4268 bundle). */
  List<InboundGroupSessionRecord> sharedHistoryInboundGroupSessions(String roomId);

  /**
   * Returns up to {@code limit} sessions in (room id, sender key, session id) order, starting just
   * after the given triple, or from the first session if all three are null: pages through all
   * sessions without holding them (a key export). The order is the database's own string order, the
   * same on every call.
   *
   * @throws IllegalArgumentException if some but not all of the three are null
   */
  List<InboundGroupSessionRecord> inboundGroupSessionsAfter(
      String roomId, String senderKey, String sessionId, int limit);

  /** Returns how many inbound group sessions the account has. */
  long inboundGroupSessionCount();
}
