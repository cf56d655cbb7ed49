package io.github.mxe2ee.secrets;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.DecodeException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Secret storage against the key descriptions and the encrypted cross-signing key of mautrix-go and
 * matrix-rust-sdk, plus tampering and malformed descriptions.
 */
class SecretStorageKeyTest {
  private static final JsonNode VECTORS = Vectors.load("recovery_key_and_secret_storage.json");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static JsonNode keyCase(String name) {
    for (JsonNode c : VECTORS.get("recovery_keys")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no vector " + name);
  }

  private static String keyHex(JsonNode c) {
    return c.has("key_hex") ? c.get("key_hex").asText() : c.get("derived").get("key_hex").asText();
  }

  @Test
  void keyChecksOfEveryVectorDescriptionMatchTheirKeyAndNoOther() {
    String[] names = {
      "mautrix_ssss_key1", "mautrix_ssss_key2", "rust_sdk_ssss_passphrase", "rust_sdk_ssss_base58"
    };
    for (String name : names) {
      JsonNode c = keyCase(name);
      KeyDescription description = KeyDescription.fromJson(c.get("key_description"));
      SecretStorageKey key = SecretStorageKey.fromBytes(hex(keyHex(c)));
      assertTrue(key.matches(description), name);
      assertFalse(SecretStorageKey.generate(new SecureRandom()).matches(description), name);
      assertEquals(description, KeyDescription.fromJson(description.toJson()), name);
    }
  }

  @Test
  void passphraseDerivesTheVectorKey() {
    // rust-sdk's description uses 10 rounds; mautrix's 500,000 (about a second) is run too.
    for (String name : new String[] {"rust_sdk_ssss_passphrase", "mautrix_ssss_key1"}) {
      JsonNode c = keyCase(name);
      KeyDescription description = KeyDescription.fromJson(c.get("key_description"));
      SecretStorageKey key =
          SecretStorageKey.fromPassphrase(
              c.get("passphrase").asText(), description.passphraseInfo().orElseThrow());
      assertArrayEquals(hex(keyHex(c)), key.exposeSecretBytes(), name);
      assertTrue(key.matches(description));
    }
  }

  @Test
  void keyRepresentationOfTheVectorsGivesTheirKeys() {
    JsonNode c = keyCase("rust_sdk_ssss_base58");
    SecretStorageKey key = SecretStorageKey.fromKeyRepresentation(c.get("recovery_key").asText());
    assertArrayEquals(hex(keyHex(c)), key.exposeSecretBytes());
    assertEquals(c.get("recovery_key").asText(), key.exposeForPerson());
    assertFalse(key.toString().contains(keyHex(c)));
  }

  @Test
  void mautrixEncryptedMasterKeyDecrypts_onlyUnderItsNameAndKey() {
    JsonNode c = VECTORS.get("ssss_secrets").get(0);
    SecretStorageKey key = SecretStorageKey.fromBytes(hex(c.get("key_hex").asText()));
    EncryptedSecret secret = EncryptedSecret.fromJson(c.get("encrypted"));
    byte[] plaintext = key.decrypt(c.get("secret_name").asText(), secret);
    assertEquals(
        c.get("expected_plaintext_utf8").asText(), new String(plaintext, StandardCharsets.UTF_8));
    assertThrows(CryptoException.class, () -> key.decrypt("m.cross_signing.self_signing", secret));
    SecretStorageKey key2 = SecretStorageKey.fromBytes(hex(keyHex(keyCase("mautrix_ssss_key2"))));
    assertThrows(CryptoException.class, () -> key2.decrypt("m.cross_signing.master", secret));
  }

  @Test
  void roundTrip_andEveryTamperingIsRefused() {
    SecureRandom random = new SecureRandom();
    SecretStorageKey key = SecretStorageKey.generate(random);
    byte[] plaintext = "a backup key, base64".getBytes(StandardCharsets.UTF_8);
    EncryptedSecret secret =
        EncryptedSecret.fromJson(key.encrypt("m.megolm_backup.v1", plaintext, random).toJson());
    assertEquals(0, secret.iv()[8] & 0x80, "bit 63 of the IV is clear");
    assertArrayEquals(plaintext, key.decrypt("m.megolm_backup.v1", secret));
    for (int field = 0; field < 3; field++) {
      byte[] iv = secret.iv();
      byte[] ciphertext = secret.ciphertext();
      byte[] mac = secret.mac();
      byte[] target = field == 0 ? ciphertext : field == 1 ? mac : ciphertext;
      target[target.length - 1] ^= 1;
      EncryptedSecret tampered = new EncryptedSecret(iv, ciphertext, mac);
      assertThrows(CryptoException.class, () -> key.decrypt("m.megolm_backup.v1", tampered));
    }
    KeyDescription description = key.describe("m.default", null, random);
    assertTrue(key.matches(KeyDescription.fromJson(description.toJson())));
    assertTrue(key.matches(new KeyDescription(null, null, null, null)), "no check: assumed valid");
  }

  @Test
  void malformedDescriptionsAndSecretsAreDecodeExceptions() throws Exception {
    String[] descriptions = {
      "[]",
      "{}",
      "{\"algorithm\":\"m.secret_storage.v2\"}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"name\":5}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"iv\":\"AAAAAAAAAAAAAAAAAAAAAA\"}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"iv\":\"AAAA\",\"mac\":\"AAAA\"}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"iv\":5,\"mac\":\"AAAA\"}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"passphrase\":{\"algorithm\":\"m.scrypt\"}}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"passphrase\":"
          + "{\"algorithm\":\"m.pbkdf2\",\"salt\":\"s\",\"iterations\":2000000000}}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"passphrase\":"
          + "{\"algorithm\":\"m.pbkdf2\",\"salt\":\"s\",\"iterations\":0}}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"passphrase\":"
          + "{\"algorithm\":\"m.pbkdf2\",\"salt\":\"s\",\"iterations\":1.5}}",
      "{\"algorithm\":\"m.secret_storage.v1.aes-hmac-sha2\",\"passphrase\":"
          + "{\"algorithm\":\"m.pbkdf2\",\"salt\":\"s\",\"iterations\":10,\"bits\":128}}",
    };
    for (String json : descriptions) {
      JsonNode node = MAPPER.readTree(json);
      assertThrows(DecodeException.class, () -> KeyDescription.fromJson(node), json);
    }
    String[] secrets = {
      "{}",
      "{\"iv\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"ciphertext\":\"AAAA\"}",
      "{\"iv\":\"AAAA\",\"ciphertext\":\"AAAA\",\"mac\":\"" + "A".repeat(43) + "\"}",
      "{\"iv\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"ciphertext\":\"**\",\"mac\":\""
          + "A".repeat(43)
          + "\"}",
      "{\"iv\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"ciphertext\":\"AAAA\",\"mac\":\"AAAA\"}",
    };
    for (String json : secrets) {
      JsonNode node = MAPPER.readTree(json);
      assertThrows(DecodeException.class, () -> EncryptedSecret.fromJson(node), json);
    }
  }

  @Test
  void mutatedSecretsOnlyEverFailWithTypedErrors() {
    SecureRandom secure = new SecureRandom();
    SecretStorageKey key = SecretStorageKey.generate(secure);
    var wire = key.encrypt("m.cross_signing.master", new byte[44], secure).toJson();
    Random random = new Random(4);
    String chars = "AZaz09+/=-_ !";
    for (int i = 0; i < 3_000; i++) {
      var mutated = wire.deepCopy();
      String field = new String[] {"iv", "ciphertext", "mac"}[random.nextInt(3)];
      char[] value = mutated.get(field).asText().toCharArray();
      value[random.nextInt(value.length)] = chars.charAt(random.nextInt(chars.length()));
      mutated.put(field, new String(value));
      try {
        key.decrypt("m.cross_signing.master", EncryptedSecret.fromJson(mutated));
      } catch (Mxe2eeException expected) {
        // DecodeException or CryptoException only
      }
    }
  }
}
