package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A request the machine wants sent to the homeserver (ARCHITECTURE.md, "core: a sans-I/O machine").
 * The caller sends {@link #body()} to the endpoint named by {@link #type()}, then feeds the
 * response back with {@code OlmMachine.markRequestAsSent(requestId, type, response)}. A request
 * stays in {@code outgoingRequests()} until its response is fed back, so a crash in between only
 * repeats it; every type is safe to repeat.
 *
 * @param requestId unique id, also the transaction id for {@link RequestType#TO_DEVICE}
 * @param type which endpoint
 * @param body the JSON body, exactly as the client-server API defines it (a private copy: use
 *     {@link #body()} freely)
 * @param eventType for {@link RequestType#TO_DEVICE} only: the to-device event type; else null
 */
public record OutgoingRequest(
    String requestId, RequestType type, ObjectNode body, String eventType) {

  /** Compact canonical constructor: checks and copies. */
  public OutgoingRequest {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(type, "type");
    body = body.deepCopy();
    if ((type == RequestType.TO_DEVICE) != (eventType != null)) {
      throw new IllegalArgumentException("eventType is required for to-device requests only");
    }
  }

  /** A copy of the body. */
  @Override
  public ObjectNode body() {
    return body.deepCopy();
  }

  /** The HTTP method and path (client-server API v3) for this request. */
  public String method() {
    return type.method();
  }

  /** The path below the homeserver base URL, with the transaction id for to-device requests. */
  public String path() {
    return type == RequestType.TO_DEVICE
        ? type.path() + "/" + encode(eventType) + "/" + encode(requestId)
        : type.path();
  }

  /** Percent-encodes everything but RFC 3986 unreserved characters, byte by byte in UTF-8. */
  static String encode(String segment) {
    StringBuilder out = new StringBuilder();
    for (byte b : segment.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "OutgoingRequest[" + type + " " + requestId + "]";
  }
}
