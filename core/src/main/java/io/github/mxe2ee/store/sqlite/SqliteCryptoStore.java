package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.internal.SqlCryptoStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;

/**
 * The default {@link CryptoStore}: one SQLite database (file or named in-memory) holding any number
 * of accounts, with the durability contract of {@link CryptoStore}.
 *
 * <ul>
 *   <li>Files use the WAL journal with {@code synchronous=FULL}: each save is one {@code BEGIN
 *       IMMEDIATE ... COMMIT} transaction whose WAL frames are fsynced before {@code save} returns,
 *       so it survives SIGKILL and power loss; an interrupted transaction is rolled back by SQLite
 *       at the next open.
 *   <li>The schema comes from numbered migrations ({@code migrations/V1__init.sql}, ...) recorded
 *       in {@code schema_version}; a database with a newer version is refused ({@link
 *       StoreException.Reason#SCHEMA_TOO_NEW}).
 *   <li>A new file is built under a temporary name and linked into place only once fully
 *       initialised. An existing file that is empty, truncated, not SQLite or corrupt is reported
 *       ({@link StoreException.Reason#CORRUPT}) and never replaced or repaired. {@link
 *       #checkIntegrity()} runs SQLite's full {@code integrity_check} on demand.
 *   <li>Lookups are indexed queries; nothing but the account row id is cached in memory.
 * </ul>
 *
 * <p>Several instances (other accounts, other processes) may share a file; SQLite serializes
 * writers, waiting up to {@link #BUSY_TIMEOUT_MS}. One account is served by one open instance at a
 * time: see {@link #open(Path, AccountId)}. Thread-safe: each instance owns one connection and
 * serializes its calls.
 */
public final class SqliteCryptoStore extends SqlCryptoStore {
  /** How long a save waits for another writer on the same file before failing with IO. */
  public static final int BUSY_TIMEOUT_MS = 10_000;

  /**
   * SQLite page cache per connection, in KiB (allocated only as pages are read). SQLite's default
   * of 2 MiB is smaller than the store of a bot with 10,000 peer devices (about 11 MB): a save that
   * touches every Olm session row (a room key shared with all of them) then spilled dirty pages to
   * the WAL mid-transaction and read them back, about doubling its time.
   */
  public static final int PAGE_CACHE_KIB = 32 * 1024;

  /** This instance's claim on its account in the file; null for in-memory databases. */
  private final SqliteAccountLock lock;

  private SqliteCryptoStore(
      Connection conn, AccountId accountId, long accountRow, String where, SqliteAccountLock lock) {
    super(conn, accountId, accountRow, where);
    this.lock = lock;
  }

