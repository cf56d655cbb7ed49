package io.github.mxe2ee.attachment;

import io.github.mxe2ee.crypto.Aes256Ctr64;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Encrypts one attachment piece by piece, for callers that receive the file in chunks (a Vert.x
 * {@code ReadStream}, an HTTP body) instead of an {@code InputStream}: each {@link #update}
 * encrypts a chunk in place and hashes the ciphertext; {@link #finish()} returns the {@link
 * EncryptedFile}. The result is byte for byte what {@link
 * AttachmentCipher#encrypt(java.io.InputStream, java.io.OutputStream, SecureRandom)} produces for
 * the same key and IV. Spec: {@code client-server-api/modules/end_to_end_encryption.md}, "Sending
 * encrypted attachments".
 *
 * <p>Keys: {@link #start} draws a fresh 32-byte key and then 8 random bytes for the high half of
 * the IV (the low half, the counter, is zero), so no key or IV is ever reused. The key is zeroed by
 * {@link #finish()} and never printed.
 *
 * <p>Not thread-safe: one instance per file, chunks in order. Nulls are rejected with {@link
 * NullPointerException}; {@link #update} or {@link #finish()} after {@link #finish()} throw {@link
 * IllegalStateException}.
 */
public final class AttachmentEncryptor {
  private static final int IV_RANDOM_BYTES = 8;

  private final byte[] key;
  private final byte[] iv;
  private final Aes256Ctr64 ctr;
  private final MessageDigest digest;
  private long length;
  private boolean finished;

  private AttachmentEncryptor(byte[] key, byte[] iv) {
    this.key = key;
    this.iv = iv;
    this.ctr = new Aes256Ctr64(key, iv);
    this.digest = sha256();
  }

  /** Starts a new file with a fresh key and IV drawn from {@code random}. */
  public static AttachmentEncryptor start(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] key = new byte[EncryptedFile.KEY_LENGTH];
    random.nextBytes(key);
    byte[] high = new byte[IV_RANDOM_BYTES];
    random.nextBytes(high);
    return new AttachmentEncryptor(key, Arrays.copyOf(high, EncryptedFile.IV_LENGTH));
  }

  /**
   * Encrypts {@code buf[off..off+len)} in place (plaintext in, ciphertext out) and adds the
   * ciphertext to the hash.
   */
  public void update(byte[] buf, int off, int len) {
    Objects.requireNonNull(buf, "buf");
    Objects.checkFromIndexSize(off, len, buf.length);
    checkOpen();
    ctr.apply(buf, off, len);
    digest.update(buf, off, len);
    length += len;
  }

  /** Bytes encrypted so far (the ciphertext has the plaintext's length). */
  public long length() {
    return length;
  }

  /**
   * Ends the file: the {@link EncryptedFile} (without URL) of everything passed to {@link #update}.
   * The key is zeroed here; the instance cannot be used again.
   */
  public EncryptedFile finish() {
    checkOpen();
    finished = true;
    EncryptedFile file = EncryptedFile.created(key, iv, digest.digest());
    Arrays.fill(key, (byte) 0);
    return file;
  }

  private void checkOpen() {
    if (finished) {
      throw new IllegalStateException("attachment encryptor already finished");
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }

  @Override
  public String toString() {
    return "AttachmentEncryptor{length=" + length + ", finished=" + finished + ", key=<redacted>}";
  }
}
