package io.github.mxe2ee.attachment;

import io.github.mxe2ee.crypto.DecodeException;

/**
 * An {@code EncryptedFile} object is malformed or uses a version, algorithm or key type this
 * library does not decrypt. Kind {@code "encrypted_file"}; a {@link DecodeException}, so callers
 * that handle every malformed input alike can catch that instead.
 *
 * <p>Messages name the field and say what was expected and what was found (a length, a type, a
 * version string), never the key bytes. Spec: {@code
 * client-server-api/modules/end_to_end_encryption.md}, "Sending encrypted attachments".
 */
public class EncryptedFileException extends DecodeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what was expected and what was found; never key material
   */
  public EncryptedFileException(String message) {
    super("encrypted_file", message);
  }
}
