package io.github.mxe2ee.plugin.appservice;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The three fields of an appservice registration file that the bridge needs. Not API.
 *
 * @param id {@code id}, or null if absent
 * @param asToken {@code as_token}
 * @param hsToken {@code hs_token}
 * @param senderLocalpart {@code sender_localpart}
 */
record Registration(String id, String asToken, String hsToken, String senderLocalpart) {
  static final long MAX_FILE_BYTES = 1 << 20;

  @Override
  public String toString() {
    return "Registration{senderLocalpart=" + senderLocalpart + "}";
  }

  static Registration read(Path file) {
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new IllegalArgumentException("registration file over 1 MiB: " + file);
      }
      JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
      JsonNode id = root == null ? null : root.get("id");
      return new Registration(
          id != null && id.isTextual() ? id.textValue() : null,
          text(root, "as_token", file),
          text(root, "hs_token", file),
          text(root, "sender_localpart", file));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "registration file " + file + " unreadable: " + e.getClass().getSimpleName());
    }
  }

  private static String text(JsonNode root, String field, Path file) {
    JsonNode v = root == null ? null : root.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw new IllegalArgumentException("registration file " + file + " lacks " + field);
    }
    return v.textValue();
  }
}
