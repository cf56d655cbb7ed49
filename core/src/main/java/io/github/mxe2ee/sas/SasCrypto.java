package io.github.mxe2ee.sas;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.Hkdf;
import io.github.mxe2ee.crypto.HmacSha256;
import io.github.mxe2ee.crypto.Sha256;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.json.CanonicalJson;
import java.nio.charset.StandardCharsets;

/**
 * The cryptographic building blocks of {@code m.sas.v1} (spec: {@code end_to_end_encryption.md},
 * "Short Authentication String (SAS) verification": "SAS HKDF calculation", "SAS method: decimal",
 * "SAS method: emoji", "MAC calculation", and the {@code commitment} of {@code
 * m.key.verification.accept}). Stateless and thread-safe; the shared secret is a parameter and is
 * never kept.
 */
final class SasCrypto {
  /** Bytes of SAS output the emoji method needs (7 groups of 6 bits = 42 bits, in 6 bytes). */
  static final int EMOJI_BYTES = 6;

  /** Bytes of SAS output the decimal method needs (3 groups of 13 bits = 39 bits, in 5 bytes). */
  static final int DECIMAL_BYTES = 5;

  private SasCrypto() {}

  /**
   * The commitment an accepting device sends: unpadded base64 of SHA-256 over its ephemeral public
   * key (unpadded base64) followed by the canonical JSON of the {@code m.key.verification.start}
   * content.
   */
  static String commitment(String publicKeyBase64, ObjectNode startContent) {
    byte[] key = publicKeyBase64.getBytes(StandardCharsets.UTF_8);
    byte[] json = CanonicalJson.encodeBytes(startContent);
    byte[] input = new byte[key.length + json.length];
    System.arraycopy(key, 0, input, 0, key.length);
    System.arraycopy(json, 0, input, key.length, json.length);
    return UnpaddedBase64.encode(Sha256.hash(input));
  }

  /**
   * The HKDF info of {@code curve25519-hkdf-sha256}: {@code MATRIX_KEY_VERIFICATION_SAS|<start
   * user>|<start device>|<start key>|<accept user>|<accept device>|<accept key>|<transaction id>}.
   */
  static String sasInfo(
      String startUser,
      String startDevice,
      String startKey,
      String acceptUser,
      String acceptDevice,
      String acceptKey,
      String transactionId) {
    return "MATRIX_KEY_VERIFICATION_SAS|"
        + startUser
        + "|"
        + startDevice
        + "|"
        + startKey
        + "|"
        + acceptUser
        + "|"
        + acceptDevice
        + "|"
        + acceptKey
        + "|"
        + transactionId;
  }

  /** {@code length} bytes of HKDF-SHA-256 over the shared secret, no salt, with {@code info}. */
  static byte[] sasBytes(byte[] sharedSecret, String info, int length) {
    return Hkdf.sha256(null, sharedSecret, info.getBytes(StandardCharsets.UTF_8), length);
  }

  /** The seven 6-bit emoji indices of the first 42 bits of (at least) 6 SAS bytes. */
  static int[] emojiIndices(byte[] bytes) {
    long bits = 0;
    for (int i = 0; i < EMOJI_BYTES; i++) {
      bits = (bits << 8) | (bytes[i] & 0xff);
    }
    int[] out = new int[7];
    for (int i = 0; i < 7; i++) {
      out[i] = (int) ((bits >>> (42 - 6 * i)) & 0x3f);
    }
    return out;
  }

  /** The three decimals (1000 to 9191) of the first 39 bits of (at least) 5 SAS bytes. */
  static int[] decimals(byte[] bytes) {
    int b0 = bytes[0] & 0xff;
    int b1 = bytes[1] & 0xff;
    int b2 = bytes[2] & 0xff;
    int b3 = bytes[3] & 0xff;
    int b4 = bytes[4] & 0xff;
    return new int[] {
      ((b0 << 5) | (b1 >> 3)) + 1000,
      (((b1 & 0x7) << 10) | (b2 << 2) | (b3 >> 6)) + 1000,
      (((b3 & 0x3f) << 7) | (b4 >> 1)) + 1000
    };
  }

