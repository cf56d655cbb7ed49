package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.CryptoException;
import java.util.Objects;

/**
 * A well-formed Olm message that could not be decrypted, or a pre-key message that could not start
 * a session. The session (and account) is left exactly as it was.
 *
 * <p>{@link #reason()} classifies the failure; the message names ids and indices only, never key
 * bytes or plaintext. The {@link #kind()} is {@code "crypto"}. See {@code
 * shared/spec/matrix-spec/content/olm-megolm/olm.md}, "Receiving messages".
 */
public final class OlmDecryptionException extends CryptoException {
  private static final long serialVersionUID = 1L;

  /** Why decryption failed. */
  public enum Reason {
    /** The MAC did not match: wrong session, tampered message or replay of a used key. */
    BAD_MESSAGE_MAC,
    /** The MAC matched but the plaintext padding was invalid. */
    BAD_PADDING,
    /** The plaintext was not valid UTF-8 (only for the {@code String} API). */
    INVALID_UTF8,
    /** The key for an earlier index was already used or discarded. */
    MISSING_MESSAGE_KEY,
    /** The message is further ahead than {@link Session#MAX_MESSAGE_GAP}. */
    MESSAGE_GAP_TOO_BIG,
    /** A new ratchet key arrived while we have no sender chain (libolm refuses this too). */
    UNEXPECTED_RATCHET_KEY,
    /** A Diffie-Hellman result was all zeros (a low-order peer key). */
    NON_CONTRIBUTORY_KEY,
    /** The pre-key message names a one-time key this account does not hold. */
    UNKNOWN_ONE_TIME_KEY,
    /** The pre-key message's identity key is not the expected sender's. */
    MISMATCHED_IDENTITY_KEY
  }

  private final Reason reason;

  /**
   * Creates the exception.
   *
   * @param reason the classification, non-null
   * @param message details without secrets
   */
  public OlmDecryptionException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The classified reason. */
  public Reason reason() {
    return reason;
  }
}
