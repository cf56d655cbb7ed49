package io.github.mxe2ee.crypto.curve;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Ed25519 (RFC 8032 section 5.1) on mxe2ee's own curve arithmetic: public keys and signatures from
 * a secret scalar and nonce prefix, and X25519 public keys from the same fixed-base code.
 *
 * <p>Signing is constant time in the secret scalar, the prefix and the nonce ({@link FixedBase},
 * {@link Scalar25519#reduce}, {@link Scalar25519#mulAdd}); the message, the public key and the
 * signature are public. Verification is in {@link VerificationKey}.
 *
 * <p>Stateless and thread-safe (SHA-512 instances are per thread).
 */
public final class EdDsa {
  /** Length of a signature: R (32) || S (32). */
  public static final int SIGNATURE_BYTES = 64;

  private static final ThreadLocal<MessageDigest> SHA512 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-512");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-512 is required by the Java platform", e);
            }
          });

  private EdDsa() {}

  /** A SHA-512 instance of this thread, reset. */
  static MessageDigest sha512() {
    MessageDigest md = SHA512.get();
    md.reset();
    return md;
  }

  /**
   * Expands a 32-byte seed into the 64-byte secret of RFC 8032 section 5.1.5: the clamped scalar
   * {@code s} (bytes 0..31) and the nonce prefix (bytes 32..63).
   */
  public static byte[] expandSeed(byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("Ed25519 seed must be 32 bytes but was " + seed.length);
    }
    byte[] h = sha512().digest(seed);
    Scalar25519.clamp(h);
    return h;
  }

  /**
   * The public key {@code [s]B} of the scalar in bytes 0..31 of {@code expanded} (any 256-bit
   * value; it is reduced modulo L first, which does not change the point).
   */
  public static byte[] publicKey(byte[] expanded) {
    EdwardsPoint a = new EdwardsPoint();
    FixedBase.multiply(reducedScalar(expanded), a);
    byte[] out = new byte[32];
    a.encode(out, 0);
    return out;
  }

  /**
   * The X25519 public key of a 32-byte X25519 secret (RFC 7748 section 6.1): the secret is clamped,
   * multiplied with the Edwards base point and mapped to the Montgomery u-coordinate, which equals
   * {@code X25519(k, 9)} at a quarter of the ladder's cost.
   */
  public static byte[] x25519PublicKey(byte[] secret) {
    if (secret.length != 32) {
      throw new IllegalArgumentException("X25519 secret must be 32 bytes but was " + secret.length);
    }
    byte[] k = secret.clone();
    Scalar25519.clamp(k);
    EdwardsPoint p = new EdwardsPoint();
    FixedBase.multiply(k, p);
    java.util.Arrays.fill(k, (byte) 0);
    byte[] out = new byte[32];
    p.encodeMontgomery(out, 0);
    return out;
  }

  /**
   * Signs {@code message[off, off+len)} (RFC 8032 section 5.1.6) with the expanded secret (scalar
   * || prefix) whose public key is {@code publicKey}.
   *
   * @return the 64-byte signature R || S
   */
  public static byte[] sign(byte[] expanded, byte[] publicKey, byte[] message, int off, int len) {
    MessageDigest md = sha512();
    md.update(expanded, 32, 32);
    md.update(message, off, len);
    byte[] r = Scalar25519.reduce(md.digest());
    EdwardsPoint rPoint = new EdwardsPoint();
    FixedBase.multiply(r, rPoint);
    byte[] signature = new byte[SIGNATURE_BYTES];
    rPoint.encode(signature, 0);
    md.update(signature, 0, 32);
    md.update(publicKey, 0, 32);
    md.update(message, off, len);
    byte[] k = Scalar25519.reduce(md.digest());
    byte[] a = reducedScalar(expanded);
    byte[] s = Scalar25519.mulAdd(k, a, r);
    System.arraycopy(s, 0, signature, 32, 32);
    java.util.Arrays.fill(a, (byte) 0);
    java.util.Arrays.fill(r, (byte) 0);
    return signature;
  }

  private static byte[] reducedScalar(byte[] expanded) {
    byte[] wide = new byte[Scalar25519.WIDE_BYTES];
    System.arraycopy(expanded, 0, wide, 0, 32);
    byte[] a = Scalar25519.reduce(wide);
    java.util.Arrays.fill(wide, (byte) 0);
    return a;
  }
}
