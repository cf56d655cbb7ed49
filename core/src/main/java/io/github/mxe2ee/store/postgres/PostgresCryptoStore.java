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
 *       fails with {@link StoreException.Reason#LOCKED} if another instance holds it; the lock dies
 *       with the connection, so a crashed instance frees its devices. Each save also locks the
 *       account row ({@code SELECT ... FOR UPDATE}), serializing saves per account while other
 *       accounts proceed in parallel.
 *   <li><b>Migrations</b> run under a transaction-level advisory lock; a newer schema is refused.
 *   <li><b>Reconnects</b> on the call after the one that found the connection lost, re-taking the
 *       advisory lock (see {@link #beforeUse}).
 * </ul>
 *
 * <p>Requires the PostgreSQL JDBC driver ({@code org.postgresql:postgresql}) on the class path.
 * Thread-safe: one connection per instance, calls serialized.
 */
public final class PostgresCryptoStore extends SqlCryptoStore {
  /** First key of every advisory lock this store takes ("mxe2" in ASCII). */
  static final int LOCK_SPACE = 0x6d786532;

  /**
   * How long open waits for the account's advisory lock: a store that was just closed elsewhere
   * releases it at once, but the server ends a crashed client's session only when it sees the
   * socket close, which can take a moment.
   */
  static final long LOCK_WAIT_MS = 3_000;

  /** Poll interval while waiting for the account lock. */
  private static final long LOCK_POLL_MS = 50;

  private final long lockKey;
  private final String jdbcUrl;
  private final Properties properties;

  /** Set when an error showed the connection lost; the next call reconnects first. */
  private boolean lost;

  private PostgresCryptoStore(
      Connection conn,
      AccountId id,
      long row,
      String where,
      long lockKey,
      String jdbcUrl,
      Properties properties) {
    super(conn, id, row, where);
    this.lockKey = lockKey;
    this.jdbcUrl = jdbcUrl;
    this.properties = properties;
  }

  /**
   * Opens the store of {@code accountId} in the database at {@code jdbcUrl} ({@code
   * jdbc:postgresql://host:port/db?...}); credentials go in {@code properties} or the URL.
   *
   * @throws StoreException IO if the server is unreachable or not durable, LOCKED if another
   *     instance serves this account; SCHEMA_TOO_NEW for a newer schema
   */
  public static PostgresCryptoStore open(
      String jdbcUrl, Properties properties, AccountId accountId) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(accountId, "accountId");
    // Never echo query parameters: they may carry a password.
    String where = jdbcUrl.split("\\?", 2)[0];
    Properties props = new Properties();
    if (properties != null) {
      props.putAll(properties);
    }
    Connection conn;
    try {
      conn = DriverManager.getConnection(jdbcUrl, props);
    } catch (SQLException e) {
      throw PostgresErrors.translate("connecting to crypto store " + where, e);
    }
    try {
      checkDurability(conn, where);
      PostgresMigrations.migrate(conn, where);
      long row = accountRow(conn, accountId);
      long lockKey = lockAccount(conn, accountId, where);
      return new PostgresCryptoStore(conn, accountId, row, where, lockKey, jdbcUrl, props);
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

  /**
   * Takes the session-level advisory lock that makes this connection the account's only server. The
   * key is a 64-bit hash of schema, user id and device id, so accounts in different schemas of one
   * database never collide (advisory locks are database-wide).
   */
  private static long lockAccount(Connection conn, AccountId accountId, String where)
      throws SQLException {
    long key;
    try (var ps =
        conn.prepareStatement(
            "SELECT hashtextextended(current_schema() || ' ' || ? || ' ' || ?, "
                + LOCK_SPACE
                + ")")) {
      ps.setString(1, accountId.userId());
      ps.setString(2, accountId.deviceId());
      try (var rs = ps.executeQuery()) {
        rs.next();
        key = rs.getLong(1);
      }
    }
    long deadline = System.nanoTime() + LOCK_WAIT_MS * 1_000_000;
    try (var ps = conn.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
      ps.setLong(1, key);
      while (true) {
        try (var rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            return key;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new StoreException(
              StoreException.Reason.LOCKED,
              "account "
                  + accountId
                  + " in "
                  + where
                  + " is served by another instance; stop the other bot process first, or give"
                  + " this one its own device id");
        }
        try {
          Thread.sleep(LOCK_POLL_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new StoreException(
              StoreException.Reason.IO, "interrupted waiting for account " + accountId, e);
        }
      }
    }
  }

  /**
   * Reconnects if the last call lost the connection (server restart, network failure, the backend
   * terminated): a new connection, the durability check, and the account's advisory lock again,
   * waiting up to {@link #LOCK_WAIT_MS} as at open. The lost session's lock died with it; if
   * another instance took the account meanwhile, the call fails with LOCKED ("served by another
   * instance") and the next one tries again. The call that saw the connection fail is not retried:
   * its save may or may not have committed, and the machine reloads from the store after a failed
   * save.
   */
  @Override
  protected void beforeUse() throws SQLException {
    if (!lost) {
      return;
    }
    Connection fresh = DriverManager.getConnection(jdbcUrl, properties);
    try {
      checkDurability(fresh, where);
      long key = lockAccount(fresh, accountId(), where);
      if (key != lockKey) {
        throw new StoreException(
            StoreException.Reason.IO, "account lock key changed in " + where + " (schema moved?)");
      }
    } catch (SQLException | RuntimeException e) {
      closeQuietly(fresh);
      throw e;
    }
    replaceConnection(fresh);
    lost = false;
  }

  @Override
  protected void beforeClose() throws SQLException {
    if (!conn.getAutoCommit()) {
      conn.rollback();
      conn.setAutoCommit(true);
    }
    try (var ps = conn.prepareStatement("SELECT pg_advisory_unlock(?)")) {
      ps.setLong(1, lockKey);
      ps.executeQuery().close();
    }
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
    if (PostgresErrors.isConnectionLost(e) || isClosed()) {
      lost = true;
    }
    return PostgresErrors.translate(what, e);
  }

  private boolean isClosed() {
    try {
      return conn.isClosed();
    } catch (SQLException e) {
      return true;
    }
  }
}
