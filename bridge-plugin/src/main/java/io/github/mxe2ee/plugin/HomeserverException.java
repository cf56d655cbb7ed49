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
  private final long retryAfterMs;

  /**
   * @param endpoint the request path without query string, for the message
   * @param statusCode HTTP status, or 0 when the body (not the status) was the problem
   * @param errcode the Matrix {@code errcode}, or null when the body had none
   * @param detail short human explanation without secrets
   */
  public HomeserverException(String endpoint, int statusCode, String errcode, String detail) {
    this(endpoint, statusCode, errcode, detail, -1);
  }

  /**
   * An error answer that says when to try again: a {@code 429 M_LIMIT_EXCEEDED} with {@code
   * retry_after_ms} in its body or a {@code Retry-After} header (Client-Server API, "Rate
   * limiting").
   *
   * @param retryAfterMs how long the server asked us to wait, in ms, or -1 if it did not say
   */
  public HomeserverException(
      String endpoint, int statusCode, String errcode, String detail, long retryAfterMs) {
    super(
        KIND,
        endpoint + ": HTTP " + statusCode + (errcode == null ? "" : " " + errcode) + ": " + detail);
    this.statusCode = statusCode;
    this.errcode = errcode;
    this.retryAfterMs = retryAfterMs < 0 ? -1 : retryAfterMs;
  }

  /** HTTP status code, or 0 when the response body was malformed. */
  public int statusCode() {
    return statusCode;
  }

  /** Matrix error code such as {@code M_FORBIDDEN}, or null. */
  public String errcode() {
    return errcode;
  }

  /**
   * How long the server asked us to wait before trying again ({@code retry_after_ms} of the body,
   * else the {@code Retry-After} header), in ms; -1 if it did not say.
   */
  public long retryAfterMs() {
    return retryAfterMs;
  }
}
