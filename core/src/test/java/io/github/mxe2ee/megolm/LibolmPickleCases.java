package io.github.mxe2ee.megolm;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;

/** The Megolm cases of {@code libolm_pickles.json}, by name. */
final class LibolmPickleCases {
  private static final JsonNode CASES = MegolmVectors.load("libolm_pickles.json").get("cases");

  private LibolmPickleCases() {}

  static JsonNode get(String name) {
    for (JsonNode vector : CASES) {
      if (name.equals(vector.get("name").asText())) {
        return vector;
      }
    }
    throw new IllegalStateException("libolm_pickles.json has no case " + name);
  }

  static byte[] key(JsonNode vector) {
    return vector.get("pickle_key_ascii").asText().getBytes(StandardCharsets.US_ASCII);
  }
}
