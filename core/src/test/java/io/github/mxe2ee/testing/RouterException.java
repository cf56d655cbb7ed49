package io.github.mxe2ee.testing;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A Matrix error response of the {@link InMemoryRouter}: what a homeserver would send as an HTTP
 * error with a {@code {"errcode": ..., "error": ...}} body ({@code
 * shared/spec/matrix-spec/content/client-server-api/_index.md}, "Standard error response").
 *
 * <p>{@link #kind()} is {@code "router"}; {@link #errcode()} is the Matrix error code (such as
 * {@code M_INVALID_PARAM}) and {@link #status()} the HTTP status it would travel with. Messages
 * name ids and key ids, never private key material.
 */
public final class RouterException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String errcode;

  /**
   * @param status the HTTP status code the homeserver would answer with
   * @param errcode the Matrix error code, not null
   * @param message what was expected and what was found
   */
  public RouterException(int status, String errcode, String message) {
    super("router", errcode + ": " + message);
    this.status = status;
    this.errcode = errcode;
  }

  /** The HTTP status the error would travel with (400, 401, 403, 404). */
  public int status() {
    return status;
  }

  /** The Matrix {@code errcode}, such as {@code M_INVALID_SIGNATURE}. */
  public String errcode() {
    return errcode;
  }
}
