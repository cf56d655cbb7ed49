package io.github.mxe2ee.megolm;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A well-formed {@link MegolmMessage} that an {@link InboundGroupSession} could not decrypt. The
 * session is unchanged when this is thrown.
 *
 * <p>{@link #reason()} classifies the failure; {@link #kind()} is {@code "crypto"} for the
 * authentication and padding failures, as for every other cryptographic failure in mxe2ee, and
 * {@code "unknown_message_index"} when the session simply does not reach back that far (a missing
 * key, not an attack). Messages carry indices only, never key or plaintext bytes.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Message encryption".
 */
public final class MegolmDecryptionException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /** Why decryption failed. */
  public enum Reason {
    /** The message index is below the session's first known index. */
    UNKNOWN_MESSAGE_INDEX("unknown_message_index"),
    /** The Ed25519 signature over the message does not verify with the session's signing key. */
    BAD_SIGNATURE("crypto"),
    /** The truncated HMAC-SHA-256 does not match: wrong session state or tampered bytes. */
    BAD_MAC("crypto"),
    /** The AES-256-CBC plaintext has invalid PKCS#7 padding or the ciphertext a bad length. */
    BAD_PADDING("crypto");

    private final String kind;

    Reason(String kind) {
      this.kind = kind;
    }
  }

  private final Reason reason;

  MegolmDecryptionException(Reason reason, String message) {
    super(reason.kind, message);
    this.reason = reason;
  }

  MegolmDecryptionException(Reason reason, String message, Throwable cause) {
    super(reason.kind, message, cause);
    this.reason = reason;
  }

  /** The classified failure; never null. */
  public Reason reason() {
    return reason;
  }
}
