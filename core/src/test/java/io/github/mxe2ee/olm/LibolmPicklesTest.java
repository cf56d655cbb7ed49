package io.github.mxe2ee.olm;

import static io.github.mxe2ee.olm.TestVectors.ascii;
import static io.github.mxe2ee.olm.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.PickleCipher;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Imports the libolm pickles of libolm_pickles.json (Olm account and session cases). */
class LibolmPicklesTest {
  private static final JsonNode CASES = TestVectors.load("libolm_pickles.json").get("cases");

  private static JsonNode vector(String name) {
    for (JsonNode c : CASES) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalStateException("no vector " + name);
  }

  private static byte[] key(JsonNode c) {
    return ascii(c.get("pickle_key_ascii").asText());
  }

  private static Session importSession(String name) {
    JsonNode c = vector(name);
    return Session.fromLibolmPickle(c.get("pickle").asText(), key(c));
  }

  private static Account importAccount(String name) {
    JsonNode c = vector(name);
    return Account.fromLibolmPickle(c.get("pickle").asText(), key(c));
  }

  @Test
  void sessionV1AndV0x80000001_importToTheExpectedState() {
    byte[] first = null;
    for (String name : new String[] {"olm_session_pickle_v1", "olm_session_pickle_v0x80000001"}) {
      JsonNode c = vector(name);
      JsonNode e = c.get("expected");
      Session s = importSession(name);
      RatchetState st = s.state();
      assertEquals(c.get("derived").get("session_id").asText(), s.sessionId(), name);
      assertFalse(s.hasReceivedMessage(), name);
      assertEquals(e.get("root_key_hex").asText(), hex(st.rootKey().exposeSecretBytes()), name);
      JsonNode sender = e.get("sender_chain").get(0);
      assertEquals(
          sender.get("ratchet_public_hex").asText(),
          hex(st.senderChain().ratchetPublicKey().toBytes()),
          name);
      assertEquals(
          sender.get("ratchet_private_hex").asText(),
          hex(st.senderChain().ratchetKey().exposeSecretBytes()),
          name);
      assertEquals(
          c.get("derived").get("sender_chain_key_hex").asText(),
          hex(st.senderChain().chainKey().exposeSecretBytes()),
          name);
      assertEquals(0, st.receiverChains().size(), name);
      assertEquals(0, st.skippedMessageKeys().size(), name);
      assertEquals(
          e.get("alice_identity_key_hex").asText(),
          hex(s.sessionKeys().identityKey().toBytes()),
          name);
      assertEquals(e.get("alice_base_key_hex").asText(), hex(s.sessionKeys().baseKey().toBytes()));
      assertEquals(
          e.get("bob_one_time_key_hex").asText(), hex(s.sessionKeys().oneTimeKey().toBytes()));
      byte[] encoded = SessionPickle.encode(s);
      if (first != null) {
        assertArrayEquals(first, encoded, "both versions hold the same session");
      }
      first = encoded;
    }
  }

  @Test
  void importedOutboundSession_keepsEncryptingOnItsChain() {
    JsonNode c = vector("olm_session_pickle_v1");
    Session s = importSession("olm_session_pickle_v1");
    ChainKey chainKey = new ChainKey(hex(c.get("derived").get("sender_chain_key_hex").asText()), 0);
    for (int i = 0; i < 3; i++) {
      PreKeyMessage m = assertInstanceOf(PreKeyMessage.class, s.encrypt("hello " + i));
      assertTrue(s.matchesInboundSession(m));
      assertEquals(i, m.message().chainIndex());
      assertEquals(
          c.get("expected").get("sender_chain").get(0).get("ratchet_public_hex").asText(),
          hex(m.message().ratchetKey().toBytes()));
      assertEquals("hello " + i, Session.strictUtf8(chainKey.messageKey().decrypt(m.message())));
      chainKey = chainKey.next();
    }
  }

  @Test
  void inboundSessionWithEmptyKey_importsAndStaysUnchangedOnBadInput() {
    JsonNode c = vector("olm_session_pickle_empty_key_with_bad_prekey_messages");
    JsonNode d = c.get("derived");
    Session s = importSession(c.get("name").asText());
    assertTrue(s.hasReceivedMessage());
    assertEquals(d.get("root_key_hex").asText(), hex(s.state().rootKey().exposeSecretBytes()));
    assertNull(s.state().senderChain());
    assertEquals(1, s.state().receiverChains().size());
    assertEquals(
        d.get("alice_identity_key_b64").asText(), s.sessionKeys().identityKey().toBase64());
    assertEquals(d.get("alice_base_key_b64").asText(), s.sessionKeys().baseKey().toBase64());
    assertEquals(d.get("bob_one_time_key_b64").asText(), s.sessionKeys().oneTimeKey().toBase64());
    byte[] before = SessionPickle.encode(s);
    for (JsonNode bad : c.get("malformed_prekey_messages_raw_hex_expected_error")) {
      String id = bad.get("message_hex").asText();
      assertThrows(
          OlmDecodeException.class,
          () ->
              s.decrypt(
                  AnyOlmMessage.fromBase64(
                      0, io.github.mxe2ee.crypto.UnpaddedBase64.encode(hex(id)))),
          id);
    }
    // a well-formed message on an unknown chain: Bob has no sender chain yet
    OlmMessage stranger =
        OlmMessage.of(Curve25519PublicKey.fromBytes(new byte[32]), 0, new byte[16], new byte[8]);
    OlmDecryptionException e =
        assertThrows(OlmDecryptionException.class, () -> s.decrypt(stranger));
    assertEquals(OlmDecryptionException.Reason.UNEXPECTED_RATCHET_KEY, e.reason());
    assertArrayEquals(before, SessionPickle.encode(s));
  }

