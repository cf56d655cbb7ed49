package io.github.mxe2ee.crypto;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Encryption of pickles (the persisted form of accounts and sessions). Two schemes:
 *
 * <p><b>libolm</b> ({@link #libolm}), read so that bots can migrate from libolm-based stacks, and
 * written for interop tests. Keys come from HKDF-SHA-256 of the pickle key (empty salt, info {@code
 * "Pickle"}), 80 bytes split as AES key, HMAC key and IV. The IV is therefore fixed per key.
 *
 * <pre>
 * +----------------------------------+---------------------------------+
 * | AES-256-CBC(PKCS#7) ciphertext   | HMAC-SHA-256(ciphertext)[0..8)  |
 * +----------------------------------+---------------------------------+
 *   then unpadded base64 of the whole
 * </pre>
 *
 * <p><b>mxe2ee</b> ({@link #mxe2ee}), what mxe2ee writes: a version byte, a random IV per pickle
 * and the full 32-byte MAC over everything before it. Keys come from HKDF-SHA-256 of the 32-byte
 * pickle key with info {@code "mxe2ee pickle v1"} (32 AES key || 32 HMAC key).
 *
 * <pre>
 * +---------+-----------+----------------------------+-------------------------------+
 * | 0x01    | IV (16)   | AES-256-CBC(PKCS#7) of the | HMAC-SHA-256 of all preceding |
 * | version |           | plaintext                  | bytes (32)                    |
 * +---------+-----------+----------------------------+-------------------------------+
 *   then unpadded base64 of the whole
 * </pre>
 *
 * Instances hold derived key material, are immutable and thread-safe, and never print it. MACs are
 * checked in constant time before anything is decrypted.
 */
public final class PickleCipher {
  /** Length of an mxe2ee pickle key in bytes. */
  public static final int MXE2EE_KEY_LENGTH = 32;

  /** Bytes of MAC libolm keeps: HMAC-SHA-256 truncated to 8 bytes. */
  public static final int LIBOLM_MAC_LENGTH = 8;

  /** Version byte of the current mxe2ee scheme. */
  public static final int MXE2EE_VERSION = 1;

  private static final byte[] LIBOLM_INFO = "Pickle".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MXE2EE_INFO = "mxe2ee pickle v1".getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final boolean libolm;
  private final byte[] aesKey;
  private final byte[] macKey;
  private final byte[] iv;

  private PickleCipher(boolean libolm, byte[] aesKey, byte[] macKey, byte[] iv) {
    this.libolm = libolm;
    this.aesKey = aesKey;
    this.macKey = macKey;
    this.iv = iv;
  }

  /** libolm's scheme; {@code pickleKey} may be any length, including empty. */
  public static PickleCipher libolm(byte[] pickleKey) {
    byte[] keys = Hkdf.sha256(new byte[0], pickleKey, LIBOLM_INFO, 80);
    return new PickleCipher(
        true,
        Arrays.copyOfRange(keys, 0, 32),
        Arrays.copyOfRange(keys, 32, 64),
        Arrays.copyOfRange(keys, 64, 80));
  }

  /**
   * mxe2ee's own scheme.
   *
   * @throws DecodeException if the key is not 32 bytes
   */
  public static PickleCipher mxe2ee(byte[] pickleKey) {
    DecodeException.requireLength("pickle key", MXE2EE_KEY_LENGTH, pickleKey.length);
    byte[] keys = Hkdf.sha256(new byte[0], pickleKey, MXE2EE_INFO, 64);
    return new PickleCipher(
        false, Arrays.copyOfRange(keys, 0, 32), Arrays.copyOfRange(keys, 32, 64), null);
  }

  /** Encrypts and authenticates {@code plaintext}; returns unpadded base64. */
  public String encrypt(byte[] plaintext) {
    if (libolm) {
      byte[] ct = Aes256Cbc.encrypt(aesKey, iv, plaintext);
      byte[] out = Arrays.copyOf(ct, ct.length + LIBOLM_MAC_LENGTH);
      System.arraycopy(HmacSha256.mac(macKey, ct), 0, out, ct.length, LIBOLM_MAC_LENGTH);
      return UnpaddedBase64.encode(out);
    }
    byte[] freshIv = new byte[Aes256Cbc.IV_LENGTH];
    RANDOM.nextBytes(freshIv);
    byte[] ct = Aes256Cbc.encrypt(aesKey, freshIv, plaintext);
    int bodyLength = 1 + freshIv.length + ct.length;
    byte[] out = new byte[bodyLength + HmacSha256.LENGTH];
    out[0] = (byte) MXE2EE_VERSION;
    System.arraycopy(freshIv, 0, out, 1, freshIv.length);
    System.arraycopy(ct, 0, out, 1 + freshIv.length, ct.length);
    System.arraycopy(
        HmacSha256.mac(macKey, out, 0, bodyLength), 0, out, bodyLength, HmacSha256.LENGTH);
    return UnpaddedBase64.encode(out);
  }

  /**
   * Checks the MAC, then decrypts.
   *
   * @throws DecodeException if the text is not base64, too short, or of an unknown version
   * @throws CryptoException if the MAC does not match (wrong key or tampered pickle) or the padding
   *     is wrong
   */
  public byte[] decrypt(String pickle) {
    byte[] raw = UnpaddedBase64.decode(pickle);
    if (libolm) {
      if (raw.length < Aes256Cbc.IV_LENGTH + LIBOLM_MAC_LENGTH) {
        throw new DecodeException("libolm pickle: " + raw.length + " bytes is too short");
      }
      int ctLength = raw.length - LIBOLM_MAC_LENGTH;
      byte[] mac = HmacSha256.mac(macKey, raw, 0, ctLength);
      checkMac(
          Arrays.copyOf(mac, LIBOLM_MAC_LENGTH), Arrays.copyOfRange(raw, ctLength, raw.length));
      return Aes256Cbc.decrypt(aesKey, iv, Arrays.copyOf(raw, ctLength));
    }
    int minimum = 1 + Aes256Cbc.IV_LENGTH + Aes256Cbc.IV_LENGTH + HmacSha256.LENGTH;
    if (raw.length < minimum) {
      throw new DecodeException(
          "mxe2ee pickle: expected at least " + minimum + " bytes but found " + raw.length);
    }
    if (raw[0] != MXE2EE_VERSION) {
      throw new DecodeException(
          "mxe2ee pickle: expected version " + MXE2EE_VERSION + " but found " + (raw[0] & 0xff));
    }
    int bodyLength = raw.length - HmacSha256.LENGTH;
    checkMac(
        HmacSha256.mac(macKey, raw, 0, bodyLength),
        Arrays.copyOfRange(raw, bodyLength, raw.length));
    byte[] pickleIv = Arrays.copyOfRange(raw, 1, 1 + Aes256Cbc.IV_LENGTH);
    return Aes256Cbc.decrypt(
        aesKey, pickleIv, Arrays.copyOfRange(raw, 1 + Aes256Cbc.IV_LENGTH, bodyLength));
  }

  private static void checkMac(byte[] expected, byte[] actual) {
    if (!ConstantTime.equals(expected, actual)) {
      throw new CryptoException("pickle: MAC mismatch (wrong pickle key or tampered pickle)");
    }
  }

  @Override
  public String toString() {
    return libolm ? "PickleCipher[libolm]" : "PickleCipher[mxe2ee v" + MXE2EE_VERSION + "]";
  }
}
