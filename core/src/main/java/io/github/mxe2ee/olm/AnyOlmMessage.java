package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.UnpaddedBase64;

/**
 * Either kind of Olm message: what {@link Session#encrypt(String)} returns and what {@link
 * Session#decrypt(AnyOlmMessage)} accepts.
 *
 * <p>Implementations are immutable and thread-safe. See {@code
 * shared/spec/matrix-spec/content/olm-megolm/olm.md}, "The Olm Message Format".
 */
public sealed interface AnyOlmMessage permits OlmMessage, PreKeyMessage {

  /** The message type, which the transport carries next to the body. */
  OlmMessageType type();

  /** The encoded message (a copy). */
  byte[] toBytes();

  /** The encoded message as unpadded base64, the {@code body} of the event content. */
  default String toBase64() {
    return UnpaddedBase64.encode(toBytes());
  }

  /**
   * Decodes a message from its event-content form.
   *
   * @param type 0 (pre-key) or 1 (normal)
   * @param body unpadded (or padded) base64 of the encoded message
   * @throws OlmDecodeException for an unknown type or a malformed message
   * @throws io.github.mxe2ee.crypto.DecodeException for malformed base64
   */
  static AnyOlmMessage fromBase64(long type, String body) {
    return switch (OlmMessageType.fromWireType(type)) {
      case PRE_KEY -> PreKeyMessage.fromBase64(body);
      case NORMAL -> OlmMessage.fromBase64(body);
    };
  }
}
