package io.github.mxe2ee.machine;

import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.WithheldRecord;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the stored {@code m.room_key.withheld} records within {@link
 * MachineLimits#maxWithheldRecords()} overall and {@link MachineLimits#maxWithheldPerSender()} per
 * sending device: a new record past a cap first prunes the oldest (of that sender, or overall), in
 * the same step. One per machine step: its counts start from the store and then follow what the
 * step itself wrote, so duplicates and many notices in one step are counted exactly.
 */
final class WithheldLimiter {
  /** Rows read per page when looking for the oldest records to prune. */
  private static final int PAGE = 256;

  private final Context ctx;
  private long total = -1;
  private final Map<String, Long> perSender = new HashMap<>();

  /**
   * Records written by this step, by room, sender key and session: they exist even if the store
   * says not.
   */
  private final Map<String, WithheldRecord> written = new HashMap<>();

  /** Records deleted by this step. */
  private final Set<String> deleted = new HashSet<>();

  /** Oldest candidates for pruning, overall and by sender, with how far the store was read. */
  private final Map<String, Deque<WithheldRecord>> oldest = new HashMap<>();

  private final Map<String, Integer> readOffset = new HashMap<>();

  WithheldLimiter(Context ctx) {
    this.ctx = ctx;
  }

  private static String key(String roomId, String senderKey, String sessionId) {
    return roomId + "\u0000" + senderKey + "\u0000" + sessionId;
  }

  /**
   * Stores {@code record} (stamped with the current time), pruning the oldest records first if a
   * cap would be exceeded. Ids longer than {@link MachineLimits#MAX_ID_LENGTH} are dropped and
   * counted.
   */
  void put(WithheldRecord record, Changes changes) {
    if (!MachineLimits.saneId(record.roomId())
        || !MachineLimits.saneId(record.sessionId())
        || !MachineLimits.saneId(record.senderKey())
        || record.code().length() > MachineLimits.MAX_ID_LENGTH
        || (record.reason() != null && record.reason().length() > MachineLimits.MAX_ID_LENGTH)) {
      ctx.counters.malformedIdsDropped++;
      return;
    }
    WithheldRecord stamped =
        new WithheldRecord(
            record.roomId(),
            record.sessionId(),
            record.senderKey(),
            record.code(),
            record.reason(),
            ctx.now());
    String k = key(record.roomId(), record.senderKey(), record.sessionId());
    WithheldRecord existing = current(record.roomId(), record.senderKey(), record.sessionId());
    if (existing != null) {
      // An update of a stored record of the same sender: no new row.
      write(k, stamped, changes);
      return;
    }
    MachineLimits limits = ctx.limits;
    while (senderCount(record.senderKey()) >= limits.maxWithheldPerSender()) {
      if (!pruneOldest(record.senderKey(), changes)) {
        break;
      }
    }
    while (totalCount() >= limits.maxWithheldRecords()) {
      if (!pruneOldest(null, changes)) {
        break;
      }
    }
    total = totalCount() + 1;
    adjust(record.senderKey(), 1);
    write(k, stamped, changes);
  }

  private void write(String k, WithheldRecord r, Changes changes) {
    written.put(k, r);
    deleted.remove(k);
    changes.putWithheld(r);
  }

  private WithheldRecord current(String roomId, String senderKey, String sessionId) {
    String k = key(roomId, senderKey, sessionId);
    if (deleted.contains(k)) {
      return null;
    }
    WithheldRecord w = written.get(k);
    if (w != null) {
      return w;
    }
    for (WithheldRecord r : ctx.store.withheld(roomId, sessionId)) {
      if (r.senderKey().equals(senderKey)) {
        return r;
      }
    }
    return null;
  }

  private long totalCount() {
    if (total < 0) {
      total = ctx.store.withheldCount(null);
    }
    return total;
  }

  private long senderCount(String senderKey) {
    return perSender.computeIfAbsent(senderKey, s -> ctx.store.withheldCount(s));
  }

  private void adjust(String senderKey, long delta) {
    perSender.put(senderKey, senderCount(senderKey) + delta);
  }

  /** Deletes the oldest record (of {@code senderKey}, or overall if null); false if none. */
  private boolean pruneOldest(String senderKey, Changes changes) {
    String queue = senderKey == null ? "" : senderKey;
    Deque<WithheldRecord> candidates = oldest.computeIfAbsent(queue, q -> new ArrayDeque<>());
    while (true) {
      if (candidates.isEmpty()) {
        int offset = readOffset.getOrDefault(queue, 0);
        List<WithheldRecord> page = ctx.store.oldestWithheld(senderKey, offset, PAGE);
        readOffset.put(queue, offset + page.size());
        if (page.isEmpty()) {
          return false;
        }
        candidates.addAll(page);
      }
      WithheldRecord victim = candidates.pollFirst();
      String k = key(victim.roomId(), victim.senderKey(), victim.sessionId());
      WithheldRecord now = current(victim.roomId(), victim.senderKey(), victim.sessionId());
      if (now == null || written.containsKey(k)) {
        // Already pruned, or rewritten by this step (so not old any more).
        continue;
      }
      deleted.add(k);
      changes.deleteWithheld(victim.roomId(), victim.senderKey(), victim.sessionId());
      total = totalCount() - 1;
      adjust(now.senderKey(), -1);
      ctx.counters.withheldPruned++;
      return true;
    }
  }
}
