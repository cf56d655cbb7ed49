package io.github.mxe2ee.plugin.http;

/**
 * Told about every HTTP request a {@link io.github.mxe2ee.plugin.HomeserverClient} completes, for
 * metrics ({@link io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics} times them by endpoint). Called on
 * the Vert.x event loop when the answer (or the transport failure) arrives: be fast, never block. A
 * {@link RuntimeException} thrown from here is ignored. The path may carry room, user and event ids
 * (never the access token, which travels in a header, nor a body).
 */
@FunctionalInterface
public interface RequestListener {

  /** Listens to nothing. */
  RequestListener NONE = (method, path, status, nanos) -> {};

  /**
   * One request completed.
   *
   * @param method the HTTP method
   * @param path the path below the base URL, without the query
   * @param status the HTTP status, or 0 when no answer came (connection failure, timeout)
   * @param nanos time from sending the request to the answer's body being read
   */
  void completed(String method, String path, int status, long nanos);
}
