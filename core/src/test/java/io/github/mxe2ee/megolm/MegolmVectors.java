package io.github.mxe2ee.megolm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HexFormat;

/** Loads the known-answer vectors copied from {@code shared/vectors} into test resources. */
final class MegolmVectors {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private MegolmVectors() {}

  /** Parses {@code src/test/resources/vectors/<name>}; fails if it lost its sources block. */
  static JsonNode load(String name) {
    return loadResource("/vectors/" + name);
  }

  /** Parses a test resource by absolute path; fails if it has no provenance block. */
  static JsonNode loadResource(String path) {
    String name = path;
    try (InputStream in = MegolmVectors.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + path);
      }
      JsonNode root = MAPPER.readTree(in);
      if (!root.has("sources") && !root.has("source") && !root.has("generator")) {
        throw new IllegalStateException(name + " lost its provenance block");
      }
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex);
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
