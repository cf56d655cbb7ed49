package io.github.mxe2ee.store.postgres;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.internal.SqlCryptoStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Properties;

/**
 * A {@link CryptoStore} in PostgreSQL, for bridges whose devices are spread over several plugin
 * instances sharing one database. Same schema, SQL and contract as the SQLite store (see {@code
 * docs/STORE.md}, "PostgreSQL backend").
 *
 * <ul>
 *   <li><b>Durable:</b> a save is one transaction; open refuses a server running with {@code
 *       fsync=off} or {@code synchronous_commit=off}, so a returned save has its WAL flushed.
 *   <li><b>One writer per device:</b> open takes a session-level advisory lock on the account and
 *       fails with {@link StoreException.Reason#IO} if another instance holds it; the lock dies
 *       with the connection, so a crashed instance frees its devices. Each save also locks the
 *       account row ({@code SELECT ... FOR UPDATE}), serializing saves per account while other
 *       accounts proceed in parallel.
 *   <li><b>Migrations</b> run under a transaction-level advisory lock; a newer schema is refused.
 * </ul>
 *
 * <p>Requires the PostgreSQL JDBC driver ({@code org.postgresql:postgresql}) on the class path.
 * Thread-safe: one connection per instance, calls serialized.
 */
public final class PostgresCryptoStore extends SqlCryptoStore {
  /** First key of every advisory lock this store takes ("mxe2" in ASCII). */
  static final int LOCK_SPACE = 0x6d786532;

  private PostgresCryptoStore(Connection conn, AccountId id, long row, String where) {
    super(conn, id, row, where);
  }

  /**
   * Opens the store of {@code accountId} in the database at {@code jdbcUrl} ({@code
   * jdbc:postgresql://host:port/db?...}); credentials go in {@code properties} or the URL.
   *
   * @throws StoreException IO if the server is unreachable, not durable, or another instance serves
   *     this account; SCHEMA_TOO_NEW for a newer schema
   */
  public static PostgresCryptoStore open(
      String jdbcUrl, Properties properties, AccountId accountId) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(accountId, "accountId");
    // Never echo query parameters: they may carry a password.
    String where = jdbcUrl.split("\\?", 2)[0];
    Connection conn;
    try {
      conn =
          DriverManager.getConnection(jdbcUrl, properties == null ? new Properties() : properties);
    } catch (SQLException e) {
      throw PostgresErrors.translate("connecting to crypto store " + where, e);
    }
    try {
      checkDurability(conn, where);
      PostgresMigrations.migrate(conn, where);
      long row = accountRow(conn, accountId);
      try (Statement st = conn.createStatement();
          ResultSet rs =
              st.executeQuery("SELECT pg_try_advisory_lock(" + LOCK_SPACE + ", " + row + ")")) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new StoreException(
              StoreException.Reason.IO,
              "account " + accountId + " in " + where + " is served by another instance");
        }
      }
      return new PostgresCryptoStore(conn, accountId, row, where);
    } catch (SQLException e) {
      closeQuietly(conn);
      throw PostgresErrors.translate("opening crypto store " + where, e);
    } catch (RuntimeException e) {
      closeQuietly(conn);
      throw e;
    }
  }

  /** Same as {@link #open(String, Properties, AccountId)} without extra properties. */
  public static PostgresCryptoStore open(String jdbcUrl, AccountId accountId) {
    return open(jdbcUrl, null, accountId);
  }

  /** Returns the schema version this code creates and understands. */
  public static int latestSchemaVersion() {
    return PostgresMigrations.latestVersion();
  }

  private static void checkDurability(Connection conn, String where) throws SQLException {
    try (Statement st = conn.createStatement()) {
      String fsync = show(st, "fsync");
      String commit = show(st, "synchronous_commit");
      if (!"on".equals(fsync) || "off".equals(commit)) {
        throw new StoreException(
            StoreException.Reason.IO,
            "crypto store "
                + where
                + " runs with fsync="
                + fsync
                + " synchronous_commit="
                + commit
                + "; saves would not be durable (expected fsync=on, synchronous_commit not off)");
      }
    }
  }

  private static String show(Statement st, String setting) throws SQLException {
    try (ResultSet rs = st.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static long accountRow(Connection conn, AccountId id) throws SQLException {
    try (var ins =
        conn.prepareStatement(
            "INSERT INTO accounts (user_id, device_id) VALUES (?, ?) ON CONFLICT (user_id,"
                + " device_id) DO NOTHING")) {
      ins.setString(1, id.userId());
      ins.setString(2, id.deviceId());
      ins.executeUpdate();
    }
    try (var sel =
        conn.prepareStatement("SELECT id FROM accounts WHERE user_id = ? AND device_id = ?")) {
      sel.setString(1, id.userId());
      sel.setString(2, id.deviceId());
      try (var rs = sel.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void closeQuietly(Connection conn) {
    try {
      conn.close();
    } catch (SQLException e) {
      // Already failing; the original error is what the caller reports.
    }
  }

  @Override
  protected void begin() throws SQLException {
    conn.setAutoCommit(false);
    // Serializes saves of this account across every instance sharing the database.
    sql.one("SELECT id FROM accounts WHERE id = ? FOR UPDATE", rs -> rs.getLong(1), accountRow);
  }

  @Override
  protected void commit() throws SQLException {
    conn.commit();
    conn.setAutoCommit(true);
  }

  @Override
  protected void rollback() throws SQLException {
    try {
      conn.rollback();
    } finally {
      conn.setAutoCommit(true);
    }
  }

  @Override
  protected StoreException translate(String what, SQLException e) {
    return PostgresErrors.translate(what, e);
  }
}
