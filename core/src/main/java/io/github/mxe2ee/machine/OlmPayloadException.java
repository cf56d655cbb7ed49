package io.github.mxe2ee.machine;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A decrypted Olm payload failed one of the spec's validation checks and must be discarded. Kind
 * {@code "olm_payload"}. The message names the check, never payload content.
 */
public class OlmPayloadException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message the failed check
   */
  public OlmPayloadException(String message) {
    super("olm_payload", message);
  }
}
