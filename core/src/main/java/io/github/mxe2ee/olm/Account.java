package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import io.github.mxe2ee.crypto.PickleCipher;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An Olm account: a device's long-term identity keys, its one-time keys and fallback keys, and the
 * factory for Olm {@link Session}s ({@code shared/spec/matrix-spec/content/olm-megolm/olm.md}, "The
 * Olm Protocol"; key publishing in {@code client-server-api/modules/end_to_end_encryption.md}).
 *
 * <p><b>Key ids.</b> One-time and fallback keys share one 32-bit counter, incremented before use
 * (the first key is id 1); the id string is unpadded base64 of the counter as 4 big-endian bytes
 * ({@code 1 -> "AAAAAQ"}), exactly as libolm 3.2.16 produces them. vodozemac instead keeps a 64-bit
 * counter starting at 0, encoded as 8 big-endian bytes ({@code 0 -> "AAAAAAAAAAA"}), with a
 * separate counter for fallback keys. Key ids are opaque to peers and the homeserver, so both forms
 * interoperate.
 *
 * <p><b>Bounded store.</b> At most {@link #MAX_ONE_TIME_KEYS} private one-time keys are kept;
 * generating more drops the oldest. A one-time key is removed only when a pre-key message that used
 * it has been decrypted successfully; fallback keys are never removed by use.
 *
 * <p>Not thread-safe: confine to one thread or synchronize externally, and persist the account
 * ({@link #pickle(byte[])}) after every change, before publishing keys. Arguments are non-null.
 * Private keys never appear in {@code toString} or exception messages.
 */
public final class Account {
  /**
   * Private one-time keys kept (libolm's {@code MAX_ONE_TIME_KEYS}): twice what is published at
   * once, so keys generated to refill the server do not evict keys that peers may still claim.
   * vodozemac keeps 100 x 50 = 5000; a libolm pickle never holds more than 100.
   */
  public static final int MAX_ONE_TIME_KEYS = 100;

  /** How many one-time keys to publish at most: half the store (libolm and vodozemac: 50). */
  public static final int MAX_PUBLISHED_ONE_TIME_KEYS = MAX_ONE_TIME_KEYS / 2;

  private static final int KEY_LENGTH = 32;
  private static final long KEY_ID_MASK = 0xFFFF_FFFFL;

  private final Ed25519SecretKey signingKey;
  private final Ed25519PublicKey signingPublicKey;
  private final Curve25519SecretKey identityKey;
  private final Curve25519PublicKey identityPublicKey;
  private final SecureRandom random;

  /** Oldest first (ascending generation order). */
  private final LinkedHashMap<Long, OneTimeKey> oneTimeKeys = new LinkedHashMap<>();

  private OneTimeKey fallbackKey;
  private OneTimeKey previousFallbackKey;
  private long nextKeyId;

  Account(Ed25519SecretKey signingKey, Curve25519SecretKey identityKey, SecureRandom random) {
    this.signingKey = Objects.requireNonNull(signingKey, "signingKey");
    this.signingPublicKey = signingKey.publicKey();
    this.identityKey = Objects.requireNonNull(identityKey, "identityKey");
    this.identityPublicKey = identityKey.publicKey();
    this.random = Objects.requireNonNull(random, "random");
  }

  /** Creates an account with fresh identity keys from a new {@link SecureRandom}. */
  public static Account create() {
    return create(new SecureRandom());
  }

  /**
   * Creates an account with fresh identity keys. Reads 64 bytes, as libolm does: the Ed25519 seed,
   * then the Curve25519 private key. The account keeps {@code random} for later key generation.
   */
  public static Account create(SecureRandom random) {
    byte[] seed = new byte[KEY_LENGTH];
    random.nextBytes(seed);
    byte[] curve = new byte[KEY_LENGTH];
    random.nextBytes(curve);
    return new Account(
        Ed25519SecretKey.fromSeed(seed), Curve25519SecretKey.fromBytes(curve), random);
  }

  /** The public identity keys. */
  public IdentityKeys identityKeys() {
    return new IdentityKeys(identityPublicKey, signingPublicKey);
  }

  /** The Curve25519 identity key I. */
  public Curve25519PublicKey curve25519Key() {
    return identityPublicKey;
  }

  /** The Ed25519 signing key. */
  public Ed25519PublicKey ed25519Key() {
    return signingPublicKey;
  }

  /** Signs the UTF-8 bytes of {@code message} with the Ed25519 identity key. */
  public Ed25519Signature sign(String message) {
    return sign(message.getBytes(StandardCharsets.UTF_8));
  }

  /** Signs {@code message} with the Ed25519 identity key. */
  public Ed25519Signature sign(byte[] message) {
    return signingKey.sign(message);
  }

  /** The most one-time keys to publish at once ({@link #MAX_PUBLISHED_ONE_TIME_KEYS}). */
  public int maxNumberOfOneTimeKeys() {
    return MAX_PUBLISHED_ONE_TIME_KEYS;
  }

  /**
   * Generates {@code count} one-time keys (32 random bytes each, in id order), dropping the oldest
   * keys beyond {@link #MAX_ONE_TIME_KEYS}.
   *
   * @return the new keys that are still stored, by key id, in generation order
   * @throws IllegalArgumentException if {@code count} is negative
   */
  public Map<String, Curve25519PublicKey> generateOneTimeKeys(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + count);
    }
    Map<String, Curve25519PublicKey> created = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      OneTimeKey key = new OneTimeKey(takeKeyId(), randomCurveKey(), false);
      while (oneTimeKeys.size() >= MAX_ONE_TIME_KEYS) {
        oneTimeKeys.remove(oneTimeKeys.keySet().iterator().next());
      }
      oneTimeKeys.put(key.id(), key);
      created.put(key.keyId(), key.publicKey());
    }
    // with count > MAX_ONE_TIME_KEYS the first new keys are already gone again
    created.values().retainAll(oneTimeKeys().values());
    return Collections.unmodifiableMap(created);
  }

  /** The unpublished one-time keys, by key id, oldest first. */
  public Map<String, Curve25519PublicKey> oneTimeKeys() {
    Map<String, Curve25519PublicKey> keys = new LinkedHashMap<>();
    for (OneTimeKey key : oneTimeKeys.values()) {
      if (!key.published()) {
        keys.put(key.keyId(), key.publicKey());
      }
    }
    return Collections.unmodifiableMap(keys);
  }

  /** Number of private one-time keys held, published or not. */
  public int storedOneTimeKeyCount() {
    return oneTimeKeys.size();
  }

  /** Marks all one-time keys and the current fallback key as published. */
  public void markKeysAsPublished() {
    oneTimeKeys.replaceAll((id, key) -> key.markedPublished());
    if (fallbackKey != null) {
      fallbackKey = fallbackKey.markedPublished();
    }
  }

  /**
   * Generates a new fallback key (32 random bytes, next id from the shared counter). The current
   * key becomes the previous one, which stays usable until {@link #forgetFallbackKey()}; the
   * previous one before that is discarded.
   *
   * @return the new key by its key id
   */
  public Map<String, Curve25519PublicKey> generateFallbackKey() {
    OneTimeKey key = new OneTimeKey(takeKeyId(), randomCurveKey(), false);
    previousFallbackKey = fallbackKey;
    fallbackKey = key;
    return Map.of(key.keyId(), key.publicKey());
  }

  /** The current fallback key if it is not yet published (empty otherwise), by key id. */
  public Map<String, Curve25519PublicKey> fallbackKey() {
    if (fallbackKey == null || fallbackKey.published()) {
      return Map.of();
    }
    return Map.of(fallbackKey.keyId(), fallbackKey.publicKey());
  }

  /**
   * Forgets the previous fallback key, once peers have had time to use the current one.
   *
   * @return whether there was a previous fallback key
   */
  public boolean forgetFallbackKey() {
    boolean had = previousFallbackKey != null;
    previousFallbackKey = null;
    return had;
  }

  /**
   * Starts a session to a device (Alice's side of olm.md "Creating an outbound session"). Reads 64
   * random bytes, as libolm does: the base key E_A, then the first ratchet key T_0.
   *
   * @param identityKey the peer's Curve25519 identity key I_B
   * @param oneTimeKey a one-time or fallback key E_B claimed from the peer
   * @throws CryptoException if a peer key is a low-order point (non-contributory DH)
   */
  public Session createOutboundSession(
      Curve25519PublicKey identityKey, Curve25519PublicKey oneTimeKey) {
    Objects.requireNonNull(identityKey, "identityKey");
    Objects.requireNonNull(oneTimeKey, "oneTimeKey");
    Curve25519SecretKey baseKey = randomCurveKey();
    Curve25519SecretKey ratchetKey = randomCurveKey();
    byte[] secret =
        concat(
            this.identityKey.diffieHellman(oneTimeKey),
            baseKey.diffieHellman(identityKey),
            baseKey.diffieHellman(oneTimeKey));
    SessionKeys keys = SessionKeys.of(identityPublicKey, baseKey.publicKey(), oneTimeKey);
    return Session.outbound(keys, secret, ratchetKey, random);
  }

  /**
   * Creates a session from a received pre-key message without checking who sent it; see {@link
   * #createInboundSession(Curve25519PublicKey, PreKeyMessage)}.
   */
  public InboundCreationResult createInboundSession(PreKeyMessage message) {
    return createInbound(null, message);
  }

  /**
   * Creates a session from a received pre-key message (Bob's side) and decrypts it. Only when
   * decryption succeeds is the session returned and the used one-time key removed (a fallback key
   * stays); on any failure the account is unchanged.
   *
   * @param theirIdentityKey the sender's Curve25519 identity key, which the message must carry
   * @throws OlmDecryptionException with {@code MISMATCHED_IDENTITY_KEY}, {@code
   *     UNKNOWN_ONE_TIME_KEY}, {@code NON_CONTRIBUTORY_KEY} or a decryption reason
   */
  public InboundCreationResult createInboundSession(
      Curve25519PublicKey theirIdentityKey, PreKeyMessage message) {
    return createInbound(Objects.requireNonNull(theirIdentityKey, "theirIdentityKey"), message);
  }

  /**
   * Like {@link #createInboundSession(Curve25519PublicKey, PreKeyMessage)}, but leaves the account
   * unchanged: the one-time key stays until {@link #removeOneTimeKey} is called. For callers that
   * check the decrypted payload first and keep the session (and consume the key) only if it passes.
   *
   * @throws OlmDecryptionException as {@link #createInboundSession(Curve25519PublicKey,
   *     PreKeyMessage)}
   */
  public InboundCreationResult createInboundSessionKeepingKey(
      Curve25519PublicKey theirIdentityKey, PreKeyMessage message) {
    Objects.requireNonNull(theirIdentityKey, "theirIdentityKey");
    return createInbound(theirIdentityKey, message, false);
  }

  /**
   * Removes the one-time key with this public key, as a successful {@link #createInboundSession}
   * does. Fallback keys are never removed by use.
   *
   * @return true if a one-time key was removed
   */
  public boolean removeOneTimeKey(Curve25519PublicKey publicKey) {
    Objects.requireNonNull(publicKey, "publicKey");
    return oneTimeKeys.values().removeIf(k -> k.publicKey().equals(publicKey));
  }

  private InboundCreationResult createInbound(
      Curve25519PublicKey theirIdentityKey, PreKeyMessage message) {
    return createInbound(theirIdentityKey, message, true);
  }

  private InboundCreationResult createInbound(
      Curve25519PublicKey theirIdentityKey, PreKeyMessage message, boolean consumeKey) {
    Objects.requireNonNull(message, "message");
    if (theirIdentityKey != null && !theirIdentityKey.equals(message.identityKey())) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.MISMATCHED_IDENTITY_KEY,
          "pre-key message is from " + message.identityKey() + ", expected " + theirIdentityKey);
    }
    OneTimeKey key = findKey(message.oneTimeKey());
    if (key == null) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.UNKNOWN_ONE_TIME_KEY,
          "no private key for one-time key " + message.oneTimeKey());
    }
    byte[] secret;
    try {
      secret =
          concat(
              key.secretKey().diffieHellman(message.identityKey()),
              identityKey.diffieHellman(message.baseKey()),
              key.secretKey().diffieHellman(message.baseKey()));
    } catch (CryptoException e) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.NON_CONTRIBUTORY_KEY,
          "a key in the pre-key message gives an all-zero shared secret");
    }
    SessionKeys keys = SessionKeys.of(message.identityKey(), message.baseKey(), key.publicKey());
    Session session = Session.inbound(keys, secret, message.message().ratchetKey(), random);
    Session.Decrypted decrypted = session.decryptOnCopy(message.message());
    String plaintext = Session.strictUtf8(decrypted.plaintext());
    session.install(decrypted.state());
    if (consumeKey) {
      oneTimeKeys.remove(key.id(), key);
    }
    return new InboundCreationResult(session, plaintext);
  }

  private OneTimeKey findKey(Curve25519PublicKey publicKey) {
    for (OneTimeKey key : oneTimeKeys.values()) {
      if (key.publicKey().equals(publicKey)) {
        return key;
      }
    }
    if (fallbackKey != null && fallbackKey.publicKey().equals(publicKey)) {
      return fallbackKey;
    }
    if (previousFallbackKey != null && previousFallbackKey.publicKey().equals(publicKey)) {
      return previousFallbackKey;
    }
    return null;
  }

  private long takeKeyId() {
    nextKeyId = (nextKeyId + 1) & KEY_ID_MASK;
    return nextKeyId;
  }

  private Curve25519SecretKey randomCurveKey() {
    byte[] bytes = new byte[KEY_LENGTH];
    random.nextBytes(bytes);
    return Curve25519SecretKey.fromBytes(bytes);
  }

  private static byte[] concat(byte[] a, byte[] b, byte[] c) {
    byte[] out = new byte[a.length + b.length + c.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    System.arraycopy(c, 0, out, a.length + b.length, c.length);
    return out;
  }

  // ---- state access for pickles (package-private) ----

  Ed25519SecretKey signingKey() {
    return signingKey;
  }

  Curve25519SecretKey identitySecretKey() {
    return identityKey;
  }

  List<OneTimeKey> storedOneTimeKeys() {
    return new ArrayList<>(oneTimeKeys.values());
  }

  OneTimeKey currentFallbackKey() {
    return fallbackKey;
  }

  OneTimeKey previousFallbackKey() {
    return previousFallbackKey;
  }

  long nextKeyId() {
    return nextKeyId;
  }

  SecureRandom random() {
    return random;
  }

  /** Installs restored key state; used by the pickle readers only. */
  void restore(
      List<OneTimeKey> keys, OneTimeKey fallback, OneTimeKey previousFallback, long nextId) {
    oneTimeKeys.clear();
    for (OneTimeKey key : keys) {
      oneTimeKeys.put(key.id(), key);
    }
    fallbackKey = fallback;
    previousFallbackKey = previousFallback;
    nextKeyId = nextId;
  }

  /**
   * Serializes and encrypts the account in mxe2ee's own versioned format ({@link AccountPickle}).
   *
   * @param pickleKey 32 bytes
   */
  public String pickle(byte[] pickleKey) {
    return PickleCipher.mxe2ee(pickleKey).encrypt(AccountPickle.encode(this));
  }

  /**
   * Restores an account from {@link #pickle(byte[])} output, with a fresh {@link SecureRandom}.
   *
   * @throws CryptoException if the key is wrong or the pickle was altered
   * @throws io.github.mxe2ee.crypto.DecodeException if the pickle is malformed
   */
  public static Account fromPickle(String pickle, byte[] pickleKey) {
    return fromPickle(pickle, pickleKey, new SecureRandom());
  }

  /** Like {@link #fromPickle(String, byte[])} with an injected source of randomness. */
  public static Account fromPickle(String pickle, byte[] pickleKey, SecureRandom random) {
    return AccountPickle.decode(PickleCipher.mxe2ee(pickleKey).decrypt(pickle), random);
  }

  /**
   * Imports an account pickled by libolm ({@code olm_pickle_account}, versions 2, 3 and 4). Version
   * 1 stored a truncated Ed25519 key and is rejected, as libolm itself rejects it.
   *
   * @param pickleKey the key given to libolm (any length)
   * @throws CryptoException if the key is wrong or the pickle was altered
   * @throws OlmDecodeException if the pickle is malformed, inconsistent or of an unsupported
   *     version
   */
  public static Account fromLibolmPickle(String pickle, byte[] pickleKey) {
    return LibolmPickles.account(
        PickleCipher.libolm(pickleKey).decrypt(pickle), new SecureRandom());
  }

  @Override
  public String toString() {
    return "Account{curve25519="
        + identityPublicKey
        + ", ed25519="
        + signingPublicKey
        + ", oneTimeKeys="
        + oneTimeKeys.size()
        + ", fallbackKeys="
        + ((fallbackKey == null ? 0 : 1) + (previousFallbackKey == null ? 0 : 1))
        + "}";
  }
}
