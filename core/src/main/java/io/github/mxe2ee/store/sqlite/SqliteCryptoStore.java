package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.AccountRecord;
import io.github.mxe2ee.store.Change;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.EncryptedPickle;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.KeyRequestState;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.TrackedUser;
import io.github.mxe2ee.store.UserDevice;
import io.github.mxe2ee.store.WithheldRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

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
 * writers, waiting up to {@link #BUSY_TIMEOUT_MS}. Thread-safe: each instance owns one connection
 * and serializes its calls.
 */
public final class SqliteCryptoStore implements CryptoStore {
  /** How long a save waits for another writer on the same file before failing with IO. */
  public static final int BUSY_TIMEOUT_MS = 10_000;

  private final Connection conn;
  private final SqliteStatements sql;
  private final AccountId accountId;
  private final long accountRow;
  private final String where;
  private boolean closed;

  private SqliteCryptoStore(Connection conn, AccountId accountId, long accountRow, String where) {
    this.conn = conn;
    this.sql = new SqliteStatements(conn);
    this.accountId = accountId;
    this.accountRow = accountRow;
    this.where = where;
  }

  /**
   * Opens the store of {@code accountId} in {@code file}, creating the file (and its parent
   * directories) if it does not exist.
   *
   * @throws StoreException CORRUPT for an empty, truncated, foreign or corrupt file (left
   *     untouched), SCHEMA_TOO_NEW for a newer schema, IO otherwise
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
    } else {
      SqliteCreation.createAtomically(abs, migrations);
    }
    Connection conn = SqliteConnections.openFile(abs, false);
    return finishOpen(conn, accountId, migrations, abs.toString(), true);
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
        false);
  }

  private static SqliteCryptoStore finishOpen(
      Connection conn,
      AccountId accountId,
      SqliteMigrations migrations,
      String where,
      boolean wal) {
    try {
      // Refuse foreign or newer files before anything (even the WAL switch) writes to them.
      migrations.check(conn, where);
      if (wal) {
        SqliteConnections.enableWal(conn, where);
      }
      migrations.migrate(conn, where);
      long row = SqliteConnections.accountRow(conn, accountId);
      return new SqliteCryptoStore(conn, accountId, row, where);
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

  @Override
  public AccountId accountId() {
    return accountId;
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

  /** The statements this store prepared so far; for the query-plan test. */
  synchronized java.util.Set<String> preparedSql() {
    return sql.preparedSql();
  }

  @Override
  public synchronized void save(Changes changes) {
    Objects.requireNonNull(changes, "changes");
    ensureOpen();
    if (changes.isEmpty()) {
      return;
    }
    SqliteChangeWriter writer = new SqliteChangeWriter(sql, accountRow);
    try (Statement st = conn.createStatement()) {
      st.execute("BEGIN IMMEDIATE");
      try {
        for (Change change : changes.list()) {
          writer.apply(change);
        }
        st.execute("COMMIT");
      } catch (SQLException | RuntimeException e) {
        rollback(st, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqliteErrors.translate("saving " + changes + " to " + where, e);
    }
  }

  private static void rollback(Statement st, Exception failure) {
    try {
      st.execute("ROLLBACK");
    } catch (SQLException e) {
      // SQLite may already have rolled back (for example after a failed COMMIT).
      failure.addSuppressed(e);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      sql.close();
    } catch (SQLException e) {
      // Closing statements cannot lose data; the connection close below reports real problems.
    }
    try {
      conn.close();
    } catch (SQLException e) {
      throw SqliteErrors.translate("closing crypto store " + where, e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new StoreException(
          StoreException.Reason.CLOSED, "crypto store " + where + " for " + accountId + " closed");
    }
  }

  @FunctionalInterface
  private interface Query<T> {
    T run() throws SQLException;
  }

  private synchronized <T> T query(String what, Query<T> q) {
    ensureOpen();
    try {
      return q.run();
    } catch (SQLException e) {
      throw SqliteErrors.translate(what + " in " + where, e);
    }
  }

  @Override
  public Optional<AccountRecord> account() {
    return query(
        "reading account",
        () ->
            sql.one(
                "SELECT pickle, shared_with_server FROM accounts WHERE id = ?",
                rs ->
                    rs.getString(1) == null
                        ? null
                        : new AccountRecord(
                            new EncryptedPickle(rs.getString(1)), rs.getInt(2) != 0),
                accountRow));
  }

  @Override
  public List<OlmSessionRecord> olmSessions(String senderKey) {
    Objects.requireNonNull(senderKey, "senderKey");
    return query(
        "reading Olm sessions",
        () ->
            sql.list(
                "SELECT "
                    + SqliteRows.OLM
                    + " FROM olm_sessions WHERE account_id = ? AND sender_key = ? ORDER BY"
                    + " last_decrypted_at DESC, session_id",
                SqliteRows::olm,
                accountRow,
                senderKey));
  }

  @Override
  public Optional<InboundGroupSessionRecord> inboundGroupSession(String roomId, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sessionId, "sessionId");
    return query(
        "reading inbound group session",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.INBOUND
                    + " FROM inbound_group_sessions WHERE account_id = ? AND room_id = ? AND"
                    + " session_id = ?",
                SqliteRows::inbound,
                accountRow,
                roomId,
                sessionId));
  }

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessionsToBackUp(int limit) {
    return query(
        "reading sessions to back up",
        () ->
            sql.list(
                "SELECT "
                    + SqliteRows.INBOUND
                    + " FROM inbound_group_sessions WHERE account_id = ? AND backed_up = 0 LIMIT ?",
                SqliteRows::inbound,
                accountRow,
                Math.max(0, limit)));
  }

  @Override
  public List<InboundGroupSessionRecord> sharedHistoryInboundGroupSessions(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return query(
        "reading shared-history sessions",
        () ->
            sql.list(
                "SELECT "
                    + SqliteRows.INBOUND
                    + " FROM inbound_group_sessions WHERE account_id = ? AND room_id = ? AND"
                    + " shared_history = 1 ORDER BY session_id",
                SqliteRows::inbound,
                accountRow,
                roomId));
  }

  @Override
  public long inboundGroupSessionCount() {
    return query(
        "counting inbound group sessions",
        () ->
            sql.one(
                    "SELECT count(*) FROM inbound_group_sessions WHERE account_id = ?",
                    rs -> rs.getLong(1),
                    accountRow)
                .orElse(0L));
  }

  @Override
  public Optional<OutboundGroupSessionRecord> outboundGroupSession(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return query(
        "reading outbound group session",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.OUTBOUND
                    + " FROM outbound_group_sessions WHERE account_id = ? AND room_id = ?",
                SqliteRows::outbound,
                accountRow,
                roomId));
  }

  @Override
  public Map<UserDevice, Long> outboundSharedWith(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return query(
        "reading outbound shared-with",
        () -> {
          Map<UserDevice, Long> out = new HashMap<>();
          sql.list(
              "SELECT user_id, device_id, message_index FROM outbound_shared_with WHERE"
                  + " account_id = ? AND room_id = ?",
              rs -> out.put(new UserDevice(rs.getString(1), rs.getString(2)), rs.getLong(3)),
              accountRow,
              roomId);
          return Map.copyOf(out);
        });
  }

  @Override
  public List<DeviceRecord> devices(String userId) {
    Objects.requireNonNull(userId, "userId");
    return query(
        "reading devices",
        () ->
            sql.list(
                "SELECT "
                    + SqliteRows.DEVICE
                    + " FROM devices WHERE account_id = ? AND user_id = ? ORDER BY device_id",
                SqliteRows::device,
                accountRow,
                userId));
  }

  @Override
  public Optional<DeviceRecord> device(String userId, String deviceId) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    return query(
        "reading device",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.DEVICE
                    + " FROM devices WHERE account_id = ? AND user_id = ? AND device_id = ?",
                SqliteRows::device,
                accountRow,
                userId,
                deviceId));
  }

  @Override
  public Optional<CrossSigningIdentityRecord> crossSigningIdentity(String userId) {
    Objects.requireNonNull(userId, "userId");
    return query(
        "reading cross-signing identity",
        () ->
            sql.one(
                "SELECT user_id, keys_json, trust FROM cross_signing_identities WHERE account_id ="
                    + " ? AND user_id = ?",
                SqliteRows::identity,
                accountRow,
                userId));
  }

  @Override
  public Optional<TrackedUser> trackedUser(String userId) {
    Objects.requireNonNull(userId, "userId");
    return query(
        "reading tracked user",
        () ->
            sql.one(
                "SELECT user_id, outdated FROM tracked_users WHERE account_id = ? AND user_id = ?",
                rs -> new TrackedUser(rs.getString(1), rs.getInt(2) != 0),
                accountRow,
                userId));
  }

  @Override
  public List<TrackedUser> trackedUsers() {
    return query(
        "reading tracked users",
        () ->
            sql.list(
                "SELECT user_id, outdated FROM tracked_users WHERE account_id = ? ORDER BY user_id",
                rs -> new TrackedUser(rs.getString(1), rs.getInt(2) != 0),
                accountRow));
  }

  @Override
  public List<String> outdatedUsers() {
    return query(
        "reading outdated users",
        () ->
            sql.list(
                "SELECT user_id FROM tracked_users WHERE account_id = ? AND outdated = 1 ORDER BY"
                    + " user_id",
                rs -> rs.getString(1),
                accountRow));
  }

  @Override
  public Optional<OutgoingKeyRequest> outgoingKeyRequest(String requestId) {
    Objects.requireNonNull(requestId, "requestId");
    return query(
        "reading key request",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.KEY_REQUEST
                    + " FROM outgoing_key_requests WHERE account_id = ? AND request_id = ?",
                SqliteRows::keyRequest,
                accountRow,
                requestId));
  }

  @Override
  public Optional<OutgoingKeyRequest> outgoingKeyRequestFor(String roomId, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sessionId, "sessionId");
    return query(
        "reading key request",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.KEY_REQUEST
                    + " FROM outgoing_key_requests WHERE account_id = ? AND room_id = ? AND"
                    + " session_id = ?",
                SqliteRows::keyRequest,
                accountRow,
                roomId,
                sessionId));
  }

  @Override
  public List<OutgoingKeyRequest> outgoingKeyRequests(KeyRequestState state) {
    Objects.requireNonNull(state, "state");
    return query(
        "reading key requests",
        () ->
            sql.list(
                "SELECT "
                    + SqliteRows.KEY_REQUEST
                    + " FROM outgoing_key_requests WHERE account_id = ? AND state = ? ORDER BY"
                    + " request_id",
                SqliteRows::keyRequest,
                accountRow,
                state.code()));
  }

  @Override
  public Optional<WithheldRecord> withheld(String roomId, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sessionId, "sessionId");
    return query(
        "reading withheld record",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.WITHHELD
                    + " FROM withheld_sessions WHERE account_id = ? AND room_id = ? AND session_id"
                    + " = ?",
                SqliteRows::withheld,
                accountRow,
                roomId,
                sessionId));
  }

  @Override
  public Optional<String> syncToken() {
    return query(
        "reading sync token",
        () ->
            sql.one(
                "SELECT sync_token FROM accounts WHERE id = ?", rs -> rs.getString(1), accountRow));
  }

  @Override
  public Optional<PendingRoomKeyBundle> pendingRoomKeyBundle(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return query(
        "reading room key bundle",
        () ->
            sql.one(
                "SELECT "
                    + SqliteRows.BUNDLE
                    + " FROM pending_room_key_bundles WHERE account_id = ? AND room_id = ?",
                SqliteRows::bundle,
                accountRow,
                roomId));
  }

  @Override
  public List<PendingRoomKeyBundle> pendingRoomKeyBundles() {
    return query(
        "reading room key bundles",
        () ->
            sql.list(
                "SELECT "
                    + SqliteRows.BUNDLE
                    + " FROM pending_room_key_bundles WHERE account_id = ? ORDER BY room_id",
                SqliteRows::bundle,
                accountRow));
  }

  @Override
  public Optional<byte[]> value(String key) {
    Objects.requireNonNull(key, "key");
    return query(
        "reading value",
        () ->
            sql.one(
                "SELECT value FROM key_values WHERE account_id = ? AND key = ?",
                rs -> rs.getBytes(1),
                accountRow,
                key));
  }

  @Override
  public String toString() {
    return "SqliteCryptoStore[" + where + ", " + accountId + "]";
  }
}
