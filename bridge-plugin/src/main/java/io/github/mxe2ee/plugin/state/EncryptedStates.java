package io.github.mxe2ee.plugin.state;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.OlmMachine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The plugin's encrypted room state (MSC4362; docs/PLUGIN.md, "Encrypted room state"): decrypts and
 * checks the encrypted state events of a room's event lists, and keeps each tracked room's current
 * state for {@link io.github.mxe2ee.plugin.MatrixE2ee#roomState}.
 *
 * <p>One entry point for every way events arrive: the {@code /sync} path calls {@link
 * #decryptStateEvents} on the {@code state} and state-after sections and {@link #track} in order;
 * an appservice transaction path calls {@link #processRoomEvents} on each room's events (the
 * timeline-like list of a transaction), which does both. A decrypted state event is delivered with
 * its real {@code type} and {@code state_key} and {@code mxe2ee.packed_state_key}; one that fails
 * (missing key, {@link DecryptionFailure#STATE_KEY_MISMATCH}, {@link
 * DecryptionFailure#NEVER_ENCRYPTED_STATE}) stays {@code m.room.encrypted} with {@code
 * mxe2ee.decryption_failure}, and never becomes state.
 *
 * <p>Bounds (a remote party grows this table): at most {@value #MAX_ROOMS} rooms and {@value
 * #MAX_TOTAL_BYTES} bytes of events overall, the least recently changed room forgotten first (it is
 * fetched again when asked for); per room at most {@value #MAX_ENTRIES_PER_ROOM} entries and
 * {@value #MAX_ROOM_BYTES} bytes, past which new entries are dropped and the room marked partial.
 * {@code m.room.member} events are not kept (the plugin's member lists follow them).
 *
 * <p>Not thread-safe: every method runs on the plugin's single worker, like the machine calls.
 */
public final class EncryptedStates {
  /** Rooms kept at most. */
  public static final int MAX_ROOMS = 1_000;

  /** Entries kept per room at most (plain and encrypted together). */
  public static final int MAX_ENTRIES_PER_ROOM = 500;

  /** Bytes of event JSON kept per room at most: 1 MiB. */
  public static final int MAX_ROOM_BYTES = 1 << 20;

  /** Bytes of event JSON kept overall at most: 32 MiB. */
  public static final long MAX_TOTAL_BYTES = 32L << 20;

  /** The field of {@code mxe2ee} holding a decrypted state event's outer (packed) state key. */
  public static final String PACKED_STATE_KEY = "packed_state_key";

  /** What the plugin does with one decryption result: render it, hold it for a late key. */
  public interface Hooks {
    /** The event as delivered for {@code result} (the plugin's decrypted-event shape). */
    JsonObject render(JsonObject event, DecryptionResult result);

    /** Holds an undecryptable event for a late key (docs/PLUGIN.md, "Late keys"); true if held. */
    boolean hold(String roomId, JsonObject event, DecryptionFailure reason);
  }

  private enum Kind {
    PLAIN,
    ENCRYPTED,
    UNREADABLE
  }

  private record Entry(Kind kind, String eventId, JsonObject event, int bytes, long seq) {}

  /** One room: plain and encrypted entries by (type, state key). */
  private static final class Room {
    final Map<String, Entry> plain = new HashMap<>();
    final Map<String, Entry> encrypted = new HashMap<>();
    boolean complete;
    boolean partial;
    int bytes;

    int size() {
      return plain.size() + encrypted.size();
    }
  }

  private final OlmMachine machine;
  private final Function<JsonObject, ObjectNode> toNode;
  private final Hooks hooks;
  private final LinkedHashMap<String, Room> rooms = new LinkedHashMap<>(16, 0.75f, true);
  private long seq;
  private long dropped;

  /**
   * @param toNode converts an event to the core's JSON within its bounds, throwing {@link
   *     IllegalArgumentException} past them
   */
  public EncryptedStates(OlmMachine machine, Function<JsonObject, ObjectNode> toNode, Hooks hooks) {
    this.machine = Objects.requireNonNull(machine, "machine");
    this.toNode = Objects.requireNonNull(toNode, "toNode");
    this.hooks = Objects.requireNonNull(hooks, "hooks");
  }

  // ------------------------------------------------------------------ decryption

  /**
   * Sets the delivered form of a decrypted state event (called by the plugin's renderer): the real
   * {@code state_key} from the checked plaintext, and the outer one in {@code
   * mxe2ee.packed_state_key}. Does nothing for a timeline event.
   *
   * @param out the rendered event, whose {@code mxe2ee} object exists
   * @param received the event as received
   */
  public static void markState(
      JsonObject out, DecryptionResult.Decrypted result, JsonObject received) {
    if (result.stateKey() == null) {
      return;
    }
    out.put("state_key", result.stateKey());
    if (out.getValue("mxe2ee") instanceof JsonObject info) {
      info.put(PACKED_STATE_KEY, received.getValue("state_key"));
    }
  }

  /**
   * Removes an {@code mxe2ee} field the homeserver put in the events of these lists: only the
   * plugin writes it, and a forged {@code mxe2ee: {encrypted: true}} on a plain event would pass it
   * off as decrypted (a plain topic as an encrypted one, a plain {@code !topic} as an encrypted
   * command). Call before decrypting.
   */
  public static void stripForgedMarks(JsonArray events) {
    for (Object o : events) {
      if (o instanceof JsonObject e) {
        e.remove("mxe2ee");
      }
    }
  }

  /**
   * Decrypts, in place, the encrypted state events ({@code m.room.encrypted} with a {@code
   * state_key}) of {@code events}: one batch per call. A decrypted event is replaced by its
   * rendered form; an undecryptable one by its failure form, held for a late key if the key is
   * missing. Other events are left alone.
   *
   * @return how many events failed in processing (engine or store failure), each marked {@code
   *     PROCESSING_ERROR}
   */
  public int decryptStateEvents(String roomId, JsonArray events) {
    List<Integer> positions = new ArrayList<>();
    List<ObjectNode> nodes = new ArrayList<>();
    int failed = 0;
    for (int i = 0; i < events.size(); i++) {
      if (events.getValue(i) instanceof JsonObject e
          && "m.room.encrypted".equals(e.getValue("type"))
          && e.containsKey("state_key")) {
        try {
          nodes.add(toNode.apply(e));
          positions.add(i);
        } catch (IllegalArgumentException tooLarge) {
          events.set(i, failure(e, DecryptionFailure.MALFORMED.name()));
        }
      }
    }
    if (nodes.isEmpty()) {
      return 0;
    }
    List<DecryptionResult> results;
    try {
      results = machine.decryptRoomEvents(roomId, nodes);
    } catch (RuntimeException batch) {
      results = new ArrayList<>();
      for (ObjectNode n : nodes) {
        try {
          results.add(machine.decryptRoomEvent(roomId, n));
        } catch (RuntimeException one) {
          results.add(null);
        }
      }
    }
    for (int j = 0; j < positions.size(); j++) {
      int i = positions.get(j);
      JsonObject event = events.getJsonObject(i);
      DecryptionResult r = results.get(j);
      if (r == null) {
        failed++;
        events.set(i, failure(event, "PROCESSING_ERROR"));
        continue;
      }
      JsonObject out = hooks.render(event, r);
      if (r instanceof DecryptionResult.UnableToDecrypt u
          && (u.reason() == DecryptionFailure.MISSING_SESSION
              || u.reason() == DecryptionFailure.UNKNOWN_INDEX)
          && out.getValue("mxe2ee") instanceof JsonObject info) {
        try {
          info.put("held", hooks.hold(roomId, event, u.reason()));
        } catch (RuntimeException e) {
          info.put("held", false);
        }
      }
      events.set(i, out);
    }
    return failed;
  }

  private static JsonObject failure(JsonObject event, String reason) {
    JsonObject out = event.copy();
    out.put("mxe2ee", new JsonObject().put("decryption_failure", reason));
    return out;
  }

  /**
   * The whole path for one room's events from an appservice transaction (or any list in timeline
   * order): strips forged {@code mxe2ee} marks, decrypts the encrypted state events in place, and
   * tracks the state events in order.
   *
   * <p>Call it on the events <b>as received, before any other decryption</b> (it removes every
   * {@code mxe2ee} object, so marks written earlier would be lost); afterwards decrypt only the
   * events that still have type {@code m.room.encrypted} and no {@code mxe2ee} object (the timeline
   * messages): the state events are then decrypted or marked failed already.
   *
   * @return how many events failed in processing
   */
  public int processRoomEvents(String roomId, JsonArray events) {
    stripForgedMarks(events);
    int failed = decryptStateEvents(roomId, events);
    track(roomId, events);
    return failed;
  }

  // ------------------------------------------------------------------ current state

  /**
   * Applies the state events of {@code events} (delivered forms, in order) to the room's current
   * state. Events without a string {@code state_key}, and {@code m.room.member}, are skipped.
   */
  public void track(String roomId, JsonArray events) {
    Room room = room(roomId);
    for (Object o : events) {
      if (o instanceof JsonObject e) {
        apply(roomId, room, e);
      }
    }
    evict();
  }

  /**
   * Tracks one room of a {@code /sync} body after its events were decrypted: the state-after
   * section ({@code state_after} or {@code org.matrix.msc4222.state_after}) if present (it is the
   * state at the timeline's end), else the {@code state} section then the timeline's state events.
   *
   * @param fullState true for an initial sync (no {@code since}): the sections hold the full state,
   *     so the room becomes {@link RoomState#complete()}
   */
  public void trackSyncRoom(String roomId, JsonObject body, boolean fullState) {
    JsonArray after = events(body, "state_after");
    if (after == null) {
      after = events(body, "org.matrix.msc4222.state_after");
    }
    if (after != null) {
      track(roomId, after);
    } else {
      JsonArray state = events(body, "state");
      if (state != null) {
        track(roomId, state);
      }
      JsonArray timeline = events(body, "timeline");
      if (timeline != null) {
        track(roomId, timeline);
      }
    }
    if (fullState) {
      Room room = rooms.get(roomId);
      if (room != null) {
        room.complete = true;
      }
    }
  }

  /** The events array of {@code body[section]}, or null if absent or of another shape. */
  public static JsonArray events(JsonObject body, String section) {
    return body.getValue(section) instanceof JsonObject s
            && s.getValue("events") instanceof JsonArray a
        ? a
        : null;
  }

  /**
   * Applies events re-emitted after a late key (docs/PLUGIN.md, "Late keys"): a decrypted state
   * event replaces its entry only if that entry is still the same event, unreadable; a newer state
   * is never overwritten by an older event decrypted late.
   */
  public void trackLate(List<JsonObject> late) {
    for (JsonObject e : late) {
      if (!(e.getValue("room_id") instanceof String roomId)
          || !(e.getValue("mxe2ee") instanceof JsonObject info)
          || !Boolean.TRUE.equals(info.getValue("encrypted"))
          || !(info.getValue(PACKED_STATE_KEY) instanceof String)
          || !(e.getValue("type") instanceof String type)
          || !(e.getValue("state_key") instanceof String stateKey)) {
        continue;
      }
      Room room = rooms.get(roomId);
      Entry current = room == null ? null : room.encrypted.get(RoomState.key(type, stateKey));
      if (current != null
          && current.kind() == Kind.UNREADABLE
          && Objects.equals(current.eventId(), e.getValue("event_id"))) {
        JsonObject copy = e.copy();
        copy.remove("room_id");
        apply(roomId, room, copy);
      }
    }
  }

  private void apply(String roomId, Room room, JsonObject e) {
    if (!(e.getValue("state_key") instanceof String stateKey)
        || !(e.getValue("type") instanceof String type)
        || "m.room.member".equals(type)) {
      return;
    }
    JsonObject info = e.getValue("mxe2ee") instanceof JsonObject i ? i : null;
    Kind kind;
    String key;
    if (info != null
        && Boolean.TRUE.equals(info.getValue("encrypted"))
        && info.getValue(PACKED_STATE_KEY) instanceof String) {
      kind = Kind.ENCRYPTED;
      key = RoomState.key(type, stateKey);
    } else if ("m.room.encrypted".equals(type)) {
      // Unreadable (key missing, or refused): hides the plain entry the packed key names.
      int colon = stateKey.indexOf(':');
      if (colon < 0) {
        return;
      }
      kind = Kind.UNREADABLE;
      key = RoomState.key(stateKey.substring(0, colon), stateKey.substring(colon + 1));
    } else {
      kind = Kind.PLAIN;
      key = RoomState.key(type, stateKey);
    }
    Map<String, Entry> map = kind == Kind.PLAIN ? room.plain : room.encrypted;
    int bytes = e.encode().getBytes(StandardCharsets.UTF_8).length;
    Entry old = map.get(key);
    int oldBytes = old == null ? 0 : old.bytes();
    if ((old == null && room.size() >= MAX_ENTRIES_PER_ROOM)
        || room.bytes - oldBytes + bytes > MAX_ROOM_BYTES) {
      room.partial = true;
      dropped++;
      return;
    }
    String eventId = e.getValue("event_id") instanceof String id ? id : null;
    map.put(key, new Entry(kind, eventId, e.copy(), bytes, ++seq));
    room.bytes += bytes - oldBytes;
    rooms.get(roomId); // touch: most recently changed
  }

  private Room room(String roomId) {
    return rooms.computeIfAbsent(roomId, id -> new Room());
  }

  private void evict() {
    long totalBytes = 0;
    for (Room r : rooms.values()) {
      totalBytes += r.bytes;
    }
    Iterator<Map.Entry<String, Room>> it = rooms.entrySet().iterator();
    while ((rooms.size() > MAX_ROOMS || totalBytes > MAX_TOTAL_BYTES) && it.hasNext()) {
      totalBytes -= it.next().getValue().bytes;
      it.remove();
    }
  }

  /** Whether the room's full state is known (initial sync or fetched), so no fetch is needed. */
  public boolean isComplete(String roomId) {
    Room r = rooms.get(roomId);
    return r != null && r.complete && !r.partial;
  }

  /**
   * The mark to pass to {@link #completeFrom} before fetching a room's full state: entries changed
   * after it (by syncs processed while the fetch was under way) are newer than the fetched ones.
   */
  public long mark() {
    return seq;
  }

  /**
   * Merges a fetched full state (delivered forms, already decrypted with {@link
   * #decryptStateEvents}) into the room: each entry not changed since {@code mark} takes the
   * fetched value, entries the fetch no longer has are removed, and the room becomes complete.
   */
  public void completeFrom(String roomId, long mark, JsonArray fetched) {
    Room fresh = new Room();
    for (Object o : fetched) {
      if (o instanceof JsonObject e) {
        apply(roomId, fresh, e);
      }
    }
    Room room = room(roomId);
    merge(room.plain, fresh.plain, mark, room);
    merge(room.encrypted, fresh.encrypted, mark, room);
    room.complete = true;
    room.partial = fresh.partial;
    evict();
  }

  private void merge(Map<String, Entry> into, Map<String, Entry> fetched, long mark, Room room) {
    Map<String, Entry> result = new HashMap<>();
    for (Map.Entry<String, Entry> e : into.entrySet()) {
      if (e.getValue().seq() > mark) {
        result.put(e.getKey(), e.getValue()); // changed by a sync during the fetch: newer
      }
    }
    for (Map.Entry<String, Entry> e : fetched.entrySet()) {
      result.putIfAbsent(e.getKey(), e.getValue());
    }
    int before = into.values().stream().mapToInt(Entry::bytes).sum();
    int after = result.values().stream().mapToInt(Entry::bytes).sum();
    into.clear();
    into.putAll(result);
    room.bytes += after - before;
  }

  /** The room's current state as {@link RoomState} describes it (empty if never seen). */
  public RoomState snapshot(String roomId) {
    Room room = rooms.get(roomId);
    Map<String, JsonObject> view = new HashMap<>();
    if (room == null) {
      return new RoomState(roomId, false, view);
    }
    for (Map.Entry<String, Entry> e : room.plain.entrySet()) {
      if (!room.encrypted.containsKey(e.getKey())) {
        view.put(e.getKey(), e.getValue().event());
      }
    }
    for (Map.Entry<String, Entry> e : room.encrypted.entrySet()) {
      if (e.getValue().kind() == Kind.ENCRYPTED) {
        view.put(e.getKey(), e.getValue().event());
      }
    }
    return new RoomState(roomId, room.complete && !room.partial, view);
  }

  /** Entries dropped at a per-room bound since creation. */
  public long dropped() {
    return dropped;
  }
}
