package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.DecodeException;

/**
 * Malformed Olm input: a wire message, a message body or a pickle that cannot be parsed.
 *
 * <p>Thrown for truncated input, an unsupported version byte, a malformed or out-of-range varint,
 * an unknown wire type, a missing or duplicated field, or a key of the wrong length. The message
 * states what was expected and what was found; it never contains key bytes or plaintext. The object
 * the input was offered to is never modified. The {@link #kind()} is {@code "decode"}.
 *
 * <p>See {@code shared/spec/matrix-spec/content/olm-megolm/olm.md}, "The Olm Message Format".
 */
public final class OlmDecodeException extends DecodeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was expected and what was found, free of secrets
   */
  public OlmDecodeException(String message) {
    super(message);
  }
}
