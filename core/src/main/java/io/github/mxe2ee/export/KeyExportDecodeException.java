package io.github.mxe2ee.export;

import io.github.mxe2ee.crypto.DecodeException;
import java.util.Objects;

/**
 * A key export file that cannot be read before any cryptography runs: the armor lines are missing,
 * the body is not base64, the binary layout is too short or of an unknown version, the PBKDF2 round
 * count is out of range, or (after a successful MAC check and decryption) the payload is not the
 * JSON array the spec describes.
 *
 * <p>Kind {@code "decode"} (inherited), narrowed by {@link #reason()} so that a caller can tell a
 * user "this is not a key export file" apart from "this file was made by a newer client". A wrong
 * passphrase or an altered file is not a decode error: it fails the MAC check and throws {@link
 * io.github.mxe2ee.crypto.CryptoException}.
 *
 * <p>Messages state expected versus actual values (lengths, version numbers, round counts, JSON
 * line and column) and never contain the passphrase, derived keys, session keys or plaintext.
 *
 * <p>Spec: {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Key
 * exports".
 */
public final class KeyExportDecodeException extends DecodeException {
  private static final long serialVersionUID = 1L;

  /** What is wrong with the file. */
  public enum Reason {
    /** The {@code BEGIN}/{@code END MEGOLM SESSION DATA} lines are missing or out of order. */
    ARMOR,
    /** The text between the armor lines is not base64. */
    BASE64,
    /** Fewer bytes than the fixed header and MAC need. */
    TOO_SHORT,
    /** The version byte is not {@code 0x01}. */
    UNSUPPORTED_VERSION,
    /** The PBKDF2 round count is 0 or above {@link KeyExportFile#MAX_ROUNDS}. */
    ROUNDS,
    /** The decrypted payload is not a JSON array (of objects). */
    PAYLOAD
  }

  private final Reason reason;

  /**
   * @param reason what is wrong, not null
   * @param message expected versus actual; never secret material
   */
  public KeyExportDecodeException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * @param reason what is wrong, not null
   * @param message expected versus actual; never secret material
   * @param cause the underlying failure, whose message must not contain secret material either
   */
  public KeyExportDecodeException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** What is wrong with the file. */
  public Reason reason() {
    return reason;
  }
}