  /**
   * The accounts (user id, device id) a store file holds, read-only, without migrating or locking
   * anything: how a bot that was given no device id finds the one its store belongs to. A missing
   * file holds none.
   *
   * @throws StoreException CORRUPT for a file that is not an mxe2ee store, IO otherwise
   */
  public static java.util.List<AccountId> accountsIn(Path file) {
    Path abs = file.toAbsolutePath();
    if (!Files.exists(abs)) {
      return java.util.List.of();
    }
    SqliteFiles.checkHeader(abs);
    java.util.List<AccountId> out = new java.util.ArrayList<>();
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection("jdbc:sqlite:file:" + abs + "?mode=ro");
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs =
            st.executeQuery("SELECT user_id, device_id FROM accounts ORDER BY id")) {
      while (rs.next()) {
        out.add(AccountId.of(rs.getString(1), rs.getString(2)));
      }
    } catch (java.sql.SQLException e) {
      throw new StoreException(
          StoreException.Reason.CORRUPT,
          "cannot list the accounts of crypto store " + abs + ": " + e.getMessage(),
          e);
    }
    return java.util.List.copyOf(out);
  }

  /**
   * Opens the store of {@code accountId} in {@code file}, creating the file (and its parent
   * directories) if it does not exist.
   *
   * <p>Operator safety (docs/SECURITY.md, "Operator safety"): a new file, its WAL and shared-memory
   * files and the lock file are created owner-only (0600, parent directories 0700) whatever the
   * umask; an existing store readable by others is tightened to owner-only with a logged warning.
   * The account is locked in {@code <file>.lock} until {@link #close()} (see {@link
   * SqliteAccountLock}): a second open of the same account, from this or another process, fails
   * with LOCKED, while other accounts share the file.
   *
   * @throws StoreException CORRUPT for an empty, truncated, foreign or corrupt file (left
   *     untouched), SCHEMA_TOO_NEW for a newer schema, LOCKED if the account is in use elsewhere,
   *     IO otherwise
   */
  public static SqliteCryptoStore open(Path file, AccountId accountId) {
    return open(file, accountId, SqliteMigrations.load(SqliteMigrations.DEFAULT_DIR));
  }

  static SqliteCryptoStore open(Path file, AccountId accountId, SqliteMigrations migrations) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(accountId, "accountId");
    Path abs = file.toAbsolutePath();
    if (Files.exists(abs)) {
      SqliteFiles.checkHeader(abs);
      SqliteFiles.tightenPermissions(abs);
    } else {
      SqliteCreation.createAtomically(abs, migrations);
    }
    // One lock per file, whichever path (symlink, relative, "..") names it.
    Path real;
    try {
      real = abs.toRealPath();
    } catch (IOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot resolve crypto store file " + abs + ": " + e, e);
    }
    SqliteAccountLock lock = SqliteAccountLock.acquire(real, accountId);
    try {
      Connection conn = SqliteConnections.openFile(abs, false);
      return finishOpen(conn, accountId, migrations, abs.toString(), true, lock);
    } catch (RuntimeException e) {
      lock.release();
      throw e;
    }
  }

  /**
   * Opens the store of {@code accountId} in the process-wide in-memory database called {@code
   * name}. The database lives while at least one store on it is open; it is durable only for that
   * time (no WAL, no fsync).
   */
  public static SqliteCryptoStore openInMemory(String name, AccountId accountId) {
    Objects.requireNonNull(accountId, "accountId");
    if (!name.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new IllegalArgumentException("in-memory database name must match [A-Za-z0-9_-]{1,64}");
    }
    Connection conn = SqliteConnections.openMemory(name);
    return finishOpen(
        conn,
        accountId,
        SqliteMigrations.load(SqliteMigrations.DEFAULT_DIR),
        "memory:" + name,
        false,
        null);
  }

  private static SqliteCryptoStore finishOpen(
      Connection conn,
      AccountId accountId,
      SqliteMigrations migrations,
      String where,
      boolean wal,
      SqliteAccountLock lock) {
    try {
      // Refuse foreign or newer files before anything (even the WAL switch) writes to them.
      migrations.check(conn, where);
      if (wal) {
        SqliteConnections.enableWal(conn, where);
      }
      migrations.migrate(conn, where);
      long row = SqliteConnections.accountRow(conn, accountId);
      return new SqliteCryptoStore(conn, accountId, row, where, lock);
    } catch (SQLException e) {
      SqliteConnections.closeQuietly(conn);
      throw SqliteErrors.translate("opening crypto store " + where, e);
    } catch (RuntimeException e) {
      SqliteConnections.closeQuietly(conn);
      throw e;
    }
  }

  /** Returns the schema version this code creates and understands. */
  public static int latestSchemaVersion() {
    return SqliteMigrations.load(SqliteMigrations.DEFAULT_DIR).latestVersion();
  }

  /**
   * Runs SQLite's {@code PRAGMA integrity_check} over the whole database (all accounts). Takes time
   * proportional to the database size.
   *
   * @throws StoreException CORRUPT listing the first problems SQLite reports
   */
  public synchronized void checkIntegrity() {
    List<String> problems =
        query("integrity check", () -> sql.list("PRAGMA integrity_check", rs -> rs.getString(1)));
    if (!(problems.size() == 1 && "ok".equals(problems.get(0)))) {
      throw new StoreException(
          StoreException.Reason.CORRUPT,
          "crypto store " + where + " fails integrity_check: " + problems);
    }
  }

  /** Closes the connection, then releases the account's lock (also if the close fails). */
  @Override
  public synchronized void close() {
    try {
      super.close();
    } finally {
      if (lock != null) {
        lock.release();
      }
    }
  }

  @Override
  protected void begin() throws SQLException {
    try (Statement st = conn.createStatement()) {
      // Take the write lock now: a deferred transaction could fail to upgrade under contention.
      st.execute("BEGIN IMMEDIATE");
    }
  }

  @Override
  protected void commit() throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("COMMIT");
    }
  }

  @Override
  protected void rollback() throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("ROLLBACK");
    }
  }

  @Override
  protected StoreException translate(String what, SQLException e) {
    return SqliteErrors.translate(what, e);
  }
}
