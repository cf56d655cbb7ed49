package io.github.mxe2ee.attachment;

import io.github.mxe2ee.crypto.Aes256Ctr64;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Encrypts and decrypts Matrix attachments (AES-256-CTR with a 64-bit counter, SHA-256 of the
 * ciphertext). Spec: {@code client-server-api/modules/end_to_end_encryption.md}, "Sending encrypted
 * attachments". Stateless and thread-safe; every call uses fresh cipher and digest objects.
 *
 * <p><b>Keys.</b> Each encryption draws a new 32-byte key and then 8 random bytes for the high half
 * of the IV from the injected {@link SecureRandom}, in that order; the low 8 bytes of the IV (the
 * counter) are zero, as the spec requires. So no key or IV is ever reused by this class; a
 * thumbnail and its image get independent keys.
 *
 * <p><b>Counter.</b> The spec's counter block is {@code iv[0..8] || counter64}. Java's JCE CTR mode
 * increments all 128 bits, which only differs once the low half wraps: with a zero low half that
 * takes 2^64 blocks (2^68 bytes), so for everything we write the two are identical. For received
 * files with a non-zero low half the wrap is handled exactly (see {@link Aes256Ctr64}), matching
 * WebCrypto's 64-bit counter. The known-answer vectors from matrix-rust-sdk and mautrix-go use zero
 * low halves and pass either way.
 *
 * <p><b>Integrity.</b> The hash covers the ciphertext only. It stops the homeserver from changing
 * the file; it does not detect a wrong key, whose integrity comes from the Megolm-encrypted event
 * that carries the {@link EncryptedFile}. Decrypting with a wrong key but the right hash yields
 * garbage, not an error.
 *
 * <p><b>Decryption APIs and their safety.</b>
 *
 * <ul>
 *   <li>{@link #decrypt(byte[], EncryptedFile)} checks the hash (constant-time compare) before
 *       decrypting anything; on mismatch nothing is returned.
 *   <li>{@link #decryptVerified(CiphertextSource, OutputStream, EncryptedFile)} does the same for
 *       large files in two passes over a re-readable source (for example a downloaded temporary
 *       file): pass one hashes, pass two decrypts only after the hash matched, and hashes again in
 *       case the source changed in between (then it throws at the end and the output must be
 *       discarded; a stable source never takes that path).
 *   <li>{@link #decryptStreaming(InputStream, OutputStream, EncryptedFile)} is one pass for sources
 *       that cannot be re-read: it <b>writes plaintext before the hash is known</b> and throws
 *       {@link CryptoException} at the end on mismatch. The caller must then discard everything it
 *       wrote and must not act on it before the method returns normally.
 * </ul>
 *
 * <p>Errors: {@link EncryptedFileException} (kind {@code "encrypted_file"}) for a malformed file
 * description, {@link CryptoException} (kind {@code "crypto"}) for a hash mismatch, {@link
 * IOException} only from the caller's streams. Nulls are rejected with {@link
 * NullPointerException}. Streams are neither closed nor flushed.
 */
public final class AttachmentCipher {
  /** Bytes per read while streaming: large enough to amortise calls, small enough for any heap. */
  static final int BUFFER_SIZE = 64 * 1024;

  private static final int IV_RANDOM_BYTES = 8;

  private AttachmentCipher() {}

  /**
   * Encrypts a whole attachment held in memory.
   *
   * @param plaintext the file content, not modified
   * @param random the source of the key and IV
   * @return the ciphertext to upload and its {@link EncryptedFile} (without URL)
   */
  public static EncryptedAttachment encrypt(byte[] plaintext, SecureRandom random) {
    Objects.requireNonNull(plaintext, "plaintext");
    byte[] key = newKey(random);
    byte[] iv = newIv(random);
    byte[] ciphertext = plaintext.clone();
    new Aes256Ctr64(key, iv).apply(ciphertext, 0, ciphertext.length);
    byte[] hash = sha256().digest(ciphertext);
    EncryptedFile file = EncryptedFile.created(key, iv, hash);
    Arrays.fill(key, (byte) 0);
    return new EncryptedAttachment(ciphertext, file);
  }

  /**
   * Verifies and decrypts a whole attachment held in memory. The hash is checked first; nothing is
   * decrypted unless it matches.
   *
   * @param ciphertext the downloaded bytes, not modified
   * @param file the description from the event
   * @return the plaintext, a new array
   * @throws CryptoException if the SHA-256 of {@code ciphertext} differs from {@code file.sha256()}
   */
  public static byte[] decrypt(byte[] ciphertext, EncryptedFile file) {
    Objects.requireNonNull(ciphertext, "ciphertext");
    Objects.requireNonNull(file, "file");
    checkHash(sha256().digest(ciphertext), file);
    byte[] plaintext = ciphertext.clone();
    new Aes256Ctr64(file.keyBytes(), file.iv()).apply(plaintext, 0, plaintext.length);
    return plaintext;
  }

  /**
   * Encrypts {@code in} to {@code out} in one pass, hashing the ciphertext as it is written. Reads
   * until end of stream.
   *
   * @return the file description (without URL), complete once the whole input was written
   * @throws IOException from either stream; the output is then incomplete and must be discarded
   */
  public static EncryptedFile encrypt(InputStream in, OutputStream out, SecureRandom random)
      throws IOException {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    byte[] key = newKey(random);
    byte[] iv = newIv(random);
    Aes256Ctr64 ctr = new Aes256Ctr64(key, iv);
    MessageDigest digest = sha256();
    byte[] buf = new byte[BUFFER_SIZE];
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      ctr.apply(buf, 0, n);
      digest.update(buf, 0, n);
      out.write(buf, 0, n);
    }
    EncryptedFile file = EncryptedFile.created(key, iv, digest.digest());
    Arrays.fill(key, (byte) 0);
    return file;
  }

  /**
   * Checks the SHA-256 of a ciphertext stream without decrypting it. Reads until end of stream.
   *
   * @throws CryptoException if the hash differs
   * @throws IOException from the stream
   */
  public static void verify(InputStream ciphertext, EncryptedFile file) throws IOException {
    Objects.requireNonNull(ciphertext, "ciphertext");
    Objects.requireNonNull(file, "file");
    MessageDigest digest = sha256();
    byte[] buf = new byte[BUFFER_SIZE];
    for (int n = ciphertext.read(buf); n >= 0; n = ciphertext.read(buf)) {
      digest.update(buf, 0, n);
    }
    checkHash(digest.digest(), file);
  }

  /**
   * Verify-then-decrypt for large files: opens {@code source} once to check the hash and, only if
   * it matches, a second time to decrypt into {@code out}. Nothing is written when the first pass
   * fails. The second pass hashes again; if the source changed between the passes it throws at the
   * end, after writing, and the output must be discarded.
   *
   * @throws CryptoException if the hash differs (in either pass)
   * @throws IOException from the source or {@code out}
   */
  public static void decryptVerified(CiphertextSource source, OutputStream out, EncryptedFile file)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(file, "file");
    try (InputStream first = source.open()) {
      verify(first, file);
    }
    try (InputStream second = source.open()) {
      decryptStreaming(second, out, file);
    }
  }

  /**
   * One-pass decryption for sources that cannot be re-read. <b>Writes plaintext to {@code out}
   * before the hash is known</b>: if this method throws, the caller must discard all output and
   * must not have acted on it. Prefer {@link #decrypt(byte[], EncryptedFile)} or {@link
   * #decryptVerified} when the ciphertext can be held or re-read.
   *
   * @throws CryptoException at end of stream if the hash differs
   * @throws IOException from either stream
   */
  public static void decryptStreaming(InputStream in, OutputStream out, EncryptedFile file)
      throws IOException {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(file, "file");
    Aes256Ctr64 ctr = new Aes256Ctr64(file.keyBytes(), file.iv());
    MessageDigest digest = sha256();
    byte[] buf = new byte[BUFFER_SIZE];
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      digest.update(buf, 0, n);
      ctr.apply(buf, 0, n);
      out.write(buf, 0, n);
    }
    checkHash(digest.digest(), file);
  }

  private static void checkHash(byte[] actual, EncryptedFile file) {
    if (!ConstantTime.equals(actual, file.sha256())) {
      throw new CryptoException(
          "attachment: the SHA-256 of the ciphertext does not match hashes.sha256");
    }
  }

  private static byte[] newKey(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] key = new byte[EncryptedFile.KEY_LENGTH];
    random.nextBytes(key);
    return key;
  }

  private static byte[] newIv(SecureRandom random) {
    byte[] high = new byte[IV_RANDOM_BYTES];
    random.nextBytes(high);
    return Arrays.copyOf(high, EncryptedFile.IV_LENGTH);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }
}
