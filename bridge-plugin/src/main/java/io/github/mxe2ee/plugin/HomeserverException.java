package io.github.mxe2ee.plugin;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A homeserver answered a request with an error status, or with a body that is not the JSON the
 * Client-Server API promises.
 *
 * <p>Spec: Matrix Client-Server API, "API Standards" / "Standard error response"
 * (spec.matrix.org/latest/client-server-api; not in {@code shared/spec}, which holds only the E2EE
 * modules). The message names the endpoint, the HTTP status and the Matrix {@code errcode}; it
 * never contains access tokens, passwords or request bodies.
 */
public class HomeserverException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #kind()} of every homeserver failure. */
  public static final String KIND = "homeserver";

  private final int statusCode;
  private final String errcode;

  /**
   * @param endpoint the request path without query string, for the message
   * @param statusCode HTTP status, or 0 when the body (not the status) was the problem
   * @param errcode the Matrix {@code errcode}, or null when the body had none
   * @param detail short human explanation without secrets
   */
  public HomeserverException(String endpoint, int statusCode, String errcode, String detail) {
    super(
        KIND,
        endpoint + ": HTTP " + statusCode + (errcode == null ? "" : " " + errcode) + ": " + detail);
    this.statusCode = statusCode;
    this.errcode = errcode;
  }

  /** HTTP status code, or 0 when the response body was malformed. */
  public int statusCode() {
    return statusCode;
  }

  /** Matrix error code such as {@code M_FORBIDDEN}, or null. */
  public String errcode() {
    return errcode;
  }
}
