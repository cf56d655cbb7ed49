package io.github.mxe2ee.device;

/** What a cross-signing key is for (spec: {@code end_to_end_encryption.md}, "Cross-signing"). */
public enum KeyUsage {
  /** The user's identity; signs the self-signing and user-signing keys. */
  MASTER("master"),
  /** Signs the user's own devices. */
  SELF_SIGNING("self_signing"),
  /** Signs other users' master keys; visible only to its owner. */
  USER_SIGNING("user_signing");

  private final String wireName;

  KeyUsage(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in the {@code usage} array. */
  public String wireName() {
    return wireName;
  }

  /** The usage for a wire name, or null if unknown. */
  public static KeyUsage fromWire(String name) {
    for (KeyUsage u : values()) {
      if (u.wireName.equals(name)) {
        return u;
      }
    }
    return null;
  }
}
