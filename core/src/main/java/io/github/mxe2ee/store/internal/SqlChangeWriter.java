package io.github.mxe2ee.store.internal;

import io.github.mxe2ee.store.Change;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.ReplayRecord;
import io.github.mxe2ee.store.WithheldRecord;
import java.sql.SQLException;

/**
 * Turns each {@link Change} into SQL inside the caller's transaction, in the dialect SQLite (3.24+)
 * and PostgreSQL share: every put is an {@code INSERT ... ON CONFLICT (key) DO UPDATE} upsert, so a
 * conflict on another unique key surfaces as a constraint error instead of silently deleting rows.
 * Not API.
 */
public final class SqlChangeWriter {
  // Built once: each save may run one of these per row (10,000 for a large room-key share).
  private static final String UPSERT_OLM_SESSIONS =
      upsert(
          "olm_sessions",
          "account_id, sender_key, session_id",
          "account_id, sender_key, session_id, pickle, created_at, last_decrypted_at");

  private static final String UPSERT_INBOUND_GROUP_SESSIONS =
      upsert(
          "inbound_group_sessions",
          "account_id, room_id, sender_key, session_id",
          "account_id, room_id, sender_key, session_id, signing_key, first_known_index, shared_history, backed_up, authenticated, sender_user, pickle");

  private static final String UPSERT_DEVICES =
      upsert(
          "devices",
          "account_id, user_id, device_id",
          "account_id, user_id, device_id, keys_json, trust, deleted");

  private static final String UPSERT_CROSS_SIGNING_IDENTITIES =
      upsert(
          "cross_signing_identities",
          "account_id, user_id",
          "account_id, user_id, keys_json, trust");

  private static final String UPSERT_TRACKED_USERS =
      upsert("tracked_users", "account_id, user_id", "account_id, user_id, outdated");

  private static final String UPSERT_WITHHELD_SESSIONS =
      upsert(
          "withheld_sessions",
          "account_id, room_id, sender_key, session_id",
          "account_id, room_id, sender_key, session_id, code, reason, received_at");

  private static final String UPSERT_PENDING_ROOM_KEY_BUNDLES =
      upsert(
          "pending_room_key_bundles",
          "account_id, room_id, inviter",
          "account_id, room_id, inviter, bundle_json, received_at");

  private static final String UPSERT_KEY_VALUES =
      upsert("key_values", "account_id, key", "account_id, key, value");

  private final SqlStatements sql;
  private final long account;

  /** Writes rows of the account with row id {@code account}. */
  public SqlChangeWriter(SqlStatements sql, long account) {
    this.sql = sql;
    this.account = account;
  }

  /**
   * Builds {@code INSERT INTO table (columns) VALUES (?...) ON CONFLICT (keys) DO UPDATE SET} every
   * non-key column.
   */
  static String upsert(String table, String keys, String columns) {
    java.util.List<String> keyList = java.util.Arrays.asList(keys.split(", "));
    java.util.List<String> cols = java.util.Arrays.asList(columns.split(", "));
    StringBuilder sb = new StringBuilder("INSERT INTO ").append(table).append(" (").append(columns);
    sb.append(") VALUES (")
        .append(String.join(", ", java.util.Collections.nCopies(cols.size(), "?")));
    sb.append(") ON CONFLICT (").append(keys).append(") DO UPDATE SET ");
    StringBuilder set = new StringBuilder();
    for (String c : cols) {
      if (!keyList.contains(c)) {
        set.append(set.length() == 0 ? "" : ", ").append(c).append(" = excluded.").append(c);
      }
    }
    return sb.append(set).toString();
  }

