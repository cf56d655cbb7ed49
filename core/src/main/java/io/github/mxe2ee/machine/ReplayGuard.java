package io.github.mxe2ee.machine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Megolm replay protection (spec: "Clients must guard against replay attacks by keeping track of
 * the ratchet indices of Megolm sessions"): remembers which event used each (session, index). The
 * same event decrypted again passes; another event at the same index is a replay. Bounded to {@link
 * #MAX_ENTRIES} (least recently used first out), held in memory for the life of the machine.
 */
final class ReplayGuard {
  /** Enough for a large backlog; each entry is under 200 bytes. */
  static final int MAX_ENTRIES = 200_000;

  private record Seen(String eventId, long timestamp) {}

  private final Map<String, Seen> seen =
      new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
          return size() > MAX_ENTRIES;
        }
      };

  /** True if this is the first event at this index, or the same event again. */
  boolean check(String sessionId, long index, String eventId, long timestamp) {
    String key = sessionId + "|" + index;
    Seen previous = seen.get(key);
    if (previous == null) {
      seen.put(key, new Seen(eventId, timestamp));
      return true;
    }
    return previous.eventId.equals(eventId) && previous.timestamp == timestamp;
  }
}
