package io.github.mxe2ee;

/**
 * Base of every mxe2ee error. Unchecked: expected outcomes are values, so an exception always means
 * malformed input, a broken invariant or an environment failure.
 *
 * <p>{@link #kind()} is a short stable string (for example {@code "decode"}, {@code "crypto"},
 * {@code "store"}) that tools such as the interop driver put into their error replies. Messages
 * never contain secret bytes, pickles or plaintext.
 */
public class Mxe2eeException extends RuntimeException {
  private final String kind;

  /**
   * @param kind stable error category, non-null
   * @param message human-readable description without secrets
   */
  public Mxe2eeException(String kind, String message) {
    super(message);
    this.kind = kind;
  }

  /**
   * @param kind stable error category, non-null
   * @param message human-readable description without secrets
   * @param cause underlying error, may be null
   */
  public Mxe2eeException(String kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** Returns the stable error category. */
  public String kind() {
    return kind;
  }
}
