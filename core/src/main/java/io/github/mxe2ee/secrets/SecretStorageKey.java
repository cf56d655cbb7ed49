package io.github.mxe2ee.secrets;

import io.github.mxe2ee.crypto.Aes256Ctr;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Hkdf;
import io.github.mxe2ee.crypto.HmacSha256;
import io.github.mxe2ee.crypto.KeyRepresentation;
import io.github.mxe2ee.crypto.Pbkdf2;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * A secret storage key for {@code m.secret_storage.v1.aes-hmac-sha2} (spec: secrets.md, "Storage"):
 * 32 bytes that encrypt and authenticate secrets, from random bytes, from the key's text form, or
 * from a passphrase.
 *
 * <p>Per secret (and for the key check, with the empty name): {@code AES key || MAC key =
 * HKDF-SHA-256(salt = 32 zero bytes, IKM = key, info = secret name, 64)}; the secret is encrypted
 * with AES-256-CTR under a random IV whose bit 63 is cleared, and the ciphertext is authenticated
 * with HMAC-SHA-256. Decryption checks the MAC in constant time before decrypting.
 *
 * <p>A secret: {@link #toString()} shows nothing of it; {@link #exposeForPerson()} and {@link
 * #exposeSecretBytes()} are the ways out. Immutable and thread-safe.
 */
public final class SecretStorageKey {
  /** Length of the key. */
  public static final int LENGTH = 32;

  private static final byte[] ZEROS = new byte[32];

  private final byte[] key;

  private SecretStorageKey(byte[] key) {
    this.key = key;
  }

  /** A new random key. */
  public static SecretStorageKey generate(SecureRandom random) {
    byte[] key = new byte[LENGTH];
    random.nextBytes(key);
    return new SecretStorageKey(key);
  }

  /** The key from its 32 bytes ({@link DecodeException} for another length). */
  public static SecretStorageKey fromBytes(byte[] key) {
    DecodeException.requireLength("secret storage key", LENGTH, key.length);
    return new SecretStorageKey(key.clone());
  }

  /** The key from its text form ({@link KeyRepresentation}). */
  public static SecretStorageKey fromKeyRepresentation(String text) {
    return new SecretStorageKey(KeyRepresentation.decode(text));
  }

  /** The key derived from {@code passphrase} (UTF-8) with PBKDF2-HMAC-SHA-512. */
  public static SecretStorageKey fromPassphrase(String passphrase, PassphraseInfo info) {
    Objects.requireNonNull(passphrase, "passphrase");
    byte[] password = passphrase.getBytes(StandardCharsets.UTF_8);
    try {
      return new SecretStorageKey(
          Pbkdf2.sha512(
              password, info.salt().getBytes(StandardCharsets.UTF_8), info.iterations(), LENGTH));
    } finally {
      Arrays.fill(password, (byte) 0);
    }
  }

  /**
   * A description of this key for its account-data event, with a fresh key check; {@code name} and
   * {@code passphrase} may be null.
   */
  public KeyDescription describe(String name, PassphraseInfo passphrase, SecureRandom random) {
    byte[] iv = randomIv(random);
    return new KeyDescription(name, passphrase, iv, checkMac(iv));
  }

  /**
   * True if {@code description}'s key check matches this key, or if it has none (the spec says to
   * assume the key is valid then). Constant-time comparison.
   */
  public boolean matches(KeyDescription description) {
    byte[] iv = description.iv();
    return iv == null || ConstantTime.equals(checkMac(iv), description.mac());
  }

  /** Encrypts {@code plaintext} as the secret named {@code secretName} (its event type). */
  public EncryptedSecret encrypt(String secretName, byte[] plaintext, SecureRandom random) {
    byte[] iv = randomIv(random);
    byte[][] keys = keys(secretName);
    try {
      byte[] ciphertext = Aes256Ctr.apply(keys[0], iv, plaintext);
      return new EncryptedSecret(iv, ciphertext, HmacSha256.mac(keys[1], ciphertext));
    } finally {
      wipe(keys);
    }
  }

  /**
   * Decrypts the secret named {@code secretName}.
   *
   * @throws CryptoException if the MAC does not match: a wrong key, a wrong secret name, or
   *     tampering
   */
  public byte[] decrypt(String secretName, EncryptedSecret secret) {
    byte[][] keys = keys(secretName);
    try {
      byte[] ciphertext = secret.ciphertext();
      if (!ConstantTime.equals(HmacSha256.mac(keys[1], ciphertext), secret.mac())) {
        throw new CryptoException(
            "secret " + secretName + ": MAC mismatch (wrong key, wrong name or tampered)");
      }
      return Aes256Ctr.apply(keys[0], secret.iv(), ciphertext);
    } finally {
      wipe(keys);
    }
  }

  /** The text form to show the owner ({@link KeyRepresentation}); it is the secret. */
  public String exposeForPerson() {
    return KeyRepresentation.encode(key);
  }

  /** A copy of the 32 key bytes. */
  public byte[] exposeSecretBytes() {
    return key.clone();
  }

  private byte[] checkMac(byte[] iv) {
    byte[][] keys = keys("");
    try {
      return HmacSha256.mac(keys[1], Aes256Ctr.apply(keys[0], iv, ZEROS));
    } finally {
      wipe(keys);
    }
  }

  private byte[][] keys(String info) {
    byte[] derived =
        Hkdf.sha256(new byte[32], key, info.getBytes(StandardCharsets.UTF_8), 2 * LENGTH);
    byte[][] keys = {Arrays.copyOfRange(derived, 0, 32), Arrays.copyOfRange(derived, 32, 64)};
    Arrays.fill(derived, (byte) 0);
    return keys;
  }

  private static void wipe(byte[][] keys) {
    for (byte[] k : keys) {
      Arrays.fill(k, (byte) 0);
    }
  }

  /** 16 random bytes with bit 63 clear, so 64- and 128-bit CTR counters agree. */
  private static byte[] randomIv(SecureRandom random) {
    byte[] iv = new byte[16];
    random.nextBytes(iv);
    iv[8] &= 0x7f;
    return iv;
  }

  @Override
  public String toString() {
    return "SecretStorageKey[redacted]";
  }
}
