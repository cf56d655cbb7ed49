package io.github.mxe2ee.secrets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.json.JsonFields;
import java.util.Optional;

/**
 * The content of an {@code m.secret_storage.key.[key ID]} account-data event for {@code
 * m.secret_storage.v1.aes-hmac-sha2} (spec: secrets.md, "AesHmacSha2KeyDescription"). The key check
 * ({@code iv} and {@code mac}) and the passphrase are optional, as the spec says.
 *
 * @param name the human-readable name, or null
 * @param passphrase how to derive the key from a passphrase, or null
 * @param iv the key check's IV (16 bytes), or null together with {@code mac}
 * @param mac the key check's MAC (32 bytes), or null together with {@code iv}
 */
public record KeyDescription(String name, PassphraseInfo passphrase, byte[] iv, byte[] mac) {
  /** The algorithm these descriptions are for. */
  public static final String ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2";

  /** Validates that {@code iv} and {@code mac} come together and have their lengths. */
  public KeyDescription {
    if ((iv == null) != (mac == null)) {
      throw new DecodeException("key description: iv and mac must be given together");
    }
    if (iv != null && (iv.length != 16 || mac.length != 32)) {
      throw new DecodeException(
          "key description: expected a 16-byte iv and a 32-byte mac, got "
              + iv.length
              + " and "
              + mac.length);
    }
    iv = iv == null ? null : iv.clone();
    mac = mac == null ? null : mac.clone();
  }

  /** The passphrase parameters, if the key can be derived from a passphrase. */
  public Optional<PassphraseInfo> passphraseInfo() {
    return Optional.ofNullable(passphrase);
  }

  @Override
  public byte[] iv() {
    return iv == null ? null : iv.clone();
  }

  @Override
  public byte[] mac() {
    return mac == null ? null : mac.clone();
  }

  /**
   * Parses a key description.
   *
   * @throws DecodeException if the algorithm is not {@value #ALGORITHM} or a field is malformed
   */
  public static KeyDescription fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new DecodeException("key description: expected a JSON object");
    }
    if (!ALGORITHM.equals(json.path("algorithm").asText(null))) {
      throw new DecodeException("key description: algorithm must be " + ALGORITHM);
    }
    JsonNode name = json.get("name");
    if (name != null && !name.isNull() && !name.isTextual()) {
      throw new DecodeException("key description: name must be a string");
    }
    JsonNode passphrase = json.get("passphrase");
    byte[] iv = json.has("iv") ? JsonFields.base64(json, "iv", 64, "key description") : null;
    byte[] mac = json.has("mac") ? JsonFields.base64(json, "mac", 64, "key description") : null;
    return new KeyDescription(
        name == null || name.isNull() ? null : name.asText(),
        passphrase == null || passphrase.isNull() ? null : PassphraseInfo.fromJson(passphrase),
        iv,
        mac);
  }

  /** The wire form (unpadded base64). */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    if (name != null) {
      o.put("name", name);
    }
    o.put("algorithm", ALGORITHM);
    if (passphrase != null) {
      o.set("passphrase", passphrase.toJson());
    }
    if (iv != null) {
      o.put("iv", UnpaddedBase64.encode(iv));
      o.put("mac", UnpaddedBase64.encode(mac));
    }
    return o;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyDescription other && toJson().equals(other.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "KeyDescription" + toJson();
  }
}
