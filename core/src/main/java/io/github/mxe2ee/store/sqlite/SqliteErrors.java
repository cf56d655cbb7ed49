package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.StoreException;
import java.sql.SQLException;

/** Maps SQLite errors to {@link StoreException} reasons. Not API. */
final class SqliteErrors {
  /** SQLite primary result codes (https://sqlite.org/rescode.html). */
  private static final int SQLITE_CORRUPT = 11;

  private static final int SQLITE_CONSTRAINT = 19;
  private static final int SQLITE_NOTADB = 26;

  private SqliteErrors() {}

  static StoreException translate(String what, SQLException e) {
    int primary = e.getErrorCode() & 0xff;
    StoreException.Reason reason =
        switch (primary) {
          case SQLITE_CORRUPT, SQLITE_NOTADB -> StoreException.Reason.CORRUPT;
          case SQLITE_CONSTRAINT -> StoreException.Reason.CONSTRAINT;
          default -> StoreException.Reason.IO;
        };
    // SQLite messages name tables and columns, never bound values, so they are safe to repeat.
    return new StoreException(reason, what + " failed: " + e.getMessage(), e);
  }
}
