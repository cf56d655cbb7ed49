package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.store.AccountId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One appservice transaction split by the device it addresses (Application Service API, "Pushing
 * events"; MSC2409/MSC4203 to-device with {@code to_user_id}/{@code to_device_id}, MSC3202 device
 * lists, one-time key counts and unused fallback key types, each in the stable or the unstable
 * spelling), and turned into {@code /sync}-shaped bodies that a device's engine takes in one step.
 * Checks the shape first: a body whose sections have the wrong type is refused as a whole before
 * anything is acted on. Not API.
 */
final class TransactionSplit {
  /** Prefix of the sync token under which a device saves the transaction it processed. */
  static final String TOKEN_PREFIX = "mxe2ee-as-txn:";

  final JsonArray events;
  final List<String> changed;
  final List<String> left;

  /** Per addressed device: its part. */
  final Map<AccountId, DevicePart> devices = new LinkedHashMap<>();

  /** What one device receives. */
  static final class DevicePart {
    final JsonArray toDevice = new JsonArray();
    JsonObject counts;
    JsonArray fallback;
  }

  private TransactionSplit(JsonArray events, List<String> changed, List<String> left) {
    this.events = events;
    this.changed = changed;
    this.left = left;
  }

  /**
   * Splits a parsed body.
   *
   * @throws IllegalArgumentException if a section has the wrong type ({@code events} not an array
   *     of objects, a to-device section not an array, device lists not an object, ...)
   */
  static TransactionSplit of(JsonObject body) {
    JsonArray events = array(body, "events");
    for (Object e : events) {
      if (!(e instanceof JsonObject)) {
        throw new IllegalArgumentException("events: an entry is not an object");
      }
    }
    array(body, "ephemeral");
    JsonObject lists = object(body, "device_lists", "org.matrix.msc3202.device_lists");
    TransactionSplit split =
        new TransactionSplit(events, strings(lists, "changed"), strings(lists, "left"));
    for (Object o : either(body, "to_device", "de.sorunome.msc2409.to_device")) {
      if (!(o instanceof JsonObject event)) {
        throw new IllegalArgumentException("to_device: an entry is not an object");
      }
      if (event.getValue("to_user_id") instanceof String user
          && event.getValue("to_device_id") instanceof String device
          && !user.isEmpty()
          && !device.isEmpty()) {
        JsonObject copy = event.copy();
        copy.remove("to_user_id");
        copy.remove("to_device_id");
        split.part(user, device).toDevice.add(copy);
      }
    }
    perDevice(
        object(body, "device_one_time_keys_count", "org.matrix.msc3202.device_one_time_keys_count"),
        (part, v) -> part.counts = v instanceof JsonObject o ? o : null,
        split);
    perDevice(
        object(
            body,
            "device_unused_fallback_key_types",
            "org.matrix.msc3202.device_unused_fallback_key_types"),
        (part, v) -> part.fallback = v instanceof JsonArray a ? a : null,
        split);
    return split;
  }

  private DevicePart part(String user, String device) {
    return devices.computeIfAbsent(AccountId.of(user, device), k -> new DevicePart());
  }

  private static void perDevice(
      JsonObject byUser,
      java.util.function.BiConsumer<DevicePart, Object> set,
      TransactionSplit s) {
    for (Map.Entry<String, Object> u : byUser) {
      if (u.getValue() instanceof JsonObject byDevice && !u.getKey().isEmpty()) {
        for (Map.Entry<String, Object> d : byDevice) {
          if (!d.getKey().isEmpty()) {
            set.accept(s.part(u.getKey(), d.getKey()), d.getValue());
          }
        }
      }
    }
  }

