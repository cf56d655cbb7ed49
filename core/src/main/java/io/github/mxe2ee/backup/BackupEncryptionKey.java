package io.github.mxe2ee.backup;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Aes256Cbc;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * The public key of a key backup ({@code auth_data.public_key}), which encrypts room keys for it
 * (spec: "Backup algorithm: m.megolm_backup.v1.curve25519-aes-sha2", steps 1 to 5).
 *
 * <p>Before encrypting for a backup found on the server, the caller must have established that its
 * {@code auth_data} is trusted (signed by the user's master key or a verified own device, or
 * derived from a decryption key from a trusted source): this class does not check signatures.
 * Immutable and thread-safe.
 */
public final class BackupEncryptionKey {
  /** The backup algorithm this key belongs to. */
  public static final String ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2";

  private final Curve25519PublicKey key;

  private BackupEncryptionKey(Curve25519PublicKey key) {
    this.key = key;
  }

  /** The key in {@code auth_data.public_key} (unpadded base64; throws DecodeException if bad). */
  public static BackupEncryptionKey fromBase64(String publicKey) {
    return new BackupEncryptionKey(Curve25519PublicKey.fromBase64(publicKey));
  }

  static BackupEncryptionKey of(Curve25519PublicKey key) {
    return new BackupEncryptionKey(key);
  }

  /** The Curve25519 public key. */
  public Curve25519PublicKey publicKey() {
    return key;
  }

  /** {@code {"public_key": ...}}, the unsigned {@code auth_data} of a new backup version. */
  public ObjectNode authData() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("public_key", key.toBase64());
    return o;
  }

  /**
   * Encrypts {@code plaintext} (the UTF-8 {@code BackedUpSessionData} JSON) with a fresh ephemeral
   * key from {@code random}.
   *
   * @throws io.github.mxe2ee.crypto.CryptoException if this public key is of low order (the
   *     agreement is all zeros): such a key cannot be a real backup's
   */
  public EncryptedSessionData encrypt(byte[] plaintext, SecureRandom random) {
    return encrypt(plaintext, Curve25519SecretKey.generate(random));
  }

  /** Encrypts with the given ephemeral key (for the known-answer tests). */
  EncryptedSessionData encrypt(byte[] plaintext, Curve25519SecretKey ephemeral) {
    Objects.requireNonNull(plaintext, "plaintext");
    BackupKeys keys = BackupKeys.derive(ephemeral.diffieHellman(key));
    try {
      byte[] ciphertext = Aes256Cbc.encrypt(keys.aesKey, keys.iv, plaintext);
      return new EncryptedSessionData(ephemeral.publicKey().toBytes(), ciphertext, keys.mac());
    } finally {
      keys.wipe();
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BackupEncryptionKey other && key.equals(other.key);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  @Override
  public String toString() {
    return "BackupEncryptionKey[" + key.toBase64() + "]";
  }
}
