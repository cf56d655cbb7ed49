package io.github.mxe2ee.olm;

import static io.github.mxe2ee.olm.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Replays the full deterministic libolm 3.2.16 run of olm_megolm_libolm_generated.json: the same
 * fixed "random" inputs must give byte-identical keys, messages, session ids and intermediates.
 */
class LibolmSessionVectorTest {
  private static final JsonNode OUT = TestVectors.libolmOutput();
  private static final JsonNode DERIVED = TestVectors.generatedIntermediates();

  private static String out(String key) {
    JsonNode n = OUT.get(key);
    if (n == null) {
      throw new IllegalStateException("vector key missing: " + key);
    }
    return n.asText();
  }

  private static JsonNode json(String key) throws Exception {
    return new ObjectMapper().readTree(out(key));
  }

  /** The whole conversation, built step by step with the vector's random inputs. */
  static final class Run {
    final FeedRandom aliceRandom = new FeedRandom();
    final FeedRandom bobRandom = new FeedRandom();
    final Account alice;
    final Account bob;
    Session aliceSession;
    Session bobSession;

    Run() {
      aliceRandom.feedHex(out("alice.create_account_random"));
      alice = Account.create(aliceRandom);
      bobRandom.feedHex(out("bob.create_account_random"));
      bob = Account.create(bobRandom);
      bobRandom.feedHex(out("bob.generate_2_one_time_keys_random"));
      bob.generateOneTimeKeys(2);
      bobRandom.feedHex(out("bob.generate_fallback_key_random"));
      bob.generateFallbackKey();
    }

    Session aliceOutbound() {
      aliceRandom.feedHex(out("alice.create_outbound_session_random (base_key||ratchet_key)"));
      aliceSession =
          alice.createOutboundSession(
              Curve25519PublicKey.fromBase64(out("alice_uses.bob_identity_key")),
              Curve25519PublicKey.fromBase64(out("alice_uses.bob_one_time_key (id AAAAAQ)")));
      return aliceSession;
    }
  }

  @Test
  void accounts_matchLibolmIdentityKeysOneTimeKeysAndSignature() throws Exception {
    Run run = new Run();
    JsonNode aliceKeys = json("alice.identity_keys_json");
    assertEquals(aliceKeys.get("curve25519").asText(), run.alice.curve25519Key().toBase64());
    assertEquals(aliceKeys.get("ed25519").asText(), run.alice.ed25519Key().toBase64());
    JsonNode bobKeys = json("bob.identity_keys_json");
    assertEquals(
        bobKeys.get("curve25519").asText(), run.bob.identityKeys().curve25519().toBase64());
    assertEquals(bobKeys.get("ed25519").asText(), run.bob.identityKeys().ed25519().toBase64());
    assertEquals(out("alice.sign('Hello, World')"), run.alice.sign("Hello, World").toBase64());

    JsonNode otks = json("bob.one_time_keys_json").get("curve25519");
    Map<String, Curve25519PublicKey> ours = run.bob.oneTimeKeys();
    assertEquals(otks.size(), ours.size());
    otks.fields()
        .forEachRemaining(
            e -> assertEquals(e.getValue().asText(), ours.get(e.getKey()).toBase64()));
    JsonNode fallback = json("bob.unpublished_fallback_key_json").get("curve25519");
    Map<String, Curve25519PublicKey> ourFallback = run.bob.fallbackKey();
    assertEquals(1, ourFallback.size());
    assertEquals(fallback.get("AAAAAw").asText(), ourFallback.get("AAAAAw").toBase64());
    assertEquals(0, run.aliceRandom.remaining());
    assertEquals(0, run.bobRandom.remaining());
  }

  private static void assertStep(JsonNode step, ChainKey chainKey) {
    String id = step.get("message").asText();
    assertEquals(step.get("chain_index").asLong(), chainKey.index(), id);
    assertEquals(step.get("chain_key_hex").asText(), hex(chainKey.exposeSecretBytes()), id);
    MessageKey messageKey = chainKey.messageKey();
    assertEquals(step.get("message_key_hex").asText(), hex(messageKey.exposeSecretBytes()), id);
    if (step.has("olm_keys_hkdf80_hex")) {
      assertEquals(step.get("olm_keys_hkdf80_hex").asText(), hex(messageKey.expand()), id);
    }
  }

