package io.github.mxe2ee.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

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

  /** See {@link Keyed}. */
  private final ThreadLocal<Keyed> keyed;

  private PickleCipher(boolean libolm, byte[] aesKey, byte[] macKey, byte[] iv) {
    this.libolm = libolm;
    this.aesKey = aesKey;
    this.macKey = macKey;
    this.iv = iv;
    this.keyed = ThreadLocal.withInitial(() -> new Keyed(aesKey, macKey));
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
   * mxe2ee's own scheme. The cipher derived last is reused while the same key comes back (compared
   * in constant time): sessions are pickled after every message, and the key derivation cost as
   * much as the encryption.
   *
   * @throws DecodeException if the key is not 32 bytes
   */
  public static PickleCipher mxe2ee(byte[] pickleKey) {
    DecodeException.requireLength("pickle key", MXE2EE_KEY_LENGTH, pickleKey.length);
    Derived last = lastMxe2ee;
    if (last != null && MessageDigest.isEqual(last.pickleKey, pickleKey)) {
      return last.cipher;
    }
    byte[] keys = Hkdf.sha256(new byte[0], pickleKey, MXE2EE_INFO, 64);
    PickleCipher cipher =
        new PickleCipher(
            false, Arrays.copyOfRange(keys, 0, 32), Arrays.copyOfRange(keys, 32, 64), null);
    lastMxe2ee = new Derived(pickleKey.clone(), cipher);
    return cipher;
  }

  /** A pickle key and the cipher derived from it; immutable, published through a volatile. */
  private static final class Derived {
    final byte[] pickleKey;
    final PickleCipher cipher;

    Derived(byte[] pickleKey, PickleCipher cipher) {
      this.pickleKey = pickleKey;
      this.cipher = cipher;
    }
  }

  /** The last cipher {@link #mxe2ee} derived (a process typically uses one pickle key). */
  private static volatile Derived lastMxe2ee;

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
    // PKCS#7 always adds 1..16 bytes.
    int ctLength = (plaintext.length / Aes256Cbc.IV_LENGTH + 1) * Aes256Cbc.IV_LENGTH;
    int bodyLength = 1 + freshIv.length + ctLength;
    byte[] out = new byte[bodyLength + HmacSha256.LENGTH];
    out[0] = (byte) MXE2EE_VERSION;
    System.arraycopy(freshIv, 0, out, 1, freshIv.length);
    Keyed k = keyed.get();
    try {
      k.aes.init(Cipher.ENCRYPT_MODE, k.aesKey, new IvParameterSpec(freshIv));
      k.aes.doFinal(plaintext, 0, plaintext.length, out, 1 + freshIv.length);
      k.mac.update(out, 0, bodyLength);
      k.mac.doFinal(out, bodyLength);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("pickle encryption failed", e);
    }
    return UnpaddedBase64.encode(out);
  }

  /**
   * This instance's AES-CBC and HMAC objects for one thread, keyed once. The JDK skips the AES key
   * schedule when a {@link Cipher} is initialised again with the key it already holds, which the
   * thread's shared cipher in {@link Aes256Cbc} (re-keyed for every Olm and Megolm message) never
   * is; an mxe2ee pickle per Olm message made that schedule a visible cost.
   */
  private static final class Keyed {
    final Cipher aes = Aes256Cbc.newCipher("AES/CBC/PKCS5Padding");
    final SecretKeySpec aesKey;
    final Mac mac;

    Keyed(byte[] aesKey, byte[] macKey) {
      this.aesKey = new SecretKeySpec(aesKey, "AES");
      try {
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(macKey, "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is unavailable", e);
      }
    }
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
    Keyed k = keyed.get();
    k.mac.update(raw, 0, bodyLength);
    checkMac(k.mac.doFinal(), Arrays.copyOfRange(raw, bodyLength, raw.length));
    int ctOffset = 1 + Aes256Cbc.IV_LENGTH;
    int ctLength = bodyLength - ctOffset;
    if (ctLength % Aes256Cbc.IV_LENGTH != 0) {
      throw new CryptoException(
          "AES-CBC: ciphertext of " + ctLength + " bytes is not a whole number of blocks");
    }
    try {
      k.aes.init(Cipher.DECRYPT_MODE, k.aesKey, new IvParameterSpec(raw, 1, Aes256Cbc.IV_LENGTH));
      return k.aes.doFinal(raw, ctOffset, ctLength);
    } catch (BadPaddingException | IllegalBlockSizeException e) {
      throw new CryptoException("AES-CBC: bad padding after decryption", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("pickle decryption failed", e);
    }
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
