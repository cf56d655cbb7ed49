package io.github.mxe2ee.attachment;

import java.io.IOException;
import java.io.InputStream;

/**
 * A ciphertext that can be read more than once, each {@link #open()} starting from the first byte
 * and yielding the same bytes: for example {@code () -> Files.newInputStream(downloadedFile)}. Used
 * by {@link AttachmentCipher#decryptVerified} to check the hash before decrypting. Implementations
 * decide their own thread-safety; {@code AttachmentCipher} opens and closes the streams
 * sequentially from the calling thread. Spec: {@code
 * client-server-api/modules/end_to_end_encryption.md}, "Sending encrypted attachments" ("Clients
 * MUST verify the hash before using the file contents").
 */
@FunctionalInterface
public interface CiphertextSource {
  /**
   * Opens a new stream over the whole ciphertext; the caller closes it.
   *
   * @throws IOException if the ciphertext cannot be read
   */
  InputStream open() throws IOException;
}
