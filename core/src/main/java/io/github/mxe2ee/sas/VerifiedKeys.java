package io.github.mxe2ee.sas;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import java.util.Objects;
import java.util.Optional;

/**
 * The other side's keys a successful SAS verification proved: those whose MAC matched our copy of
 * the key. The caller marks trust on these exact keys (never on the ids alone: if the device's key
 * has changed since, the verification says nothing about the new key). Immutable.
 *
 * @param userId the other user
 * @param deviceId the other device
 * @param deviceKey the device's Ed25519 key, if its MAC was sent and matched; else null
 * @param masterKey the user's master cross-signing key, if its MAC was sent and matched; else null
 */
public record VerifiedKeys(
    String userId, String deviceId, Ed25519PublicKey deviceKey, Ed25519PublicKey masterKey) {
  /** Checks that at least one key was verified. */
  public VerifiedKeys {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    if (deviceKey == null && masterKey == null) {
      throw new IllegalArgumentException("a verification proves at least one key");
    }
  }

  /** The device key, if verified. */
  public Optional<Ed25519PublicKey> device() {
    return Optional.ofNullable(deviceKey);
  }

  /** The master key, if verified. */
  public Optional<Ed25519PublicKey> master() {
    return Optional.ofNullable(masterKey);
  }
}
