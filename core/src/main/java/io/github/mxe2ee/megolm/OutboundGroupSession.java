package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * The sending side of a Megolm session: a ratchet {@code R(i)} and an Ed25519 key pair {@code K}
 * whose public half is the session id.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Session setup", "Message
 * encryption" and "Advancing the ratchet". Each {@link #encrypt(byte[])} derives {@code AES_KEY |
 * HMAC_KEY | AES_IV} from {@code R(i)} with HKDF-SHA-256 (info {@code "MEGOLM_KEYS"}), encrypts
 * with AES-256-CBC/PKCS#7, appends an 8-byte HMAC-SHA-256 and an Ed25519 signature, then advances
 * the ratchet by one.
 *
 * <p>Contract: thread-safe (methods synchronize on the session); arguments must not be null and
 * results never are. The caller persists the session (via {@link #pickle(byte[])}) after every
 * {@link #encrypt} so an index is never reused. Secrets never appear in {@link #toString()}.
 */
public final class OutboundGroupSession {
  private final Ratchet ratchet;
  private final Ed25519SecretKey signingKey;
  private final Ed25519PublicKey publicKey;

  OutboundGroupSession(Ratchet ratchet, Ed25519SecretKey signingKey) {
    this.ratchet = ratchet;
    this.signingKey = signingKey;
    this.publicKey = signingKey.publicKey();
  }

  /** Starts a new session at index 0 with 128 random ratchet bytes and a fresh Ed25519 key. */
  public static OutboundGroupSession create(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] ratchetBytes = new byte[Ratchet.LENGTH];
    random.nextBytes(ratchetBytes);
    Ratchet ratchet = Ratchet.fromBytes(ratchetBytes, 0);
    Arrays.fill(ratchetBytes, (byte) 0);
    return new OutboundGroupSession(ratchet, Ed25519SecretKey.generate(random));
  }

  /**
   * Deterministic construction for tests and libolm reproduction: the given ratchet bytes at the
   * given index and signing key.
   */
  static OutboundGroupSession fromParts(byte[] ratchet, int index, Ed25519SecretKey signingKey) {
    return new OutboundGroupSession(Ratchet.fromBytes(ratchet, index), signingKey);
  }

  /**
   * Restores a session pickled by {@link #pickle(byte[])}.
   *
   * @throws io.github.mxe2ee.crypto.CryptoException if the key is wrong or the pickle was altered
   * @throws io.github.mxe2ee.crypto.DecodeException if it is malformed or not an outbound pickle
   */
  public static OutboundGroupSession fromPickle(String pickle, byte[] pickleKey) {
    return OutboundGroupSessionPickle.decrypt(pickle, pickleKey).toSession();
  }

  /**
   * Imports a libolm {@code OlmOutboundGroupSession} pickle (pickle version 1: ratchet, counter,
   * Ed25519 public key, 64-byte expanded private key).
   *
   * @param pickle libolm's base64 pickle
   * @param pickleKey the key given to {@code olm_pickle_outbound_group_session} (any length)
   * @throws io.github.mxe2ee.crypto.CryptoException if the key is wrong or the pickle was altered
   * @throws io.github.mxe2ee.crypto.DecodeException if malformed, of another version, or if the
   *     stored public key does not belong to the stored private key
   */
  public static OutboundGroupSession fromLibolmPickle(String pickle, byte[] pickleKey) {
    return LibolmGroupPickles.outbound(pickle, pickleKey);
  }

  /** The session id: unpadded base64 of the Ed25519 public key. */
  public String sessionId() {
    return publicKey.toBase64();
  }

  /** The Ed25519 public key that signs every message. */
  public Ed25519PublicKey signingKey() {
    return publicKey;
  }

  /** The index the next message will be encrypted at, 0..2^32-1. */
  public synchronized long messageIndex() {
    return ratchet.indexAsLong();
  }

  /** The signed session key at the current index, to share over Olm in {@code m.room_key}. */
  public synchronized SessionKey sessionKey() {
    return SessionKey.sign(ratchet, signingKey, publicKey);
  }

  /** Encrypts the UTF-8 bytes of {@code plaintext}; see {@link #encrypt(byte[])}. */
  public MegolmMessage encrypt(String plaintext) {
    return encrypt(plaintext.getBytes(StandardCharsets.UTF_8));
  }

  /** Encrypts, MACs and signs {@code plaintext} at the current index, then advances the ratchet. */
  public synchronized MegolmMessage encrypt(byte[] plaintext) {
    Objects.requireNonNull(plaintext, "plaintext");
    MessageKeys keys = MessageKeys.derive(ratchet);
    try {
      byte[] ciphertext = keys.encrypt(plaintext);
      byte[] out = MegolmMessage.unsealed(ratchet.index(), ciphertext);
      int macInput = MegolmMessage.macInputLength(out);
      System.arraycopy(
          keys.truncatedMac(out, macInput), 0, out, macInput, MegolmMessage.MAC_LENGTH);
      int signatureInput = MegolmMessage.signatureInputLength(out);
      byte[] signed = Arrays.copyOf(out, signatureInput);
      Ed25519Signature signature = signingKey.sign(signed);
      System.arraycopy(signature.toBytes(), 0, out, signatureInput, MegolmMessage.SIGNATURE_LENGTH);
      MegolmMessage message = MegolmMessage.sealed(out, ratchet.index(), ciphertext.length);
      ratchet.advance();
      return message;
    } finally {
      keys.wipe();
    }
  }

  /**
   * Serializes and encrypts the session with {@code PickleCipher.mxe2ee(pickleKey)}.
   *
   * @param pickleKey 32 bytes
   */
  public synchronized String pickle(byte[] pickleKey) {
    return new OutboundGroupSessionPickle(ratchet.copy(), signingKey).encrypt(pickleKey);
  }

  @Override
  public String toString() {
    return "OutboundGroupSession[sessionId=" + sessionId() + "]";
  }
}
