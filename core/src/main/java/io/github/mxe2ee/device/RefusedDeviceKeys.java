package io.github.mxe2ee.device;

import java.util.Objects;

/**
 * A device a {@code /keys/query} answer listed with keys this device refuses, because a (user,
 * device id) is bound forever to the first keys accepted for it and each key to one device id
 * (spec: {@code end_to_end_encryption.md}, "Tracking the device list for a user": the Ed25519 key
 * of a device must not change). The refused device is not stored, not trusted and gets no key.
 * Holds only ids and public key fingerprints. Immutable.
 *
 * @param userId the owner named by the answer
 * @param deviceId the device id named by the answer
 * @param reason why it was refused
 * @param boundEd25519 the Ed25519 fingerprint the id (or the reused key) is bound to, base64
 * @param offeredEd25519 the Ed25519 fingerprint the answer offered, base64
 */
public record RefusedDeviceKeys(
    String userId, String deviceId, Reason reason, String boundEd25519, String offeredEd25519) {

  /** Why a listed device was refused. */
  public enum Reason {
    /**
     * The device id is known (listed now, deleted earlier, or our own device) with other Ed25519 or
     * Curve25519 keys.
     */
    KEYS_CHANGED,
    /** A new device id offers a Curve25519 or Ed25519 key already bound to another device id. */
    KEY_OF_ANOTHER_DEVICE
  }

  /** Null checks only. */
  public RefusedDeviceKeys {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(boundEd25519, "boundEd25519");
    Objects.requireNonNull(offeredEd25519, "offeredEd25519");
  }
}
