package io.github.mxe2ee.crypto;

import java.util.Arrays;

/**
 * The text form of a private key for people (spec appendices, "Cryptographic key representation"):
 * {@code 0x8B 0x01 || key || parity}, where parity is the XOR of every byte before it, in base58
 * (Bitcoin alphabet) with a space after every fourth character. Used for backup decryption keys and
 * secret storage keys.
 *
 * <pre>
 * +------+------+----------------+--------+
 * | 0x8B | 0x01 | key (32 bytes) | parity |   then base58, "xxxx xxxx ..."
 * +------+------+----------------+--------+
 * </pre>
 *
 * <p>Reading ignores all whitespace. Errors are {@link DecodeException}s that name what is wrong (a
 * character position, a length, the header or the parity) and never echo the input, which is a
 * secret. Stateless and thread-safe.
 */
public final class KeyRepresentation {
  /** Length of the keys this representation carries (Curve25519 and AES-256 keys). */
  public static final int KEY_LENGTH = 32;

  private static final byte HEADER_0 = (byte) 0x8B;
  private static final byte HEADER_1 = 0x01;
  private static final int ENCODED_LENGTH = 2 + KEY_LENGTH + 1;

  /** Longest text worth decoding: 48 base58 characters plus spaces, with room for stray spaces. */
  private static final int MAX_TEXT_LENGTH = 256;

  private KeyRepresentation() {}

  /** The spaced base58 text of a 32-byte key. */
  public static String encode(byte[] key) {
    if (key.length != KEY_LENGTH) {
      throw new IllegalArgumentException(
          "key must be " + KEY_LENGTH + " bytes but was " + key.length);
    }
    byte[] raw = new byte[ENCODED_LENGTH];
    raw[0] = HEADER_0;
    raw[1] = HEADER_1;
    System.arraycopy(key, 0, raw, 2, KEY_LENGTH);
    raw[ENCODED_LENGTH - 1] = parity(raw, ENCODED_LENGTH - 1);
    String plain = Base58.encode(raw);
    Arrays.fill(raw, (byte) 0);
    StringBuilder spaced = new StringBuilder();
    for (int i = 0; i < plain.length(); i++) {
      if (i > 0 && i % 4 == 0) {
        spaced.append(' ');
      }
      spaced.append(plain.charAt(i));
    }
    return spaced.toString();
  }

  /**
   * The 32-byte key in {@code text}.
   *
   * @throws DecodeException if the text is too long, has a character outside the alphabet, decodes
   *     to the wrong length, or has a wrong header or parity byte
   */
  public static byte[] decode(String text) {
    if (text.length() > MAX_TEXT_LENGTH) {
      throw new DecodeException(
          "key representation: at most " + MAX_TEXT_LENGTH + " characters, got " + text.length());
    }
    StringBuilder compact = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!Character.isWhitespace(c)) {
        compact.append(c);
      }
    }
    byte[] raw = Base58.decode(compact.toString());
    try {
      if (raw.length != ENCODED_LENGTH) {
        throw new DecodeException(
            "key representation: expected " + ENCODED_LENGTH + " bytes, got " + raw.length);
      }
      if (raw[0] != HEADER_0 || raw[1] != HEADER_1) {
        throw new DecodeException("key representation: header is not 0x8B 0x01");
      }
      if (parity(raw, ENCODED_LENGTH - 1) != raw[ENCODED_LENGTH - 1]) {
        throw new DecodeException("key representation: parity byte does not match");
      }
      return Arrays.copyOfRange(raw, 2, 2 + KEY_LENGTH);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  private static byte parity(byte[] bytes, int length) {
    byte p = 0;
    for (int i = 0; i < length; i++) {
      p ^= bytes[i];
    }
    return p;
  }
}