  /** Applies one change. */
  public void apply(Change change) throws SQLException {
    if (change instanceof Change.PutAccount c) {
      sql.update(
          "UPDATE accounts SET pickle = ?, shared_with_server = ? WHERE id = ?",
          c.account().pickle().ciphertext(),
          c.account().sharedWithServer(),
          account);
    } else if (change instanceof Change.PutOlmSession c) {
      OlmSessionRecord r = c.session();
      sql.update(
          UPSERT_OLM_SESSIONS,
          account,
          r.senderKey(),
          r.sessionId(),
          r.pickle().ciphertext(),
          r.createdAtMillis(),
          r.lastDecryptedAtMillis());
    } else if (change instanceof Change.DeleteOlmSession c) {
      sql.update(
          "DELETE FROM olm_sessions WHERE account_id = ? AND sender_key = ? AND session_id = ?",
          account,
          c.senderKey(),
          c.sessionId());
    } else if (change instanceof Change.PutInboundGroupSession c) {
      InboundGroupSessionRecord r = c.session();
      sql.update(
          UPSERT_INBOUND_GROUP_SESSIONS,
          account,
          r.roomId(),
          r.senderKey(),
          r.sessionId(),
          r.signingKey(),
          r.firstKnownIndex(),
          r.sharedHistory(),
          r.backedUp(),
          r.authenticated(),
          r.senderUserId(),
          r.pickle().ciphertext());
    } else if (change instanceof Change.DeleteInboundGroupSession c) {
      sql.update(
          "DELETE FROM inbound_group_sessions WHERE account_id = ? AND room_id = ? AND sender_key"
              + " = ? AND session_id = ?",
          account,
          c.roomId(),
          c.senderKey(),
          c.sessionId());
    } else if (change instanceof Change.MarkInboundGroupSessionBackedUp c) {
      sql.update(
          "UPDATE inbound_group_sessions SET backed_up = 1 WHERE account_id = ? AND room_id = ?"
              + " AND sender_key = ? AND session_id = ?",
          account,
          c.roomId(),
          c.senderKey(),
          c.sessionId());
    } else if (change instanceof Change.ResetInboundGroupSessionBackup) {
      sql.update(
          "UPDATE inbound_group_sessions SET backed_up = 0 WHERE account_id = ? AND backed_up = 1",
          account);
    } else {
      applyOutbound(change);
    }
  }

  private void applyOutbound(Change change) throws SQLException {
    if (change instanceof Change.PutOutboundGroupSession c) {
      OutboundGroupSessionRecord r = c.session();
      sql.update(
          "DELETE FROM outbound_shared_with WHERE account_id = ? AND room_id = ? AND session_id"
              + " <> ?",
          account,
          r.roomId(),
          r.sessionId());
      sql.update(
          "INSERT INTO outbound_group_sessions (account_id, room_id, session_id, pickle,"
              + " message_index, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id,"
              + " room_id) DO UPDATE SET session_id = excluded.session_id, pickle ="
              + " excluded.pickle, message_index = excluded.message_index, created_at ="
              + " excluded.created_at",
          account,
          r.roomId(),
          r.sessionId(),
          r.pickle().ciphertext(),
          r.messageIndex(),
          r.createdAtMillis());
    } else if (change instanceof Change.AdvanceOutboundGroupSession c) {
      OutboundGroupSessionRecord r = c.session();
      int updated =
          sql.update(
              "UPDATE outbound_group_sessions SET pickle = ?, message_index = ?, created_at = ?"
                  + " WHERE account_id = ? AND room_id = ? AND session_id = ? AND message_index ="
                  + " ?",
              r.pickle().ciphertext(),
              r.messageIndex(),
              r.createdAtMillis(),
              account,
              r.roomId(),
              r.sessionId(),
              c.expectedIndex());
      if (updated != 1) {
        throw c.conflict();
      }
    } else if (change instanceof Change.DeleteOutboundGroupSession c) {
      sql.update(
          "DELETE FROM outbound_group_sessions WHERE account_id = ? AND room_id = ?",
          account,
          c.roomId());
    } else if (change instanceof Change.PutOutboundSharedWith c) {
      // Only for the room's current session; otherwise a no-op (late acknowledgement).
      sql.update(
          "INSERT INTO outbound_shared_with (account_id, room_id, session_id, user_id, device_id,"
              + " message_index) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM"
              + " outbound_group_sessions WHERE account_id = ? AND room_id = ? AND session_id = ?)"
              + " ON CONFLICT (account_id, room_id, user_id, device_id) DO UPDATE SET session_id ="
              + " excluded.session_id, message_index = excluded.message_index",
          account,
          c.roomId(),
          c.sessionId(),
          c.device().userId(),
          c.device().deviceId(),
          c.messageIndex(),
          account,
          c.roomId(),
          c.sessionId());
    } else {
      applyDevices(change);
    }
  }

