package io.github.mxe2ee.olm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.Aes256Cbc;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.HmacSha256;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] PICKLE_KEY = new byte[32];

  /** Alice and Bob with an established session (Bob has received Alice's pre-key message). */
  static final class Pair {
    final Account aliceAccount = Account.create(RANDOM);
    final Account bobAccount = Account.create(RANDOM);
    final Session alice;
    final Session bob;
    final PreKeyMessage first;

    Pair() {
      bobAccount.generateOneTimeKeys(1);
      alice =
          aliceAccount.createOutboundSession(
              bobAccount.curve25519Key(), bobAccount.oneTimeKeys().values().iterator().next());
      first = (PreKeyMessage) alice.encrypt("first");
      bob = bobAccount.createInboundSession(aliceAccount.curve25519Key(), first).session();
    }
  }

  private static OlmDecryptionException failsUnchanged(
      Session session, AnyOlmMessage message, OlmDecryptionException.Reason reason) {
    byte[] before = SessionPickle.encode(session);
    OlmDecryptionException e =
        assertThrows(OlmDecryptionException.class, () -> session.decrypt(message));
    assertEquals(reason, e.reason(), e.getMessage());
    assertArrayEquals(before, SessionPickle.encode(session), "session changed by a failure");
    return e;
  }

  @Test
  void encrypt_sendsPreKeyMessagesUntilAMessageIsReceived() {
    Pair p = new Pair();
    assertFalse(p.alice.hasReceivedMessage());
    assertTrue(p.bob.hasReceivedMessage());
    assertEquals(p.alice.sessionId(), p.bob.sessionId());
    assertEquals(p.first.sessionId(), p.alice.sessionId());
    assertInstanceOf(PreKeyMessage.class, p.alice.encrypt("still pre-key"));
    AnyOlmMessage reply = p.bob.encrypt("reply");
    assertInstanceOf(OlmMessage.class, reply);
    assertEquals("reply", p.alice.decrypt(reply));
    assertInstanceOf(OlmMessage.class, p.alice.encrypt("now normal"));
  }

  @Test
  void conversation_thousandMessagesWithRatchetSteps() {
    Pair p = new Pair();
    for (int i = 0; i < 1000; i++) {
      boolean fromAlice = (i / 3) % 2 == 0;
      Session sender = fromAlice ? p.alice : p.bob;
      Session receiver = fromAlice ? p.bob : p.alice;
      String text = "message " + i + " \u00e9\u4e16";
      assertEquals(text, receiver.decrypt(sender.encrypt(text)), "message " + i);
    }
    assertTrue(p.bob.state().receiverChains().size() <= Session.MAX_RECEIVER_CHAINS);
    assertEquals(Session.MAX_RECEIVER_CHAINS, p.alice.state().receiverChains().size());
  }

  @Test
  void decrypt_outOfOrderAndRejectsReplays() {
    Pair p = new Pair();
    p.alice.decrypt(p.bob.encrypt("ack"));
    List<AnyOlmMessage> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(p.alice.encrypt("m" + i));
    }
    for (int i : new int[] {4, 2, 0, 3, 1}) {
      assertEquals("m" + i, p.bob.decrypt(sent.get(i)));
    }
    assertEquals(0, p.bob.state().skippedMessageKeys().size());
    for (AnyOlmMessage m : sent) {
      failsUnchanged(p.bob, m, OlmDecryptionException.Reason.MISSING_MESSAGE_KEY);
    }
  }

  @Test
  void decrypt_keepsAtMostFortySkippedKeys() {
    Pair p = new Pair();
    List<AnyOlmMessage> sent = new ArrayList<>();
    for (int i = 0; i < Session.MAX_SKIPPED_MESSAGE_KEYS + 2; i++) {
      sent.add(p.alice.encrypt("m" + i));
    }
    // Bob already consumed index 0 ("first"); index 41 skips 1..40
    assertEquals("m41", p.bob.decrypt(sent.get(41)));
    assertEquals(Session.MAX_SKIPPED_MESSAGE_KEYS, p.bob.state().skippedMessageKeys().size());
    for (int i = 1; i <= 40; i++) {
      assertEquals("m" + i, p.bob.decrypt(sent.get(i)));
    }
    Pair q = new Pair();
    List<AnyOlmMessage> more = new ArrayList<>();
    for (int i = 0; i < Session.MAX_SKIPPED_MESSAGE_KEYS + 3; i++) {
      more.add(q.alice.encrypt("m" + i));
    }
    q.bob.decrypt(more.get(42));
    failsUnchanged(q.bob, more.get(1), OlmDecryptionException.Reason.MISSING_MESSAGE_KEY);
    assertEquals("m2", q.bob.decrypt(more.get(2)));
  }

  @Test
  void decrypt_rejectsGapsAboveTheLimit() {
    Pair p = new Pair();
    List<AnyOlmMessage> sent = new ArrayList<>();
    for (int i = 0; i <= Session.MAX_MESSAGE_GAP + 1; i++) {
      sent.add(p.alice.encrypt("m" + i));
    }
    // Bob's chain is at index 1; index 2002 is 2001 ahead
    OlmDecryptionException e =
        failsUnchanged(
            p.bob,
            sent.get(Session.MAX_MESSAGE_GAP + 1),
            OlmDecryptionException.Reason.MESSAGE_GAP_TOO_BIG);
    assertTrue(e.getMessage().contains("2000"), e.getMessage());
    assertEquals("m2000", p.bob.decrypt(sent.get(Session.MAX_MESSAGE_GAP)));
  }

  @Test
  void decrypt_onANewChainRejectsGapsAboveTheLimit() {
    Pair p = new Pair();
    p.alice.decrypt(p.bob.encrypt("ack"));
    AnyOlmMessage last = null;
    for (int i = 0; i <= Session.MAX_MESSAGE_GAP + 1; i++) {
      last = p.alice.encrypt("m" + i);
    }
    failsUnchanged(p.bob, last, OlmDecryptionException.Reason.MESSAGE_GAP_TOO_BIG);
  }

  private static OlmMessage tamper(AnyOlmMessage message, int offsetFromEnd) {
    byte[] bytes = message.toBytes();
    bytes[bytes.length - 1 - offsetFromEnd] ^= 0x20;
    return OlmMessage.decode(bytes);
  }

  @Test
  void decrypt_rejectsTamperedMacCiphertextIndexAndKeyWithoutChangingState() {
    Pair p = new Pair();
    p.alice.decrypt(p.bob.encrypt("ack"));
    OlmMessage m = (OlmMessage) p.alice.encrypt("secret");
    failsUnchanged(p.bob, tamper(m, 0), OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
    failsUnchanged(p.bob, tamper(m, 7), OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
    failsUnchanged(p.bob, tamper(m, 8), OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
    failsUnchanged(p.bob, tamper(m, 20), OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
    OlmMessage otherIndex =
        OlmMessage.of(m.ratchetKey(), m.chainIndex() + 1, m.ciphertext(), m.mac());
    failsUnchanged(p.bob, otherIndex, OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
    byte[] key = m.ratchetKey().toBytes();
    key[5] ^= 1;
    OlmMessage otherKey =
        OlmMessage.of(Curve25519PublicKey.fromBytes(key), m.chainIndex(), m.ciphertext(), m.mac());
    failsUnchanged(p.bob, otherKey, OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
    assertEquals("secret", p.bob.decrypt(m));
  }

  @Test
  void decrypt_rejectsLowOrderRatchetKey() {
    Pair p = new Pair();
    p.bob.encrypt("gives Bob a sender chain");
    OlmMessage m =
        OlmMessage.of(Curve25519PublicKey.fromBytes(new byte[32]), 0, new byte[16], new byte[8]);
    failsUnchanged(p.bob, m, OlmDecryptionException.Reason.NON_CONTRIBUTORY_KEY);
  }

  @Test
  void decrypt_rejectsNewRatchetKeyWithoutSenderChain() {
    Pair p = new Pair();
    Pair other = new Pair();
    other.alice.decrypt(other.bob.encrypt("x"));
    AnyOlmMessage foreign = other.alice.encrypt("from another session");
    failsUnchanged(p.bob, foreign, OlmDecryptionException.Reason.UNEXPECTED_RATCHET_KEY);
  }

  @Test
  void decrypt_invalidUtf8FailsUnchangedButDecryptBytesWorks() {
    Pair p = new Pair();
    AnyOlmMessage m = p.alice.encrypt(new byte[] {(byte) 0xC3, 0x28});
    failsUnchanged(p.bob, m, OlmDecryptionException.Reason.INVALID_UTF8);
    assertArrayEquals(new byte[] {(byte) 0xC3, 0x28}, p.bob.decryptBytes(m));
  }

  @Test
  void decrypt_acceptsThePreKeyMessageWrapper() {
    Pair p = new Pair();
    PreKeyMessage second = (PreKeyMessage) p.alice.encrypt("second");
    assertEquals("second", p.bob.decrypt(second));
    failsUnchanged(p.bob, second, OlmDecryptionException.Reason.MISSING_MESSAGE_KEY);
  }

  @Test
  void matchesInboundSession_comparesAllThreeKeys() {
    Pair p = new Pair();
    assertTrue(p.bob.matchesInboundSession(p.first));
    assertTrue(p.bob.matchesInboundSession(p.aliceAccount.curve25519Key(), p.first));
    assertFalse(p.bob.matchesInboundSession(p.bobAccount.curve25519Key(), p.first));
    assertTrue(p.alice.matchesInboundSession(p.first));
    Pair other = new Pair();
    assertFalse(p.bob.matchesInboundSession(other.first));
    PreKeyMessage mixed =
        PreKeyMessage.of(
            p.first.oneTimeKey(), other.first.baseKey(), p.first.identityKey(), p.first.message());
    assertFalse(p.bob.matchesInboundSession(mixed));
  }

  @Test
  void pickle_roundTripsMidConversationIncludingSkippedKeys() {
    Pair p = new Pair();
    p.alice.decrypt(p.bob.encrypt("ack"));
    AnyOlmMessage skipped = p.alice.encrypt("skipped");
    p.bob.decrypt(p.alice.encrypt("after"));
    Session restoredBob = Session.fromPickle(p.bob.pickle(PICKLE_KEY), PICKLE_KEY);
    Session restoredAlice = Session.fromPickle(p.alice.pickle(PICKLE_KEY), PICKLE_KEY, RANDOM);
    assertArrayEquals(SessionPickle.encode(p.bob), SessionPickle.encode(restoredBob));
    assertArrayEquals(SessionPickle.encode(p.alice), SessionPickle.encode(restoredAlice));
    assertEquals(p.bob.sessionId(), restoredBob.sessionId());
    assertEquals("skipped", restoredBob.decrypt(skipped));
    assertEquals("back", restoredAlice.decrypt(restoredBob.encrypt("back")));
  }

  @Test
  void fromPickle_rejectsWrongKeyAndMalformedContent() {
    Pair p = new Pair();
    String pickle = p.alice.pickle(PICKLE_KEY);
    byte[] other = new byte[32];
    other[31] = 9;
    assertThrows(CryptoException.class, () -> Session.fromPickle(pickle, other));
    byte[] plain = SessionPickle.encode(p.alice);
    PickleCipher cipher = PickleCipher.mxe2ee(PICKLE_KEY);
    for (int len = 0; len < plain.length; len += 3) {
      byte[] cut = Arrays.copyOf(plain, len);
      assertThrows(
          DecodeException.class, () -> Session.fromPickle(cipher.encrypt(cut), PICKLE_KEY));
    }
    byte[] trailing = Arrays.copyOf(plain, plain.length + 1);
    assertThrows(
        OlmDecodeException.class, () -> Session.fromPickle(cipher.encrypt(trailing), PICKLE_KEY));
    byte[] version = plain.clone();
    version[3] = 9;
    assertThrows(
        OlmDecodeException.class, () -> Session.fromPickle(cipher.encrypt(version), PICKLE_KEY));
  }

  @Test
  void randomizedConversation_reorderedAndLostMessagesWithinLimits_allDelivered() {
    java.util.Random random = new java.util.Random(20261123);
    Pair p = new Pair();
    int delivered = 0;
    for (int round = 0; round < 300; round++) {
      boolean fromAlice = random.nextBoolean();
      Session sender = fromAlice ? p.alice : p.bob;
      Session receiver = fromAlice ? p.bob : p.alice;
      List<Integer> order = new ArrayList<>();
      List<AnyOlmMessage> batch = new ArrayList<>();
      int size = 1 + random.nextInt(8);
      for (int i = 0; i < size; i++) {
        batch.add(sender.encrypt("round " + round + " message " + i));
        if (random.nextInt(5) != 0) {
          order.add(i);
        }
      }
      java.util.Collections.shuffle(order, random);
      for (int i : order) {
        assertEquals("round " + round + " message " + i, receiver.decrypt(batch.get(i)));
        delivered++;
      }
    }
    assertTrue(delivered > 800, "delivered " + delivered);
    assertTrue(p.alice.state().skippedMessageKeys().size() <= Session.MAX_SKIPPED_MESSAGE_KEYS);
  }

  @Test
  void decrypt_onAChainOlderThanTheLastFive_fails() {
    Pair p = new Pair();
    p.alice.decrypt(p.bob.encrypt("ack"));
    AnyOlmMessage late = p.alice.encrypt("late on Alice's first normal chain");
    // "late" is index 0 of Alice's chain T2; Bob sees T2 through "a0", then five newer chains
    for (int i = 0; i <= Session.MAX_RECEIVER_CHAINS; i++) {
      p.bob.decrypt(p.alice.encrypt("a" + i));
      p.alice.decrypt(p.bob.encrypt("b" + i));
    }
    assertEquals(Session.MAX_RECEIVER_CHAINS, p.bob.state().receiverChains().size());
    p.bob.encrypt("Bob has a sender chain again");
    assertFalse(
        p.bob.state().findReceiverChain(((OlmMessage) late).ratchetKey()) >= 0, "chain T2 dropped");
    failsUnchanged(p.bob, late, OlmDecryptionException.Reason.BAD_MESSAGE_MAC);
  }

  @Test
  void encrypt_towardsALowOrderRatchetKeyFailsWithoutChangingState() {
    Pair p = new Pair();
    // a malicious Alice authenticates a message under the all-zero (low-order) ratchet key
    Session alice =
        p.aliceAccount.createOutboundSession(
            p.bobAccount.curve25519Key(),
            p.bobAccount.generateOneTimeKeys(1).values().iterator().next());
    Curve25519PublicKey lowOrder = Curve25519PublicKey.fromBytes(new byte[32]);
    OlmMessage inner =
        alice
            .state()
            .senderChain()
            .chainKey()
            .messageKey()
            .encrypt(lowOrder, "hi".getBytes(StandardCharsets.UTF_8));
    SessionKeys keys = alice.sessionKeys();
    PreKeyMessage m =
        PreKeyMessage.of(keys.oneTimeKey(), keys.baseKey(), keys.identityKey(), inner);
    Session bob = p.bobAccount.createInboundSession(m).session();
    byte[] before = SessionPickle.encode(bob);
    assertThrows(CryptoException.class, () -> bob.encrypt("reply"));
    assertArrayEquals(before, SessionPickle.encode(bob));
  }

  @Test
  void decrypt_acceptsUnknownFieldsInsideTheAuthenticatedBody() {
    Pair p = new Pair();
    // what Alice would send next (index 1), with an extra field a future sender might add
    SenderChain sender = p.alice.state().senderChain();
    MessageKey key = sender.chainKey().messageKey();
    byte[] keys = key.expand();
    byte[] ciphertext =
        Aes256Cbc.encrypt(
            Arrays.copyOfRange(keys, 0, 32),
            Arrays.copyOfRange(keys, 64, 80),
            "with an extension".getBytes(StandardCharsets.UTF_8));
    byte[] body =
        OlmMessageTest.concat(
            OlmMessage.encodeWithoutMac(sender.ratchetPublicKey(), key.index(), ciphertext),
            new byte[] {0x2A, 0x03, 'e', 'x', 't'}); // field 5, length-delimited
    byte[] mac = HmacSha256.mac(Arrays.copyOfRange(keys, 32, 64), body);
    OlmMessage m = OlmMessage.decode(OlmMessageTest.concat(body, Arrays.copyOf(mac, 8)));
    assertEquals(1, m.chainIndex());
    assertEquals("with an extension", p.bob.decrypt(m));
  }

  @Test
  void toString_revealsNoSecrets() {
    Pair p = new Pair();
    String s = p.alice.toString() + p.alice.state() + p.alice.state().senderChain();
    assertTrue(s.contains(p.alice.sessionId()));
    String root = UnpaddedBase64.encode(p.alice.state().rootKey().exposeSecretBytes());
    String chain =
        UnpaddedBase64.encode(p.alice.state().senderChain().chainKey().exposeSecretBytes());
    assertFalse(s.contains(root));
    assertFalse(s.contains(chain));
  }
}
