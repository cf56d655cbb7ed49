package io.github.mxe2ee.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-CBC with PKCS#7 padding through the JDK (AES-NI). Thread-safe: each thread reuses its own
 * {@link Cipher}. Unauthenticated on its own: callers MAC the ciphertext (Olm, Megolm and pickles
 * all do).
 */
public final class Aes256Cbc {
  /** AES-256 key length in bytes. */
  public static final int KEY_LENGTH = 32;

  /** AES block and IV length in bytes. */
  public static final int IV_LENGTH = 16;

  private static final ThreadLocal<Cipher> CIPHER =
      ThreadLocal.withInitial(() -> newCipher("AES/CBC/PKCS5Padding"));

  private Aes256Cbc() {}

  /** Encrypts and pads; the output length is the next multiple of 16 above the input length. */
  public static byte[] encrypt(byte[] key, byte[] iv, byte[] plaintext) {
    return run(Cipher.ENCRYPT_MODE, key, iv, plaintext);
  }

  /**
   * Decrypts and removes padding.
   *
   * @throws CryptoException if the ciphertext is not whole blocks or the padding is wrong
   */
  public static byte[] decrypt(byte[] key, byte[] iv, byte[] ciphertext) {
    if (ciphertext.length == 0 || ciphertext.length % IV_LENGTH != 0) {
      throw new CryptoException(
          "AES-CBC: ciphertext of " + ciphertext.length + " bytes is not a whole number of blocks");
    }
    return run(Cipher.DECRYPT_MODE, key, iv, ciphertext);
  }

  private static byte[] run(int mode, byte[] key, byte[] iv, byte[] input) {
    DecodeException.requireLength("AES-256 key", KEY_LENGTH, key.length);
    DecodeException.requireLength("AES IV", IV_LENGTH, iv.length);
    Cipher cipher = CIPHER.get();
    try {
      cipher.init(mode, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
      return cipher.doFinal(input);
    } catch (BadPaddingException | IllegalBlockSizeException e) {
      throw new CryptoException("AES-CBC: bad padding after decryption", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-CBC is unavailable", e);
    }
  }

  static Cipher newCipher(String transformation) {
    try {
      return Cipher.getInstance(transformation);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(transformation + " is missing from this JDK", e);
    }
  }
}
