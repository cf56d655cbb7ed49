package io.github.mxe2ee.store;

import io.github.mxe2ee.Mxe2eeException;

/**
 * The pickle key could not be obtained or is unacceptable (missing, wrong length, bad base64, key
 * file readable by others). {@link #kind()} is {@code "pickle_key"}. Messages name the source (a
 * file path, an environment variable) and what was expected, never key bytes.
 */
public class PickleKeyException extends Mxe2eeException {
  /**
   * @param message description without secrets
   */
  public PickleKeyException(String message) {
    super("pickle_key", message);
  }

  /**
   * @param message description without secrets
   * @param cause underlying error (must not carry key bytes)
   */
  public PickleKeyException(String message, Throwable cause) {
    super("pickle_key", message, cause);
  }
}
