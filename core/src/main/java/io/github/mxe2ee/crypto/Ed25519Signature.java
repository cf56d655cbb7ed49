package io.github.mxe2ee.crypto;

import java.util.Arrays;

/** An Ed25519 signature (RFC 8032): 64 bytes, R || S. Immutable; equality by value. */
public final class Ed25519Signature {
  /** Length of a signature in bytes. */
  public static final int LENGTH = 64;

  private final byte[] bytes;

  private Ed25519Signature(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * @throws DecodeException if the array is not 64 bytes
   */
  public static Ed25519Signature fromBytes(byte[] bytes) {
    DecodeException.requireLength("Ed25519 signature", LENGTH, bytes.length);
    return new Ed25519Signature(bytes.clone());
  }

  /**
   * @throws DecodeException if the text is not base64 of 64 bytes
   */
  public static Ed25519Signature fromBase64(String base64) {
    return fromBytes(UnpaddedBase64.decode(base64));
  }

  static Ed25519Signature wrap(byte[] bytes) {
    return new Ed25519Signature(bytes);
  }

  byte[] rawBytes() {
    return bytes;
  }

  /** A copy of the 64 bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** The unpadded base64 form. */
  public String toBase64() {
    return UnpaddedBase64.encode(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Ed25519Signature other && Arrays.equals(bytes, other.bytes);
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
