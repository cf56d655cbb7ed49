package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Aes256Cbc;
import io.github.mxe2ee.crypto.Hkdf;
import io.github.mxe2ee.crypto.HmacSha256;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The per-message keys of one ratchet state: {@code AES_KEY | HMAC_KEY | AES_IV = HKDF-SHA-256(salt
 * = 0, IKM = R(i), info = "MEGOLM_KEYS", 80)}.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Message encryption". Not
 * thread-safe; short-lived; {@link #wipe()} after use.
 */
final class MessageKeys {
  static final int AES_KEY_LENGTH = 32;
  static final int MAC_KEY_LENGTH = 32;
  static final int IV_LENGTH = 16;
  static final int DERIVED_LENGTH = AES_KEY_LENGTH + MAC_KEY_LENGTH + IV_LENGTH;

  private static final byte[] INFO = "MEGOLM_KEYS".getBytes(StandardCharsets.US_ASCII);

  private final byte[] aesKey;
  private final byte[] macKey;
  private final byte[] iv;

  private MessageKeys(byte[] derived) {
    aesKey = Arrays.copyOfRange(derived, 0, AES_KEY_LENGTH);
    macKey = Arrays.copyOfRange(derived, AES_KEY_LENGTH, AES_KEY_LENGTH + MAC_KEY_LENGTH);
    iv = Arrays.copyOfRange(derived, AES_KEY_LENGTH + MAC_KEY_LENGTH, DERIVED_LENGTH);
  }

  /** Derives the keys for the ratchet's current index. */
  static MessageKeys derive(Ratchet ratchet) {
    byte[] ikm = ratchet.toBytes();
    byte[] derived = Hkdf.sha256(null, ikm, INFO, DERIVED_LENGTH);
    Arrays.fill(ikm, (byte) 0);
    MessageKeys keys = new MessageKeys(derived);
    Arrays.fill(derived, (byte) 0);
    return keys;
  }

  byte[] encrypt(byte[] plaintext) {
    return Aes256Cbc.encrypt(aesKey, iv, plaintext);
  }

  /** Throws {@code CryptoException} on bad padding or a ciphertext length not a block multiple. */
  byte[] decrypt(byte[] ciphertext) {
    return Aes256Cbc.decrypt(aesKey, iv, ciphertext);
  }

  /** HMAC-SHA-256 of {@code data[0..length)} truncated to {@link MegolmMessage#MAC_LENGTH}. */
  byte[] truncatedMac(byte[] data, int length) {
    return Arrays.copyOf(HmacSha256.mac(macKey, data, 0, length), MegolmMessage.MAC_LENGTH);
  }

  void wipe() {
    Arrays.fill(aesKey, (byte) 0);
    Arrays.fill(macKey, (byte) 0);
    Arrays.fill(iv, (byte) 0);
  }
}