  /**
   * The {@code /sync}-shaped body of one device: its to-device events, the device-list changes, its
   * key counts, and {@code rooms} if given; {@code next_batch} is the transaction's token, so the
   * device saves it with the step's crypto changes.
   *
   * @param part the device's part, or null for none
   * @param e2ee whether to include the E2EE sections at all (false when the device already
   *     processed this transaction)
   */
  JsonObject syncBody(String txnId, DevicePart part, boolean e2ee, JsonObject rooms) {
    JsonObject body = new JsonObject();
    if (e2ee) {
      body.put("next_batch", TOKEN_PREFIX + txnId);
      body.put(
          "device_lists",
          new JsonObject().put("changed", new JsonArray(changed)).put("left", new JsonArray(left)));
      if (part != null) {
        body.put("to_device", new JsonObject().put("events", part.toDevice.copy()));
        if (part.counts != null) {
          body.put("device_one_time_keys_count", part.counts.copy());
        }
        if (part.fallback != null) {
          body.put("device_unused_fallback_key_types", part.fallback.copy());
        }
      }
    }
    if (rooms != null) {
      body.put("rooms", new JsonObject().put("join", rooms));
    }
    return body;
  }

  /**
   * The transaction's room events grouped by room in {@code /sync} shape ({@code {roomId:
   * {timeline: {events}}}}), each event tagged with its index in {@link #events} under {@value
   * #INDEX}; events without a string {@code room_id} are left out.
   */
  JsonObject rooms(java.util.function.Predicate<JsonObject> keep) {
    JsonObject rooms = new JsonObject();
    for (int i = 0; i < events.size(); i++) {
      JsonObject e = events.getJsonObject(i);
      if (e.getValue("room_id") instanceof String roomId && !roomId.isEmpty() && keep.test(e)) {
        JsonObject room = rooms.getJsonObject(roomId);
        if (room == null) {
          room = new JsonObject().put("timeline", new JsonObject().put("events", new JsonArray()));
          rooms.put(roomId, room);
        }
        JsonObject copy = e.copy();
        JsonObject unsigned =
            copy.getValue("unsigned") instanceof JsonObject u ? u : new JsonObject();
        copy.put("unsigned", unsigned.put(INDEX, i));
        room.getJsonObject("timeline").getJsonArray("events").add(copy);
      }
    }
    return rooms;
  }

  /**
   * Where {@link #rooms} notes an event's position in the transaction (inside {@code unsigned}).
   */
  static final String INDEX = "mxe2ee_txn_index";

  /** Whether the device's engine has to be woken for this part even if its machine is closed. */
  static boolean urgent(DevicePart part) {
    if (!part.toDevice.isEmpty()) {
      return true;
    }
    if (part.fallback != null && !part.fallback.contains("signed_curve25519")) {
      return true; // the fallback key was used: a new one is needed
    }
    return part.counts != null
        && part.counts.getValue("signed_curve25519") instanceof Number n
        && n.intValue() < LOW_ONE_TIME_KEYS;
  }

  /** Below this many one-time keys on the server a closed ghost device is opened to upload more. */
  static final int LOW_ONE_TIME_KEYS = 10;

  private static JsonArray array(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return new JsonArray();
    }
    if (!(v instanceof JsonArray a)) {
      throw new IllegalArgumentException(field + " is not an array");
    }
    return a;
  }

  private static JsonArray either(JsonObject body, String stable, String unstable) {
    return body.getValue(stable) != null ? array(body, stable) : array(body, unstable);
  }

  private static JsonObject object(JsonObject body, String stable, String unstable) {
    String field = body.getValue(stable) != null ? stable : unstable;
    Object v = body.getValue(field);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw new IllegalArgumentException(field + " is not an object");
    }
    return o;
  }

  private static List<String> strings(JsonObject o, String field) {
    List<String> out = new ArrayList<>();
    if (o.getValue(field) instanceof JsonArray a) {
      for (Object v : a) {
        if (v instanceof String s) {
          out.add(s);
        }
      }
    } else if (o.getValue(field) != null) {
      throw new IllegalArgumentException("device_lists." + field + " is not an array");
    }
    return out;
  }
}
