package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.MegolmVectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OutboundGroupSessionTest {
  static final JsonNode GENERATED =
      MegolmVectors.load("olm_megolm_libolm_generated.json").get("libolm_output");
  static final JsonNode DERIVED =
      MegolmVectors.load("olm_megolm_libolm_generated.json").get("derived_intermediates");
  static final byte[] GENERATED_PICKLE_KEY =
      GENERATED.get("pickle_key_ascii").asText().getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PICKLE_KEY = new byte[32];

  static String text(String key) {
    return GENERATED.get(key).asText();
  }

  /** The libolm-generated session: random[0:128] is R(0), random[128:160] the Ed25519 seed. */
  static OutboundGroupSession generatedSession() {
    byte[] random = hex(text("megolm.init_random (ratchet128||ed25519_seed32)"));
    return OutboundGroupSession.fromParts(
        Arrays.copyOf(random, 128),
        0,
        Ed25519SecretKey.fromSeed(Arrays.copyOfRange(random, 128, 160)));
  }

  @Test
  void generated_sessionIdAndKeyAtIndexZero() {
    OutboundGroupSession session = generatedSession();
    assertEquals(text("megolm.session_id"), session.sessionId(), "megolm.session_id");
    assertEquals(0, session.messageIndex());
    assertEquals(
        text("megolm.session_key_index0"),
        session.sessionKey().toBase64(),
        "megolm.session_key_index0");
  }

  @Test
  void generated_threeMessagesByteIdenticalThenKeyAtIndexThree() {
    OutboundGroupSession session = generatedSession();
    for (int i = 0; i < 3; i++) {
      String id = "megolm.msg" + i;
      JsonNode perMessage = DERIVED.get("megolm_per_message").get(i);
      assertEquals(perMessage.get("index").asLong(), session.messageIndex(), id);
      MegolmMessage message = session.encrypt(text(id + ".plaintext"));
      assertEquals(text(id + ".ciphertext"), message.toBase64(), id);
      assertEquals(i, message.messageIndex(), id);
    }
    assertEquals(3, session.messageIndex());
    assertEquals(
        text("megolm.session_key_index3"),
        session.sessionKey().toBase64(),
        "megolm.session_key_index3");
  }

  @Test
  void generated_ratchetStatesMatchIntermediates() {
    OutboundGroupSession session = generatedSession();
    for (JsonNode perMessage : DERIVED.get("megolm_per_message")) {
      String id = "megolm_per_message[" + perMessage.get("index").asInt() + "]";
      assertEquals(
          perMessage.get("ratchet_hex").asText(),
          hex(session.sessionKey().ratchet().toBytes()),
          id);
      session.encrypt("x");
    }
  }

  @Test
  void libolmPickle_importsAtIndexThreeAndKeepsEncryptingIdentically() {
    OutboundGroupSession imported =
        OutboundGroupSession.fromLibolmPickle(
            text("megolm.outbound_pickle_index3"), GENERATED_PICKLE_KEY);
    assertEquals(text("megolm.session_id"), imported.sessionId(), "megolm.outbound_pickle_index3");
    assertEquals(3, imported.messageIndex(), "megolm.outbound_pickle_index3");
    assertEquals(
        text("megolm.session_key_index3"),
        imported.sessionKey().toBase64(),
        "megolm.outbound_pickle_index3");
    OutboundGroupSession reference = generatedSession();
    for (int i = 0; i < 3; i++) {
      reference.encrypt("skip");
    }
    for (int i = 0; i < 3; i++) {
      String plaintext = "message " + i;
      assertEquals(
          reference.encrypt(plaintext).toBase64(),
          imported.encrypt(plaintext).toBase64(),
          "megolm.outbound_pickle_index3 continued at " + (3 + i));
    }
    InboundGroupSession inbound =
        InboundGroupSession.fromSessionKey(
            SessionKey.fromBase64(text("megolm.session_key_index3")));
    assertEquals("hello", inbound.decrypt(imported.encrypt("hello")).plaintextUtf8());
  }

  @Test
  void libolmPickle_wrongKeyOrTamperedIsCryptoException() {
    String pickle = text("megolm.outbound_pickle_index3");
    assertThrows(
        CryptoException.class,
        () ->
            OutboundGroupSession.fromLibolmPickle(
                pickle, "wrong".getBytes(StandardCharsets.US_ASCII)));
    String tampered =
        pickle.substring(0, pickle.length() - 3) + (pickle.endsWith("AAA") ? "BBB" : "AAA");
    assertThrows(
        CryptoException.class,
        () -> OutboundGroupSession.fromLibolmPickle(tampered, GENERATED_PICKLE_KEY));
    assertThrows(
        DecodeException.class,
        () -> OutboundGroupSession.fromLibolmPickle("!!", GENERATED_PICKLE_KEY));
  }

  @Test
  void libolmPickle_goolmZeroKeyPickleParsesButItsKeyIsRejected() {
    JsonNode vector = LibolmPickleCases.get("megolm_outbound_pickle_libolm_roundtrip");
    String id = vector.get("name").asText();
    JsonNode derived = vector.get("derived");
    // The layout is what we expect (version, ratchet, counter, public key, expanded key) ...
    byte[] plain =
        PickleCipher.libolm(LibolmPickleCases.key(vector)).decrypt(vector.get("pickle").asText());
    PickleReader reader = new PickleReader(plain);
    assertEquals(derived.get("pickle_version").asLong(), reader.readU32(), id);
    assertEquals(derived.get("ratchet_hex").asText(), hex(reader.readBytes(128)), id);
    assertEquals(derived.get("counter").asLong(), reader.readU32(), id);
    assertEquals(
        derived.get("ed25519_public_b64").asText(),
        UnpaddedBase64.encode(reader.readBytes(32)),
        id);
    assertEquals(64, reader.remaining(), id);
    // ... but an all-zero Ed25519 key is not a usable point (and does not match its private half).
    assertFalse(derived.get("ed25519_expanded_consistent").asBoolean(), id);
    MegolmDecodeException e =
        assertThrows(
            MegolmDecodeException.class,
            () ->
                OutboundGroupSession.fromLibolmPickle(
                    vector.get("pickle").asText(), LibolmPickleCases.key(vector)),
            id);
    assertTrue(e.getMessage().contains("not a valid point"), e.getMessage());
    String pickle = vector.get("pickle").asText();
    String tampered = pickle.substring(0, pickle.length() - 3) + "AAA";
    assertThrows(
        CryptoException.class,
        () -> OutboundGroupSession.fromLibolmPickle(tampered, LibolmPickleCases.key(vector)),
        vector.get("provenance").asText());
  }

  @Test
  void libolmPickle_rejectsKeyPairWhosePublicHalfDoesNotMatch() throws Exception {
    OutboundGroupSession other = OutboundGroupSession.create(new SecureRandom());
    byte[] random = hex(text("megolm.init_random (ratchet128||ed25519_seed32)"));
    byte[] expanded =
        Ed25519SecretKey.fromSeed(Arrays.copyOfRange(random, 128, 160)).exposeSecretBytes();
    PickleWriter writer =
        new PickleWriter().writeU32(1).writeBytes(Arrays.copyOf(random, 128)).writeU32(0);
    writer.writeBytes(other.signingKey().toBytes());
    String pickle =
        PickleCipher.libolm(GENERATED_PICKLE_KEY)
            .encrypt(writer.writeBytes(expandedOf(expanded)).toByteArray());
    MegolmDecodeException e =
        assertThrows(
            MegolmDecodeException.class,
            () -> OutboundGroupSession.fromLibolmPickle(pickle, GENERATED_PICKLE_KEY));
    assertTrue(e.getMessage().contains("does not match the private key"), e.getMessage());
  }

  /** libolm stores SHA-512(seed) clamped; our key may hold the seed, so expand it the same way. */
  private static byte[] expandedOf(byte[] secret) throws Exception {
    if (secret.length == 64) {
      return secret;
    }
    byte[] h = MessageDigest.getInstance("SHA-512").digest(secret);
    h[0] &= (byte) 248;
    h[31] &= 127;
    h[31] |= 64;
    return h;
  }

  @Test
  void libolmPickle_inboundPickleIsNotAnOutboundOne() {
    assertThrows(
        MegolmDecodeException.class,
        () ->
            OutboundGroupSession.fromLibolmPickle(
                text("megolm.inbound_pickle"), GENERATED_PICKLE_KEY));
  }

  @Test
  void pickle_roundTripContinuesIdentically() {
    OutboundGroupSession original = generatedSession();
    original.encrypt("first");
    String pickle = original.pickle(PICKLE_KEY);
    OutboundGroupSession restored = OutboundGroupSession.fromPickle(pickle, PICKLE_KEY);
    assertEquals(original.sessionId(), restored.sessionId());
    assertEquals(1, restored.messageIndex());
    assertEquals(original.encrypt("next").toBase64(), restored.encrypt("next").toBase64());
  }

  @Test
  void pickle_roundTripOfLibolmImportKeepsExpandedKey() {
    OutboundGroupSession imported =
        OutboundGroupSession.fromLibolmPickle(
            text("megolm.outbound_pickle_index3"), GENERATED_PICKLE_KEY);
    OutboundGroupSession restored =
        OutboundGroupSession.fromPickle(imported.pickle(PICKLE_KEY), PICKLE_KEY);
    assertEquals(text("megolm.session_key_index3"), restored.sessionKey().toBase64());
  }

  @Test
  void pickle_rejectsWrongKeyTamperingAndInboundPickles() {
    OutboundGroupSession session = OutboundGroupSession.create(new SecureRandom());
    String pickle = session.pickle(PICKLE_KEY);
    byte[] otherKey = new byte[32];
    otherKey[0] = 1;
    assertThrows(CryptoException.class, () -> OutboundGroupSession.fromPickle(pickle, otherKey));
    assertThrows(
        DecodeException.class, () -> OutboundGroupSession.fromPickle(pickle, new byte[16]));
    String inbound = InboundGroupSession.fromSessionKey(session.sessionKey()).pickle(PICKLE_KEY);
    MegolmDecodeException e =
        assertThrows(
            MegolmDecodeException.class,
            () -> OutboundGroupSession.fromPickle(inbound, PICKLE_KEY));
    assertTrue(e.getMessage().contains("not an outbound group session pickle"), e.getMessage());
  }

  @Test
  void create_isRandomAndStartsAtZero() {
    SecureRandom random = new SecureRandom();
    OutboundGroupSession a = OutboundGroupSession.create(random);
    OutboundGroupSession b = OutboundGroupSession.create(random);
    assertNotEquals(a.sessionId(), b.sessionId());
    assertEquals(0, a.messageIndex());
    assertEquals(43, a.sessionId().length());
  }

  @Test
  void encrypt_advancesAndNeverReusesAnIndex() {
    OutboundGroupSession session = OutboundGroupSession.create(new SecureRandom());
    MegolmMessage first = session.encrypt("same");
    MegolmMessage second = session.encrypt("same");
    assertEquals(0, first.messageIndex());
    assertEquals(1, second.messageIndex());
    assertNotEquals(first.toBase64(), second.toBase64());
  }

  @Test
  void encrypt_emptyAndLargePlaintexts() {
    OutboundGroupSession session = OutboundGroupSession.create(new SecureRandom());
    InboundGroupSession inbound = InboundGroupSession.fromSessionKey(session.sessionKey());
    byte[] large = new byte[70_000];
    new SecureRandom().nextBytes(large);
    for (byte[] plaintext : new byte[][] {new byte[0], new byte[15], new byte[16], large}) {
      DecryptedMessage decrypted = inbound.decrypt(session.encrypt(plaintext));
      assertEquals(hex(plaintext), hex(decrypted.plaintext()), "length " + plaintext.length);
    }
  }

  @Test
  void toString_showsOnlySessionId() {
    OutboundGroupSession session = generatedSession();
    assertEquals(
        "OutboundGroupSession[sessionId=" + text("megolm.session_id") + "]", session.toString());
  }
}
