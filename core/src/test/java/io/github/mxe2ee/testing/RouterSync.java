package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The end-to-end encryption part of one {@code /sync} response for one device, as the {@link
 * InMemoryRouter} hands it out ({@code shared/spec/matrix-spec/data/api/client-server/sync.yaml}:
 * {@code to_device.events}, {@code device_lists.changed/left}, {@code device_one_time_keys_count},
 * {@code device_unused_fallback_key_types}).
 *
 * <p>Immutable; the to-device events are deep copies owned by this record. {@link #toJson()} gives
 * the parameters of the Rust peer's {@code machine.receive_sync_changes} op (see {@code
 * docs/interop-protocol.md}); {@link #toSyncResponse()} a {@code /sync} response body with these
 * sections, and {@link #toMachineSyncChanges()} what mxe2ee's machine is pushed.
 *
 * @param toDeviceEvents to-device events in delivery order, each {@code {sender, type, content}}
 * @param changed users whose device list or cross-signing keys changed, or who newly share a room
 * @param left users who no longer share any room with this device's user
 * @param oneTimeKeyCounts unclaimed one-time keys on the server per algorithm
 * @param unusedFallbackKeyTypes algorithms for which an unused fallback key is on the server
 * @param nextBatch the sync token of this response ({@code s1}, {@code s2}, ... per device)
 */
public record RouterSync(
    List<ObjectNode> toDeviceEvents,
    List<String> changed,
    List<String> left,
    SortedMap<String, Integer> oneTimeKeyCounts,
    List<String> unusedFallbackKeyTypes,
    String nextBatch) {

  /** Copies every collection so that the record is immutable. */
  public RouterSync {
    toDeviceEvents = toDeviceEvents.stream().map(ObjectNode::deepCopy).toList();
    changed = List.copyOf(changed);
    left = List.copyOf(left);
    oneTimeKeyCounts = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(oneTimeKeyCounts));
    unusedFallbackKeyTypes = List.copyOf(unusedFallbackKeyTypes);
    java.util.Objects.requireNonNull(nextBatch, "nextBatch");
  }

  /**
   * This sync as a client-server {@code /sync} response body: {@code next_batch}, {@code
   * to_device.events}, {@code device_lists.changed/left}, {@code device_one_time_keys_count},
   * {@code device_unused_fallback_key_types} ({@code
   * shared/spec/matrix-spec/data/api/client-server/sync.yaml}).
   */
  public ObjectNode toSyncResponse() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("next_batch", nextBatch);
    ArrayNode events = out.putObject("to_device").putArray("events");
    toDeviceEvents.forEach(e -> events.add(e.deepCopy()));
    ObjectNode lists = out.putObject("device_lists");
    changed.forEach(lists.putArray("changed")::add);
    left.forEach(lists.putArray("left")::add);
    ObjectNode counts = out.putObject("device_one_time_keys_count");
    oneTimeKeyCounts.forEach(counts::put);
    unusedFallbackKeyTypes.forEach(out.putArray("device_unused_fallback_key_types")::add);
    return out;
  }

  /**
   * This sync as the body of an appservice transaction for one device of an appservice user, with
   * the stable names of MSC2409/MSC4203 ({@code to_device} events carrying {@code to_user_id} and
   * {@code to_device_id}) and MSC3202 ({@code device_lists}, {@code device_one_time_keys_count} and
   * {@code device_unused_fallback_key_types} keyed by user and device). {@code events} is empty:
   * room events are not the router's business.
   */
  public ObjectNode toAppserviceTransaction(String userId, String deviceId) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.putArray("events");
    ArrayNode toDevice = out.putArray("to_device");
    for (ObjectNode e : toDeviceEvents) {
      ObjectNode copy = e.deepCopy();
      copy.put("to_user_id", userId);
      copy.put("to_device_id", deviceId);
      toDevice.add(copy);
    }
    ObjectNode lists = out.putObject("device_lists");
    changed.forEach(lists.putArray("changed")::add);
    left.forEach(lists.putArray("left")::add);
    ObjectNode counts =
        out.putObject("device_one_time_keys_count").putObject(userId).putObject(deviceId);
    oneTimeKeyCounts.forEach(counts::put);
    ArrayNode fallback =
        out.putObject("device_unused_fallback_key_types").putObject(userId).putArray(deviceId);
    unusedFallbackKeyTypes.forEach(fallback::add);
    return out;
  }

  /** What mxe2ee's machine is pushed for this sync (parsed from {@link #toSyncResponse()}). */
  public io.github.mxe2ee.machine.SyncChanges toMachineSyncChanges() {
    return io.github.mxe2ee.machine.SyncChanges.fromSync(toSyncResponse());
  }

  /** The events with the given type, in delivery order. */
  public List<ObjectNode> eventsOfType(String type) {
    return toDeviceEvents.stream().filter(e -> type.equals(e.path("type").asText())).toList();
  }

  /**
   * This sync as JSON: {@code {to_device_events, changed_devices: {changed, left},
   * one_time_key_counts, unused_fallback_key_types}}.
   */
  public ObjectNode toJson() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode out = f.objectNode();
    ArrayNode events = out.putArray("to_device_events");
    toDeviceEvents.forEach(e -> events.add(e.deepCopy()));
    ObjectNode lists = out.putObject("changed_devices");
    changed.forEach(lists.putArray("changed")::add);
    left.forEach(lists.putArray("left")::add);
    ObjectNode counts = out.putObject("one_time_key_counts");
    for (Map.Entry<String, Integer> e : oneTimeKeyCounts.entrySet()) {
      counts.put(e.getKey(), e.getValue());
    }
    unusedFallbackKeyTypes.forEach(out.putArray("unused_fallback_key_types")::add);
    return out;
  }
}
