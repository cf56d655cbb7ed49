package io.github.mxe2ee.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * PBKDF2 with HMAC-SHA-512 (RFC 8018), as key exports and secret-storage passphrases use it. Takes
 * the password as bytes (UTF-8 of the passphrase) so no lossy char conversion happens. Thread-safe.
 */
public final class Pbkdf2 {
  private static final int BLOCK = 64;

  private Pbkdf2() {}

  /**
   * Derives {@code length} bytes.
   *
   * @param password the password bytes (may be empty)
   * @param salt the salt
   * @param iterations at least 1
   * @param length output length in bytes, at least 1
   */
  public static byte[] sha512(byte[] password, byte[] salt, int iterations, int length) {
    if (iterations < 1 || length < 1) {
      throw new IllegalArgumentException(
          "PBKDF2: expected iterations >= 1 and length >= 1 but got " + iterations + ", " + length);
    }
    Mac mac;
    try {
      mac = Mac.getInstance("HmacSHA512");
      mac.init(new SecretKeySpec(password.length == 0 ? new byte[1] : password, "HmacSHA512"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA512 is unavailable", e);
    }
    byte[] out = new byte[length];
    byte[] u = new byte[BLOCK];
    byte[] t = new byte[BLOCK];
    for (int block = 1, done = 0; done < length; block++) {
      mac.update(salt);
      mac.update(
          new byte[] {
            (byte) (block >>> 24), (byte) (block >>> 16), (byte) (block >>> 8), (byte) block
          });
      try {
        mac.doFinal(u, 0);
        System.arraycopy(u, 0, t, 0, BLOCK);
        for (int i = 1; i < iterations; i++) {
          mac.update(u);
          mac.doFinal(u, 0);
          for (int j = 0; j < BLOCK; j++) {
            t[j] ^= u[j];
          }
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA512 failed", e);
      }
      int n = Math.min(BLOCK, length - done);
      System.arraycopy(t, 0, out, done, n);
      done += n;
    }
    Arrays.fill(u, (byte) 0);
    Arrays.fill(t, (byte) 0);
    return out;
  }
}
