package io.github.mxe2ee.plugin.http;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A {@code /sync} body was refused as a whole: longer than the document bound, not JSON, not an
 * object, or nested beyond {@link SyncBodyParser#MAX_DOCUMENT_DEPTH}. The message states the bound
 * and never contains body content.
 */
public class SyncBodyException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #kind()} of this exception. */
  public static final String KIND = "sync_body";

  /**
   * @param detail what was wrong, without content
   */
  public SyncBodyException(String detail) {
    super(KIND, detail);
  }
}
