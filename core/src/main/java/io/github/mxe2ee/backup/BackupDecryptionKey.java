package io.github.mxe2ee.backup;

import io.github.mxe2ee.crypto.Aes256Cbc;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.KeyRepresentation;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The private key of a key backup: decrypts the {@code session_data} of backed-up room keys (spec:
 * "Server-side key backups", "Decryption key" and "Backup algorithm:
 * m.megolm_backup.v1.curve25519-aes-sha2").
 *
 * <p>It is a secret: {@link #toString()} shows only the public key; {@link #exposeForPerson()} is
 * the one way out, for showing it to the account's owner, and {@link #exposeSecretBytes()} for
 * storing it in secret storage (base64, as {@code m.megolm_backup.v1}). Immutable and thread-safe.
 */
public final class BackupDecryptionKey {
  private final Curve25519SecretKey secret;
  private final BackupEncryptionKey publicKey;

  private BackupDecryptionKey(Curve25519SecretKey secret) {
    this.secret = secret;
    this.publicKey = BackupEncryptionKey.of(secret.publicKey());
  }

  /** A new random key. */
  public static BackupDecryptionKey generate(SecureRandom random) {
    return new BackupDecryptionKey(Curve25519SecretKey.generate(random));
  }

  /** The key from its 32 bytes (throws DecodeException for another length). */
  public static BackupDecryptionKey fromBytes(byte[] secret) {
    return new BackupDecryptionKey(Curve25519SecretKey.fromBytes(secret));
  }

  /**
   * The key from its text form ({@link KeyRepresentation}, as a person types it in).
   *
   * @throws io.github.mxe2ee.crypto.DecodeException if the text is not a valid representation
   */
  public static BackupDecryptionKey fromKeyRepresentation(String text) {
    byte[] bytes = KeyRepresentation.decode(text);
    try {
      return fromBytes(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** The public key that encrypts for this key. */
  public BackupEncryptionKey encryptionKey() {
    return publicKey;
  }

  /** True if {@code authDataPublicKey} (a backup's {@code auth_data.public_key}) is ours. */
  public boolean matches(Curve25519PublicKey authDataPublicKey) {
    return publicKey.publicKey().equals(authDataPublicKey);
  }

  /** The text form to show the owner ({@link KeyRepresentation}); it is the secret. */
  public String exposeForPerson() {
    byte[] bytes = secret.exposeSecretBytes();
    try {
      return KeyRepresentation.encode(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** A copy of the 32 secret bytes. */
  public byte[] exposeSecretBytes() {
    return secret.exposeSecretBytes();
  }

  /**
   * Decrypts a backed-up session's data to its plaintext ({@code BackedUpSessionData} JSON bytes).
   * The 8-byte MAC is checked in constant time first; as the spec says, it is computed over the
   * empty string, so it tells a wrong key from the right one but does not authenticate the
   * ciphertext: callers must treat the plaintext as coming from whoever can write to the backup
   * (the spec's trust rules for backed-up keys apply).
   *
   * @throws CryptoException on a MAC mismatch (wrong key), bad padding, or a low-order ephemeral
   *     key; the message never contains key or plaintext bytes
   */
  public byte[] decrypt(EncryptedSessionData data) {
    BackupKeys keys =
        BackupKeys.derive(secret.diffieHellman(Curve25519PublicKey.fromBytes(data.ephemeral())));
    try {
      if (!ConstantTime.equals(keys.mac(), data.mac())) {
        throw new CryptoException("backup session_data: MAC mismatch (wrong backup key?)");
      }
      return Aes256Cbc.decrypt(keys.aesKey, keys.iv, data.ciphertext());
    } finally {
      keys.wipe();
    }
  }

  @Override
  public String toString() {
    return "BackupDecryptionKey[public " + publicKey.publicKey().toBase64() + "]";
  }
}
