package io.github.mxe2ee.machine;

import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.ReplayRecord;
import io.github.mxe2ee.store.ReplayRecordStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Megolm replay protection (spec: End-to-End Encryption, "Megolm": "Clients must guard against
 * replay attacks by keeping track of the ratchet indices of Megolm sessions"): remembers which
 * event (id and {@code origin_server_ts}) used each (session, index), the session named by its full
 * identity (room, sender key, session id). The same event decrypted again passes; another event at
 * the same index is a replay.
 *
 * <p><b>Durable.</b> Records are kept in the store ({@link ReplayRecordStore}), so a replay after a
 * restart is refused too. New records wait in {@link #pending} and are written by the machine with
 * the next saved step ({@link #drainInto}): with any step that saves something anyway, with every
 * batch decrypt, after {@link #FLUSH_AT} single decrypts, and on close. A crash (not a close) can
 * lose the records of at most {@link #FLUSH_AT} - 1 single decrypts since the last save.
 *
 * <p><b>Bounds.</b> At most {@link #MAX_ENTRIES} records in memory (least recently used first out;
 * a miss asks the store) and in the store (oldest recorded first out, pruned every {@link
 * #PRUNE_EVERY} new records, so it may briefly hold up to that many more). A forgotten index is
 * accepted again by whichever event comes first; an event id that is remembered always passes.
 */
final class ReplayGuard {
  /** Enough for a large backlog; each entry is a few hundred bytes in memory and in the store. */
  static final int MAX_ENTRIES = 200_000;

  /** Pending records that make a single decrypt save them (one store write per this many). */
  static final int FLUSH_AT = 256;

  /** Marks a recorded event id that is a digest of the real one ({@link #recordedId}). */
  private static final String DIGEST_PREFIX = "sha256:";

  /** Sessions whose high mark is kept in memory (each under 200 bytes). */
  static final int MAX_SESSION_MARKS = 10_000;

  /** New records written between two prunes of the store to {@link #MAX_ENTRIES}. */
  static final int PRUNE_EVERY = 10_000;

  private final int maxEntries;
  private final int flushAt;
  private final int pruneEvery;
  private final Map<String, ReplayRecord> seen;

  /**
   * Per session (room, sender key, session id), an index at or above every index recorded for it in
   * the store or pending: a first use above it is new without asking the store. Only this machine
   * writes its account's records (one process per device), so the mark stays true. Least recently
   * used sessions first out; a dropped mark is read again from the store.
   */
  private final Map<String, Long> highMarks =
      new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
          return size() > MAX_SESSION_MARKS;
        }
      };

  /** Records not yet saved, oldest first. */
  private final List<ReplayRecord> pending = new ArrayList<>();

  private int sincePrune;

  /** A guard with the bounds above. */
  ReplayGuard() {
    this(MAX_ENTRIES, FLUSH_AT, PRUNE_EVERY);
  }

  /** A guard with other bounds (tests of the bounds). */
  ReplayGuard(int maxEntries, int flushAt, int pruneEvery) {
    this.maxEntries = maxEntries;
    this.flushAt = flushAt;
    this.pruneEvery = pruneEvery;
    this.seen =
        new LinkedHashMap<>(1024, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, ReplayRecord> eldest) {
            return size() > maxEntries;
          }
        };
  }

  /**
   * True if this is the first event at this index of the session, or the same event again; the
   * first event is remembered (and saved with a later step). Reads {@code store} on a memory miss.
   */
  boolean check(
      ReplayRecordStore store,
      String roomId,
      String senderKey,
      String sessionId,
      long index,
      String rawEventId,
      long timestamp) {
    String eventId = recordedId(rawEventId);
    String session = roomId + "\u0000" + senderKey + "\u0000" + sessionId;
    String key = session + "\u0000" + index;
    ReplayRecord previous = seen.get(key);
    if (previous == null) {
      // Every stored record of the session is at or below its high mark: above it, no look-up.
      Long high = highMarks.get(session);
      if (high == null) {
        high = store.replayRecordMaxIndex(roomId, senderKey, sessionId);
        highMarks.put(session, high);
      }
      if (index <= high) {
        previous = store.replayRecord(roomId, senderKey, sessionId, index).orElse(null);
      }
      if (previous == null) {
        ReplayRecord r = new ReplayRecord(roomId, senderKey, sessionId, index, eventId, timestamp);
        seen.put(key, r);
        pending.add(r);
        if (index > high) {
          highMarks.put(session, index);
        }
        return true;
      }
      seen.put(key, previous);
    }
    return previous.eventId().equals(eventId) && previous.timestampMillis() == timestamp;
  }

  /**
   * The event id as recorded: itself if at most {@link MachineLimits#MAX_ID_LENGTH} UTF-8 bytes
   * (the spec's bound for ids), else a SHA-256 digest of it, so that a hostile server's huge event
   * ids cannot grow a record beyond a few hundred bytes. An id that itself starts with the digest
   * prefix is digested too, so no id can pose as another's digest.
   */
  static String recordedId(String eventId) {
    if (eventId.isEmpty()
        || (MachineLimits.saneId(eventId) && !eventId.startsWith(DIGEST_PREFIX))) {
      return eventId;
    }
    try {
      byte[] digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(eventId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return DIGEST_PREFIX + java.util.Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** True once enough records wait that a single decrypt should save them. */
  boolean flushDue() {
    return pending.size() >= flushAt;
  }

  /** True if records wait to be saved. */
  boolean hasPending() {
    return !pending.isEmpty();
  }

  /**
   * Adds the pending records (and a prune when due) to {@code changes}; returns how many, to pass
   * to {@link #saved} once the save succeeded. A failed save keeps them pending.
   */
  int drainInto(Changes changes) {
    for (ReplayRecord r : pending) {
      changes.putReplayRecord(r);
    }
    if (sincePrune + pending.size() >= pruneEvery) {
      changes.pruneReplayRecords(maxEntries);
    }
    return pending.size();
  }

  /** Forgets the first {@code count} pending records: a save holding them succeeded. */
  void saved(int count) {
    sincePrune += count;
    if (sincePrune >= pruneEvery) {
      sincePrune = 0;
    }
    pending.subList(0, count).clear();
  }
}