  private void applyDevices(Change change) throws SQLException {
    if (change instanceof Change.PutDevice c) {
      DeviceRecord r = c.device();
      sql.update(
          UPSERT_DEVICES,
          account,
          r.userId(),
          r.deviceId(),
          r.keysJson(),
          SqlRows.trustCode(r.trust()),
          r.deleted());
    } else if (change instanceof Change.DeleteDevice c) {
      sql.update(
          "DELETE FROM devices WHERE account_id = ? AND user_id = ? AND device_id = ?",
          account,
          c.userId(),
          c.deviceId());
    } else if (change instanceof Change.PutCrossSigningIdentity c) {
      CrossSigningIdentityRecord r = c.identity();
      sql.update(
          UPSERT_CROSS_SIGNING_IDENTITIES,
          account,
          r.userId(),
          r.keysJson(),
          SqlRows.trustCode(r.trust()));
    } else if (change instanceof Change.DeleteCrossSigningIdentity c) {
      sql.update(
          "DELETE FROM cross_signing_identities WHERE account_id = ? AND user_id = ?",
          account,
          c.userId());
    } else if (change instanceof Change.PutTrackedUser c) {
      sql.update(UPSERT_TRACKED_USERS, account, c.user().userId(), c.user().outdated());
    } else if (change instanceof Change.DeleteTrackedUser c) {
      sql.update(
          "DELETE FROM tracked_users WHERE account_id = ? AND user_id = ?", account, c.userId());
    } else {
      applyMisc(change);
    }
  }

  private void applyMisc(Change change) throws SQLException {
    if (change instanceof Change.PutOutgoingKeyRequest c) {
      OutgoingKeyRequest r = c.request();
      sql.update(
          "INSERT INTO outgoing_key_requests (account_id, request_id, room_id, session_id, state)"
              + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, request_id) DO UPDATE SET"
              + " room_id = excluded.room_id, session_id = excluded.session_id, state ="
              + " excluded.state",
          account,
          r.requestId(),
          r.roomId(),
          r.sessionId(),
          r.state().code());
    } else if (change instanceof Change.DeleteOutgoingKeyRequest c) {
      sql.update(
          "DELETE FROM outgoing_key_requests WHERE account_id = ? AND request_id = ?",
          account,
          c.requestId());
    } else if (change instanceof Change.PutWithheld c) {
      WithheldRecord r = c.withheld();
      sql.update(
          UPSERT_WITHHELD_SESSIONS,
          account,
          r.roomId(),
          r.senderKey(),
          r.sessionId(),
          r.code(),
          r.reason(),
          r.receivedAtMillis());
    } else if (change instanceof Change.DeleteWithheld c) {
      sql.update(
          "DELETE FROM withheld_sessions WHERE account_id = ? AND room_id = ? AND sender_key = ? AND"
              + " session_id = ?",
          account,
          c.roomId(),
          c.senderKey(),
          c.sessionId());
    } else if (change instanceof Change.PutSyncToken c) {
      sql.update("UPDATE accounts SET sync_token = ? WHERE id = ?", c.token(), account);
    } else if (change instanceof Change.PutPendingRoomKeyBundle c) {
      PendingRoomKeyBundle r = c.bundle();
      sql.update(
          UPSERT_PENDING_ROOM_KEY_BUNDLES,
          account,
          r.roomId(),
          r.inviter(),
          r.bundleInfoJson(),
          r.receivedAtMillis());
    } else if (change instanceof Change.DeletePendingRoomKeyBundle c) {
      sql.update(
          "DELETE FROM pending_room_key_bundles WHERE account_id = ? AND room_id = ? AND inviter = ?",
          account,
          c.roomId(),
          c.inviter());
    } else if (change instanceof Change.PutValue c) {
      sql.update(UPSERT_KEY_VALUES, account, c.key(), c.value());
    } else if (change instanceof Change.DeleteValue c) {
      sql.update("DELETE FROM key_values WHERE account_id = ? AND key = ?", account, c.key());
    } else if (change instanceof Change.PutReplayRecord c) {
      ReplayRecord r = c.record();
      sql.update(
          "INSERT INTO replay_records (account_id, room_id, sender_key, session_id, message_index,"
              + " event_id, origin_ts) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id,"
              + " room_id, sender_key, session_id, message_index) DO NOTHING",
          account,
          r.roomId(),
          r.senderKey(),
          r.sessionId(),
          r.messageIndex(),
          r.eventId(),
          r.timestampMillis());
    } else if (change instanceof Change.PruneReplayRecords c) {
      // The keep-th newest row by insertion order bounds what stays; none is deleted below keep.
      sql.update(
          "DELETE FROM replay_records WHERE account_id = ? AND seq < (SELECT seq FROM"
              + " replay_records WHERE account_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
          account,
          account,
          c.keep() - 1);
    } else {
      throw new IllegalStateException("unhandled change type " + change.getClass().getName());
    }
  }
}