  @Test
  void conversation_isByteIdenticalToLibolm() {
    Run run = new Run();
    Session alice = run.aliceOutbound();
    assertEquals(out("alice.session_id"), alice.sessionId());
    assertEquals(
        DERIVED.get("R0_hex").asText(), hex(alice.state().rootKey().exposeSecretBytes()), "R0");
    JsonNode steps = DERIVED.get("olm_steps");

    assertStep(steps.get(0), alice.state().senderChain().chainKey());
    assertEquals(
        steps.get(0).get("ratchet_key_b64").asText(),
        alice.state().senderChain().ratchetPublicKey().toBase64());
    AnyOlmMessage a0 = alice.encrypt(out("msg_a0.plaintext"));
    assertEquals(OlmMessageType.PRE_KEY, a0.type());
    assertEquals(out("msg_a0.body"), a0.toBase64(), "msg_a0");

    assertStep(steps.get(1), alice.state().senderChain().chainKey());
    AnyOlmMessage a1 = alice.encrypt(out("msg_a1.plaintext"));
    assertEquals(0, a1.type().wireType());
    assertEquals(out("msg_a1.body"), a1.toBase64(), "msg_a1");

    InboundCreationResult created =
        run.bob.createInboundSession(
            run.alice.curve25519Key(), PreKeyMessage.fromBase64(out("msg_a0.body")));
    Session bob = created.session();
    assertEquals(out("msg_a0.plaintext"), created.plaintext());
    assertEquals(out("bob.session_id"), bob.sessionId());
    assertFalse(run.bob.oneTimeKeys().containsKey("AAAAAQ"), "used one-time key removed");
    assertTrue(run.bob.oneTimeKeys().containsKey("AAAAAg"));
    assertTrue(bob.matchesInboundSession(run.alice.curve25519Key(), (PreKeyMessage) a1));
    assertEquals(
        out("msg_a1.plaintext"), bob.decrypt(AnyOlmMessage.fromBase64(0, out("msg_a1.body"))));

    JsonNode b0Step = steps.get(2);
    assertEquals(
        b0Step.get("root_key_before_hex").asText(), hex(bob.state().rootKey().exposeSecretBytes()));
    run.bobRandom.feedHex(out("msg_b0.encrypt_random"));
    AnyOlmMessage b0 = bob.encrypt(out("msg_b0.plaintext"));
    assertEquals(0, run.bobRandom.remaining());
    assertEquals(1, b0.type().wireType());
    assertEquals(out("msg_b0.body"), b0.toBase64(), "msg_b0");
    assertEquals(
        b0Step.get("root_key_after_hex").asText(), hex(bob.state().rootKey().exposeSecretBytes()));
    assertEquals(b0Step.get("ratchet_key_b64").asText(), ((OlmMessage) b0).ratchetKey().toBase64());

    assertEquals(
        out("msg_b0.plaintext"), alice.decrypt(AnyOlmMessage.fromBase64(1, out("msg_b0.body"))));
    assertTrue(alice.hasReceivedMessage());
    assertNull(alice.state().senderChain(), "a new receiver chain discards the sender chain");
    assertEquals(
        b0Step.get("root_key_after_hex").asText(),
        hex(alice.state().rootKey().exposeSecretBytes()));

    JsonNode a2Step = steps.get(3);
    run.aliceRandom.feedHex(out("msg_a2.encrypt_random"));
    AnyOlmMessage a2 = alice.encrypt(out("msg_a2.plaintext"));
    assertEquals(0, run.aliceRandom.remaining());
    assertInstanceOf(OlmMessage.class, a2);
    assertEquals(out("msg_a2.body"), a2.toBase64(), "msg_a2");
    assertEquals(
        a2Step.get("root_key_after_hex").asText(),
        hex(alice.state().rootKey().exposeSecretBytes()));
    assertEquals(out("msg_a2.plaintext"), bob.decrypt(OlmMessage.fromBase64(out("msg_a2.body"))));

    assertStateMatchesParsedPickle(alice, DERIVED.get("alice_session_pickle_parsed"));
    assertEquals(1, alice.state().senderChain().chainKey().index());
    assertNull(bob.state().senderChain());
    JsonNode bobParsed = DERIVED.get("bob_session_pickle_parsed");
    assertEquals(
        bobParsed.get("root_key_hex").asText(), hex(bob.state().rootKey().exposeSecretBytes()));
    JsonNode bobChains = bobParsed.get("receiver_chains (newest first)");
    assertEquals(bobChains.size(), bob.state().receiverChains().size());
    for (int i = 0; i < bobChains.size(); i++) {
      ReceiverChain chain = bob.state().receiverChains().get(i);
      assertEquals(bobChains.get(i).get("ratchet_b64").asText(), chain.ratchetKey().toBase64());
      assertEquals(bobChains.get(i).get("index").asLong(), chain.chainKey().index());
    }
  }

  private static void assertStateMatchesParsedPickle(Session session, JsonNode parsed) {
    RatchetState s = session.state();
    assertEquals(parsed.get("root_key_hex").asText(), hex(s.rootKey().exposeSecretBytes()));
    assertEquals(parsed.get("sender_chain_index").asLong(), s.senderChain().chainKey().index());
    JsonNode chains = parsed.get("receiver_chains");
    assertEquals(chains.size(), s.receiverChains().size());
    for (int i = 0; i < chains.size(); i++) {
      assertEquals(
          chains.get(i).get("ratchet_b64").asText(),
          s.receiverChains().get(i).ratchetKey().toBase64());
      assertEquals(
          chains.get(i).get("index").asLong(), s.receiverChains().get(i).chainKey().index());
    }
  }

