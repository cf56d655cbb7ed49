package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.MegolmVectors.hex;
import static io.github.mxe2ee.megolm.OutboundGroupSessionTest.GENERATED_PICKLE_KEY;
import static io.github.mxe2ee.megolm.OutboundGroupSessionTest.generatedSession;
import static io.github.mxe2ee.megolm.OutboundGroupSessionTest.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.megolm.MegolmDecryptionException.Reason;
import io.github.mxe2ee.pickle.PickleReader;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class InboundGroupSessionTest {
  private static final JsonNode GROUP = MegolmVectors.load("megolm_group_session_libolm.json");
  private static final byte[] PICKLE_KEY = new byte[32];

  static InboundGroupSession fromKeyAtZero() {
    return InboundGroupSession.fromSessionKey(
        SessionKey.fromBase64(text("megolm.session_key_index0")));
  }

  static MegolmMessage generatedMessage(int i) {
    return MegolmMessage.fromBase64(text("megolm.msg" + i + ".ciphertext"));
  }

  /** The session's state as stored: the decrypted plaintext of its pickle. */
  static String state(InboundGroupSession session) {
    return hex(PickleCipher.mxe2ee(PICKLE_KEY).decrypt(session.pickle(PICKLE_KEY)));
  }

  static MegolmDecryptionException assertFails(
      Reason reason, InboundGroupSession session, MegolmMessage message, String id) {
    String before = state(session);
    MegolmDecryptionException e =
        assertThrows(MegolmDecryptionException.class, () -> session.decrypt(message), id);
    assertEquals(reason, e.reason(), id);
    assertEquals(before, state(session), id + ": session changed by a failed decrypt");
    return e;
  }

  @Test
  void libolmVectors_decryptMessageAndRejectTamperedSignature() {
    for (JsonNode vector : GROUP.get("cases")) {
      String id = vector.get("name").asText();
      InboundGroupSession session =
          InboundGroupSession.fromSessionKey(
              SessionKey.fromBase64(vector.get("session_key_v2_b64").asText()));
      assertTrue(session.isSigningKeyVerified(), id);
      MegolmMessage message = MegolmMessage.fromBase64(vector.get("message_b64").asText());
      if (vector.has("expected_error")) {
        assertFails(Reason.BAD_SIGNATURE, session, message, id);
        continue;
      }
      DecryptedMessage decrypted = session.decrypt(message);
      assertEquals(vector.get("expected_plaintext").asText(), decrypted.plaintextUtf8(), id);
      assertEquals(vector.get("expected_message_index").asLong(), decrypted.messageIndex(), id);
      assertEquals(
          vector.get("derived").get("exported_session_key_v1_at_index0_b64").asText(),
          session.exportAt(0).orElseThrow().toBase64(),
          id);
    }
  }

  @Test
  void generated_decryptsAllMessagesInAnyOrder() {
    InboundGroupSession session = fromKeyAtZero();
    for (int i : new int[] {2, 0, 1, 1, 2, 0}) {
      DecryptedMessage decrypted = session.decrypt(generatedMessage(i));
      assertEquals(
          text("megolm.msg" + i + ".plaintext"), decrypted.plaintextUtf8(), "megolm.msg" + i);
      assertEquals(i, decrypted.messageIndex(), "megolm.msg" + i);
    }
    assertEquals(0, session.firstKnownIndex());
  }

  @Test
  void generated_exportAtOneMatchesLibolmAndCannotReachBack() {
    InboundGroupSession full = fromKeyAtZero();
    String id = "megolm.exported_session_key_index1";
    assertEquals(text(id), full.exportAt(1).orElseThrow().toBase64(), id);
    InboundGroupSession imported =
        InboundGroupSession.fromExportedSessionKey(ExportedSessionKey.fromBase64(text(id)));
    assertEquals(
        GENERATED_long("megolm.imported.first_known_index"), imported.firstKnownIndex(), id);
    assertEquals(
        GENERATED_long("megolm.imported.is_verified_before_decrypt") != 0,
        imported.isSigningKeyVerified(),
        id);
    MegolmDecryptionException e =
        assertFails(Reason.UNKNOWN_MESSAGE_INDEX, imported, generatedMessage(0), id);
    assertEquals("unknown_message_index", e.kind());
    assertEquals(
        text("megolm.imported.decrypt_msg0_error"),
        e.reason().name(),
        "megolm.imported.decrypt_msg0_error");
    assertEquals(
        text("megolm.msg2.plaintext"), imported.decrypt(generatedMessage(2)).plaintextUtf8(), id);
    assertEquals(
        text("megolm.msg1.plaintext"), imported.decrypt(generatedMessage(1)).plaintextUtf8(), id);
    assertTrue(imported.exportAt(0).isEmpty(), id);
  }

  private static long GENERATED_long(String key) {
    return OutboundGroupSessionTest.GENERATED.get(key).asLong();
  }

  @Test
  void generated_keyAtIndexThreeDecryptsNoEarlierMessage() {
    InboundGroupSession session =
        InboundGroupSession.fromSessionKey(
            SessionKey.fromBase64(text("megolm.session_key_index3")));
    assertEquals(3, session.firstKnownIndex());
    for (int i = 0; i < 3; i++) {
      assertFails(Reason.UNKNOWN_MESSAGE_INDEX, session, generatedMessage(i), "megolm.msg" + i);
    }
  }

  @Test
  void libolmPickle_generatedInboundImportsAndDecrypts() {
    String id = "megolm.inbound_pickle";
    JsonNode parsed = OutboundGroupSessionTest.DERIVED.get("megolm_inbound_pickle_parsed");
    InboundGroupSession session =
        InboundGroupSession.fromLibolmPickle(text(id), GENERATED_PICKLE_KEY);
    assertEquals(parsed.get("initial_counter").asLong(), session.firstKnownIndex(), id);
    assertEquals(parsed.get("latest_counter").asLong(), session.latestRatchet().indexAsLong(), id);
    assertEquals(
        parsed.get("signing_key_verified").asBoolean(), session.isSigningKeyVerified(), id);
    assertEquals(text("megolm.session_id"), session.sessionId(), id);
    for (int i : new int[] {0, 2, 1}) {
      assertEquals(
          text("megolm.msg" + i + ".plaintext"),
          session.decrypt(generatedMessage(i)).plaintextUtf8(),
          id);
    }
    assertEquals(
        fromKeyAtZero().exportAtFirstKnownIndex().toBase64(),
        session.exportAtFirstKnownIndex().toBase64(),
        id);
    InboundGroupSession restored =
        InboundGroupSession.fromPickle(session.pickle(PICKLE_KEY), PICKLE_KEY);
    assertEquals(state(session), state(restored), id + " re-pickled");
  }

  @Test
  void libolmPickle_goolmZeroKeyPickleParsesButItsKeyIsRejected() {
    JsonNode vector = LibolmPickleCases.get("megolm_inbound_pickle_libolm_roundtrip");
    String id = vector.get("name").asText();
    JsonNode derived = vector.get("derived");
    byte[] plain =
        PickleCipher.libolm(LibolmPickleCases.key(vector)).decrypt(vector.get("pickle").asText());
    PickleReader reader = new PickleReader(plain);
    assertEquals(derived.get("pickle_version").asLong(), reader.readU32(), id);
    assertEquals(derived.get("initial_ratchet_hex").asText(), hex(reader.readBytes(128)), id);
    assertEquals(derived.get("initial_counter").asLong(), reader.readU32(), id);
    reader.readBytes(128);
    assertEquals(derived.get("latest_counter").asLong(), reader.readU32(), id);
    assertEquals(
        derived.get("signing_key_b64").asText(), UnpaddedBase64.encode(reader.readBytes(32)), id);
    assertEquals(derived.get("signing_key_verified").asBoolean(), reader.readBool(), id);
    assertEquals(0, reader.remaining(), id);
    MegolmDecodeException e =
        assertThrows(
            MegolmDecodeException.class,
            () ->
                InboundGroupSession.fromLibolmPickle(
                    vector.get("pickle").asText(), LibolmPickleCases.key(vector)),
            id);
    assertTrue(e.getMessage().contains("not a valid point"), e.getMessage());
  }

  @Test
  void libolmPickle_wrongKeyTruncatedOrExtendedIsTyped() {
    assertThrows(
        CryptoException.class,
        () -> InboundGroupSession.fromLibolmPickle(text("megolm.inbound_pickle"), new byte[3]));
    byte[] plain = PickleCipher.libolm(GENERATED_PICKLE_KEY).decrypt(text("megolm.inbound_pickle"));
    PickleCipher cipher = PickleCipher.libolm(GENERATED_PICKLE_KEY);
    String truncated = cipher.encrypt(Arrays.copyOf(plain, plain.length - 1));
    String extended = cipher.encrypt(Arrays.copyOf(plain, plain.length + 1));
    byte[] version3 = plain.clone();
    version3[3] = 3;
    assertThrows(
        io.github.mxe2ee.crypto.DecodeException.class,
        () -> InboundGroupSession.fromLibolmPickle(truncated, GENERATED_PICKLE_KEY));
    assertThrows(
        MegolmDecodeException.class,
        () -> InboundGroupSession.fromLibolmPickle(extended, GENERATED_PICKLE_KEY));
    MegolmDecodeException e =
        assertThrows(
            MegolmDecodeException.class,
            () ->
                InboundGroupSession.fromLibolmPickle(
                    cipher.encrypt(version3), GENERATED_PICKLE_KEY));
    assertTrue(e.getMessage().contains("expected 1 or 2, got 3"), e.getMessage());
  }

  @Test
  void libolmPickle_versionOneHasNoFlagAndCountsAsVerified() {
    byte[] plain = PickleCipher.libolm(GENERATED_PICKLE_KEY).decrypt(text("megolm.inbound_pickle"));
    byte[] v1 = Arrays.copyOf(plain, plain.length - 1);
    v1[3] = 1;
    InboundGroupSession session =
        InboundGroupSession.fromLibolmPickle(
            PickleCipher.libolm(GENERATED_PICKLE_KEY).encrypt(v1), GENERATED_PICKLE_KEY);
    assertTrue(session.isSigningKeyVerified());
    assertEquals(
        text("megolm.msg1.plaintext"), session.decrypt(generatedMessage(1)).plaintextUtf8());
  }

  @Test
  void pickle_roundTripKeepsFlagsAndCache() {
    InboundGroupSession session =
        InboundGroupSession.fromExportedSessionKey(
            ExportedSessionKey.fromBase64(text("megolm.exported_session_key_index1")));
    session.decrypt(generatedMessage(2));
    InboundGroupSession restored =
        InboundGroupSession.fromPickle(session.pickle(PICKLE_KEY), PICKLE_KEY);
    assertEquals(state(session), state(restored));
    assertFalse(restored.isSigningKeyVerified());
    assertEquals(1, restored.firstKnownIndex());
    assertEquals(2, restored.latestRatchet().indexAsLong());
    assertEquals(
        text("megolm.msg1.plaintext"), restored.decrypt(generatedMessage(1)).plaintextUtf8());
  }

  @Test
  void pickle_rejectsOutboundPickleAndWrongKey() {
    String outbound = generatedSession().pickle(PICKLE_KEY);
    MegolmDecodeException e =
        assertThrows(
            MegolmDecodeException.class,
            () -> InboundGroupSession.fromPickle(outbound, PICKLE_KEY));
    assertTrue(e.getMessage().contains("not an inbound group session pickle"), e.getMessage());
    String inbound = fromKeyAtZero().pickle(PICKLE_KEY);
    byte[] other = new byte[32];
    other[31] = 9;
    assertThrows(CryptoException.class, () -> InboundGroupSession.fromPickle(inbound, other));
  }

  @Test
  void decrypt_tamperedSignatureMacCiphertextAndPadding() {
    Ed25519SecretKey key = signingKeyOfGenerated();
    InboundGroupSession session = fromKeyAtZero();
    byte[] valid = generatedMessage(1).toBytes();
    int macAt = valid.length - 72;
    for (int position : new int[] {0 + 2, 5, macAt - 1, macAt, macAt + 7, valid.length - 1}) {
      byte[] flipped = valid.clone();
      flipped[position] ^= 0x04;
      assertFails(
          Reason.BAD_SIGNATURE, session, MegolmMessage.fromBytes(flipped), "flip at " + position);
    }
    // Re-signed by the real key, so only the MAC can catch the change.
    for (int position : new int[] {5, 40, macAt - 1, macAt, macAt + 7}) {
      byte[] flipped = valid.clone();
      flipped[position] ^= 0x04;
      assertFails(Reason.BAD_MAC, session, resign(flipped, key), "re-signed flip at " + position);
    }
    // Signed by another key.
    byte[] otherSigned =
        resign(valid.clone(), Ed25519SecretKey.generate(new SecureRandom())).toBytes();
    assertFails(Reason.BAD_SIGNATURE, session, MegolmMessage.fromBytes(otherSigned), "other key");
    // Correct MAC and signature, but the plaintext block ends in padding byte 0x00.
    assertFails(
        Reason.BAD_PADDING, session, forgeWithRawBlock(1, new byte[16], key), "bad padding");
    assertFails(
        Reason.BAD_PADDING, session, forgeWithCiphertext(1, new byte[15], key), "partial block");
    assertFails(
        Reason.BAD_PADDING, session, forgeWithCiphertext(1, new byte[0], key), "empty ciphertext");
    assertEquals(
        text("megolm.msg1.plaintext"), session.decrypt(generatedMessage(1)).plaintextUtf8());
  }

  @Test
  void decrypt_farIndicesWithoutStepByStepReplay() {
    Ed25519SecretKey key = signingKeyOfGenerated();
    byte[] r0 = fromKeyAtZero().exportAtFirstKnownIndex().ratchet().toBytes();
    InboundGroupSession session = fromKeyAtZero();
    for (int index : new int[] {0x1000003, 0xfffffffe, 0x10000, 0x1000003}) {
      OutboundGroupSession sender = OutboundGroupSession.fromParts(r0, 0, key);
      Ratchet expected = Ratchet.fromBytes(r0, 0);
      expected.advanceTo(index);
      OutboundGroupSession at = OutboundGroupSession.fromParts(expected.toBytes(), index, key);
      assertEquals(sender.sessionId(), at.sessionId());
      DecryptedMessage decrypted = session.decrypt(at.encrypt("far " + index));
      assertEquals("far " + index, decrypted.plaintextUtf8());
      assertEquals(Integer.toUnsignedLong(index), decrypted.messageIndex());
    }
  }

  @Test
  void compareAndMerge() {
    InboundGroupSession zero = fromKeyAtZero();
    InboundGroupSession one =
        InboundGroupSession.fromExportedSessionKey(
            ExportedSessionKey.fromBase64(text("megolm.exported_session_key_index1")));
    InboundGroupSession three =
        InboundGroupSession.fromSessionKey(
            SessionKey.fromBase64(text("megolm.session_key_index3")));
    assertEquals(SessionOrdering.BETTER, zero.compare(one));
    assertEquals(SessionOrdering.WORSE, one.compare(zero));
    assertEquals(SessionOrdering.EQUAL, zero.compare(fromKeyAtZero()));
    assertEquals(SessionOrdering.WORSE, three.compare(one));
    InboundGroupSession libolmCase =
        InboundGroupSession.fromSessionKey(
            SessionKey.fromBase64(GROUP.get("cases").get(0).get("session_key_v2_b64").asText()));
    assertEquals(SessionOrdering.UNCONNECTED, zero.compare(libolmCase));
    assertTrue(zero.merge(libolmCase).isEmpty());

    // Same signing key, different ratchet: not the same session.
    byte[] forged = UnpaddedBase64.decode(text("megolm.exported_session_key_index1"));
    forged[10] ^= 1;
    InboundGroupSession impostor =
        InboundGroupSession.fromExportedSessionKey(ExportedSessionKey.fromBytes(forged));
    assertEquals(zero.sessionId(), impostor.sessionId());
    assertEquals(SessionOrdering.UNCONNECTED, zero.compare(impostor));
    assertEquals(SessionOrdering.UNCONNECTED, impostor.compare(zero));

    // The unverified export at 0 merged with the verified key at 3 gives a verified session at 0.
    InboundGroupSession unverifiedZero =
        InboundGroupSession.fromExportedSessionKey(zero.exportAt(0).orElseThrow());
    assertFalse(unverifiedZero.isSigningKeyVerified());
    InboundGroupSession merged = three.merge(unverifiedZero).orElseThrow();
    assertEquals(0, merged.firstKnownIndex());
    assertTrue(merged.isSigningKeyVerified());
    assertEquals(SessionOrdering.EQUAL, merged.compare(zero));
    assertEquals(
        text("megolm.msg0.plaintext"), merged.decrypt(generatedMessage(0)).plaintextUtf8());
    assertFalse(one.merge(unverifiedZero).orElseThrow().isSigningKeyVerified());
  }

  @Test
  void exportAt_rangeChecks() {
    InboundGroupSession session = fromKeyAtZero();
    assertThrows(IllegalArgumentException.class, () -> session.exportAt(-1));
    assertThrows(IllegalArgumentException.class, () -> session.exportAt(1L << 32));
    assertEquals(0xffffffffL, session.exportAt(0xffffffffL).orElseThrow().messageIndex());
  }

  @Test
  void decrypt_isSafeFromManyThreads() throws Exception {
    OutboundGroupSession sender = OutboundGroupSession.create(new SecureRandom());
    InboundGroupSession session = InboundGroupSession.fromSessionKey(sender.sessionKey());
    List<MegolmMessage> messages = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      messages.add(sender.encrypt("m" + i));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        MegolmMessage message = messages.get((i * 37) % 200);
        results.add(pool.submit(() -> session.decrypt(message).plaintextUtf8()));
      }
      for (int i = 0; i < 200; i++) {
        assertEquals("m" + ((i * 37) % 200), results.get(i).get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void toStringAndDecryptedMessage_hideSecrets() {
    InboundGroupSession session = fromKeyAtZero();
    assertEquals(
        "InboundGroupSession[sessionId="
            + text("megolm.session_id")
            + ", firstKnownIndex=0, verified=true]",
        session.toString());
    DecryptedMessage decrypted = session.decrypt(generatedMessage(0));
    assertFalse(decrypted.toString().contains("zero"));
    byte[] plaintext = decrypted.plaintext();
    plaintext[0] = 0;
    assertArrayEquals(
        text("megolm.msg0.plaintext").getBytes(java.nio.charset.StandardCharsets.UTF_8),
        decrypted.plaintext());
  }

  static Ed25519SecretKey signingKeyOfGenerated() {
    byte[] random = hex(text("megolm.init_random (ratchet128||ed25519_seed32)"));
    return Ed25519SecretKey.fromSeed(Arrays.copyOfRange(random, 128, 160));
  }

  /** Replaces the signature with one by {@code key} over the (possibly altered) bytes. */
  static MegolmMessage resign(byte[] encoded, Ed25519SecretKey key) {
    int signed = MegolmMessage.signatureInputLength(encoded);
    byte[] signature = key.sign(Arrays.copyOf(encoded, signed)).toBytes();
    System.arraycopy(signature, 0, encoded, signed, signature.length);
    return MegolmMessage.fromBytes(encoded);
  }

  /**
   * A message at {@code index} of the generated session with a chosen ciphertext, MACed and signed.
   */
  static MegolmMessage forgeWithCiphertext(int index, byte[] ciphertext, Ed25519SecretKey key) {
    Ratchet ratchet = fromKeyAtZero().exportAt(index).orElseThrow().ratchet();
    byte[] out = MegolmMessage.unsealed(index, ciphertext);
    int macInput = MegolmMessage.macInputLength(out);
    MessageKeys keys = MessageKeys.derive(ratchet);
    System.arraycopy(keys.truncatedMac(out, macInput), 0, out, macInput, MegolmMessage.MAC_LENGTH);
    return resign(out, key);
  }

  /**
   * As above, with the ciphertext being the raw AES-CBC encryption of {@code block} (no padding).
   */
  static MegolmMessage forgeWithRawBlock(int index, byte[] block, Ed25519SecretKey key) {
    Ratchet ratchet = fromKeyAtZero().exportAt(index).orElseThrow().ratchet();
    byte[] derived =
        io.github.mxe2ee.crypto.Hkdf.sha256(
            null,
            ratchet.toBytes(),
            "MEGOLM_KEYS".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            80);
    try {
      javax.crypto.Cipher aes = javax.crypto.Cipher.getInstance("AES/CBC/NoPadding");
      aes.init(
          javax.crypto.Cipher.ENCRYPT_MODE,
          new javax.crypto.spec.SecretKeySpec(derived, 0, 32, "AES"),
          new javax.crypto.spec.IvParameterSpec(derived, 64, 16));
      return forgeWithCiphertext(index, aes.doFinal(block), key);
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void errorMessages_carryIdsNeverSecrets() {
    InboundGroupSession session = fromKeyAtZero();
    Ed25519SecretKey key = signingKeyOfGenerated();
    byte[] valid = generatedMessage(1).toBytes();
    byte[] flipped = valid.clone();
    flipped[10] ^= 1;
    List<MegolmDecryptionException> errors = new ArrayList<>();
    for (MegolmMessage bad :
        new MegolmMessage[] {
          MegolmMessage.fromBytes(flipped),
          resign(flipped, key),
          forgeWithRawBlock(1, new byte[16], key)
        }) {
      errors.add(assertThrows(MegolmDecryptionException.class, () -> session.decrypt(bad)));
    }
    String ratchetHex = hex(fromKeyAtZero().exportAtFirstKnownIndex().ratchet().toBytes());
    for (MegolmDecryptionException e : errors) {
      String message = e.getMessage();
      assertTrue(
          message.contains(text("megolm.session_id")) && message.contains("index 1"), message);
      assertFalse(message.contains(ratchetHex.substring(0, 16)), message);
      assertFalse(message.contains("room.message"), message);
    }
  }
}
