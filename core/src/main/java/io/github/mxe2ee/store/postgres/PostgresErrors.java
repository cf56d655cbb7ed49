package io.github.mxe2ee.store.postgres;

import io.github.mxe2ee.store.StoreException;
import java.sql.SQLException;

/** Maps PostgreSQL SQLSTATEs to {@link StoreException} reasons. Not API. */
final class PostgresErrors {
  private PostgresErrors() {}

  /**
   * True for errors after which the connection is gone: SQLSTATE class 08 (connection exception)
   * and 57P01..57P03 (the server shut the backend down or is not accepting connections).
   */
  static boolean isConnectionLost(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    return state.startsWith("08") || state.startsWith("57P");
  }

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