  @Test
  void libolmSessionPicklesAtTheEnd_importToTheSameStateAsOurLiveSessions() {
    Run run = new Run();
    Session alice = run.aliceOutbound();
    alice.encrypt(out("msg_a0.plaintext"));
    alice.encrypt(out("msg_a1.plaintext"));
    Session bob =
        run.bob.createInboundSession(PreKeyMessage.fromBase64(out("msg_a0.body"))).session();
    bob.decrypt(PreKeyMessage.fromBase64(out("msg_a1.body")));
    run.bobRandom.feedHex(out("msg_b0.encrypt_random"));
    bob.encrypt(out("msg_b0.plaintext"));
    alice.decrypt(OlmMessage.fromBase64(out("msg_b0.body")));
    run.aliceRandom.feedHex(out("msg_a2.encrypt_random"));
    alice.encrypt(out("msg_a2.plaintext"));
    bob.decrypt(OlmMessage.fromBase64(out("msg_a2.body")));

    byte[] key = TestVectors.ascii(out("pickle_key_ascii"));
    Session importedAlice = Session.fromLibolmPickle(out("alice.session_pickle_end"), key);
    Session importedBob = Session.fromLibolmPickle(out("bob.session_pickle_end"), key);
    assertArrayEquals(SessionPickle.encode(alice), SessionPickle.encode(importedAlice));
    assertArrayEquals(SessionPickle.encode(bob), SessionPickle.encode(importedBob));

    // The imported sessions keep working: identical next message, and they talk to each other.
    AnyOlmMessage live = alice.encrypt("next from alice");
    AnyOlmMessage imported = importedAlice.encrypt("next from alice");
    assertEquals(live.toBase64(), imported.toBase64());
    assertEquals("next from alice", importedBob.decrypt(imported));
    AnyOlmMessage reply = importedBob.encrypt("reply from imported bob");
    assertEquals("reply from imported bob", importedAlice.decrypt(reply));
  }

  @Test
  void libolmAccountPickle_importsWithTheSameKeysAndKeepsWorking() {
    Run run = new Run();
    byte[] key = TestVectors.ascii(out("pickle_key_ascii"));
    Account imported = Account.fromLibolmPickle(out("bob.account_pickle_after_keygen"), key);
    assertEquals(run.bob.curve25519Key(), imported.curve25519Key());
    assertEquals(run.bob.ed25519Key().toBase64(), imported.ed25519Key().toBase64());
    assertEquals(run.bob.oneTimeKeys(), imported.oneTimeKeys());
    assertEquals(run.bob.fallbackKey(), imported.fallbackKey());
    assertEquals(run.bob.nextKeyId(), imported.nextKeyId());
    assertEquals(run.bob.sign("x").toBase64(), imported.sign("x").toBase64());

    InboundCreationResult created =
        imported.createInboundSession(PreKeyMessage.fromBase64(out("msg_a0.body")));
    assertEquals(out("msg_a0.plaintext"), created.plaintext());
    assertEquals(out("bob.session_id"), created.session().sessionId());

    Account end = Account.fromLibolmPickle(out("bob.account_pickle_end (OTK AAAAAQ removed)"), key);
    assertEquals(imported.oneTimeKeys(), end.oneTimeKeys());
    assertEquals(Map.of("AAAAAg", run.bob.oneTimeKeys().get("AAAAAg")), end.oneTimeKeys());
  }

  @Test
  void fallbackKeySession_isByteIdenticalAndKeepsTheFallbackKey() {
    Run run = new Run();
    Curve25519PublicKey fallback =
        Curve25519PublicKey.fromBase64(out("alice_uses.bob_fallback_key"));
    assertEquals(fallback, run.bob.fallbackKey().get("AAAAAw"));
    run.aliceRandom.feedHex(out("alice.fallback_session_random"));
    Session alice = run.alice.createOutboundSession(run.bob.curve25519Key(), fallback);
    assertEquals(out("alice.fallback_session_id"), alice.sessionId());
    AnyOlmMessage fb0 = alice.encrypt(out("msg_fb0.plaintext"));
    assertEquals(out("msg_fb0.body"), fb0.toBase64(), "msg_fb0");

    run.bob.markKeysAsPublished();
    InboundCreationResult created =
        run.bob.createInboundSession(run.alice.curve25519Key(), (PreKeyMessage) fb0);
    assertEquals(out("msg_fb0.plaintext"), created.plaintext());
    // the fallback key is still usable for the next peer
    InboundCreationResult again =
        run.bob.createInboundSession(run.alice.curve25519Key(), (PreKeyMessage) fb0);
    assertEquals(out("msg_fb0.plaintext"), again.plaintext());
    assertEquals(2, run.bob.storedOneTimeKeyCount());
  }
}
