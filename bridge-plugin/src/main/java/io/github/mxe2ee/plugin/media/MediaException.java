package io.github.mxe2ee.plugin.media;

import java.util.Objects;

/**
 * Why an attachment could not be sent or received. The message names the problem and the mxc URI or
 * size involved, never a key, a file's content or an access token.
 */
public final class MediaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The class of failure. */
  public enum Reason {
    /**
     * An {@code mxc://} URI that is not {@code mxc://<server-name>/<media-id>} ({@link MxcUri}).
     */
    INVALID_MXC,
    /** The {@code EncryptedFile} object is malformed (version, key, IV, hash). */
    INVALID_FILE,
    /** The file is larger than the size limit (announced by Content-Length or counted). */
    TOO_LARGE,
    /** The SHA-256 of the downloaded ciphertext does not match the event: the file was altered. */
    HASH_MISMATCH,
    /** A stream ended before, or went on after, the size it announced. */
    SIZE_MISMATCH,
    /** Reading the input or writing the output failed (local I/O). */
    IO
  }

  private final Reason reason;

  /**
   * @param reason the class of failure
   * @param message what happened; must not contain secrets or content
   */
  public MediaException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * @param reason the class of failure
   * @param message what happened; must not contain secrets or content
   * @param cause the underlying exception
   */
  public MediaException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The class of failure. */
  public Reason reason() {
    return reason;
  }
}
