package io.github.mxe2ee.store;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A crypto store operation failed. {@link #kind()} is always {@code "store"}; {@link #reason()}
 * classifies the failure. Messages name files, tables and ids but never pickles or key bytes.
 *
 * <p>When {@link CryptoStore#save(Changes)} throws, none of the {@link Changes} was applied.
 */
public class StoreException extends Mxe2eeException {
  /** Why a store operation failed. */
  public enum Reason {
    /** The file is not a database, is truncated or fails an integrity check. Never repaired. */
    CORRUPT,
    /** The database was written by a newer mxe2ee whose schema this version does not know. */
    SCHEMA_TOO_NEW,
    /** A {@link Changes} violates a store constraint (for example a dangling reference). */
    CONSTRAINT,
    /** The store was used after {@link CryptoStore#close()}. */
    CLOSED,
    /**
     * Another process or store instance serves this account (device) in the same database: two
     * would race on one Olm account and both answer every message. Retry once the other has
     * stopped.
     */
    LOCKED,
    /** Any other I/O or database error (disk full, permissions, locked for too long). */
    IO
  }

  private final Reason reason;

  /**
   * @param reason classification, non-null
   * @param message description without secrets
   */
  public StoreException(Reason reason, String message) {
    super("store", message);
    this.reason = reason;
  }

  /**
   * @param reason classification, non-null
   * @param message description without secrets
   * @param cause underlying error
   */
  public StoreException(Reason reason, String message, Throwable cause) {
    super("store", message, cause);
    this.reason = reason;
  }

  /** Returns the failure classification. */
  public Reason reason() {
    return reason;
  }
}