  @Test
  void accountV1_isRejectedLikeLibolm() {
    OlmDecodeException e =
        assertThrows(
            OlmDecodeException.class, () -> importAccount("account_pickle_v1_legacy_must_reject"));
    assertTrue(e.getMessage().contains("version 1"), e.getMessage());
  }

  @Test
  void accountV4_with42OneTimeKeysAndExpandedEd25519Key() throws Exception {
    JsonNode c = vector("account_pickle_v4_libolm_42_otks");
    JsonNode e = c.get("expected");
    JsonNode d = c.get("derived");
    Account a = importAccount(c.get("name").asText());
    assertTrue(a.signingKey().isExpanded());
    assertEquals(e.get("ed25519_public_b64").asText(), a.ed25519Key().toBase64());
    assertEquals(e.get("curve25519_public_b64").asText(), a.curve25519Key().toBase64());
    assertEquals(
        e.get("ed25519_private_expanded_hex").asText(), hex(a.signingKey().exposeSecretBytes()));
    assertEquals(
        e.get("curve25519_private_hex").asText(), hex(a.identitySecretKey().exposeSecretBytes()));
    JsonNode ids = new ObjectMapper().readTree(d.get("identity_keys_json_libolm").asText());
    assertEquals(ids.get("curve25519").asText(), a.identityKeys().curve25519().toBase64());
    assertEquals(ids.get("ed25519").asText(), a.identityKeys().ed25519().toBase64());
    assertEquals(
        d.get("ed25519_signature_of_ascii_'Hello, World'_b64").asText(),
        a.sign("Hello, World").toBase64());
    assertEquals(e.get("next_one_time_key_id").asLong(), a.nextKeyId());
    assertEquals(Map.of(), a.fallbackKey());
    Map<String, Curve25519PublicKey> otks = a.oneTimeKeys();
    assertEquals(e.get("num_one_time_keys").asInt(), otks.size());
    for (JsonNode k : d.get("one_time_keys")) {
      String id = k.get("key_id_b64_libolm").asText();
      assertEquals(k.get("public_b64").asText(), otks.get(id).toBase64(), id);
    }
    assertEquals("AAAAAQ", otks.keySet().iterator().next(), "oldest first");

    // keeps working: a peer uses one-time key 42, then new keys continue the counter
    Account alice = Account.create(new SecureRandom());
    Curve25519PublicKey otk42 = otks.get("AAAAKg");
    Session outbound = alice.createOutboundSession(a.curve25519Key(), otk42);
    PreKeyMessage m = (PreKeyMessage) outbound.encrypt("to the imported account");
    InboundCreationResult r = a.createInboundSession(alice.curve25519Key(), m);
    assertEquals("to the imported account", r.plaintext());
    assertFalse(a.oneTimeKeys().containsKey("AAAAKg"));
    assertEquals(41, a.storedOneTimeKeyCount());
    assertTrue(a.generateOneTimeKeys(1).containsKey("AAAAKw"));
    assertEquals("reply", outbound.decrypt(r.session().encrypt("reply")));
  }

  @Test
  void accountV3_withPublishedFallbackKey_keepsAcceptingSessionsOnIt() throws Exception {
    JsonNode c = vector("account_pickle_v3_with_fallback_key");
    JsonNode d = c.get("derived");
    Account a = importAccount(c.get("name").asText());
    assertEquals(d.get("ed25519_public_b64").asText(), a.ed25519Key().toBase64());
    assertEquals(d.get("curve25519_public_b64").asText(), a.curve25519Key().toBase64());
    assertEquals(Map.of(), a.oneTimeKeys());
    assertEquals(Map.of(), a.fallbackKey(), "unpublished_fallback_key_json is empty");
    assertNull(a.previousFallbackKey());
    JsonNode fallback =
        new ObjectMapper()
            .readTree(c.get("expected").get("fallback_key_json").asText())
            .get("curve25519");
    assertEquals(fallback.get("AAAAAQ").asText(), a.currentFallbackKey().publicKey().toBase64());

    Account alice = Account.create(new SecureRandom());
    Session outbound =
        alice.createOutboundSession(
            a.curve25519Key(), Curve25519PublicKey.fromBase64(fallback.get("AAAAAQ").asText()));
    PreKeyMessage m = (PreKeyMessage) outbound.encrypt("via the fallback key");
    assertEquals("via the fallback key", a.createInboundSession(m).plaintext());
    assertEquals("again", a.createInboundSession(m).session().decrypt(outbound.encrypt("again")));
    assertEquals(Map.of("AAAAAg", a.generateFallbackKey().get("AAAAAg")), a.fallbackKey());
  }

