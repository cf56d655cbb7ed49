package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.MegolmVectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SessionKeyTest {
  private static final JsonNode GROUP = MegolmVectors.load("megolm_group_session_libolm.json");
  private static final JsonNode GENERATED =
      MegolmVectors.load("olm_megolm_libolm_generated.json").get("libolm_output");

  private static byte[] validSessionKey() {
    return UnpaddedBase64.decode(GROUP.get("cases").get(0).get("session_key_v2_b64").asText());
  }

  private static byte[] validExport() {
    return UnpaddedBase64.decode(
        GROUP
            .get("cases")
            .get(0)
            .get("derived")
            .get("exported_session_key_v1_at_index0_b64")
            .asText());
  }

  @Test
  void sessionKey_decodesLibolmVectorsAndRoundTrips() {
    for (JsonNode vector : GROUP.get("cases")) {
      String id = vector.get("name").asText();
      String b64 = vector.get("session_key_v2_b64").asText();
      SessionKey key = SessionKey.fromBase64(b64);
      assertEquals(b64, key.toBase64(), id);
      if (vector.has("derived")) {
        JsonNode fields = vector.get("derived").get("session_key_fields");
        assertEquals(fields.get("index").asLong(), key.messageIndex(), id);
        assertEquals(fields.get("ratchet_hex").asText(), hex(key.ratchet().toBytes()), id);
        assertEquals(fields.get("ed25519_public_b64").asText(), key.signingKey().toBase64(), id);
        assertEquals(fields.get("signature_b64").asText(), key.signature().toBase64(), id);
        assertEquals(
            vector
                .get("derived")
                .get("session_id_b64 (= unpadded b64 of Ed25519 signing key)")
                .asText(),
            key.sessionId(),
            id);
      }
    }
  }

  @Test
  void sessionKey_decodesGeneratedVectorsAtIndexZeroAndThree() {
    SessionKey zero = SessionKey.fromBase64(GENERATED.get("megolm.session_key_index0").asText());
    SessionKey three = SessionKey.fromBase64(GENERATED.get("megolm.session_key_index3").asText());
    assertEquals(0, zero.messageIndex(), "megolm.session_key_index0");
    assertEquals(3, three.messageIndex(), "megolm.session_key_index3");
    assertEquals(
        GENERATED.get("megolm.session_id").asText(), zero.sessionId(), "megolm.session_id");
    assertEquals(
        GENERATED.get("megolm.session_id").asText(), three.sessionId(), "megolm.session_id");
  }

  @Test
  void exportedKey_decodesDerivedVectorsAndRoundTrips() {
    for (JsonNode vector : GROUP.get("cases")) {
      if (!vector.has("derived")) {
        continue;
      }
      String id = vector.get("name").asText();
      String b64 = vector.get("derived").get("exported_session_key_v1_at_index0_b64").asText();
      ExportedSessionKey key = ExportedSessionKey.fromBase64(b64);
      JsonNode fields = vector.get("derived").get("session_key_fields");
      assertEquals(0, key.messageIndex(), id);
      assertEquals(fields.get("ratchet_hex").asText(), hex(key.ratchet().toBytes()), id);
      assertEquals(fields.get("ed25519_public_b64").asText(), key.sessionId(), id);
      assertEquals(b64, key.toBase64(), id);
    }
    String b64 = GENERATED.get("megolm.exported_session_key_index1").asText();
    ExportedSessionKey one = ExportedSessionKey.fromBase64(b64);
    assertEquals(1, one.messageIndex(), "megolm.exported_session_key_index1");
    assertEquals(b64, one.toBase64(), "megolm.exported_session_key_index1");
  }

  @Test
  void toString_showsNoRatchetBytes() {
    SessionKey key = SessionKey.fromBytes(validSessionKey());
    assertEquals(
        "SessionKey[sessionId=DRt2DUEOrg/H+yUGjDTqryf8H1YF/BZjI04HwOVSZcY, index=0]",
        key.toString());
    ExportedSessionKey exported = ExportedSessionKey.fromBytes(validExport());
    assertEquals(
        "ExportedSessionKey[sessionId=DRt2DUEOrg/H+yUGjDTqryf8H1YF/BZjI04HwOVSZcY, index=0]",
        exported.toString());
  }

  private static void assertRejected(
      Function<byte[], ?> parser, String why, byte[] bytes, String messagePart) {
    MegolmDecodeException e =
        assertThrows(MegolmDecodeException.class, () -> parser.apply(bytes), why);
    assertEquals("decode", e.kind(), why);
    assertTrue(e.getMessage().contains(messagePart), why + ": " + e.getMessage());
  }

  @Test
  void sessionKey_rejectsMalformed() {
    byte[] valid = validSessionKey();
    assertRejected(SessionKey::fromBytes, "empty", new byte[0], "empty");
    for (int length : new int[] {1, 5, 100, 164, 165, 228}) {
      assertRejected(
          SessionKey::fromBytes,
          "truncated " + length,
          Arrays.copyOf(valid, length),
          "expected 229 bytes, got " + length);
    }
    assertRejected(
        SessionKey::fromBytes,
        "too long",
        Arrays.copyOf(valid, 230),
        "expected 229 bytes, got 230");
    for (int version : new int[] {0, 1, 3, 0x82}) {
      byte[] bytes = valid.clone();
      bytes[0] = (byte) version;
      assertRejected(
          SessionKey::fromBytes, "version " + version, bytes, "expected 2, got " + version);
    }
  }

  @Test
  void sessionKey_rejectsBadSignature() {
    byte[] valid = validSessionKey();
    // A flipped bit in the index, the ratchet, and the signature itself.
    for (int position : new int[] {4, 5, 100, 132, 165, 228}) {
      byte[] bytes = valid.clone();
      bytes[position] ^= 0x01;
      assertRejected(
          SessionKey::fromBytes, "bit flipped at " + position, bytes, "signature does not verify");
    }
  }

  @Test
  void sessionKey_rejectsPublicKeyThatIsNoPoint() {
    byte[] bytes = validSessionKey();
    System.arraycopy(invalidPoint(), 0, bytes, 133, 32);
    assertRejected(SessionKey::fromBytes, "invalid point", bytes, "invalid Ed25519 public key");
    byte[] export = validExport();
    System.arraycopy(invalidPoint(), 0, export, 133, 32);
    assertRejected(
        ExportedSessionKey::fromBytes, "invalid point", export, "invalid Ed25519 public key");
  }

  @Test
  void exportedKey_rejectsMalformed() {
    byte[] valid = validExport();
    assertRejected(ExportedSessionKey::fromBytes, "empty", new byte[0], "empty");
    for (int length : new int[] {1, 5, 132, 164, 166, 229}) {
      byte[] bytes = Arrays.copyOf(valid, length);
      assertRejected(
          ExportedSessionKey::fromBytes,
          "length " + length,
          bytes,
          "expected 165 bytes, got " + length);
    }
    // A signed session key is not an export, and vice versa.
    assertRejected(
        ExportedSessionKey::fromBytes, "v2 as v1", validSessionKey(), "expected 1, got 2");
    assertRejected(SessionKey::fromBytes, "v1 as v2", valid, "expected 2, got 1");
  }

  @Test
  void fromBase64_rejectsBadBase64() {
    for (String bad : new String[] {"A", "@@@@", "AgAA AAAw"}) {
      MegolmDecodeException e =
          assertThrows(MegolmDecodeException.class, () -> SessionKey.fromBase64(bad), bad);
      assertTrue(e.getCause() instanceof DecodeException, bad);
      assertThrows(MegolmDecodeException.class, () -> ExportedSessionKey.fromBase64(bad), bad);
    }
  }

  /** The first y-coordinate encoding that is not on the curve. */
  static byte[] invalidPoint() {
    for (int y = 2; y < 256; y++) {
      byte[] bytes = new byte[32];
      bytes[0] = (byte) y;
      try {
        Ed25519PublicKey.fromBytes(bytes);
      } catch (DecodeException e) {
        return bytes;
      }
    }
    throw new AssertionError("no invalid encoding found");
  }

  @Test
  void randomMutations_areAllRejectedWithTypedErrors() {
    java.util.Random random = new java.util.Random(7);
    byte[] valid = validSessionKey();
    String ratchetBase64 = UnpaddedBase64.encode(Arrays.copyOfRange(valid, 5, 133));
    for (int round = 0; round < 300; round++) {
      byte[] mutated = valid.clone();
      int flips = 1 + random.nextInt(4);
      for (int i = 0; i < flips; i++) {
        mutated[random.nextInt(mutated.length)] ^= (byte) (1 << random.nextInt(8));
      }
      if (Arrays.equals(mutated, valid)) {
        continue;
      }
      String id = "round " + round;
      MegolmDecodeException e =
          assertThrows(MegolmDecodeException.class, () -> SessionKey.fromBytes(mutated), id);
      assertTrue(!e.getMessage().contains(ratchetBase64.substring(0, 12)), id + ": leaks ratchet");
      byte[] export = Arrays.copyOf(mutated, ExportedSessionKey.LENGTH);
      export[0] = 1;
      // Exports carry no signature: any 165 bytes with version 1 and a valid point decode.
      try {
        ExportedSessionKey.fromBytes(export);
      } catch (MegolmDecodeException expected) {
        assertTrue(expected.getMessage().contains("invalid Ed25519 public key"), id);
      }
    }
  }
}
