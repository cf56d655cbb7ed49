package io.github.mxe2ee;

import java.util.Objects;

/**
 * Base of every error mxe2ee throws on purpose. Unchecked: expected outcomes (such as an event we
 * cannot decrypt yet) are values, not exceptions; exceptions mean malformed input, a failed
 * cryptographic check, or a broken invariant.
 *
 * <p>{@link #kind()} is a short stable word ({@code "decode"}, {@code "crypto"}, ...) that callers
 * and the interop driver use to classify the failure without parsing messages. Messages say what
 * was expected and what was found, and never contain key material, pickles or plaintext.
 */
public class Mxe2eeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String kind;

  /**
   * @param kind stable classification word, not null
   * @param message what was expected and what was found; never secret material
   */
  public Mxe2eeException(String kind, String message) {
    super(message);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /**
   * @param kind stable classification word, not null
   * @param message what was expected and what was found; never secret material
   * @param cause the underlying failure
   */
  public Mxe2eeException(String kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** The stable classification word of this failure. */
  public String kind() {
    return kind;
  }
}