  @Test
  void allZeroSession_withoutAnyChain_isRejected() {
    // libolm re-pickles this degenerate session; like vodozemac we refuse a session that can
    // neither send nor receive.
    OlmDecodeException e =
        assertThrows(
            OlmDecodeException.class, () -> importSession("olm_session_pickle_libolm_roundtrip"));
    assertTrue(e.getMessage().contains("neither a sender nor a receiver chain"), e.getMessage());
  }

  @Test
  void wrongKeyOrTamperedPickle_isRejectedWithCryptoException() {
    JsonNode c = vector("olm_session_pickle_v1");
    String pickle = c.get("pickle").asText();
    assertThrows(CryptoException.class, () -> Session.fromLibolmPickle(pickle, ascii("wrong")));
    char last = pickle.charAt(pickle.length() - 3);
    String tampered =
        pickle.substring(0, pickle.length() - 3)
            + (last == 'A' ? 'B' : 'A')
            + pickle.substring(pickle.length() - 2);
    assertThrows(CryptoException.class, () -> Session.fromLibolmPickle(tampered, key(c)));
    assertThrows(DecodeException.class, () -> Session.fromLibolmPickle("***", key(c)));
  }

  private static byte[] plain(JsonNode c) {
    return PickleCipher.libolm(key(c)).decrypt(c.get("pickle").asText());
  }

  private static String repickle(JsonNode c, byte[] plain) {
    return PickleCipher.libolm(key(c)).encrypt(plain);
  }

  @Test
  void malformedSessionPickles_areRejectedWithDecodeExceptions() {
    JsonNode c = vector("olm_session_pickle_v1");
    byte[] plain = plain(c);
    for (int len = 0; len < plain.length; len++) {
      String p = repickle(c, Arrays.copyOf(plain, len));
      assertThrows(DecodeException.class, () -> Session.fromLibolmPickle(p, key(c)), "len " + len);
    }
    String trailing = repickle(c, Arrays.copyOf(plain, plain.length + 1));
    assertThrows(OlmDecodeException.class, () -> Session.fromLibolmPickle(trailing, key(c)));
    byte[] v2 = plain.clone();
    v2[3] = 2;
    OlmDecodeException e =
        assertThrows(
            OlmDecodeException.class, () -> Session.fromLibolmPickle(repickle(c, v2), key(c)));
    assertTrue(e.getMessage().contains("got 0x2"), e.getMessage());
    byte[] badPublic = plain.clone();
    badPublic[4 + 1 + 96 + 32 + 4] ^= 1; // sender chain ratchet public key
    assertThrows(
        OlmDecodeException.class, () -> Session.fromLibolmPickle(repickle(c, badPublic), key(c)));
    byte[] tooManySenders = plain.clone();
    tooManySenders[4 + 1 + 96 + 32 + 3] = 2;
    assertThrows(
        DecodeException.class, () -> Session.fromLibolmPickle(repickle(c, tooManySenders), key(c)));
  }

  @Test
  void malformedAccountPickles_areRejectedWithDecodeExceptions() {
    JsonNode c = vector("account_pickle_v3_with_fallback_key");
    byte[] plain = plain(c);
    for (int len = 0; len < plain.length; len += 7) {
      String p = repickle(c, Arrays.copyOf(plain, len));
      assertThrows(DecodeException.class, () -> Account.fromLibolmPickle(p, key(c)), "len " + len);
    }
    byte[] v5 = plain.clone();
    v5[3] = 5;
    assertThrows(OlmDecodeException.class, () -> Account.fromLibolmPickle(repickle(c, v5), key(c)));
    byte[] badCurve = plain.clone();
    badCurve[4 + 32 + 64] ^= 1; // stored Curve25519 public identity key
    assertThrows(
        OlmDecodeException.class, () -> Account.fromLibolmPickle(repickle(c, badCurve), key(c)));
    byte[] badEd = plain.clone();
    badEd[4 + 32] ^= 1; // expanded Ed25519 scalar no longer matches the public key
    assertThrows(
        OlmDecodeException.class, () -> Account.fromLibolmPickle(repickle(c, badEd), key(c)));
  }
}
