package io.github.mxe2ee.backup;

import io.github.mxe2ee.crypto.Hkdf;
import java.util.Arrays;

/**
 * The keys of one backed-up session: {@code AES key (32) || MAC key (32) || IV (16) =
 * HKDF-SHA-256(salt = 32 zero bytes, IKM = shared secret, info = "", 80)}. Not API; wipe after use.
 */
final class BackupKeys {
  final byte[] aesKey;
  final byte[] macKey;
  final byte[] iv;

  private BackupKeys(byte[] derived) {
    aesKey = Arrays.copyOfRange(derived, 0, 32);
    macKey = Arrays.copyOfRange(derived, 32, 64);
    iv = Arrays.copyOfRange(derived, 64, 80);
  }

  static BackupKeys derive(byte[] sharedSecret) {
    byte[] derived = Hkdf.sha256(new byte[32], sharedSecret, new byte[0], 80);
    BackupKeys keys = new BackupKeys(derived);
    Arrays.fill(derived, (byte) 0);
    Arrays.fill(sharedSecret, (byte) 0);
    return keys;
  }

  /**
   * The 8-byte MAC as every implementation computes it: HMAC-SHA-256 of the <em>empty string</em>
   * under the MAC key (a libolm bug the spec adopted; it authenticates the key, not the
   * ciphertext).
   */
  byte[] mac() {
    return Arrays.copyOf(
        io.github.mxe2ee.crypto.HmacSha256.mac(macKey, new byte[0]),
        EncryptedSessionData.MAC_LENGTH);
  }

  void wipe() {
    Arrays.fill(aesKey, (byte) 0);
    Arrays.fill(macKey, (byte) 0);
    Arrays.fill(iv, (byte) 0);
  }
}
