package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;

/**
 * Typed, validating access to the arguments of one request (the request object's fields next to
 * {@code id} and {@code op}). Every accessor throws {@link PeerException} of kind {@code
 * bad_request} for a missing or ill-typed argument, or {@code decode} for bad base64; messages name
 * the argument, never its value.
 *
 * <p>Not thread-safe; lives for one request.
 */
final class Args {
  /**
   * An Olm message as it appears in requests: {@code {"type": 0|1, "body": base64}}. The body is
   * kept as text: decoding it is the core's job, and part of what the suite tests.
   */
  record OlmMessageArg(int type, String body) {
    static final int PRE_KEY = 0;
    static final int NORMAL = 1;
  }

  private final JsonNode request;

  Args(JsonNode request) {
    this.request = request;
  }

  String string(String name) {
    JsonNode node = field(name);
    if (!node.isTextual()) {
      throw badRequest("argument '" + name + "' must be a string");
    }
    return node.textValue();
  }

  int nonNegativeInt(String name) {
    JsonNode node = field(name);
    if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 0) {
      throw badRequest("argument '" + name + "' must be a non-negative 32-bit integer");
    }
    return node.intValue();
  }

  /** A non-negative integer up to 2^32-1 (Megolm message indices are unsigned 32-bit). */
  long unsigned32(String name) {
    JsonNode node = field(name);
    if (!node.isIntegralNumber()
        || !node.canConvertToLong()
        || node.longValue() < 0
        || node.longValue() > 0xFFFF_FFFFL) {
      throw badRequest("argument '" + name + "' must be an integer in 0..2^32-1");
    }
    return node.longValue();
  }

  /** A base64 argument (padded or unpadded standard alphabet) as bytes. */
  byte[] base64(String name) {
    return decodeBase64(string(name), name);
  }

  OlmMessageArg olmMessage(String name) {
    JsonNode node = field(name);
    if (!node.isObject()) {
      throw badRequest("argument '" + name + "' must be an object {type, body}");
    }
    JsonNode type = node.get("type");
    JsonNode body = node.get("body");
    if (type == null
        || !type.isIntegralNumber()
        || (type.intValue() != OlmMessageArg.PRE_KEY && type.intValue() != OlmMessageArg.NORMAL)) {
      throw badRequest(name + ".type must be 0 (pre-key) or 1 (normal)");
    }
    if (body == null || !body.isTextual()) {
      throw badRequest(name + ".body must be a base64 string");
    }
    return new OlmMessageArg(type.intValue(), body.textValue());
  }

  static byte[] decodeBase64(String text, String what) {
    try {
      // The JDK's basic decoder accepts both padded and unpadded input.
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new PeerException(ErrorKinds.DECODE, what + " is not valid base64");
    }
  }

  static String encodeBase64(byte[] bytes) {
    return Base64.getEncoder().withoutPadding().encodeToString(bytes);
  }

  private JsonNode field(String name) {
    JsonNode node = request.get(name);
    if (node == null || node.isNull()) {
      throw badRequest("missing argument '" + name + "'");
    }
    return node;
  }

  private static PeerException badRequest(String message) {
    return new PeerException(ErrorKinds.BAD_REQUEST, message);
  }
}
