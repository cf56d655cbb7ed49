package io.github.mxe2ee.crypto;

import io.github.mxe2ee.crypto.curve.EdDsa;
import io.github.mxe2ee.crypto.curve.X25519Ladder;
import java.security.SecureRandom;

/**
 * A Curve25519 (X25519) private key, on mxe2ee's own curve arithmetic ({@link X25519Ladder} for
 * agreements, the Edwards fixed-base code of {@link EdDsa} for the public key; both constant time).
 * Immutable and thread-safe. Never prints its bytes: {@link #toString()} is redacted and there is
 * deliberately no {@code equals}/{@code hashCode}. The only way out is {@link
 * #exposeSecretBytes()}, named so that every use can be found.
 */
public final class Curve25519SecretKey {
  /** Length of the key in bytes. */
  public static final int LENGTH = 32;

  private final byte[] secret;
  private final Curve25519PublicKey publicKey;

  private Curve25519SecretKey(byte[] secret) {
    this.secret = secret;
    this.publicKey = Curve25519PublicKey.fromBytes(EdDsa.x25519PublicKey(secret));
  }

  /** Generates a fresh key from {@code random}. */
  public static Curve25519SecretKey generate(SecureRandom random) {
    byte[] secret = new byte[LENGTH];
    random.nextBytes(secret);
    return new Curve25519SecretKey(secret);
  }

  /**
   * Wraps existing key bytes (copied). Clamping is applied by the scalar multiplication, so the
   * bytes are kept as given, which keeps pickles byte-identical to libolm's and vodozemac's.
   *
   * @throws DecodeException if the array is not 32 bytes
   */
  public static Curve25519SecretKey fromBytes(byte[] secret) {
    DecodeException.requireLength("Curve25519 secret key", LENGTH, secret.length);
    return new Curve25519SecretKey(secret.clone());
  }

  /** The matching public key. */
  public Curve25519PublicKey publicKey() {
    return publicKey;
  }

  /**
   * X25519 with {@code theirs}.
   *
   * @return the 32-byte shared secret
   * @throws CryptoException if the result is all zeros (a low-order, non-contributory public key)
   */
  public byte[] diffieHellman(Curve25519PublicKey theirs) {
    byte[] shared = new byte[LENGTH];
    if (!X25519Ladder.scalarMult(secret, theirs.rawBytes(), shared)) {
      throw new CryptoException("X25519: non-contributory result (low-order public key)");
    }
    return shared;
  }

  /** A copy of the secret bytes, for pickling only. */
  public byte[] exposeSecretBytes() {
    return secret.clone();
  }

  @Override
  public String toString() {
    return "Curve25519SecretKey[public=" + publicKey + "]";
  }
}
