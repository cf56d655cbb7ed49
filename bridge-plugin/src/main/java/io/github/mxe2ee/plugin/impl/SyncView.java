package io.github.mxe2ee.plugin.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shapes of a {@code /sync} body (Client-Server API, "Syncing"; E2EE fields in
 * "end_to_end_encryption") checked before anything acts on it: {@code rooms} and each of {@code
 * join}/{@code invite}/{@code leave}/{@code knock} must be objects of objects, {@code state}/{@code
 * timeline}/{@code invite_state}/{@code to_device}/... objects with an {@code events} array of
 * objects. Whatever has another shape is removed from the body (in place) and counted, so that
 * neither the plugin nor the application that reads the body meets a {@link ClassCastException}.
 *
 * <p>Not thread-safe; built and used on the plugin's worker.
 */
final class SyncView {
  /** One room of a section: its id and its body. */
  record Room(String roomId, JsonObject body) {}

  final JsonObject body;
  final List<JsonObject> toDevice = new ArrayList<>();
  final List<Room> join = new ArrayList<>();
  final List<Room> invite = new ArrayList<>();
  final List<Room> leave = new ArrayList<>();
  int malformed;

  private SyncView(JsonObject body) {
    this.body = body;
  }

  /** Checks and normalizes {@code body} (modified in place). */
  static SyncView of(JsonObject body) {
    SyncView v = new SyncView(body);
    v.toDevice.addAll(v.events(body, "to_device"));
    for (String key : List.of("device_lists", "device_one_time_keys_count")) {
      if (body.containsKey(key) && !(body.getValue(key) instanceof JsonObject)) {
        body.remove(key);
        v.malformed++;
      }
    }
    if (body.containsKey("device_unused_fallback_key_types")
        && !(body.getValue("device_unused_fallback_key_types") instanceof JsonArray)) {
      body.remove("device_unused_fallback_key_types");
      v.malformed++;
    }
    JsonObject rooms = v.object(body, "rooms");
    if (rooms != null) {
      v.rooms(rooms, "join", v.join, "state", "timeline", "ephemeral", "account_data");
      v.rooms(rooms, "leave", v.leave, "state", "timeline", "account_data");
      v.rooms(rooms, "invite", v.invite, "invite_state");
      v.rooms(rooms, "knock", new ArrayList<>(), "knock_state");
    }
    return v;
  }

  private void rooms(JsonObject rooms, String section, List<Room> out, String... parts) {
    JsonObject map = object(rooms, section);
    if (map == null) {
      return;
    }
    for (Iterator<Map.Entry<String, Object>> it = map.iterator(); it.hasNext(); ) {
      Map.Entry<String, Object> e = it.next();
      if (!(e.getValue() instanceof JsonObject room)) {
        it.remove();
        malformed++;
        continue;
      }
      for (String part : parts) {
        events(room, part);
      }
      out.add(new Room(e.getKey(), room));
    }
  }

  /** The object at {@code key}, or null; a non-object there is removed and counted. */
  private JsonObject object(JsonObject parent, String key) {
    Object v = parent.getValue(key);
    if (v == null) {
      parent.remove(key);
      return null;
    }
    if (!(v instanceof JsonObject o)) {
      parent.remove(key);
      malformed++;
      return null;
    }
    return o;
  }

  /**
   * The events of {@code parent[key].events}, each an object: a non-object container or array is
   * removed, non-object events are removed, each counted.
   */
  private List<JsonObject> events(JsonObject parent, String key) {
    JsonObject holder = object(parent, key);
    if (holder == null) {
      return List.of();
    }
    Object v = holder.getValue("events");
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      holder.remove("events");
      malformed++;
      return List.of();
    }
    List<JsonObject> out = new ArrayList<>();
    List<Object> kept = new ArrayList<>();
    for (Object o : array) {
      if (o instanceof JsonObject event) {
        out.add(event);
        kept.add(event);
      } else {
        malformed++;
      }
    }
    if (kept.size() != array.size()) {
      holder.put("events", new JsonArray(kept));
    }
    return out;
  }

  /** The timeline events of a room body (already checked). */
  static JsonArray timeline(JsonObject room) {
    JsonObject t = room.getJsonObject("timeline");
    JsonArray events = t == null ? null : t.getJsonArray("events");
    return events == null ? new JsonArray() : events;
  }

  /** The state events of a room body (already checked). */
  static JsonArray state(JsonObject room, String part) {
    JsonObject t = room.getJsonObject(part);
    JsonArray events = t == null ? null : t.getJsonArray("events");
    return events == null ? new JsonArray() : events;
  }

  /** The E2EE meta sections (device lists, key counts), for {@code SyncChanges.fromSync}. */
  JsonObject e2eeMeta() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String key :
        List.of("device_lists", "device_one_time_keys_count", "device_unused_fallback_key_types")) {
      if (body.containsKey(key)) {
        m.put(key, body.getValue(key));
      }
    }
    return new JsonObject(m);
  }
}
