package io.github.mxe2ee.plugin.state;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A snapshot of a room's current state as the plugin reads it (docs/PLUGIN.md, "Encrypted room
 * state"): each {@code (type, state_key)} with its event, encrypted state decrypted and checked
 * (MSC4362). Where the room has an encrypted and a plain version of the same entry, the encrypted
 * one is used and the plain one ignored (MSC4362, "Proposal"); an encrypted entry that cannot be
 * read (key missing, state key mismatch) hides the plain one and shows nothing. {@code
 * m.room.member} events are not kept (see {@link EncryptedStates}).
 *
 * <p>Immutable; the events it returns are copies. Each event is as the plugin delivers it: a
 * decrypted one has the real {@code type} and {@code state_key}, and {@code mxe2ee: {encrypted:
 * true, packed_state_key, sender_device, trust, authenticated}}.
 */
public final class RoomState {
  private final String roomId;
  private final boolean complete;
  private final Map<String, JsonObject> events;

  RoomState(String roomId, boolean complete, Map<String, JsonObject> events) {
    this.roomId = roomId;
    this.complete = complete;
    this.events = Collections.unmodifiableMap(new TreeMap<>(events));
  }

  static String key(String type, String stateKey) {
    return type + '\u0000' + stateKey;
  }

  /** The room. */
  public String roomId() {
    return roomId;
  }

  /**
   * True if the snapshot was built from the room's full state (an initial sync or a fetch of the
   * state) and kept up to date since; false if it holds only the changes seen since the plugin
   * started (the fetch failed).
   */
  public boolean complete() {
    return complete;
  }

  /** The current event of {@code (type, stateKey)}, a copy, if known and readable. */
  public Optional<JsonObject> event(String type, String stateKey) {
    JsonObject e = events.get(key(type, stateKey));
    return e == null ? Optional.empty() : Optional.of(e.copy());
  }

  /** The content of {@code (type, stateKey)}, a copy, if known and readable. */
  public Optional<JsonObject> content(String type, String stateKey) {
    return event(type, stateKey)
        .map(e -> e.getValue("content") instanceof JsonObject c ? c : new JsonObject());
  }

  /** Whether the current {@code (type, stateKey)} came encrypted (decrypted and checked). */
  public boolean isEncrypted(String type, String stateKey) {
    JsonObject e = events.get(key(type, stateKey));
    return e != null
        && e.getValue("mxe2ee") instanceof JsonObject info
        && Boolean.TRUE.equals(info.getValue("encrypted"));
  }

  /** The {@code m.room.topic} text, if set (a non-string {@code topic} counts as unset). */
  public Optional<String> topic() {
    return content("m.room.topic", "")
        .flatMap(c -> c.getValue("topic") instanceof String t ? Optional.of(t) : Optional.empty());
  }

  /** The {@code m.room.name}, if set (a non-string {@code name} counts as unset). */
  public Optional<String> name() {
    return content("m.room.name", "")
        .flatMap(c -> c.getValue("name") instanceof String n ? Optional.of(n) : Optional.empty());
  }

  /** Every current event (copies), ordered by type then state key. */
  public List<JsonObject> events() {
    List<JsonObject> out = new ArrayList<>();
    events.values().forEach(e -> out.add(e.copy()));
    return out;
  }

  /** Room id, size and completeness only: state contents are never printed. */
  @Override
  public String toString() {
    return "RoomState["
        + roomId
        + ", "
        + events.size()
        + " entries"
        + (complete ? "" : ", partial")
        + "]";
  }
}