  /**
   * The HKDF info of a MAC: {@code MATRIX_KEY_VERIFICATION_MAC} followed, without separators, by
   * the user and device sending the MAC, the user and device receiving it, the transaction id and
   * the key id (or {@code KEY_IDS} for the list).
   */
  static String macInfo(
      String senderUser,
      String senderDevice,
      String receiverUser,
      String receiverDevice,
      String transactionId,
      String keyId) {
    return "MATRIX_KEY_VERIFICATION_MAC"
        + senderUser
        + senderDevice
        + receiverUser
        + receiverDevice
        + transactionId
        + keyId;
  }

  /**
   * The MAC of {@code input} as sent on the wire: HMAC-SHA-256 under HKDF(shared secret, info, 32),
   * encoded as {@code method} says.
   */
  static String mac(MacMethod method, byte[] sharedSecret, String info, String input) {
    byte[] key = sasBytes(sharedSecret, info, HmacSha256.LENGTH);
    byte[] mac = HmacSha256.mac(key, input.getBytes(StandardCharsets.UTF_8));
    return switch (method) {
      case HKDF_HMAC_SHA256_V2 -> UnpaddedBase64.encode(mac);
      case HKDF_HMAC_SHA256 -> legacyBase64(mac);
    };
  }

  /** Compares a received MAC string with the expected one in time independent of the contents. */
  static boolean macEquals(String expected, String received) {
    return ConstantTime.equals(
        expected.getBytes(StandardCharsets.US_ASCII), received.getBytes(StandardCharsets.UTF_8));
  }

  private static final char[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".toCharArray();

  /**
   * The encoding of the deprecated {@code hkdf-hmac-sha256} MAC: libolm encoded the 32-byte MAC as
   * base64 in place, into the buffer it was reading from, so each group of three input bytes is
   * read after earlier output characters overwrote part of it. This reproduces that overlap: the
   * buffer starts with the MAC, output is written from offset 0, input read from the same buffer.
   * The result has the length of the unpadded base64 of 32 bytes (43 characters).
   */
  static String legacyBase64(byte[] mac) {
    int n = mac.length;
    int outLen = (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
    byte[] buf = new byte[Math.max(n, outLen)];
    System.arraycopy(mac, 0, buf, 0, n);
    int in = 0;
    int out = 0;
    int end = (n / 3) * 3;
    while (in != end) {
      int value = ((buf[in] & 0xff) << 16) | ((buf[in + 1] & 0xff) << 8) | (buf[in + 2] & 0xff);
      in += 3;
      buf[out + 3] = (byte) ALPHABET[value & 0x3f];
      buf[out + 2] = (byte) ALPHABET[(value >> 6) & 0x3f];
      buf[out + 1] = (byte) ALPHABET[(value >> 12) & 0x3f];
      buf[out] = (byte) ALPHABET[(value >> 18) & 0x3f];
      out += 4;
    }
    int remainder = n - in;
    if (remainder == 2) {
      int value = (((buf[in] & 0xff) << 8) | (buf[in + 1] & 0xff)) << 2;
      buf[out + 2] = (byte) ALPHABET[value & 0x3f];
      value >>= 6;
      buf[out + 1] = (byte) ALPHABET[value & 0x3f];
      buf[out] = (byte) ALPHABET[(value >> 6) & 0x3f];
    } else if (remainder == 1) {
      int value = (buf[in] & 0xff) << 4;
      buf[out + 1] = (byte) ALPHABET[value & 0x3f];
      buf[out] = (byte) ALPHABET[(value >> 6) & 0x3f];
    }
    return new String(buf, 0, outLen, StandardCharsets.US_ASCII);
  }
}
