package io.github.mxe2ee.store.postgres;

import io.github.mxe2ee.store.StoreException;
import java.sql.SQLException;

/** Maps PostgreSQL SQLSTATEs to {@link StoreException} reasons. Not API. */
final class PostgresErrors {
  private PostgresErrors() {}

  static StoreException translate(String what, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    StoreException.Reason reason;
    if (state.startsWith("23")) {
      reason = StoreException.Reason.CONSTRAINT; // integrity constraint violation
    } else if (state.equals("XX001") || state.equals("XX002")) {
      reason = StoreException.Reason.CORRUPT; // data_corrupted, index_corrupted
    } else {
      reason = StoreException.Reason.IO;
    }
    // Server messages may quote a conflicting key (ids, never pickles: pickles are not keys).
    return new StoreException(reason, what + " failed [" + state + "]: " + e.getMessage(), e);
  }
}
