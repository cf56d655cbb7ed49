package io.github.mxe2ee.device;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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
 *   <li>a (user, device id) is bound forever to the first keys accepted for it: a device listed
 *       under a known id with other Ed25519 or Curve25519 keys is refused ({@link
 *       RefusedDeviceKeys}), whether the known device is listed now, was deleted earlier (its
 *       tombstone keeps the binding) or is our own; a listed known device stays as known, a deleted
 *       one stays deleted; a deleted device listed again with its own keys is accepted (revived);
 *   <li>each key belongs to one device id: a new device offering a Curve25519 or Ed25519 key bound
 *       to another device id of the user is refused;
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
    /** The stored, non-deleted devices of {@code userId}, by device id; empty if none. */
    Map<String, DeviceKeys> devicesOf(String userId);

    /**
     * Every device id of {@code userId} ever accepted, with the keys it is bound to: the stored
     * devices, deleted ones (tombstones) included, and, for our own user, our own device. A
     * superset of {@link #devicesOf}.
     */
    Map<String, DeviceKeys> boundDevicesOf(String userId);

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
    List<RefusedDeviceKeys> refused = new ArrayList<>();
    Map<String, DeviceKeys> stored = known.devicesOf(userId);
    Map<String, DeviceKeys> bound = known.boundDevicesOf(userId);
    // Which device id each bound key belongs to (Curve25519 and Ed25519 share one map: they
    // differ).
    Map<String, DeviceKeys> keyOwners = new HashMap<>();
    bound.values().forEach(d -> claimKeys(keyOwners, d));
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
    int overLimit = 0;
    for (Map.Entry<String, JsonNode> entry : entries) {
      String deviceId = entry.getKey();
      if (deviceId.length() > MAX_DEVICE_ID_LENGTH
          || deviceId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
              > MAX_DEVICE_ID_LENGTH
          || accepted.size() >= maxDevices) {
        overLimit++;
        continue;
      }
      DeviceKeys device = checkDevice(userId, deviceId, entry.getValue(), problems);
      DeviceKeys binding = bound.get(deviceId);
      if (device != null && binding != null && !binding.sameKeysAs(device)) {
        problems.add(deviceId + ": keys differ from the keys bound to this device id; refused");
        refused.add(refusal(device, binding, RefusedDeviceKeys.Reason.KEYS_CHANGED));
        device = null;
      } else if (device != null && binding == null) {
        DeviceKeys owner = ownerOfAnyKey(keyOwners, device);
        if (owner != null) {
          problems.add(deviceId + ": a key of device " + owner.deviceId() + "; refused");
          refused.add(refusal(device, owner, RefusedDeviceKeys.Reason.KEY_OF_ANOTHER_DEVICE));
          device = null;
        } else {
          claimKeys(keyOwners, device);
        }
      }
      DeviceKeys previous = stored.get(deviceId);
      if (device == null && previous != null) {
        device = previous;
      }
      if (device != null) {
        accepted.put(deviceId, device);
      }
    }
    if (overLimit > 0) {
      problems.add(
          overLimit
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
    return new UserKeysUpdate(
        userId, false, accepted, removed, identity, masterChanged, refused, problems);
  }

  private static void claimKeys(Map<String, DeviceKeys> owners, DeviceKeys device) {
    owners.putIfAbsent("curve25519:" + device.curve25519().toBase64(), device);
    owners.putIfAbsent("ed25519:" + device.ed25519().toBase64(), device);
  }

  private static DeviceKeys ownerOfAnyKey(Map<String, DeviceKeys> owners, DeviceKeys device) {
    DeviceKeys byCurve = owners.get("curve25519:" + device.curve25519().toBase64());
    return byCurve != null ? byCurve : owners.get("ed25519:" + device.ed25519().toBase64());
  }

  private static RefusedDeviceKeys refusal(
      DeviceKeys offered, DeviceKeys bound, RefusedDeviceKeys.Reason reason) {
    return new RefusedDeviceKeys(
        offered.userId(),
        offered.deviceId(),
        reason,
        bound.ed25519().toBase64(),
        offered.ed25519().toBase64());
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
