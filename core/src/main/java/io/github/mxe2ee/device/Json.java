package io.github.mxe2ee.device;

import com.fasterxml.jackson.databind.JsonNode;

/** Small strict accessors for the key objects of this package. */
final class Json {
  private Json() {}

  static String text(JsonNode node, String field, String what) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new DeviceKeysException(what + ": expected a string field '" + field + "'");
    }
    return value.textValue();
  }

  static JsonNode object(JsonNode node, String field, String what) {
    JsonNode value = node.get(field);
    if (value == null || !value.isObject()) {
      throw new DeviceKeysException(what + ": expected an object field '" + field + "'");
    }
    return value;
  }

  static JsonNode array(JsonNode node, String field, String what) {
    JsonNode value = node.get(field);
    if (value == null || !value.isArray()) {
      throw new DeviceKeysException(what + ": expected an array field '" + field + "'");
    }
    return value;
  }
}
