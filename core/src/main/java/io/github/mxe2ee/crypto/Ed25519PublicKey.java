package io.github.mxe2ee.crypto;

import io.github.mxe2ee.crypto.curve.VerificationKey;
import java.util.Arrays;

/**
 * An Ed25519 public key (RFC 8032), on mxe2ee's own curve arithmetic ({@link VerificationKey}). The
 * point is decompressed and validated once, at construction, and reused by every {@link #verify}:
 * verification is the hot path of Megolm decryption. A key that verifies a second time builds
 * tables (about 5 KB) that make each further verification about twice as fast, since a Megolm
 * session's key checks every message of the session. Immutable and thread-safe; equality by value;
 * {@link #toString()} is the unpadded base64 form.
 */
public final class Ed25519PublicKey {
  /** Length of the key in bytes. */
  public static final int LENGTH = 32;

  private final byte[] bytes;

  /** {@link #toBase64()}, computed on first use. */
  private String base64;

  private final VerificationKey point;

  private Ed25519PublicKey(byte[] bytes, VerificationKey point) {
    this.bytes = bytes;
    this.point = point;
  }

  /**
   * @throws DecodeException if the array is not 32 bytes or not the encoding of a valid point
   */
  public static Ed25519PublicKey fromBytes(byte[] bytes) {
    DecodeException.requireLength("Ed25519 public key", LENGTH, bytes.length);
    byte[] copy = bytes.clone();
    VerificationKey point = VerificationKey.decode(copy);
    if (point == null) {
      throw new DecodeException("Ed25519 public key: not a valid curve point");
    }
    return new Ed25519PublicKey(copy, point);
  }

  /**
   * @throws DecodeException if the text is not base64 of a valid 32-byte key
   */
  public static Ed25519PublicKey fromBase64(String base64) {
    return fromBytes(UnpaddedBase64.decode(base64));
  }

  /**
   * Verifies {@code signature} over {@code message}.
   *
   * @return true if the signature is valid for this key
   */
  public boolean verify(byte[] message, Ed25519Signature signature) {
    return verify(message, 0, message.length, signature);
  }

  /** Verifies {@code signature} over {@code message[off, off+len)}. */
  public boolean verify(byte[] message, int off, int len, Ed25519Signature signature) {
    return point.verify(signature.rawBytes(), 0, message, off, len);
  }

  /** The 32 bytes, not copied: callers inside this package must not modify them. */
  byte[] rawBytes() {
    return bytes;
  }

  /** A copy of the 32 bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** The unpadded base64 form. */
  public String toBase64() {
    // Racy single-check: every thread computes the same immutable String, so a lost race costs
    // only a second encoding. Keys are encoded on every message they address, hence the cache.
    String b = base64;
    if (b == null) {
      b = UnpaddedBase64.encode(bytes);
      base64 = b;
    }
    return b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Ed25519PublicKey other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return toBase64();
  }
}
