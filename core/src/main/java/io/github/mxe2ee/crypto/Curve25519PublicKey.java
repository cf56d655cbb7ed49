package io.github.mxe2ee.crypto;

import java.util.Arrays;

/**
 * A Curve25519 (X25519) public key: 32 bytes, the Montgomery u-coordinate. Immutable; equality is
 * by value; {@link #toString()} is the unpadded base64 form used on the wire.
 */
public final class Curve25519PublicKey {
  /** Length of the key in bytes. */
  public static final int LENGTH = 32;

  private final byte[] bytes;

  /** {@link #toBase64()}, computed on first use. */
  private String base64;

  private Curve25519PublicKey(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * @throws DecodeException if the array is not 32 bytes
   */
  public static Curve25519PublicKey fromBytes(byte[] bytes) {
    DecodeException.requireLength("Curve25519 public key", LENGTH, bytes.length);
    return new Curve25519PublicKey(bytes.clone());
  }

  /**
   * @throws DecodeException if the text is not base64 of 32 bytes
   */
  public static Curve25519PublicKey fromBase64(String base64) {
    return fromBytes(UnpaddedBase64.decode(base64));
  }

  /** A copy of the 32 key bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  byte[] rawBytes() {
    return bytes;
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
    return o instanceof Curve25519PublicKey other && Arrays.equals(bytes, other.bytes);
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
