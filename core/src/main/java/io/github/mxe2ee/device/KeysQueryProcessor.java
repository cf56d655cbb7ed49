package io.github.mxe2ee.device;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a {@code /keys/query} response (spec: {@code end_to_end_encryption.md}, "Tracking the
 * device list for a user" and "Cross-signing"; schema {@code data/api/client-server/keys.yaml}) and
 * turns it into one {@link UserKeysUpdate} per queried user. Pure: it reads what is known through
 * {@link Known} and changes nothing.
 *
 * <p>Rules, each a requirement of the spec:
 *
 * <ul>
 *   <li>a device object is accepted only if its {@code user_id} and {@code device_id} match the map
 *       keys it is listed under, and its own Ed25519 key signed it;
 *   <li>the Ed25519 key of a known device never changes: a device listed under a known id with
 *       other keys is rejected and the known one kept;
 *   <li>known devices the server no longer lists are reported as removed;
 *   <li>cross-signing keys form an identity only if the master key signed the self-signing and
 *       user-signing keys; a changed master key is flagged;
 *   <li>users of a failed server, or missing from the response, are reported as failed so they stay
 *       outdated;
 *   <li>bounds (not the spec's, mxe2ee's): a device id longer than {@link #MAX_DEVICE_ID_LENGTH}
 *       bytes is refused, and at most {@code maxDevicesPerUser} devices are kept per user, the
 *       known ones first, so that a user or homeserver listing 10,000 devices cannot grow the store
 *       or every room-key share without bound.
 * </ul>
 *
 * Thread-safe (stateless).
 */
public final class KeysQueryProcessor {
  /** Read access to what this device already knows. */
  public interface Known {
    /** The stored devices of {@code userId}, by device id; empty if none. */
    Map<String, DeviceKeys> devicesOf(String userId);

    /** The stored identity of {@code userId}, or null. */
    UserIdentity identityOf(String userId);
  }

  /** Longest device id accepted: 255 bytes, the spec's limit on Matrix ids. */
  public static final int MAX_DEVICE_ID_LENGTH = 255;

  private KeysQueryProcessor() {}

  /** {@link #process(JsonNode, Collection, Known, int)} without a cap on devices per user. */
  public static Map<String, UserKeysUpdate> process(
      JsonNode response, Collection<String> queriedUsers, Known known) {
    return process(response, queriedUsers, known, Integer.MAX_VALUE);
  }

  /**
   * @param response the {@code /keys/query} response body
   * @param queriedUsers the users the request asked about; only these are reported
   * @param known what is stored now
   * @param maxDevicesPerUser most devices kept per user (known devices first); the rest are refused
   *     and named in the update's problems
   * @return one update per queried user, in the order given
   */
  public static Map<String, UserKeysUpdate> process(
      JsonNode response, Collection<String> queriedUsers, Known known, int maxDevicesPerUser) {
    Set<String> failedServers = new HashSet<>();
    for (Iterator<String> it = response.path("failures").fieldNames(); it.hasNext(); ) {
      failedServers.add(it.next());
    }
    JsonNode deviceKeys = response.path("device_keys");
    Map<String, UserKeysUpdate> updates = new LinkedHashMap<>();
    for (String userId : queriedUsers) {
      String server = userId.substring(userId.indexOf(':') + 1);
      JsonNode devices = deviceKeys.get(userId);
      if (failedServers.contains(server)) {
        updates.put(userId, UserKeysUpdate.failed(userId, "server " + server + " failed"));
      } else if (devices == null || !devices.isObject()) {
        updates.put(userId, UserKeysUpdate.failed(userId, "user missing from the response"));
      } else {
        updates.put(userId, processUser(userId, devices, response, known, maxDevicesPerUser));
      }
    }
    return updates;
  }

  private static UserKeysUpdate processUser(
      String userId, JsonNode devicesNode, JsonNode response, Known known, int maxDevices) {
    List<String> problems = new ArrayList<>();
    Map<String, DeviceKeys> stored = known.devicesOf(userId);
    Map<String, DeviceKeys> accepted = new LinkedHashMap<>();
    // Known devices first, so that a flood of new ones cannot push them out.
    List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = devicesNode.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      if (stored.containsKey(entry.getKey())) {
        entries.add(entry);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = devicesNode.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      if (!stored.containsKey(entry.getKey())) {
        entries.add(entry);
      }
    }
    int refused = 0;
    for (Map.Entry<String, JsonNode> entry : entries) {
      String deviceId = entry.getKey();
      if (deviceId.length() > MAX_DEVICE_ID_LENGTH
          || deviceId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
              > MAX_DEVICE_ID_LENGTH
          || accepted.size() >= maxDevices) {
        refused++;
        continue;
      }
      DeviceKeys device = checkDevice(userId, deviceId, entry.getValue(), problems);
      DeviceKeys previous = stored.get(deviceId);
      if (previous != null && device != null && !previous.sameKeysAs(device)) {
        problems.add(deviceId + ": keys changed for a known device; kept the known keys");
        device = previous;
      }
      if (device == null && previous != null) {
        device = previous;
      }
      if (device != null) {
        accepted.put(deviceId, device);
      }
    }
    if (refused > 0) {
      problems.add(
          refused
              + " devices refused: ids over "
              + MAX_DEVICE_ID_LENGTH
              + " bytes, or over the limit of "
              + maxDevices
              + " per user");
    }
    Set<String> removed = new HashSet<>(stored.keySet());
    removed.removeAll(accepted.keySet());

    UserIdentity previousIdentity = known.identityOf(userId);
    UserIdentity identity = identity(userId, response, problems);
    boolean masterChanged =
        previousIdentity != null && identity != null && !previousIdentity.sameMasterKey(identity);
    return new UserKeysUpdate(userId, false, accepted, removed, identity, masterChanged, problems);
  }

  private static DeviceKeys checkDevice(
      String userId, String deviceId, JsonNode node, List<String> problems) {
    DeviceKeys device;
    try {
      device = DeviceKeys.parse(node);
    } catch (DeviceKeysException e) {
      problems.add(deviceId + ": " + e.getMessage());
      return null;
    }
    if (!device.userId().equals(userId) || !device.deviceId().equals(deviceId)) {
      problems.add(
          deviceId
              + ": listed under "
              + userId
              + "/"
              + deviceId
              + " but names "
              + device.userId()
              + "/"
              + device.deviceId());
      return null;
    }
    if (!device.hasValidSelfSignature()) {
      problems.add(deviceId + ": self-signature does not verify");
      return null;
    }
    return device;
  }

  private static UserIdentity identity(String userId, JsonNode response, List<String> problems) {
    JsonNode masterNode = response.path("master_keys").get(userId);
    JsonNode selfNode = response.path("self_signing_keys").get(userId);
    if (masterNode == null || selfNode == null) {
      return null;
    }
    try {
      CrossSigningKey master = CrossSigningKey.parse(masterNode);
      CrossSigningKey self = CrossSigningKey.parse(selfNode);
      JsonNode userNode = response.path("user_signing_keys").get(userId);
      CrossSigningKey user = userNode == null ? null : CrossSigningKey.parse(userNode);
      if (!master.userId().equals(userId)) {
        throw new DeviceKeysException("master key belongs to " + master.userId());
      }
      return UserIdentity.of(master, self, user);
    } catch (DeviceKeysException e) {
      problems.add("cross-signing identity rejected: " + e.getMessage());
      return null;
    }
  }
}
