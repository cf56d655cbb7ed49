package io.github.mxe2ee.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.UnpaddedBase64;

/**
 * Strict readers for fields of wire JSON objects, for the parsers of key backup, secret storage and
 * similar formats. Errors are {@link DecodeException}s that name the field and never quote its
 * value (values are often ciphertexts or keys). Stateless.
 */
public final class JsonFields {
  private JsonFields() {}

  /**
   * The bytes of the base64 string field {@code name} of {@code object} (padded or unpadded
   * standard alphabet), refusing strings longer than {@code maxChars} before decoding them.
   *
   * @param context prefix for error messages, such as {@code "session_data"}
   * @throws DecodeException if the field is missing, not a string, too long or not base64
   */
  public static byte[] base64(JsonNode object, String name, int maxChars, String context) {
    JsonNode value = object.get(name);
    if (value == null || !value.isTextual()) {
      throw new DecodeException(context + "." + name + ": expected a base64 string");
    }
    if (value.asText().length() > maxChars) {
      throw new DecodeException(context + "." + name + ": longer than " + maxChars + " characters");
    }
    return UnpaddedBase64.decode(value.asText());
  }
}
