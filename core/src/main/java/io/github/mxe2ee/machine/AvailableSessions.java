package io.github.mxe2ee.machine;

import java.util.Objects;
import java.util.Set;

/**
 * The Megolm sessions that became decryptable, or decryptable from an earlier index, since the last
 * {@link OlmMachine#takeAvailableSessions()}: what a caller holding undecryptable events (spec:
 * "Receiving an encrypted event"; the plugin's late-key re-emission) should try again. Any source
 * counts: an Olm {@code m.room_key}, an {@code m.forwarded_room_key}, a key file or a backup
 * import, and our own new outbound sessions.
 *
 * <p>Immutable. When more sessions arrived than the machine keeps track of ({@link
 * #MAX_TRACKED_SESSIONS}), {@link #overflowed()} is set and {@link #sessions()} is incomplete: the
 * caller should then try everything it holds.
 *
 * @param sessions the sessions, by (room id, sender key, session id)
 * @param overflowed true if some were not listed
 */
public record AvailableSessions(Set<Session> sessions, boolean overflowed) {

  /**
   * Sessions listed at most between two takes: past it only {@link #overflowed()} is set. Bounds
   * the memory a flood of room keys (a backup import of a large account) can take while nobody
   * takes them; a caller then retries everything it holds, which it bounds itself.
   */
  public static final int MAX_TRACKED_SESSIONS = 10_000;

  /** Nothing new. */
  public static final AvailableSessions NONE = new AvailableSessions(Set.of(), false);

  /**
   * A Megolm session's identity (ARCHITECTURE.md: a session is identified by room, sender key and
   * session id everywhere).
   *
   * @param roomId the room
   * @param senderKey the Curve25519 key of the session's sender
   * @param sessionId the session id
   */
  public record Session(String roomId, String senderKey, String sessionId) {
    /** Requires every id. */
    public Session {
      Objects.requireNonNull(roomId, "roomId");
      Objects.requireNonNull(senderKey, "senderKey");
      Objects.requireNonNull(sessionId, "sessionId");
    }
  }

  /** Copies the set. */
  public AvailableSessions {
    sessions = Set.copyOf(sessions);
  }

  /** Whether nothing became available. */
  public boolean isEmpty() {
    return sessions.isEmpty() && !overflowed;
  }

  /**
   * Whether an event of {@code roomId} encrypted with {@code sessionId} may decrypt now.
   *
   * @param senderKey the event's {@code content.sender_key}, or null when it has none (the field is
   *     deprecated): then any sender's session with that id in the room counts
   */
  public boolean covers(String roomId, String senderKey, String sessionId) {
    if (overflowed) {
      return true;
    }
    if (senderKey != null) {
      return sessions.contains(new Session(roomId, senderKey, sessionId));
    }
    for (Session s : sessions) {
      if (s.roomId().equals(roomId) && s.sessionId().equals(sessionId)) {
        return true;
      }
    }
    return false;
  }
}
