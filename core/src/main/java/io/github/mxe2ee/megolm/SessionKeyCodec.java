package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Arrays;

/**
 * Shared layout of the session-sharing (v2) and session-export (v1) formats: both start with
 *
 * <pre>
 * +---+----+--------+--------+--------+--------+------+
 * | V | i  | R(i,0) | R(i,1) | R(i,2) | R(i,3) | Kpub |
 * +---+----+--------+--------+--------+--------+------+
 * 0   1    5        37       69      101      133    165   bytes
 * </pre>
 *
 * with {@code i} a big-endian unsigned 32-bit index. Spec: {@code
 * shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Session sharing format" and "Session
 * export format".
 */
final class SessionKeyCodec {
  static final int INDEX_OFFSET = 1;
  static final int RATCHET_OFFSET = INDEX_OFFSET + 4;
  static final int PUBLIC_KEY_OFFSET = RATCHET_OFFSET + Ratchet.LENGTH;
  static final int PUBLIC_KEY_LENGTH = 32;

  /** Length of the common prefix, which is the whole export format. */
  static final int UNSIGNED_LENGTH = PUBLIC_KEY_OFFSET + PUBLIC_KEY_LENGTH;

  private SessionKeyCodec() {}

  /** Decodes base64, naming {@code what} in the error. */
  static byte[] decodeBase64(String base64, String what) {
    try {
      return UnpaddedBase64.decode(base64);
    } catch (DecodeException e) {
      throw new MegolmDecodeException(what + " is not valid base64", e);
    }
  }

  /** Checks version and exact length before any field is read. */
  static void checkShape(byte[] bytes, int version, int length, String what) {
    if (bytes.length == 0) {
      throw new MegolmDecodeException(what + " is empty: expected " + length + " bytes");
    }
    int actualVersion = bytes[0] & 0xff;
    if (actualVersion != version) {
      throw new MegolmDecodeException(
          what + " version: expected " + version + ", got " + actualVersion);
    }
    if (bytes.length != length) {
      throw new MegolmDecodeException(
          what + " length: expected " + length + " bytes, got " + bytes.length);
    }
  }

  static int readIndex(byte[] bytes) {
    return ((bytes[1] & 0xff) << 24)
        | ((bytes[2] & 0xff) << 16)
        | ((bytes[3] & 0xff) << 8)
        | (bytes[4] & 0xff);
  }

  static Ratchet readRatchet(byte[] bytes) {
    return Ratchet.fromBytes(
        Arrays.copyOfRange(bytes, RATCHET_OFFSET, RATCHET_OFFSET + Ratchet.LENGTH),
        readIndex(bytes));
  }

  static Ed25519PublicKey readPublicKey(byte[] bytes, String what) {
    try {
      return Ed25519PublicKey.fromBytes(
          Arrays.copyOfRange(bytes, PUBLIC_KEY_OFFSET, PUBLIC_KEY_OFFSET + PUBLIC_KEY_LENGTH));
    } catch (DecodeException e) {
      throw new MegolmDecodeException(what + " has an invalid Ed25519 public key", e);
    }
  }

  /** Writes the common prefix into a buffer of {@code totalLength} bytes. */
  static byte[] write(int version, Ratchet ratchet, Ed25519PublicKey key, int totalLength) {
    byte[] out = new byte[totalLength];
    out[0] = (byte) version;
    int index = ratchet.index();
    out[1] = (byte) (index >>> 24);
    out[2] = (byte) (index >>> 16);
    out[3] = (byte) (index >>> 8);
    out[4] = (byte) index;
    byte[] ratchetBytes = ratchet.toBytes();
    System.arraycopy(ratchetBytes, 0, out, RATCHET_OFFSET, Ratchet.LENGTH);
    Arrays.fill(ratchetBytes, (byte) 0);
    System.arraycopy(key.toBytes(), 0, out, PUBLIC_KEY_OFFSET, PUBLIC_KEY_LENGTH);
    return out;
  }
}
