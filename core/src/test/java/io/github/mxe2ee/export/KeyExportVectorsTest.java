package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.megolm.InboundGroupSession;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every case of {@code vectors/key_export.json} (four Element vectors and one matrix-rust-sdk
 * vector): decrypts to the expected plaintext, and re-encrypting that plaintext with the case's
 * salt, IV and rounds gives the same body byte for byte. Failures are collected with their case id.
 */
class KeyExportVectorsTest {
  private static final JsonNode VECTORS = Vectors.load("key_export.json");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static String id(int i, JsonNode c) {
    return "key_export.json case "
        + i
        + " (passphrase length "
        + c.get("passphrase").asText().length()
        + ")";
  }

  @Test
  void vectors_keepTheirSources() {
    assertEquals(2, VECTORS.get("sources").size());
    assertEquals(5, VECTORS.get("cases").size());
  }

  @Test
  void everyVector_decryptsToItsPlaintext() throws Exception {
    List<String> failures = new ArrayList<>();
    JsonNode cases = VECTORS.get("cases");
    for (int i = 0; i < cases.size(); i++) {
      JsonNode c = cases.get(i);
      String id = id(i, c);
      try {
        byte[] plain =
            KeyExportFile.decrypt(
                c.get("armored").asText(), c.get("passphrase").asText().toCharArray());
        if (c.has("expected_plaintext")) {
          if (!c.get("expected_plaintext")
              .asText()
              .equals(new String(plain, StandardCharsets.UTF_8))) {
            failures.add(id + ": wrong plaintext");
          }
        } else if (!MAPPER.readTree(plain).equals(c.get("derived_expected_plaintext_json"))) {
          failures.add(id + ": wrong JSON plaintext");
        }
      } catch (RuntimeException e) {
        failures.add(id + ": " + e);
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void everyVector_reencryptsToTheSameBytes() {
    List<String> failures = new ArrayList<>();
    JsonNode cases = VECTORS.get("cases");
    for (int i = 0; i < cases.size(); i++) {
      JsonNode c = cases.get(i);
      String id = id(i, c);
      char[] passphrase = c.get("passphrase").asText().toCharArray();
      JsonNode derived = c.get("derived");
      byte[] plain = KeyExportFile.decrypt(c.get("armored").asText(), passphrase);
      String ours =
          KeyExportFile.encrypt(
              plain,
              passphrase,
              Vectors.hex(derived.get("salt_hex").asText()),
              Vectors.hex(derived.get("iv_hex").asText()),
              derived.get("rounds").asInt());
      byte[] expected = KeyExportFile.unarmor(c.get("armored").asText());
      byte[] actual = KeyExportFile.unarmor(ours);
      if (!Vectors.hex(expected).equals(Vectors.hex(actual))) {
        failures.add(id + ": body differs");
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void elementVectorWithCounterOverflow_needsSixtyFourBitCounter() {
    // Case 3 has IV ff..ff: its second block is encrypted under counter ff..ff||00..00.
    JsonNode c = VECTORS.get("cases").get(3);
    byte[] plain =
        KeyExportFile.decrypt(
            c.get("armored").asText(), c.get("passphrase").asText().toCharArray());
    assertEquals(64, plain.length, "case 3 spans four blocks");
    assertEquals(c.get("expected_plaintext").asText(), new String(plain, StandardCharsets.UTF_8));
  }

  @Test
  void everyVector_rejectsAWrongPassphrase() {
    for (int i = 0; i < VECTORS.get("cases").size(); i++) {
      JsonNode c = VECTORS.get("cases").get(i);
      char[] wrong = (c.get("passphrase").asText() + "x").toCharArray();
      CryptoException e =
          assertThrows(
              CryptoException.class,
              () -> KeyExportFile.decrypt(c.get("armored").asText(), wrong),
              id(i, c));
      assertFalse(e.getMessage().contains(c.get("passphrase").asText()), id(i, c));
    }
  }

  @Test
  void rustSdkVector_importsItsSession() {
    JsonNode c = VECTORS.get("cases").get(4);
    RoomKeyParseResult result =
        KeyExportFile.importRoomKeys(
            c.get("armored").asText(), c.get("passphrase").asText().toCharArray());
    assertEquals(List.of(), result.rejected());
    assertEquals(1, result.keys().size());
    ExportedRoomKey key = result.keys().get(0);
    JsonNode expected = c.get("derived_expected_plaintext_json").get(0);
    assertEquals("!test:localhost", key.roomId());
    assertEquals(expected.get("session_id").asText(), key.sessionId());
    assertEquals(expected.get("sender_key").asText(), key.senderKey().toBase64());
    assertEquals(
        expected.get("sender_claimed_keys").get("ed25519").asText(),
        key.claimedEd25519Key().toBase64());
    assertEquals(List.of(), key.forwardingCurve25519KeyChain());
    assertEquals(expected.get("session_key").asText(), key.sessionKey().toBase64());
    assertEquals(0, key.firstKnownIndex());
    InboundGroupSession session = key.toInboundGroupSession();
    assertEquals(expected.get("session_id").asText(), session.sessionId());
    assertFalse(session.isSigningKeyVerified(), "an exported key is unsigned");
    assertArrayEquals(
        key.sessionKey().toBytes(), session.exportAtFirstKnownIndex().toBytes(), "same ratchet");
  }
}
