package io.github.mxe2ee.olm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Loads the known-answer vectors copied from shared/vectors (with their sources blocks). */
final class TestVectors {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private TestVectors() {}

  static JsonNode load(String name) {
    try (InputStream in = TestVectors.class.getResourceAsStream("/vectors/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing vector file " + name);
      }
      return MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** libolm_output of olm_megolm_libolm_generated.json. */
  static JsonNode libolmOutput() {
    return load("olm_megolm_libolm_generated.json").get("libolm_output");
  }

  static JsonNode generatedIntermediates() {
    return load("olm_megolm_libolm_generated.json").get("derived_intermediates");
  }

  static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex);
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
