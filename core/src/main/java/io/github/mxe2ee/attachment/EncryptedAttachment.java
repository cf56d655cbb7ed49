package io.github.mxe2ee.attachment;

import java.util.Objects;

/**
 * The result of {@link AttachmentCipher#encrypt(byte[], java.security.SecureRandom)}: the
 * ciphertext to upload to the media repository and the {@link EncryptedFile} that decrypts it
 * (without URL; add it with {@link EncryptedFile#withUrl} once the upload returned one). Immutable
 * reference holder; the ciphertext array is not copied (it is not secret and may be large), so
 * callers must not modify it. Spec: {@code client-server-api/modules/end_to_end_encryption.md},
 * "Sending encrypted attachments".
 */
public final class EncryptedAttachment {
  private final byte[] ciphertext;
  private final EncryptedFile file;

  EncryptedAttachment(byte[] ciphertext, EncryptedFile file) {
    this.ciphertext = Objects.requireNonNull(ciphertext, "ciphertext");
    this.file = Objects.requireNonNull(file, "file");
  }

  /** The bytes to upload, as the same array each time (do not modify). */
  public byte[] ciphertext() {
    return ciphertext;
  }

  /** The description to put under {@code content.file} after {@link EncryptedFile#withUrl}. */
  public EncryptedFile file() {
    return file;
  }

  /** Names the ciphertext length and the file description; never the key. */
  @Override
  public String toString() {
    return "EncryptedAttachment{" + ciphertext.length + " bytes, " + file + "}";
  }
}
