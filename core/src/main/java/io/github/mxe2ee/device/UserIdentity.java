package io.github.mxe2ee.device;

import java.util.Objects;

/**
 * A user's cross-signing identity as this device sees it (spec: {@code end_to_end_encryption.md},
 * "Cross-signing"): the master key, the self-signing key it signed and, for our own user only, the
 * user-signing key. Built only through {@link #of}, which checks every signature the spec requires;
 * an instance therefore always holds a consistent chain. Immutable and thread-safe.
 *
 * @param userId the owner
 * @param master the master key (the user's identity)
 * @param selfSigning the self-signing key, signed by the master key
 * @param userSigning the user-signing key signed by the master key, or null (always null for other
 *     users, whose user-signing keys the server hides)
 */
public record UserIdentity(
    String userId,
    CrossSigningKey master,
    CrossSigningKey selfSigning,
    CrossSigningKey userSigning) {

  /** Compact canonical constructor: only null checks; use {@link #of} to validate. */
  public UserIdentity {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(master, "master");
    Objects.requireNonNull(selfSigning, "selfSigning");
  }

  /**
   * Validates and assembles an identity.
   *
   * @param userSigning may be null
   * @throws DeviceKeysException if a key has the wrong owner or usage, or the self-signing or
   *     user-signing key is not signed by the master key
   */
  public static UserIdentity of(
      CrossSigningKey master, CrossSigningKey selfSigning, CrossSigningKey userSigning) {
    String userId = master.userId();
    if (!master.has(KeyUsage.MASTER)) {
      throw new DeviceKeysException("identity of " + userId + ": master key lacks usage master");
    }
    check(userId, master, selfSigning, KeyUsage.SELF_SIGNING);
    if (userSigning != null) {
      check(userId, master, userSigning, KeyUsage.USER_SIGNING);
    }
    return new UserIdentity(userId, master, selfSigning, userSigning);
  }

  private static void check(
      String userId, CrossSigningKey master, CrossSigningKey key, KeyUsage usage) {
    String what = "identity of " + userId + ": " + usage.wireName() + " key";
    if (!key.userId().equals(userId)) {
      throw new DeviceKeysException(what + " belongs to " + key.userId());
    }
    if (!key.has(usage)) {
      throw new DeviceKeysException(what + " lacks its usage");
    }
    if (!key.isSignedBy(userId, master.publicKey())) {
      throw new DeviceKeysException(what + " is not signed by the master key");
    }
  }

  /** True if this identity's self-signing key signed {@code device}, a device of this user. */
  public boolean hasSigned(DeviceKeys device) {
    return device.userId().equals(userId)
        && device.isSignedBy(userId, selfSigning.keyId(), selfSigning.publicKey());
  }

  /** True if this identity's user-signing key signed {@code other}'s master key. */
  public boolean hasSigned(UserIdentity other) {
    return userSigning != null
        && other.master().isSignedBy(userId, userSigning.keyId(), userSigning.publicKey());
  }

  /** True if both have the same master key (the identity did not change). */
  public boolean sameMasterKey(UserIdentity other) {
    return other != null && master.publicKey().equals(other.master.publicKey());
  }
}
