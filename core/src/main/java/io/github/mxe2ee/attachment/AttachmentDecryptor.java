package io.github.mxe2ee.attachment;

import io.github.mxe2ee.crypto.Aes256Ctr64;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * Checks (and optionally decrypts) one downloaded attachment piece by piece, for callers that
 * receive the ciphertext in chunks (an HTTP response body). Spec: {@code
 * client-server-api/modules/end_to_end_encryption.md}, "Sending encrypted attachments" ("Clients
 * MUST verify the hash before using the file contents").
 *
 * <p>Two modes:
 *
 * <ul>
 *   <li>{@link #verifying(EncryptedFile)}: {@link #update} only hashes; {@link #finish()} compares.
 *       Use it for a first pass over a ciphertext you keep (a temporary file), then decrypt.
 *   <li>{@link #decrypting(EncryptedFile)}: {@link #update} hashes the ciphertext and then decrypts
 *       it in place. <b>The plaintext exists before the hash is known</b>: the caller must keep it
 *       somewhere nobody uses (a temporary file) until {@link #finish()} returns normally, and
 *       discard it if {@link #finish()} throws.
 * </ul>
 *
 * <p>The hash is compared in constant time. Not thread-safe: one instance per file, chunks in
 * order. Nulls are rejected with {@link NullPointerException}; use after {@link #finish()} throws
 * {@link IllegalStateException}.
 */
public final class AttachmentDecryptor {
  private final EncryptedFile file;
  private final Aes256Ctr64 ctr;
  private final MessageDigest digest = AttachmentEncryptor.sha256();
  private long length;
  private boolean finished;

  private AttachmentDecryptor(EncryptedFile file, boolean decrypt) {
    this.file = Objects.requireNonNull(file, "file");
    this.ctr = decrypt ? new Aes256Ctr64(file.keyBytes(), file.iv()) : null;
  }

  /** Hash-only mode: {@link #update} leaves the bytes unchanged. */
  public static AttachmentDecryptor verifying(EncryptedFile file) {
    return new AttachmentDecryptor(file, false);
  }

  /** Decrypting mode: {@link #update} hashes, then decrypts in place. */
  public static AttachmentDecryptor decrypting(EncryptedFile file) {
    return new AttachmentDecryptor(file, true);
  }

  /**
   * Adds {@code buf[off..off+len)} (ciphertext) to the hash and, in decrypting mode, replaces it by
   * its plaintext.
   */
  public void update(byte[] buf, int off, int len) {
    Objects.requireNonNull(buf, "buf");
    Objects.checkFromIndexSize(off, len, buf.length);
    if (finished) {
      throw new IllegalStateException("attachment decryptor already finished");
    }
    digest.update(buf, off, len);
    if (ctr != null) {
      ctr.apply(buf, off, len);
    }
    length += len;
  }

  /** Ciphertext bytes seen so far. */
  public long length() {
    return length;
  }

  /**
   * Ends the file and checks the hash of everything passed to {@link #update}.
   *
   * @throws CryptoException if the SHA-256 of the ciphertext differs from {@code hashes.sha256}
   */
  public void finish() {
    if (finished) {
      throw new IllegalStateException("attachment decryptor already finished");
    }
    finished = true;
    if (!ConstantTime.equals(digest.digest(), file.sha256())) {
      throw new CryptoException(
          "attachment: the SHA-256 of the ciphertext does not match hashes.sha256");
    }
  }

  @Override
  public String toString() {
    return "AttachmentDecryptor{length=" + length + ", decrypting=" + (ctr != null) + "}";
  }
}
