package io.github.mxe2ee.plugin.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.json.JsonObject;
import java.io.UncheckedIOException;

/** Converts between Vert.x {@link JsonObject} and the core's Jackson nodes. */
final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  static ObjectNode toNode(JsonObject json) {
    try {
      return (ObjectNode) MAPPER.readTree(json.encode());
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonObject toVertx(JsonNode node) {
    return new JsonObject(node.toString());
  }
}
