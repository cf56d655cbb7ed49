package io.github.mxe2ee.crypto;

import io.github.mxe2ee.crypto.curve.EdDsa;
import java.security.SecureRandom;

/**
 * An Ed25519 private key (RFC 8032) in one of two forms:
 *
 * <ul>
 *   <li>a 32-byte <b>seed</b> (what mxe2ee and vodozemac create), expanded once (RFC 8032 section
 *       5.1.5) when the key is made;
 *   <li>the 64-byte <b>expanded</b> form, clamped scalar {@code a} || nonce prefix, which libolm
 *       stores in its account pickles and from which the seed cannot be recovered.
 * </ul>
 *
 * Both sign with the same constant-time code ({@link EdDsa}, mxe2ee's own curve arithmetic).
 *
 * <p>Immutable and thread-safe. Never prints its bytes: {@link #toString()} names only the public
 * key, and there is deliberately no {@code equals}/{@code hashCode}.
 */
public final class Ed25519SecretKey {
  /** Length of a seed in bytes. */
  public static final int SEED_LENGTH = 32;

  /** Length of the expanded form (scalar || prefix) in bytes. */
  public static final int EXPANDED_LENGTH = 64;

  private final byte[] secret;
  private final boolean expanded;

  /** Scalar || prefix: the expanded form, or the seed's expansion. */
  private final byte[] scalarAndPrefix;

  private final Ed25519PublicKey publicKey;

  private Ed25519SecretKey(byte[] secret, boolean expanded) {
    this.secret = secret;
    this.expanded = expanded;
    this.scalarAndPrefix = expanded ? secret : EdDsa.expandSeed(secret);
    this.publicKey = Ed25519PublicKey.fromBytes(EdDsa.publicKey(scalarAndPrefix));
  }

  /** Generates a fresh seed from {@code random}. */
  public static Ed25519SecretKey generate(SecureRandom random) {
    byte[] seed = new byte[SEED_LENGTH];
    random.nextBytes(seed);
    return new Ed25519SecretKey(seed, false);
  }

  /**
   * Wraps a 32-byte seed (copied).
   *
   * @throws DecodeException if the array is not 32 bytes
   */
  public static Ed25519SecretKey fromSeed(byte[] seed) {
    DecodeException.requireLength("Ed25519 seed", SEED_LENGTH, seed.length);
    return new Ed25519SecretKey(seed.clone(), false);
  }

  /**
   * Wraps libolm's 64-byte expanded key (copied): the clamped scalar, then the nonce prefix.
   *
   * @throws DecodeException if the array is not 64 bytes
   */
  public static Ed25519SecretKey fromExpanded(byte[] expandedKey) {
    DecodeException.requireLength("Ed25519 expanded key", EXPANDED_LENGTH, expandedKey.length);
    return new Ed25519SecretKey(expandedKey.clone(), true);
  }

  /** True if this key is in libolm's expanded form rather than a seed. */
  public boolean isExpanded() {
    return expanded;
  }

  /** The matching public key. */
  public Ed25519PublicKey publicKey() {
    return publicKey;
  }

  /** Signs {@code message} (pure Ed25519, no context). */
  public Ed25519Signature sign(byte[] message) {
    // The public key was derived from this very secret in the constructor and is immutable; a
    // mismatched public key must never be passed to the signing code (it would leak the key).
    return Ed25519Signature.wrap(
        EdDsa.sign(scalarAndPrefix, publicKey.rawBytes(), message, 0, message.length));
  }

  /** A copy of the secret bytes (the seed, or the expanded form), for pickling only. */
  public byte[] exposeSecretBytes() {
    return secret.clone();
  }

  @Override
  public String toString() {
    return "Ed25519SecretKey[public=" + publicKey + "]";
  }
}
