package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.json.JsonLimits;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The E2EE parts of one {@code /sync} response or appservice transaction (spec: {@code
 * end_to_end_encryption.md}, "Extensions to /sync"; MSC2409/MSC4203 to-device and MSC3202 device
 * lists and key counts for appservices), pushed into the machine in one step.
 *
 * @param toDeviceEvents {@code to_device.events}, in order (copies are taken)
 * @param changedUsers {@code device_lists.changed}
 * @param leftUsers {@code device_lists.left}
 * @param oneTimeKeyCounts {@code device_one_time_keys_count}, by algorithm; null if absent
 * @param unusedFallbackKeyTypes {@code device_unused_fallback_key_types}; null if absent (which
 *     means the server does not support fallback keys, unlike an empty list, which means it used
 *     ours)
 * @param nextBatch the sync token to persist with this step, or null
 */
public record SyncChanges(
    List<ObjectNode> toDeviceEvents,
    List<String> changedUsers,
    List<String> leftUsers,
    Map<String, Integer> oneTimeKeyCounts,
    List<String> unusedFallbackKeyTypes,
    String nextBatch) {

  /**
   * Compact canonical constructor: copies everything. To-device events over {@link JsonLimits}
   * (nesting depth, string length) are dropped here, before any recursive copy: they come from
   * remote senders and no valid to-device message comes near those bounds.
   */
  public SyncChanges {
    toDeviceEvents =
        toDeviceEvents.stream().filter(JsonLimits::within).map(ObjectNode::deepCopy).toList();
    changedUsers = List.copyOf(changedUsers);
    leftUsers = List.copyOf(leftUsers);
    oneTimeKeyCounts = oneTimeKeyCounts == null ? null : Map.copyOf(oneTimeKeyCounts);
    unusedFallbackKeyTypes =
        unusedFallbackKeyTypes == null ? null : List.copyOf(unusedFallbackKeyTypes);
  }

  /** Nothing at all; useful in tests and for a first step. */
  public static SyncChanges empty() {
    return new SyncChanges(List.of(), List.of(), List.of(), null, null, null);
  }

  /**
   * Extracts the E2EE parts of a client-server {@code /sync} response body. Missing sections give
   * empty lists (or null counts); malformed entries, and to-device events over {@link JsonLimits},
   * are skipped, never thrown on, because one bad event must not stop a sync loop. Walks the body
   * without recursion; {@link #droppedToDeviceEvents} counts what was skipped.
   */
  public static SyncChanges fromSync(JsonNode sync) {
    JsonNode lists = sync.path("device_lists");
    return new SyncChanges(
        objects(sync.path("to_device").path("events")),
        strings(lists.path("changed")),
        strings(lists.path("left")),
        counts(sync.get("device_one_time_keys_count")),
        nullableStrings(sync.get("device_unused_fallback_key_types")),
        sync.path("next_batch").isTextual() ? sync.get("next_batch").textValue() : null);
  }

  /**
   * Extracts what one device of an appservice receives from a transaction body (MSC2409/MSC4203
   * to-device with {@code to_user_id}/{@code to_device_id}, MSC3202 device lists and key counts),
   * accepting the stable names and the unstable {@code de.sorunome.msc2409.} and {@code
   * org.matrix.msc3202.} prefixes. Device-list changes are for the whole appservice, so every
   * device receives them.
   *
   * @param txn the transaction body
   * @param userId the appservice user whose device this is
   * @param deviceId that device
   */
  public static SyncChanges fromTransaction(JsonNode txn, String userId, String deviceId) {
    List<ObjectNode> toDevice = new ArrayList<>();
    for (ObjectNode event : objects(either(txn, "to_device", "de.sorunome.msc2409.to_device"))) {
      if (userId.equals(event.path("to_user_id").asText(null))
          && deviceId.equals(event.path("to_device_id").asText(null))) {
        event.remove("to_user_id");
        event.remove("to_device_id");
        toDevice.add(event);
      }
    }
    JsonNode lists = either(txn, "device_lists", "org.matrix.msc3202.device_lists");
    JsonNode counts =
        either(txn, "device_one_time_keys_count", "org.matrix.msc3202.device_one_time_keys_count")
            .path(userId)
            .get(deviceId);
    JsonNode fallback =
        either(
                txn,
                "device_unused_fallback_key_types",
                "org.matrix.msc3202.device_unused_fallback_key_types")
            .path(userId)
            .get(deviceId);
    return new SyncChanges(
        toDevice,
        strings(lists.path("changed")),
        strings(lists.path("left")),
        counts(counts),
        nullableStrings(fallback),
        null);
  }

  /**
   * How many entries of {@code to_device.events} in a {@code /sync} body {@link #fromSync} skips:
   * entries that are not objects or break {@link JsonLimits}. For logs and metrics.
   */
  public static int droppedToDeviceEvents(JsonNode sync) {
    int dropped = 0;
    for (JsonNode n : sync.path("to_device").path("events")) {
      if (!n.isObject() || !JsonLimits.within(n)) {
        dropped++;
      }
    }
    return dropped;
  }

  private static JsonNode either(JsonNode node, String stable, String unstable) {
    JsonNode value = node.get(stable);
    return value != null && !value.isNull() ? value : node.path(unstable);
  }

  private static List<ObjectNode> objects(JsonNode array) {
    List<ObjectNode> out = new ArrayList<>();
    for (JsonNode n : array) {
      if (n.isObject() && JsonLimits.within(n)) {
        out.add((ObjectNode) n.deepCopy());
      }
    }
    return out;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : array) {
      if (n.isTextual()) {
        out.add(n.textValue());
      }
    }
    return out;
  }

  private static List<String> nullableStrings(JsonNode array) {
    return array == null || !array.isArray() ? null : strings(array);
  }

  private static Map<String, Integer> counts(JsonNode node) {
    if (node == null || !node.isObject()) {
      return null;
    }
    Map<String, Integer> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().canConvertToInt()) {
        out.put(e.getKey(), e.getValue().intValue());
      }
    }
    return out;
  }
}
