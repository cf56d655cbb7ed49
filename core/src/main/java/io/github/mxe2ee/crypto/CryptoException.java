package io.github.mxe2ee.crypto;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A cryptographic check failed: a MAC or signature did not verify, padding was wrong after
 * decryption, or a Diffie-Hellman result was non-contributory. Kind {@code "crypto"}. The message
 * names the check, never the key or plaintext.
 */
public class CryptoException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message which check failed
   */
  public CryptoException(String message) {
    super("crypto", message);
  }

  /**
   * @param kind a narrower kind than {@code "crypto"}
   * @param message which check failed
   */
  protected CryptoException(String kind, String message) {
    super(kind, message);
  }

  /**
   * @param message which check failed
   * @param cause the underlying failure
   */
  public CryptoException(String message, Throwable cause) {
    super("crypto", message, cause);
  }
}
