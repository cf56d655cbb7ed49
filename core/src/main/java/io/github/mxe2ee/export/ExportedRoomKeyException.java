package io.github.mxe2ee.export;

import io.github.mxe2ee.crypto.DecodeException;
import java.util.Objects;

/**
 * One entry of a key export's JSON array cannot be imported. {@link
 * ExportedRoomKey#parseList(byte[])} turns these into {@link RoomKeyParseResult.Rejected} entries
 * and carries on with the rest; {@link ExportedRoomKey#fromJson} throws them.
 *
 * <p>Kind {@code "decode"} (inherited), narrowed by {@link #problem()}. Messages name the field and
 * the expected versus actual JSON type or length; they never contain a session key, and echo no
 * field value except a (shortened) algorithm name and the session key's public session id.
 *
 * <p>Spec: {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Key export
 * format" ({@code ExportedSessionData}).
 */
public final class ExportedRoomKeyException extends DecodeException {
  private static final long serialVersionUID = 1L;

  /** Why the entry was not imported. */
  public enum Problem {
    /** The array element is not a JSON object. */
    NOT_AN_OBJECT,
    /**
     * The {@code algorithm} is well-formed but not {@value ExportedRoomKey#MEGOLM_V1}: the entry is
     * skipped, not corrupt. A future algorithm should not stop the Megolm keys of the same file
     * from being imported.
     */
    UNSUPPORTED_ALGORITHM,
    /** A required field is absent or null. */
    MISSING_FIELD,
    /** A field has the wrong JSON type, or is not a valid key of its kind. */
    INVALID_FIELD,
    /** {@code session_key} is not a version 1 Megolm exported session key. */
    INVALID_SESSION_KEY,
    /** {@code session_id} is not the id of the session that {@code session_key} holds. */
    SESSION_ID_MISMATCH
  }

  private final Problem problem;

  /**
   * @param problem why the entry was not imported, not null
   * @param message the field and expected versus actual; never secret material
   */
  public ExportedRoomKeyException(Problem problem, String message) {
    super(message);
    this.problem = Objects.requireNonNull(problem, "problem");
  }

  /**
   * @param problem why the entry was not imported, not null
   * @param message the field and expected versus actual; never secret material
   * @param cause the underlying failure, whose message must not contain secret material either
   */
  public ExportedRoomKeyException(Problem problem, String message, Throwable cause) {
    super(message, cause);
    this.problem = Objects.requireNonNull(problem, "problem");
  }

  /** Why the entry was not imported. */
  public Problem problem() {
    return problem;
  }
}
