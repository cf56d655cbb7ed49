package io.github.mxe2ee.plugin.identity;

import io.github.mxe2ee.Mxe2eeException;

/**
 * The identity bootstrap stopped (docs/IDENTITY.md): the server holds an identity or a secret
 * storage key this device cannot open, a request failed, or the recovery key file is unusable. The
 * message says what and what the operator can do; it never contains a key or password.
 */
public class IdentityException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #kind()} of every identity failure. */
  public static final String KIND = "identity";

  /**
   * @param message for the operator, without secrets
   */
  public IdentityException(String message) {
    super(KIND, message);
  }

  /**
   * @param message for the operator, without secrets
   * @param cause the underlying failure
   */
  public IdentityException(String message, Throwable cause) {
    super(KIND, message, cause);
  }
}
