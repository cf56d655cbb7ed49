package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;

/** Small helpers for building request arguments and handling wire values in the suite. */
final class Json {
  private Json() {}

  /**
   * An argument object from alternating names and values (String, Integer, Long, Double, Boolean,
   * JsonNode).
   */
  static ObjectNode args(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("names and values must alternate");
    }
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      String name = (String) namesAndValues[i];
      Object value = namesAndValues[i + 1];
      if (value instanceof JsonNode json) {
        node.set(name, json);
      } else if (value instanceof String s) {
        node.put(name, s);
      } else if (value instanceof Integer n) {
        node.put(name, n);
      } else if (value instanceof Long n) {
        node.put(name, n);
      } else if (value instanceof Double d) {
        node.put(name, d);
      } else if (value instanceof Boolean b) {
        node.put(name, b);
      } else {
        throw new IllegalArgumentException("unsupported value type for " + name);
      }
    }
    return node;
  }

  /** An Olm message object {@code {type, body}}. */
  static ObjectNode olmMessage(int type, String body) {
    return args("type", type, "body", body);
  }

  static byte[] decode(String base64) {
    return Base64.getDecoder().decode(base64);
  }

  static String encode(byte[] bytes) {
    return Base64.getEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * {@code base64} with bit 0 of the byte at {@code index} flipped (negative counts from the end).
   */
  static String flipBit(String base64, int index) {
    byte[] bytes = decode(base64);
    int i = index < 0 ? bytes.length + index : index;
    bytes[i] ^= 0x01;
    return encode(bytes);
  }

  /** The first (and only) value of a one-entry {@code {key_id: key}} map. */
  static String onlyValue(JsonNode map) {
    if (map.size() != 1) {
      throw new AssertionError("expected exactly one key, got " + map);
    }
    return map.elements().next().asText();
  }
}
