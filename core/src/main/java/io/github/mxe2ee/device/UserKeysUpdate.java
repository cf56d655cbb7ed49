package io.github.mxe2ee.device;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What one {@code /keys/query} response says about one user, after every check (see {@link
 * KeysQueryProcessor}). Immutable.
 *
 * @param userId the user
 * @param failed true if the response did not answer for this user (its server failed or the user is
 *     missing): the device list stays outdated and nothing else here applies
 * @param devices the devices to store: new devices and unchanged known ones, all with valid self
 *     signatures
 * @param removedDeviceIds known devices the server no longer lists
 * @param identity the validated cross-signing identity, or null if the user has none or it was
 *     invalid
 * @param masterKeyChanged true if a previously known master key was replaced (the spec asks that
 *     the user be warned before communication continues)
 * @param refused listed devices whose keys conflict with the keys bound to their id (or whose key
 *     is bound to another id): not in {@code devices}, never stored
 * @param problems human-readable reasons for everything that was rejected (ids only, no keys)
 */
public record UserKeysUpdate(
    String userId,
    boolean failed,
    Map<String, DeviceKeys> devices,
    Set<String> removedDeviceIds,
    UserIdentity identity,
    boolean masterKeyChanged,
    List<RefusedDeviceKeys> refused,
    List<String> problems) {

  /** Compact canonical constructor: copies the collections. */
  public UserKeysUpdate {
    Objects.requireNonNull(userId, "userId");
    devices = Map.copyOf(devices);
    removedDeviceIds = Set.copyOf(removedDeviceIds);
    refused = List.copyOf(refused);
    problems = List.copyOf(problems);
  }

  static UserKeysUpdate failed(String userId, String reason) {
    return new UserKeysUpdate(
        userId, true, Map.of(), Set.of(), null, false, List.of(), List.of(reason));
  }
}
