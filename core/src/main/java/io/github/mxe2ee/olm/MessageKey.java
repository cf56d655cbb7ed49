package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Aes256Cbc;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Hkdf;
import io.github.mxe2ee.crypto.HmacSha256;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A message key M_{i,j} and Olm v1 authenticated encryption with it.
 *
 * <p>AES_KEY || HMAC_KEY || AES_IV = HKDF-SHA-256(zero salt, M, "OLM_KEYS", 80); AES-256-CBC with
 * PKCS#7; HMAC-SHA-256 over the encoded message, truncated to 8 bytes. Immutable. See olm.md, "Olm
 * Authenticated Encryption".
 */
final class MessageKey {
  private static final byte[] KEYS_INFO = "OLM_KEYS".getBytes(StandardCharsets.US_ASCII);
  private static final int AES_KEY_LENGTH = 32;
  private static final int MAC_KEY_LENGTH = 32;
  private static final int IV_LENGTH = 16;

  private final byte[] key;
  private final long index;

  MessageKey(byte[] key, long index) {
    if (key.length != 32) {
      throw new IllegalArgumentException("message key must be 32 bytes");
    }
    this.key = key.clone();
    this.index = index;
  }

  long index() {
    return index;
  }

  byte[] exposeSecretBytes() {
    return key.clone();
  }

  byte[] expand() {
    return Hkdf.sha256(null, key, KEYS_INFO, AES_KEY_LENGTH + MAC_KEY_LENGTH + IV_LENGTH);
  }

  /** Encrypts and authenticates {@code plaintext} into a message sent under {@code ratchetKey}. */
  OlmMessage encrypt(Curve25519PublicKey ratchetKey, byte[] plaintext) {
    byte[] keys = expand();
    byte[] aesKey = Arrays.copyOfRange(keys, 0, AES_KEY_LENGTH);
    byte[] macKey = Arrays.copyOfRange(keys, AES_KEY_LENGTH, AES_KEY_LENGTH + MAC_KEY_LENGTH);
    byte[] iv = Arrays.copyOfRange(keys, AES_KEY_LENGTH + MAC_KEY_LENGTH, keys.length);
    byte[] ciphertext = Aes256Cbc.encrypt(aesKey, iv, plaintext);
    return OlmMessage.encodeAndMac(ratchetKey, index, ciphertext, macKey);
  }

  /**
   * Checks the MAC (in constant time) and then decrypts.
   *
   * @throws OlmDecryptionException with {@code BAD_MESSAGE_MAC} or {@code BAD_PADDING}
   */
  byte[] decrypt(OlmMessage message) {
    byte[] keys = expand();
    byte[] aesKey = Arrays.copyOfRange(keys, 0, AES_KEY_LENGTH);
    byte[] macKey = Arrays.copyOfRange(keys, AES_KEY_LENGTH, AES_KEY_LENGTH + MAC_KEY_LENGTH);
    byte[] iv = Arrays.copyOfRange(keys, AES_KEY_LENGTH + MAC_KEY_LENGTH, keys.length);
    byte[] expected =
        Arrays.copyOf(HmacSha256.mac(macKey, message.authenticatedBytes()), OlmMessage.MAC_LENGTH);
    if (!ConstantTime.equals(expected, message.mac())) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.BAD_MESSAGE_MAC,
          "MAC mismatch for chain index " + message.chainIndex());
    }
    try {
      return Aes256Cbc.decrypt(aesKey, iv, message.ciphertext());
    } catch (CryptoException e) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.BAD_PADDING,
          "authenticated ciphertext has invalid padding, chain index " + message.chainIndex());
    }
  }

  @Override
  public String toString() {
    return "MessageKey{index=" + index + "}";
  }
}
