package io.github.mxe2ee.store.internal;

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
import io.github.mxe2ee.store.ReplayRecord;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.TrackedUser;
import io.github.mxe2ee.store.UserDevice;
import io.github.mxe2ee.store.WithheldRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The part of a SQL {@link CryptoStore} that does not depend on the database: every read as an
 * indexed query on the shared schema, and {@link #save} as one transaction whose start, commit and
 * rollback the backend supplies. Thread-safe: calls are serialized on the instance. Not API.
 */
public abstract class SqlCryptoStore implements CryptoStore {
  /** The connection; owned by this store (replaced by {@link #replaceConnection}). */
  protected Connection conn;

  /** Statement cache on {@link #conn}. */
  protected SqlStatements sql;

  private final AccountId accountId;

  /** Row id of the account in {@code accounts}. */
  protected final long accountRow;

  /** Where the store lives, for messages (a path or a sanitized URL, never credentials). */
  protected final String where;

  private boolean closed;

  protected SqlCryptoStore(Connection conn, AccountId accountId, long accountRow, String where) {
    this.conn = conn;
    this.sql = new SqlStatements(conn);
    this.accountId = accountId;
    this.accountRow = accountRow;
    this.where = where;
  }

  /** Starts the save transaction (and takes the backend's write lock). */
  protected abstract void begin() throws SQLException;

  /** Commits the save transaction; durable when this returns. */
  protected abstract void commit() throws SQLException;

  /** Rolls the save transaction back. */
  protected abstract void rollback() throws SQLException;

  /** Runs once before the connection is closed (for example to release locks promptly). */
  protected void beforeClose() throws SQLException {}

  /**
   * Runs before every read and save, under the store's lock: a backend whose connection was lost
   * reconnects here. Throwing fails that call only.
   */
  protected void beforeUse() throws SQLException {}

  /** Swaps in a new connection after the old one was lost; the old one is closed quietly. */
  protected void replaceConnection(Connection fresh) {
    try {
      sql.close();
    } catch (SQLException e) {
      // The statements belong to the lost connection.
    }
    try {
      conn.close();
    } catch (SQLException e) {
      // Already broken; nothing of ours is left on it.
    }
    conn = fresh;
    sql = new SqlStatements(fresh);
  }

  /** Maps a database error to a {@link StoreException}. */
  protected abstract StoreException translate(String what, SQLException e);

  @Override
  public AccountId accountId() {
    return accountId;
  }

  /** The statements this store prepared so far (for query-plan tests). */
  public synchronized Set<String> preparedSql() {
    return sql.preparedSql();
  }

  @Override
  public synchronized void save(Changes changes) {
    Objects.requireNonNull(changes, "changes");
    ensureOpen();
    if (changes.isEmpty()) {
      return;
    }
    try {
      beforeUse();
    } catch (SQLException e) {
      throw translate("reconnecting to " + where, e);
    }
    SqlChangeWriter writer = new SqlChangeWriter(sql, accountRow);
    try {
      try {
        begin();
        for (Change change : changes.list()) {
          writer.apply(change);
        }
        commit();
      } catch (SQLException | RuntimeException e) {
        try {
          rollback();
        } catch (SQLException r) {
          // The database may already have rolled back (for example after a failed COMMIT).
          e.addSuppressed(r);
        }
        throw e;
      }
    } catch (SQLException e) {
      throw translate("saving " + changes + " to " + where, e);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      beforeClose();
    } catch (SQLException e) {
      // Closing the connection below releases whatever beforeClose could not.
    }
    try {
      sql.close();
    } catch (SQLException e) {
      // Closing statements cannot lose data; the connection close below reports real problems.
    }
    try {
      conn.close();
    } catch (SQLException e) {
      throw translate("closing crypto store " + where, e);
    }
  }

  /** Throws CLOSED after {@link #close()}. */
  protected void ensureOpen() {
    if (closed) {
      throw new StoreException(
          StoreException.Reason.CLOSED, "crypto store " + where + " for " + accountId + " closed");
    }
  }

  /** A query that may throw {@link SQLException}. */
  @FunctionalInterface
  protected interface Query<T> {
    T run() throws SQLException;
  }

  /** Runs a query under the store's lock, translating errors. */
  protected synchronized <T> T query(String what, Query<T> q) {
    ensureOpen();
    try {
      beforeUse();
      return q.run();
    } catch (SQLException e) {
      throw translate(what + " in " + where, e);
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
                    + SqlRows.OLM
                    + " FROM olm_sessions WHERE account_id = ? AND sender_key = ? ORDER BY"
                    + " last_decrypted_at DESC, session_id",
                SqlRows::olm,
                accountRow,
                senderKey));
  }

  @Override
  public Optional<InboundGroupSessionRecord> inboundGroupSession(
      String roomId, String senderKey, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(sessionId, "sessionId");
    return query(
        "reading inbound group session",
        () ->
            sql.one(
                "SELECT "
                    + SqlRows.INBOUND
                    + " FROM inbound_group_sessions WHERE account_id = ? AND room_id = ? AND"
                    + " sender_key = ? AND session_id = ?",
                SqlRows::inbound,
                accountRow,
                roomId,
                senderKey,
                sessionId));
  }

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessions(String roomId, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sessionId, "sessionId");
    // Sorted here, not by ORDER BY: without table statistics SQLite would then walk the primary
    // key (account, room, sender key, session) over every session of the room to avoid a sort of
    // the few copies, instead of using the (account, room, session) index.
    return sortedBy(
        query(
            "reading inbound group sessions",
            () ->
                sql.list(
                    "SELECT "
                        + SqlRows.INBOUND
                        + " FROM inbound_group_sessions WHERE account_id = ? AND room_id = ? AND"
                        + " session_id = ?",
                    SqlRows::inbound,
                    accountRow,
                    roomId,
                    sessionId)),
        InboundGroupSessionRecord::senderKey);
  }

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessionsToBackUp(int limit) {
    return query(
        "reading sessions to back up",
        () ->
            sql.list(
                "SELECT "
                    + SqlRows.INBOUND
                    + " FROM inbound_group_sessions WHERE account_id = ? AND backed_up = 0 LIMIT ?",
                SqlRows::inbound,
                accountRow,
                Math.max(0, limit)));
  }

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessionsAfter(
      String roomId, String senderKey, String sessionId, int limit) {
    if ((roomId == null) != (sessionId == null) || (roomId == null) != (senderKey == null)) {
      throw new IllegalArgumentException(
          "roomId, senderKey and sessionId must all be null or all be set");
    }
    String select =
        "SELECT " + SqlRows.INBOUND + " FROM inbound_group_sessions WHERE account_id = ?";
    String order = " ORDER BY room_id, sender_key, session_id LIMIT ?";
    return query(
        "paging through inbound sessions",
        () ->
            roomId == null
                ? sql.list(select + order, SqlRows::inbound, accountRow, Math.max(0, limit))
                : sql.list(
                    select
                        + " AND (room_id > ? OR (room_id = ? AND (sender_key > ? OR (sender_key ="
                        + " ? AND session_id > ?))))"
                        + order,
                    SqlRows::inbound,
                    accountRow,
                    roomId,
                    roomId,
                    senderKey,
                    senderKey,
                    sessionId,
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
                    + SqlRows.INBOUND
                    + " FROM inbound_group_sessions WHERE account_id = ? AND room_id = ? AND"
                    + " shared_history = 1 ORDER BY session_id",
                SqlRows::inbound,
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
                    + SqlRows.OUTBOUND
                    + " FROM outbound_group_sessions WHERE account_id = ? AND room_id = ?",
                SqlRows::outbound,
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
                    + SqlRows.DEVICE
                    + " FROM devices WHERE account_id = ? AND user_id = ? ORDER BY device_id",
                SqlRows::device,
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
                    + SqlRows.DEVICE
                    + " FROM devices WHERE account_id = ? AND user_id = ? AND device_id = ?",
                SqlRows::device,
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
                SqlRows::identity,
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
                    + SqlRows.KEY_REQUEST
                    + " FROM outgoing_key_requests WHERE account_id = ? AND request_id = ?",
                SqlRows::keyRequest,
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
                    + SqlRows.KEY_REQUEST
                    + " FROM outgoing_key_requests WHERE account_id = ? AND room_id = ? AND"
                    + " session_id = ?",
                SqlRows::keyRequest,
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
                    + SqlRows.KEY_REQUEST
                    + " FROM outgoing_key_requests WHERE account_id = ? AND state = ? ORDER BY"
                    + " request_id",
                SqlRows::keyRequest,
                accountRow,
                state.code()));
  }

  @Override
  public Optional<ReplayRecord> replayRecord(
      String roomId, String senderKey, String sessionId, long messageIndex) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(sessionId, "sessionId");
    return query(
        "reading replay record",
        () ->
            sql.one(
                "SELECT event_id, origin_ts FROM replay_records WHERE account_id = ? AND room_id"
                    + " = ? AND sender_key = ? AND session_id = ? AND message_index = ?",
                rs ->
                    new ReplayRecord(
                        roomId, senderKey, sessionId, messageIndex, rs.getString(1), rs.getLong(2)),
                accountRow,
                roomId,
                senderKey,
                sessionId,
                messageIndex));
  }

  @Override
  public long replayRecordMaxIndex(String roomId, String senderKey, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(sessionId, "sessionId");
    return query(
        "reading replay records",
        () ->
            sql.one(
                    "SELECT coalesce(max(message_index), -1) FROM replay_records WHERE account_id ="
                        + " ? AND room_id = ? AND sender_key = ? AND session_id = ?",
                    rs -> rs.getLong(1),
                    accountRow,
                    roomId,
                    senderKey,
                    sessionId)
                .orElse(-1L));
  }

  @Override
  public long replayRecordCount() {
    return query(
        "counting replay records",
        () ->
            sql.one(
                    "SELECT count(*) FROM replay_records WHERE account_id = ?",
                    rs -> rs.getLong(1),
                    accountRow)
                .orElse(0L));
  }

  @Override
  public List<WithheldRecord> withheld(String roomId, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sessionId, "sessionId");
    // Sorted here for the same reason as inboundGroupSessions(room, session).
    return sortedBy(
        query(
            "reading withheld records",
            () ->
                sql.list(
                    "SELECT "
                        + SqlRows.WITHHELD
                        + " FROM withheld_sessions WHERE account_id = ? AND room_id = ? AND"
                        + " session_id = ?",
                    SqlRows::withheld,
                    accountRow,
                    roomId,
                    sessionId)),
        WithheldRecord::senderKey);
  }

  private static <T> List<T> sortedBy(List<T> rows, java.util.function.Function<T, String> key) {
    List<T> sorted = new java.util.ArrayList<>(rows);
    sorted.sort(java.util.Comparator.comparing(key));
    return List.copyOf(sorted);
  }

  @Override
  public long withheldCount(String senderKey) {
    return query(
        "counting withheld records",
        () ->
            senderKey == null
                ? sql.one(
                        "SELECT count(*) FROM withheld_sessions WHERE account_id = ?",
                        rs -> rs.getLong(1),
                        accountRow)
                    .orElse(0L)
                : sql.one(
                        "SELECT count(*) FROM withheld_sessions WHERE account_id = ? AND"
                            + " sender_key = ?",
                        rs -> rs.getLong(1),
                        accountRow,
                        senderKey)
                    .orElse(0L));
  }

  @Override
  public List<WithheldRecord> oldestWithheld(String senderKey, int offset, int limit) {
    if (offset < 0 || limit < 0) {
      throw new IllegalArgumentException("offset and limit must not be negative");
    }
    String order = " ORDER BY received_at, room_id, sender_key, session_id LIMIT ? OFFSET ?";
    return query(
        "listing withheld records",
        () ->
            senderKey == null
                ? sql.list(
                    "SELECT "
                        + SqlRows.WITHHELD
                        + " FROM withheld_sessions WHERE account_id = ?"
                        + order,
                    SqlRows::withheld,
                    accountRow,
                    limit,
                    offset)
                : sql.list(
                    "SELECT "
                        + SqlRows.WITHHELD
                        + " FROM withheld_sessions WHERE account_id = ? AND sender_key = ?"
                        + order,
                    SqlRows::withheld,
                    accountRow,
                    senderKey,
                    limit,
                    offset));
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
  public Optional<PendingRoomKeyBundle> pendingRoomKeyBundle(String roomId, String inviter) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(inviter, "inviter");
    return query(
        "reading room key bundle",
        () ->
            sql.one(
                "SELECT "
                    + SqlRows.BUNDLE
                    + " FROM pending_room_key_bundles"
                    + " WHERE account_id = ? AND room_id = ? AND inviter = ?",
                SqlRows::bundle,
                accountRow,
                roomId,
                inviter));
  }

  @Override
  public List<PendingRoomKeyBundle> pendingRoomKeyBundles() {
    return query(
        "reading room key bundles",
        () ->
            sql.list(
                "SELECT "
                    + SqlRows.BUNDLE
                    + " FROM pending_room_key_bundles WHERE account_id = ?"
                    + " ORDER BY room_id, inviter",
                SqlRows::bundle,
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
    return getClass().getSimpleName() + "[" + where + ", " + accountId + "]";
  }
}
