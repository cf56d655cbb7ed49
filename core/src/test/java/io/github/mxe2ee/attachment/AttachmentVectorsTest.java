package io.github.mxe2ee.attachment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every case of {@code vectors/encrypted_attachments_v2.json} (matrix-rust-sdk and mautrix-go): the
 * upstream ciphertext decrypts to the upstream plaintext in memory and streaming, and encrypting
 * the plaintext with the vector's key and IV reproduces the ciphertext and hash. The mautrix case's
 * {@code must_fail} list is applied to that case. Failures are collected with their case names.
 */
class AttachmentVectorsTest {
  private static final JsonNode VECTORS = Vectors.load("encrypted_attachments_v2.json");

  @Test
  void everyVector_decryptsAndReEncryptsByteForByte() throws IOException {
    List<String> failures = new ArrayList<>();
    int cases = 0;
    for (JsonNode c : VECTORS.get("cases")) {
      cases++;
      String id = c.get("name").asText();
      EncryptedFile file = EncryptedFile.fromJson(c.get("file"));
      byte[] ciphertext = Vectors.hex(c.get("ciphertext_hex").asText());
      byte[] expected = c.get("expected_plaintext").asText().getBytes(StandardCharsets.UTF_8);

      if (!MessageDigest.isEqual(expected, AttachmentCipher.decrypt(ciphertext, file))) {
        failures.add(id + ": in-memory decrypt differs");
      }
      ByteArrayOutputStream streamed = new ByteArrayOutputStream();
      AttachmentCipher.decryptStreaming(new ByteArrayInputStream(ciphertext), streamed, file);
      if (!MessageDigest.isEqual(expected, streamed.toByteArray())) {
        failures.add(id + ": streaming decrypt differs");
      }

      byte[] key = UnpaddedBase64.decodeUrlSafe(c.get("file").get("key").get("k").asText());
      EncryptedAttachment again =
          AttachmentCipher.encrypt(expected, FixedRandom.forKeyAndIv(key, file.iv()));
      if (!MessageDigest.isEqual(ciphertext, again.ciphertext())) {
        failures.add(id + ": re-encryption gives different ciphertext");
      }
      ObjectNode reJson = again.file().toJson();
      for (String field : new String[] {"iv", "v"}) {
        if (!c.get("file").get(field).equals(reJson.get(field))) {
          failures.add(id + ": re-encrypted " + field + " differs");
        }
      }
      if (!c.get("file").get("hashes").equals(reJson.get("hashes"))) {
        failures.add(id + ": re-encrypted hash differs");
      }
      if (!c.get("file").get("key").get("k").equals(reJson.get("key").get("k"))) {
        failures.add(id + ": re-encrypted key differs");
      }
    }
    assertEquals(2, cases, "vector file should hold the two upstream cases");
    assertEquals(List.of(), failures);
  }

  @Test
  void mautrixMustFail_versionAlgorithmHashMismatchAndHashLength() {
    JsonNode c = mautrixCase();
    byte[] ciphertext = Vectors.hex(c.get("ciphertext_hex").asText());

    ObjectNode badVersion = c.get("file").deepCopy();
    badVersion.put("v", "v3");
    EncryptedFileException e =
        assertThrows(EncryptedFileException.class, () -> EncryptedFile.fromJson(badVersion));
    assertTrue(e.getMessage().contains("\"v3\""), e.getMessage());

    ObjectNode badAlg = c.get("file").deepCopy();
    ((ObjectNode) badAlg.get("key")).put("alg", "A128CTR");
    assertThrows(EncryptedFileException.class, () -> EncryptedFile.fromJson(badAlg));

    byte[] otherHash = new byte[32];
    otherHash[0] = 1;
    ObjectNode wrongHash = c.get("file").deepCopy();
    ((ObjectNode) wrongHash.get("hashes")).put("sha256", UnpaddedBase64.encode(otherHash));
    EncryptedFile wrong = EncryptedFile.fromJson(wrongHash);
    CryptoException mismatch =
        assertThrows(CryptoException.class, () -> AttachmentCipher.decrypt(ciphertext, wrong));
    assertEquals("crypto", mismatch.kind());

    for (String hash :
        new String[] {"5/Gy1JftyyQ", c.get("file").at("/hashes/sha256").asText() + "AAAA"}) {
      ObjectNode badLength = c.get("file").deepCopy();
      ((ObjectNode) badLength.get("hashes")).put("sha256", hash);
      assertThrows(EncryptedFileException.class, () -> EncryptedFile.fromJson(badLength), hash);
    }
  }

  @Test
  void vectors_haveZeroCounterHalf() {
    for (JsonNode c : VECTORS.get("cases")) {
      byte[] iv = EncryptedFile.fromJson(c.get("file")).iv();
      for (int i = 8; i < 16; i++) {
        assertEquals(0, iv[i], c.get("name").asText());
      }
      assertFalse(c.get("file").has("url"), "vectors carry no url; parsing must not need one");
    }
  }

  private static JsonNode mautrixCase() {
    for (JsonNode c : VECTORS.get("cases")) {
      if (c.has("must_fail")) {
        return c;
      }
    }
    throw new IllegalStateException("no case with must_fail");
  }
}
