package io.github.mxe2ee.crypto;

import java.security.SecureRandom;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * A Curve25519 (X25519) private key, on Bouncy Castle's low-level RFC 7748 code (no provider
 * look-ups). Immutable and thread-safe. Never prints its bytes: {@link #toString()} is redacted and
 * there is deliberately no {@code equals}/{@code hashCode}. The only way out is {@link
 * #exposeSecretBytes()}, named so that every use can be found.
 */
public final class Curve25519SecretKey {
  /** Length of the key in bytes. */
  public static final int LENGTH = 32;

  private final byte[] secret;
  private final Curve25519PublicKey publicKey;

  private Curve25519SecretKey(byte[] secret) {
    this.secret = secret;
    byte[] pub = new byte[LENGTH];
    X25519.scalarMultBase(secret, 0, pub, 0);
    this.publicKey = Curve25519PublicKey.fromBytes(pub);
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
    if (!X25519.calculateAgreement(secret, 0, theirs.rawBytes(), 0, shared, 0)) {
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
