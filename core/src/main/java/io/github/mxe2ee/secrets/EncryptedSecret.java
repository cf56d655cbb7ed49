package io.github.mxe2ee.secrets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.json.JsonFields;
import java.util.Arrays;

/**
 * One entry of a secret's {@code encrypted} map under {@code m.secret_storage.v1.aes-hmac-sha2}
 * (spec: secrets.md, "AesHmacSha2EncryptedData"): the IV, the AES-CTR ciphertext and the
 * HMAC-SHA-256 of the ciphertext. Written as unpadded base64; padded base64 is accepted, as the
 * spec requires. Immutable; arrays are copied in and out.
 *
 * @param iv 16 bytes
 * @param ciphertext at most {@link #MAX_CIPHERTEXT_LENGTH} bytes
 * @param mac 32 bytes
 */
public record EncryptedSecret(byte[] iv, byte[] ciphertext, byte[] mac) {
  /** Largest secret accepted (secrets are keys of a few dozen bytes). */
  public static final int MAX_CIPHERTEXT_LENGTH = 64 * 1024;

  /** Validates the lengths ({@link DecodeException} otherwise). */
  public EncryptedSecret {
    if (iv.length != 16) {
      throw new DecodeException("encrypted secret iv: expected 16 bytes, got " + iv.length);
    }
    if (ciphertext.length > MAX_CIPHERTEXT_LENGTH) {
      throw new DecodeException(
          "encrypted secret ciphertext: at most " + MAX_CIPHERTEXT_LENGTH + " bytes");
    }
    if (mac.length != 32) {
      throw new DecodeException("encrypted secret mac: expected 32 bytes, got " + mac.length);
    }
    iv = iv.clone();
    ciphertext = ciphertext.clone();
    mac = mac.clone();
  }

  @Override
  public byte[] iv() {
    return iv.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  @Override
  public byte[] mac() {
    return mac.clone();
  }

  /** Parses {@code {"iv", "ciphertext", "mac"}}; {@link DecodeException} if malformed. */
  public static EncryptedSecret fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new DecodeException("encrypted secret: expected a JSON object");
    }
    return new EncryptedSecret(
        JsonFields.base64(json, "iv", 64, "encrypted secret"),
        JsonFields.base64(json, "ciphertext", 2 * MAX_CIPHERTEXT_LENGTH, "encrypted secret"),
        JsonFields.base64(json, "mac", 64, "encrypted secret"));
  }

  /** The wire form in unpadded base64. */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("iv", UnpaddedBase64.encode(iv));
    o.put("ciphertext", UnpaddedBase64.encode(ciphertext));
    o.put("mac", UnpaddedBase64.encode(mac));
    return o;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EncryptedSecret other
        && Arrays.equals(iv, other.iv)
        && Arrays.equals(ciphertext, other.ciphertext)
        && Arrays.equals(mac, other.mac);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(mac);
  }

  @Override
  public String toString() {
    return "EncryptedSecret[" + ciphertext.length + " bytes]";
  }
}
