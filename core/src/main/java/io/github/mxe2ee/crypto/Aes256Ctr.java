package io.github.mxe2ee.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-CTR with a 128-bit big-endian counter block, as encrypted attachments and key exports use
 * it. Encryption and decryption are the same operation. Thread-safe.
 */
public final class Aes256Ctr {
  private static final ThreadLocal<Cipher> CIPHER =
      ThreadLocal.withInitial(() -> Aes256Cbc.newCipher("AES/CTR/NoPadding"));

  private Aes256Ctr() {}

  /** XORs {@code data} with the key stream of {@code key} starting at counter block {@code iv}. */
  public static byte[] apply(byte[] key, byte[] iv, byte[] data) {
    DecodeException.requireLength("AES-256 key", Aes256Cbc.KEY_LENGTH, key.length);
    DecodeException.requireLength("AES-CTR IV", Aes256Cbc.IV_LENGTH, iv.length);
    Cipher cipher = CIPHER.get();
    try {
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
      return cipher.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-CTR is unavailable", e);
    }
  }
}
