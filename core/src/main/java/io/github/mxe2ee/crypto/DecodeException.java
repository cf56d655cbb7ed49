package io.github.mxe2ee.crypto;

import io.github.mxe2ee.Mxe2eeException;

/**
 * Malformed input: a bad encoding, a truncated structure or a value of the wrong length. Kind
 * {@code "decode"}. Subclasses narrow the kind of structure (an Olm message, a pickle, ...).
 */
public class DecodeException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what was expected and what was found
   */
  public DecodeException(String message) {
    super("decode", message);
  }

  /**
   * @param kind a narrower kind than {@code "decode"}
   * @param message what was expected and what was found
   */
  protected DecodeException(String kind, String message) {
    super(kind, message);
  }

  /**
   * @param message what was expected and what was found
   * @param cause the underlying failure
   */
  public DecodeException(String message, Throwable cause) {
    super("decode", message, cause);
  }

  /**
   * Checks a length and throws a {@code DecodeException} naming both lengths when it differs.
   *
   * @param what the name of the value, for the message
   * @param expected the required length
   * @param actual the length found
   */
  public static void requireLength(String what, int expected, int actual) {
    if (expected != actual) {
      throw new DecodeException(
          what + ": expected " + expected + " bytes but found " + actual + " bytes");
    }
  }
}
