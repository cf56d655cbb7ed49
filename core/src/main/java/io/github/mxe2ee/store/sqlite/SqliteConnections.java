package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/** Opens and configures SQLite connections for the store. Not API. */
final class SqliteConnections {
  private SqliteConnections() {}

  /**
   * Opens a file database with {@code synchronous=FULL} and foreign keys. Does not write to the
   * file: call {@link #enableWal} once the content is known to be an mxe2ee store.
   *
   * @param create whether SQLite may create the file (only for the temporary file of a new store)
   */
  static Connection openFile(Path file, boolean create) {
    SQLiteConfig config = baseConfig();
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    if (!create) {
      config.resetOpenMode(SQLiteOpenMode.CREATE);
    }
    return connect("jdbc:sqlite:" + file, config, file.toString());
  }

  /** Switches the file to the WAL journal (persistent in its header) and verifies the settings. */
  static void enableWal(Connection conn, String file) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("PRAGMA journal_mode = WAL");
      String mode = pragma(st, "journal_mode");
      String sync = pragma(st, "synchronous");
      if (!"wal".equalsIgnoreCase(mode) || !"2".equals(sync)) {
        throw new StoreException(
            StoreException.Reason.IO,
            "crypto store "
                + file
                + " runs with journal_mode="
                + mode
                + " synchronous="
                + sync
                + ", expected wal and 2 (FULL)");
      }
    }
  }

  /** Opens a shared-cache in-memory database that lives while a connection to it is open. */
  static Connection openMemory(String name) {
    return connect(
        "jdbc:sqlite:file:mxe2ee-" + name + "?mode=memory&cache=shared",
        baseConfig(),
        "memory:" + name);
  }

  private static SQLiteConfig baseConfig() {
    SQLiteConfig config = new SQLiteConfig();
    config.enforceForeignKeys(true);
    config.setBusyTimeout(SqliteCryptoStore.BUSY_TIMEOUT_MS);
    // The store never reads generated keys; with them on, the driver runs (and prepares anew) a
    // "SELECT last_insert_rowid()" after every INSERT, which doubled the cost of a large save.
    config.setGetGeneratedKeys(false);
    // Negative: a size in KiB rather than in pages.
    config.setCacheSize(-SqliteCryptoStore.PAGE_CACHE_KIB);
    return config;
  }

  private static Connection connect(String url, SQLiteConfig config, String where) {
    try {
      return DriverManager.getConnection(url, config.toProperties());
    } catch (SQLException e) {
      throw SqliteErrors.translate("opening crypto store " + where, e);
    }
  }

  private static String pragma(Statement st, String name) throws SQLException {
    try (var rs = st.executeQuery("PRAGMA " + name)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Returns the row id of the account, inserting the row on first use. */
  static long accountRow(Connection conn, AccountId id) throws SQLException {
    try (var ins =
        conn.prepareStatement(
            "INSERT OR IGNORE INTO accounts (user_id, device_id) VALUES (?, ?)")) {
      ins.setString(1, id.userId());
      ins.setString(2, id.deviceId());
      ins.executeUpdate();
    }
    try (var sel =
        conn.prepareStatement("SELECT id FROM accounts WHERE user_id = ? AND device_id = ?")) {
      sel.setString(1, id.userId());
      sel.setString(2, id.deviceId());
      try (var rs = sel.executeQuery()) {
        if (!rs.next()) {
          throw new StoreException(
              StoreException.Reason.IO, "account row for " + id + " vanished after insert");
        }
        return rs.getLong(1);
      }
    }
  }

  static void closeQuietly(Connection conn) {
    try {
      conn.close();
    } catch (SQLException e) {
      // Already failing; the original error is what the caller reports.
    }
  }
}
