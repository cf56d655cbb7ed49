package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.DecodeException;

/**
 * Malformed Megolm input: a {@link MegolmMessage}, {@link SessionKey}, {@link ExportedSessionKey}
 * or pickle that is truncated, has a bad version, a bad varint, a wrong length, bad base64, or (for
 * a {@link SessionKey}) a signature that does not verify.
 *
 * <p>Kind {@code "decode"} (inherited). Messages state expected versus actual values and never
 * contain key, ratchet, pickle or plaintext bytes. Nothing is mutated when this is thrown.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Data exchange formats".
 */
public final class MegolmDecodeException extends DecodeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; {@code message} must not contain secret bytes. */
  public MegolmDecodeException(String message) {
    super(message);
  }

  /** Creates the exception with a cause; {@code message} must not contain secret bytes. */
  public MegolmDecodeException(String message, Throwable cause) {
    super(message, cause);
  }
}
