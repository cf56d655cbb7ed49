package io.github.mxe2ee.plugin.latekeys;

import io.github.mxe2ee.machine.AvailableSessions;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The encrypted room events waiting for their Megolm key, kept in the crypto store so that an event
 * undecryptable when the bot stopped is still re-emitted when its key arrives after a restart.
 *
 * <p>Layout in the store's small values: an index ({@value #INDEX_KEY}: a JSON array of {@code {s:
 * sequence, r: room id, e: event id, k: sender key or null, i: session id, b: bytes}}, oldest
 * first) and one value per event ({@value #EVENT_KEY_PREFIX}{@code <sequence>}: the event's JSON as
 * received, still encrypted, never plaintext). Every change (hold, drop, release) is one store
 * transaction of the index and the event values it adds or removes, so the two always agree; an
 * index entry whose event value is missing or unreadable (a store edited by hand) is skipped.
 *
 * <p>Bounds ({@link LateKeyOptions}): count and bytes per room and overall; to make room, the
 * oldest events of the room, then overall, are dropped and counted. An event larger than a byte
 * bound on its own is not held (counted as dropped).
 *
 * <p>Not thread-safe: used on the plugin's single worker, like the machine.
 */
public final class HeldEvents {
  /** Store key of the index. */
  static final String INDEX_KEY = "latekeys.index";

  /** Store key prefix of one held event. */
  static final String EVENT_KEY_PREFIX = "latekeys.event.";

  private static final System.Logger LOG = System.getLogger(HeldEvents.class.getName());

  /**
   * One held event.
   *
   * @param seq its sequence number (store key)
   * @param roomId the room
   * @param eventId the event id
   * @param senderKey {@code content.sender_key}, or null (deprecated field)
   * @param sessionId {@code content.session_id}
   * @param bytes the size of its JSON
   */
  public record Entry(
      long seq, String roomId, String eventId, String senderKey, String sessionId, long bytes) {}

  private final CryptoStore store;
  private final LateKeyOptions options;

  /** By event id, oldest first. */
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

  private long nextSeq;
  private long dropped;

  private HeldEvents(CryptoStore store, LateKeyOptions options) {
    this.store = store;
    this.options = new LateKeyOptions(options);
  }

  /** Reads the held events of {@code store}. */
  public static HeldEvents load(CryptoStore store, LateKeyOptions options) {
    HeldEvents held = new HeldEvents(store, options);
    Optional<byte[]> index = store.value(INDEX_KEY);
    if (index.isPresent()) {
      try {
        JsonArray list = new JsonArray(Buffer.buffer(index.get()));
        for (Object o : list) {
          if (o instanceof JsonObject j) {
            Entry e =
                new Entry(
                    j.getLong("s"),
                    j.getString("r"),
                    j.getString("e"),
                    j.getString("k"),
                    j.getString("i"),
                    j.getLong("b"));
            held.entries.put(e.eventId(), e);
            held.nextSeq = Math.max(held.nextSeq, e.seq() + 1);
          }
        }
      } catch (RuntimeException e) {
        // Our own data, unreadable: the held events are lost, the store and the bot go on.
        LOG.log(System.Logger.Level.WARNING, "held events index unreadable, starting empty");
        held.entries.clear();
      }
    }
    return held;
  }

  /** How many events are held. */
  public int size() {
    return entries.size();
  }

  /** Held events dropped by the bounds since {@link #load}. */
  public long dropped() {
    return dropped;
  }

  /** Whether the event is held. */
  public boolean contains(String eventId) {
    return entries.containsKey(eventId);
  }

  /** The entries, oldest first (a copy). */
  public List<Entry> entries() {
    return new ArrayList<>(entries.values());
  }

  /**
   * Holds an encrypted event until its key arrives; saved before it returns. An event already held
   * stays as it is. Needs {@code event_id} and {@code content.session_id} strings.
   *
   * @return true if the event is held now
   */
  public boolean hold(String roomId, JsonObject event) {
    if (!(event.getValue("event_id") instanceof String eventId)
        || !(event.getValue("content") instanceof JsonObject content)
        || !(content.getValue("session_id") instanceof String sessionId)) {
      return false;
    }
    if (entries.containsKey(eventId)) {
      return true;
    }
    byte[] json = event.encode().getBytes(StandardCharsets.UTF_8);
    long size = json.length;
    if (options.getMaxHeldEvents() == 0
        || options.getMaxHeldEventsPerRoom() == 0
        || size > options.getMaxHeldBytes()
        || size > options.getMaxHeldBytesPerRoom()) {
      dropped++;
      return false;
    }
    Changes changes = new Changes();
    List<Entry> removed = new ArrayList<>();
    while (roomCount(roomId) >= options.getMaxHeldEventsPerRoom()
        || roomBytes(roomId) + size > options.getMaxHeldBytesPerRoom()) {
      removed.add(removeOldest(roomId, changes));
    }
    while (entries.size() >= options.getMaxHeldEvents()
        || totalBytes() + size > options.getMaxHeldBytes()) {
      removed.add(removeOldest(null, changes));
    }
    String senderKey = content.getValue("sender_key") instanceof String k ? k : null;
    Entry entry = new Entry(nextSeq++, roomId, eventId, senderKey, sessionId, size);
    entries.put(eventId, entry);
    changes.putValue(EVENT_KEY_PREFIX + entry.seq(), json);
    changes.putValue(INDEX_KEY, index());
    try {
      store.save(changes);
    } catch (RuntimeException e) {
      entries.remove(eventId);
      removed.forEach(r -> entries.put(r.eventId(), r));
      throw e;
    }
    dropped += removed.size();
    if (!removed.isEmpty()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "late keys: {0} held events dropped to stay within the bounds (room {1})",
          removed.size(),
          roomId);
    }
    return true;
  }

  /** The held entries that {@code available} may make decryptable, oldest first. */
  public List<Entry> candidates(AvailableSessions available) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (available.covers(e.roomId(), e.senderKey(), e.sessionId())) {
        out.add(e);
      }
    }
    return out;
  }

  /** The event of a held entry as it was held, or empty if its value is gone or unreadable. */
  public Optional<JsonObject> event(Entry entry) {
    try {
      return store.value(EVENT_KEY_PREFIX + entry.seq()).map(b -> new JsonObject(Buffer.buffer(b)));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Releases the given events (decrypted, or re-emitted): one transaction; unknown ids ignored. */
  public void release(Collection<String> eventIds) {
    Changes changes = new Changes();
    List<Entry> removed = new ArrayList<>();
    for (String id : eventIds) {
      Entry e = entries.remove(id);
      if (e != null) {
        removed.add(e);
        changes.deleteValue(EVENT_KEY_PREFIX + e.seq());
      }
    }
    if (removed.isEmpty()) {
      return;
    }
    changes.putValue(INDEX_KEY, index());
    try {
      store.save(changes);
    } catch (RuntimeException e) {
      removed.forEach(r -> entries.put(r.eventId(), r));
      throw e;
    }
  }

  private Entry removeOldest(String roomId, Changes changes) {
    for (Map.Entry<String, Entry> m : entries.entrySet()) {
      Entry e = m.getValue();
      if (roomId == null || e.roomId().equals(roomId)) {
        entries.remove(m.getKey());
        changes.deleteValue(EVENT_KEY_PREFIX + e.seq());
        return e;
      }
    }
    throw new IllegalStateException("no held event to drop");
  }

  private int roomCount(String roomId) {
    int n = 0;
    for (Entry e : entries.values()) {
      if (e.roomId().equals(roomId)) {
        n++;
      }
    }
    return n;
  }

  private long roomBytes(String roomId) {
    long n = 0;
    for (Entry e : entries.values()) {
      if (e.roomId().equals(roomId)) {
        n += e.bytes();
      }
    }
    return n;
  }

  private long totalBytes() {
    long n = 0;
    for (Entry e : entries.values()) {
      n += e.bytes();
    }
    return n;
  }

  private byte[] index() {
    JsonArray list = new JsonArray();
    for (Entry e : entries.values()) {
      list.add(
          new JsonObject()
              .put("s", e.seq())
              .put("r", e.roomId())
              .put("e", e.eventId())
              .put("k", e.senderKey())
              .put("i", e.sessionId())
              .put("b", e.bytes()));
    }
    return list.encode().getBytes(StandardCharsets.UTF_8);
  }
}
