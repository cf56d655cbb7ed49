package io.github.mxe2ee.olm;

/**
 * The two Olm message types, with the integer {@code type} used in {@code m.room.encrypted}
 * to-device content ({@code shared/spec/matrix-spec/content/client-server-api/modules/
 * end_to_end_encryption.md}, "m.olm.v1.curve25519-aes-sha2").
 */
public enum OlmMessageType {
  /** A {@link PreKeyMessage}: sent until the session has received a message; type 0. */
  PRE_KEY(0),
  /** A normal {@link OlmMessage}; type 1. */
  NORMAL(1);

  private final int wireType;

  OlmMessageType(int wireType) {
    this.wireType = wireType;
  }

  /** The integer used in event content: 0 for pre-key, 1 for normal messages. */
  public int wireType() {
    return wireType;
  }

  /**
   * Maps the integer from event content to a type.
   *
   * @throws OlmDecodeException if the value is neither 0 nor 1
   */
  public static OlmMessageType fromWireType(long type) {
    if (type == 0) {
      return PRE_KEY;
    }
    if (type == 1) {
      return NORMAL;
    }
    throw new OlmDecodeException("Olm message type: expected 0 or 1, got " + type);
  }
}
