package io.github.mxe2ee.backup;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Backup encryption and decryption against libolm's PkDecryption vector and the session_data
 * vectors of matrix-rust-sdk and mautrix-go, plus tampering and malformed input.
 */
class BackupKeysTest {
  private static final JsonNode VECTORS = Vectors.load("megolm_backup_v1_curve25519_aes_sha2.json");
  private static final JsonNode KEYS = Vectors.load("recovery_key_and_secret_storage.json");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static JsonNode testCase(String name) {
    for (JsonNode c : VECTORS.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no vector " + name);
  }

  @Test
  void libolmPkDecryptionVector_decryptsAndReEncryptsByteForByte() {
    JsonNode c = testCase("libolm_pk_decrypt");
    BackupDecryptionKey key =
        BackupDecryptionKey.fromBytes(hex(c.get("recipient_private_hex").asText()));
    assertEquals(
        c.get("recipient_public_b64").asText(), key.encryptionKey().publicKey().toBase64());
    EncryptedSessionData data =
        new EncryptedSessionData(
            UnpaddedBase64.decode(c.get("ephemeral_b64").asText()),
            UnpaddedBase64.decode(c.get("ciphertext_b64").asText()),
            UnpaddedBase64.decode(c.get("mac_b64").asText()));
    assertEquals(
        c.get("expected_plaintext").asText(),
        new String(key.decrypt(data), StandardCharsets.UTF_8));

    Curve25519SecretKey ephemeral =
        Curve25519SecretKey.fromBytes(
            hex(
                c.get("derived")
                    .get("ephemeral_private_hex (libolm used bob_private as the random input)")
                    .asText()));
    EncryptedSessionData again =
        key.encryptionKey()
            .encrypt(
                c.get("expected_plaintext").asText().getBytes(StandardCharsets.UTF_8), ephemeral);
    assertEquals(data, again);
  }

  @Test
  void sessionDataVectorsOfRustSdkAndMautrix_decryptToTheirJson() throws Exception {
    int checked = 0;
    for (JsonNode c : VECTORS.get("cases")) {
      if (!c.has("session_data")) {
        continue;
      }
      BackupDecryptionKey key =
          BackupDecryptionKey.fromBytes(
              UnpaddedBase64.decode(c.get("recipient_private_b64").asText()));
      assertTrue(
          key.matches(Curve25519PublicKey.fromBase64(c.get("recipient_public_b64").asText())));
      JsonNode expected =
          c.has("expected_plaintext_json")
              ? c.get("expected_plaintext_json")
              : c.get("derived_expected_plaintext_json");
      byte[] plaintext = key.decrypt(EncryptedSessionData.fromJson(c.get("session_data")));
      assertEquals(expected, MAPPER.readTree(plaintext), c.get("name").asText());
      checked++;
    }
    assertEquals(3, checked);
  }

  @Test
  void theBackupKeyOfTheRecoveryKeyVectorHasItsPublicKey() {
    JsonNode c = KEYS.get("recovery_keys").get(0);
    BackupDecryptionKey key = BackupDecryptionKey.fromKeyRepresentation(c.get("encoded").asText());
    assertEquals(
        c.get("derived").get("megolm_backup_public_key_b64").asText(),
        key.encryptionKey().publicKey().toBase64());
    assertEquals(c.get("encoded").asText(), key.exposeForPerson());
    assertFalse(key.toString().contains(c.get("encoded").asText()));
    assertFalse(key.toString().contains(c.get("key_hex").asText()));
  }

  @Test
  void roundTripThroughJson_andWrongKeyOrTamperingIsRefused() {
    SecureRandom random = new SecureRandom();
    BackupDecryptionKey key = BackupDecryptionKey.generate(random);
    BackupDecryptionKey other = BackupDecryptionKey.generate(random);
    byte[] plaintext = "{\"algorithm\":\"m.megolm.v1.aes-sha2\"}".getBytes(StandardCharsets.UTF_8);
    ObjectNode wire =
        BackupEncryptionKey.fromBase64(key.encryptionKey().publicKey().toBase64())
            .encrypt(plaintext, random)
            .toJson();
    EncryptedSessionData parsed = EncryptedSessionData.fromJson(wire);
    assertArrayEquals(plaintext, key.decrypt(parsed));
    assertThrows(CryptoException.class, () -> other.decrypt(parsed));

    byte[] mac = parsed.mac();
    mac[0] ^= 1;
    assertThrows(
        CryptoException.class,
        () -> key.decrypt(new EncryptedSessionData(parsed.ephemeral(), parsed.ciphertext(), mac)));
    // The MAC does not cover the ciphertext (the spec's libolm bug): a flipped last block fails
    // on the padding or yields other plaintext, never an exception of another type.
    byte[] ciphertext = parsed.ciphertext();
    ciphertext[ciphertext.length - 1] ^= 1;
    try {
      key.decrypt(new EncryptedSessionData(parsed.ephemeral(), ciphertext, parsed.mac()));
    } catch (CryptoException expected) {
      // bad padding
    }
  }

  @Test
  void lowOrderEphemeralKeyIsRefused() {
    BackupDecryptionKey key = BackupDecryptionKey.generate(new SecureRandom());
    assertThrows(
        CryptoException.class,
        () -> key.decrypt(new EncryptedSessionData(new byte[32], new byte[16], new byte[8])));
    assertThrows(
        CryptoException.class,
        () ->
            BackupEncryptionKey.fromBase64(UnpaddedBase64.encode(new byte[32]))
                .encrypt(new byte[1], new SecureRandom()));
  }

  @Test
  void malformedSessionDataIsADecodeException() throws Exception {
    String ok = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    String[] bad = {
      "null",
      "[]",
      "{}",
      "{\"ephemeral\":\"" + ok + "\",\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA\"}",
      "{\"ephemeral\":1,\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"mac\":\"AAAAAAAAAAA\"}",
      "{\"ephemeral\":\"AAAA\",\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"mac\":\"AAAAAAAAAAA\"}",
      "{\"ephemeral\":\"" + ok + "\",\"ciphertext\":\"AAAA\",\"mac\":\"AAAAAAAAAAA\"}",
      "{\"ephemeral\":\"" + ok + "\",\"ciphertext\":\"\",\"mac\":\"AAAAAAAAAAA\"}",
      "{\"ephemeral\":\"" + ok + "\",\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"mac\":\"AAAA\"}",
      "{\"ephemeral\":\"" + ok + "\",\"ciphertext\":\"!!!!\",\"mac\":\"AAAAAAAAAAA\"}",
    };
    for (String json : bad) {
      JsonNode node = MAPPER.readTree(json);
      assertThrows(DecodeException.class, () -> EncryptedSessionData.fromJson(node), json);
    }
  }

  @Test
  void mutatedSessionDataOnlyEverFailsWithTypedErrors() {
    SecureRandom secure = new SecureRandom();
    BackupDecryptionKey key = BackupDecryptionKey.generate(secure);
    ObjectNode wire = key.encryptionKey().encrypt(new byte[100], secure).toJson();
    Random random = new Random(48);
    String chars = "AZaz09+/=-_ !\"";
    for (int i = 0; i < 3_000; i++) {
      ObjectNode mutated = wire.deepCopy();
      String field = new String[] {"ephemeral", "ciphertext", "mac"}[random.nextInt(3)];
      char[] value = mutated.get(field).asText().toCharArray();
      value[random.nextInt(value.length)] = chars.charAt(random.nextInt(chars.length()));
      mutated.put(field, new String(value));
      try {
        key.decrypt(EncryptedSessionData.fromJson(mutated));
      } catch (Mxe2eeException expected) {
        // DecodeException or CryptoException; anything else fails the test
      }
    }
  }
}
