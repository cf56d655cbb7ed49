package io.github.mxe2ee.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.json.JsonFields;

/**
 * The {@code session_data} of a backed-up room key under {@code
 * m.megolm_backup.v1.curve25519-aes-sha2}: the sender's ephemeral Curve25519 key, the AES-CBC
 * ciphertext of the {@code BackedUpSessionData} JSON, and the 8-byte MAC, each unpadded base64 on
 * the wire (padded base64 is accepted on input, as other clients write it).
 *
 * <p>Spec: {@code end_to_end_encryption.md}, "Backup algorithm:
 * m.megolm_backup.v1.curve25519-aes-sha2" and the {@code key_backup_session_data} schema.
 * Immutable; the byte arrays are copied in and out.
 *
 * @param ephemeral the ephemeral Curve25519 public key, 32 bytes
 * @param ciphertext the AES-256-CBC ciphertext, a non-empty multiple of 16 bytes
 * @param mac the first 8 bytes of the HMAC-SHA-256 (see {@link BackupDecryptionKey#decrypt})
 */
public record EncryptedSessionData(byte[] ephemeral, byte[] ciphertext, byte[] mac) {
  /** Length of the truncated MAC. */
  public static final int MAC_LENGTH = 8;

  /**
   * Largest ciphertext accepted: a backed-up session is well under 1 KiB of JSON; 64 KiB leaves
   * room for long forwarding chains while keeping a hostile backup from costing much memory.
   */
  public static final int MAX_CIPHERTEXT_LENGTH = 64 * 1024;

  /**
   * Validates the lengths.
   *
   * @throws DecodeException if a field has the wrong length
   */
  public EncryptedSessionData {
    if (ephemeral.length != 32) {
      throw new DecodeException(
          "session_data.ephemeral: expected 32 bytes, got " + ephemeral.length);
    }
    if (ciphertext.length == 0
        || ciphertext.length % 16 != 0
        || ciphertext.length > MAX_CIPHERTEXT_LENGTH) {
      throw new DecodeException(
          "session_data.ciphertext: expected a non-empty multiple of 16 bytes up to "
              + MAX_CIPHERTEXT_LENGTH
              + ", got "
              + ciphertext.length);
    }
    if (mac.length != MAC_LENGTH) {
      throw new DecodeException(
          "session_data.mac: expected " + MAC_LENGTH + " bytes, got " + mac.length);
    }
    ephemeral = ephemeral.clone();
    ciphertext = ciphertext.clone();
    mac = mac.clone();
  }

  @Override
  public byte[] ephemeral() {
    return ephemeral.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  @Override
  public byte[] mac() {
    return mac.clone();
  }

  /**
   * Parses a {@code session_data} object.
   *
   * @throws DecodeException if it is not an object, a field is missing or not a string, or a field
   *     is not base64 of the right length
   */
  public static EncryptedSessionData fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new DecodeException("session_data: expected a JSON object");
    }
    int max = 2 * MAX_CIPHERTEXT_LENGTH;
    return new EncryptedSessionData(
        JsonFields.base64(json, "ephemeral", max, "session_data"),
        JsonFields.base64(json, "ciphertext", max, "session_data"),
        JsonFields.base64(json, "mac", max, "session_data"));
  }

  /** The wire form: {@code {"ephemeral", "ciphertext", "mac"}} in unpadded base64. */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("ephemeral", UnpaddedBase64.encode(ephemeral));
    o.put("ciphertext", UnpaddedBase64.encode(ciphertext));
    o.put("mac", UnpaddedBase64.encode(mac));
    return o;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EncryptedSessionData other
        && java.util.Arrays.equals(ephemeral, other.ephemeral)
        && java.util.Arrays.equals(ciphertext, other.ciphertext)
        && java.util.Arrays.equals(mac, other.mac);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(ciphertext);
  }

  @Override
  public String toString() {
    return "EncryptedSessionData[" + ciphertext.length + " bytes]";
  }
}
