package io.github.mxe2ee.sas;

import java.util.Optional;

/**
 * The {@code message_authentication_code} methods of {@code m.sas.v1} this engine speaks (spec:
 * {@code end_to_end_encryption.md}, "MAC calculation"). Both derive the HMAC key the same way; they
 * differ in how the MAC is encoded.
 */
public enum MacMethod {
  /** The current method: the MAC as unpadded base64. Always preferred. */
  HKDF_HMAC_SHA256_V2("hkdf-hmac-sha256.v2"),
  /**
   * Deprecated: the MAC with libolm's broken in-place base64. Used only when the other side offers
   * nothing better; the spec forbids it when both support {@link #HKDF_HMAC_SHA256_V2}.
   */
  HKDF_HMAC_SHA256("hkdf-hmac-sha256");

  private final String wireName;

  MacMethod(String wireName) {
    this.wireName = wireName;
  }

  /** The name on the wire. */
  public String wireName() {
    return wireName;
  }

  /** The method of a wire name, if it is one we speak. */
  public static Optional<MacMethod> fromWire(String name) {
    for (MacMethod m : values()) {
      if (m.wireName.equals(name)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }
}
