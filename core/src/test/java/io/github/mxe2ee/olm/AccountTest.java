package io.github.mxe2ee.olm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccountTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] PICKLE_KEY = new byte[32];

  private static PreKeyMessage preKeyTo(Account alice, Account bob, Curve25519PublicKey key) {
    return (PreKeyMessage)
        alice.createOutboundSession(bob.curve25519Key(), key).encrypt("hello bob");
  }

  private static Curve25519PublicKey firstOneTimeKey(Account bob) {
    return bob.oneTimeKeys().values().iterator().next();
  }

  @Test
  void create_givesDistinctKeysAndVerifiableSignatures() {
    Account a = Account.create(RANDOM);
    Account b = Account.create();
    assertNotEquals(a.curve25519Key(), b.curve25519Key());
    byte[] message = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    assertTrue(a.ed25519Key().verify(message, a.sign("{\"a\":1}")));
    assertFalse(b.ed25519Key().verify(message, a.sign(message)));
    assertEquals(a.curve25519Key(), a.identityKeys().curve25519());
  }

  @Test
  void oneTimeKeys_useLibolmKeyIdsAndMarkPublished() {
    Account a = Account.create(RANDOM);
    Map<String, Curve25519PublicKey> created = a.generateOneTimeKeys(3);
    assertEquals(List.of("AAAAAQ", "AAAAAg", "AAAAAw"), List.copyOf(created.keySet()));
    assertEquals(created, a.oneTimeKeys());
    a.markKeysAsPublished();
    assertEquals(Map.of(), a.oneTimeKeys());
    assertEquals(3, a.storedOneTimeKeyCount());
    assertEquals(List.of("AAAABA"), List.copyOf(a.generateOneTimeKeys(1).keySet()));
    assertEquals(50, a.maxNumberOfOneTimeKeys());
    assertThrows(IllegalArgumentException.class, () -> a.generateOneTimeKeys(-1));
  }

  @Test
  void oneTimeKeyStore_isBoundedAndDropsTheOldest() {
    Account a = Account.create(RANDOM);
    Map<String, Curve25519PublicKey> first = a.generateOneTimeKeys(60);
    a.generateOneTimeKeys(90);
    Account big = Account.create(RANDOM);
    Map<String, Curve25519PublicKey> many = big.generateOneTimeKeys(130);
    assertEquals(Account.MAX_ONE_TIME_KEYS, many.size());
    assertEquals(OneTimeKey.keyId(31), many.keySet().iterator().next());
    assertEquals(many, big.oneTimeKeys());
    assertEquals(Account.MAX_ONE_TIME_KEYS, a.storedOneTimeKeyCount());
    Map<String, Curve25519PublicKey> kept = a.oneTimeKeys();
    assertFalse(kept.containsKey(OneTimeKey.keyId(50)));
    assertTrue(kept.containsKey(OneTimeKey.keyId(51)));
    assertTrue(kept.containsKey(OneTimeKey.keyId(150)));
    // a dropped key can no longer start a session
    Account alice = Account.create(RANDOM);
    PreKeyMessage m = preKeyTo(alice, a, first.get(OneTimeKey.keyId(1)));
    OlmDecryptionException e =
        assertThrows(OlmDecryptionException.class, () -> a.createInboundSession(m));
    assertEquals(OlmDecryptionException.Reason.UNKNOWN_ONE_TIME_KEY, e.reason());
  }

  @Test
  void inboundSession_removesTheOneTimeKeyOnlyOnSuccess() {
    Account alice = Account.create(RANDOM);
    Account bob = Account.create(RANDOM);
    bob.generateOneTimeKeys(2);
    Curve25519PublicKey otk = firstOneTimeKey(bob);
    PreKeyMessage good = preKeyTo(alice, bob, otk);

    byte[] tampered = good.toBytes();
    tampered[tampered.length - 1] ^= 1; // last MAC byte of the embedded message
    byte[] before = AccountPickle.encode(bob);
    OlmDecryptionException e =
        assertThrows(
            OlmDecryptionException.class,
            () -> bob.createInboundSession(alice.curve25519Key(), PreKeyMessage.decode(tampered)));
    assertEquals(OlmDecryptionException.Reason.BAD_MESSAGE_MAC, e.reason());
    assertArrayEquals(before, AccountPickle.encode(bob), "account unchanged after a failure");

    Account mallory = Account.create(RANDOM);
    e =
        assertThrows(
            OlmDecryptionException.class,
            () -> bob.createInboundSession(mallory.curve25519Key(), good));
    assertEquals(OlmDecryptionException.Reason.MISMATCHED_IDENTITY_KEY, e.reason());
    assertArrayEquals(before, AccountPickle.encode(bob));

    InboundCreationResult r = bob.createInboundSession(alice.curve25519Key(), good);
    assertEquals("hello bob", r.plaintext());
    assertEquals(1, bob.storedOneTimeKeyCount());
    assertFalse(bob.oneTimeKeys().containsValue(otk));
    e = assertThrows(OlmDecryptionException.class, () -> bob.createInboundSession(good));
    assertEquals(OlmDecryptionException.Reason.UNKNOWN_ONE_TIME_KEY, e.reason());
  }

  @Test
  void fallbackKeys_rotateKeepThePreviousAndAreNeverUsedUp() {
    Account alice = Account.create(RANDOM);
    Account bob = Account.create(RANDOM);
    assertEquals(Map.of(), bob.fallbackKey());
    assertFalse(bob.forgetFallbackKey());
    Curve25519PublicKey first = bob.generateFallbackKey().get("AAAAAQ");
    assertEquals(Map.of("AAAAAQ", first), bob.fallbackKey());
    bob.markKeysAsPublished();
    assertEquals(Map.of(), bob.fallbackKey());

    PreKeyMessage viaFirst = preKeyTo(alice, bob, first);
    Curve25519PublicKey second = bob.generateFallbackKey().get("AAAAAg");
    assertEquals(Map.of("AAAAAg", second), bob.fallbackKey());
    assertEquals("hello bob", bob.createInboundSession(viaFirst).plaintext());
    assertEquals("hello bob", bob.createInboundSession(preKeyTo(alice, bob, second)).plaintext());
    assertEquals("hello bob", bob.createInboundSession(viaFirst).plaintext(), "not used up");

    assertTrue(bob.forgetFallbackKey());
    OlmDecryptionException e =
        assertThrows(OlmDecryptionException.class, () -> bob.createInboundSession(viaFirst));
    assertEquals(OlmDecryptionException.Reason.UNKNOWN_ONE_TIME_KEY, e.reason());
    assertFalse(bob.forgetFallbackKey());
  }

  @Test
  void outboundSession_rejectsLowOrderPeerKeys() {
    Account alice = Account.create(RANDOM);
    Curve25519PublicKey zero = Curve25519PublicKey.fromBytes(new byte[32]);
    assertThrows(
        CryptoException.class, () -> alice.createOutboundSession(zero, alice.curve25519Key()));
  }

  @Test
  void pickle_roundTripsAllState() {
    Account bob = Account.create(RANDOM);
    bob.generateOneTimeKeys(5);
    bob.markKeysAsPublished();
    bob.generateOneTimeKeys(2);
    bob.generateFallbackKey();
    bob.generateFallbackKey();
    String pickle = bob.pickle(PICKLE_KEY);
    Account restored = Account.fromPickle(pickle, PICKLE_KEY);
    assertArrayEquals(AccountPickle.encode(bob), AccountPickle.encode(restored));
    assertEquals(bob.oneTimeKeys(), restored.oneTimeKeys());
    assertEquals(bob.fallbackKey(), restored.fallbackKey());
    assertEquals(bob.sign("x").toBase64(), restored.sign("x").toBase64());
    assertFalse(
        pickle.contains(UnpaddedBase64.encode(bob.identitySecretKey().exposeSecretBytes())));

    Account alice = Account.create(RANDOM);
    PreKeyMessage m = preKeyTo(alice, restored, restored.oneTimeKeys().values().iterator().next());
    assertEquals("hello bob", restored.createInboundSession(m).plaintext());
  }

  @Test
  void pickle_ofImportedLibolmAccount_keepsTheExpandedKey() {
    var c = TestVectors.load("libolm_pickles.json").get("cases").get(4);
    Account imported =
        Account.fromLibolmPickle(
            c.get("pickle").asText(), TestVectors.ascii(c.get("pickle_key_ascii").asText()));
    Account restored = Account.fromPickle(imported.pickle(PICKLE_KEY), PICKLE_KEY);
    assertArrayEquals(AccountPickle.encode(imported), AccountPickle.encode(restored));
    assertEquals(
        imported.sign("Hello, World").toBase64(), restored.sign("Hello, World").toBase64());
  }

  @Test
  void fromPickle_rejectsWrongKeyTamperingAndMalformedContent() {
    Account a = Account.create(RANDOM);
    a.generateOneTimeKeys(1);
    String pickle = a.pickle(PICKLE_KEY);
    byte[] otherKey = new byte[32];
    otherKey[0] = 1;
    assertThrows(CryptoException.class, () -> Account.fromPickle(pickle, otherKey));
    assertThrows(DecodeException.class, () -> Account.fromPickle("%%%", PICKLE_KEY));
    assertThrows(DecodeException.class, () -> a.pickle(new byte[16]));

    byte[] plain = AccountPickle.encode(a);
    PickleCipher cipher = PickleCipher.mxe2ee(PICKLE_KEY);
    byte[] badVersion = plain.clone();
    badVersion[3] = 2;
    assertThrows(
        OlmDecodeException.class, () -> Account.fromPickle(cipher.encrypt(badVersion), PICKLE_KEY));
    byte[] badForm = plain.clone();
    badForm[4] = 7;
    assertThrows(
        OlmDecodeException.class, () -> Account.fromPickle(cipher.encrypt(badForm), PICKLE_KEY));
    for (int len = 0; len < plain.length; len += 5) {
      byte[] cut = java.util.Arrays.copyOf(plain, len);
      assertThrows(
          DecodeException.class, () -> Account.fromPickle(cipher.encrypt(cut), PICKLE_KEY));
    }
  }

  @Test
  void toString_showsPublicKeysOnly() {
    Account a = Account.create(RANDOM);
    a.generateOneTimeKeys(1);
    String s = a.toString();
    assertTrue(s.contains(a.curve25519Key().toBase64()));
    assertFalse(s.contains(UnpaddedBase64.encode(a.identitySecretKey().exposeSecretBytes())));
    assertFalse(s.contains(UnpaddedBase64.encode(a.signingKey().exposeSecretBytes())));
  }
}
