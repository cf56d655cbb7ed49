package io.github.mxe2ee.crypto;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * Base58 with the Bitcoin alphabet, as the key representation of the spec appendices uses it:
 * big-endian, each leading zero byte written as a leading {@code '1'}. Keys are a few dozen bytes,
 * so {@link BigInteger} arithmetic is plenty fast. Not API.
 */
final class Base58 {
  static final String ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

  private static final BigInteger BASE = BigInteger.valueOf(58);

  private static final int[] VALUES = new int[128];

  static {
    Arrays.fill(VALUES, -1);
    for (int i = 0; i < ALPHABET.length(); i++) {
      VALUES[ALPHABET.charAt(i)] = i;
    }
  }

  private Base58() {}

  static String encode(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    BigInteger n = new BigInteger(1, bytes);
    while (n.signum() > 0) {
      BigInteger[] qr = n.divideAndRemainder(BASE);
      out.append(ALPHABET.charAt(qr[1].intValue()));
      n = qr[0];
    }
    for (int i = 0; i < bytes.length && bytes[i] == 0; i++) {
      out.append('1');
    }
    return out.reverse().toString();
  }

  /**
   * Decodes {@code text}; characters outside the alphabet (including 0, O, I and l) throw {@link
   * DecodeException} naming the position, never the text.
   */
  static byte[] decode(String text) {
    BigInteger n = BigInteger.ZERO;
    int zeros = 0;
    boolean leading = true;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      int v = c < VALUES.length ? VALUES[c] : -1;
      if (v < 0) {
        throw new DecodeException("base58: invalid character at position " + i);
      }
      if (leading && v == 0) {
        zeros++;
      } else {
        leading = false;
      }
      n = n.multiply(BASE).add(BigInteger.valueOf(v));
    }
    byte[] magnitude = n.signum() == 0 ? new byte[0] : n.toByteArray();
    int skip = magnitude.length > 0 && magnitude[0] == 0 ? 1 : 0; // BigInteger's sign byte
    byte[] out = new byte[zeros + magnitude.length - skip];
    System.arraycopy(magnitude, skip, out, zeros, magnitude.length - skip);
    return out;
  }
}
