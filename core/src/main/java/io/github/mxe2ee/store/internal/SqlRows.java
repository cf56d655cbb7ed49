package io.github.mxe2ee.store.internal;

import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.EncryptedPickle;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.KeyRequestState;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.WithheldRecord;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Column lists, storage codes and row mappers shared by the SQL backends. Not API. */
public final class SqlRows {
  public static final String OLM = "sender_key, session_id, pickle, created_at, last_decrypted_at";
  public static final String INBOUND =
      "room_id, session_id, sender_key, signing_key, first_known_index, shared_history, backed_up,"
          + " authenticated, sender_user, pickle";
  public static final String OUTBOUND = "room_id, session_id, pickle, message_index, created_at";
  public static final String DEVICE = "user_id, device_id, keys_json, trust, deleted";
  public static final String KEY_REQUEST = "request_id, room_id, session_id, state";
  public static final String WITHHELD =
      "room_id, session_id, sender_key, code, reason, received_at";
  public static final String BUNDLE = "room_id, inviter, bundle_json, received_at";

  private SqlRows() {}

  /** Storage code of a {@link LocalTrust}; codes are part of the schema and never change. */
  public static int trustCode(LocalTrust trust) {
    return switch (trust) {
      case UNSET -> 0;
      case VERIFIED -> 1;
      case BLACKLISTED -> 2;
    };
  }

  /**
   * Reads a trust code.
   *
   * @throws StoreException CORRUPT for an unknown code
   */
  public static LocalTrust trust(int code) {
    return switch (code) {
      case 0 -> LocalTrust.UNSET;
      case 1 -> LocalTrust.VERIFIED;
      case 2 -> LocalTrust.BLACKLISTED;
      default ->
          throw new StoreException(
              StoreException.Reason.CORRUPT,
              "unknown local trust code " + code + ", expected 0..2");
    };
  }

  public static OlmSessionRecord olm(ResultSet rs) throws SQLException {
    return new OlmSessionRecord(
        rs.getString(1),
        rs.getString(2),
        new EncryptedPickle(rs.getString(3)),
        rs.getLong(4),
        rs.getLong(5));
  }

  public static InboundGroupSessionRecord inbound(ResultSet rs) throws SQLException {
    return new InboundGroupSessionRecord(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getLong(5),
        rs.getInt(6) != 0,
        rs.getInt(7) != 0,
        rs.getInt(8) != 0,
        rs.getString(9),
        new EncryptedPickle(rs.getString(10)));
  }

  public static OutboundGroupSessionRecord outbound(ResultSet rs) throws SQLException {
    return new OutboundGroupSessionRecord(
        rs.getString(1),
        rs.getString(2),
        new EncryptedPickle(rs.getString(3)),
        rs.getLong(4),
        rs.getLong(5));
  }

  public static DeviceRecord device(ResultSet rs) throws SQLException {
    return new DeviceRecord(
        rs.getString(1), rs.getString(2), rs.getString(3), trust(rs.getInt(4)), rs.getInt(5) != 0);
  }

  public static CrossSigningIdentityRecord identity(ResultSet rs) throws SQLException {
    return new CrossSigningIdentityRecord(rs.getString(1), rs.getString(2), trust(rs.getInt(3)));
  }

  public static OutgoingKeyRequest keyRequest(ResultSet rs) throws SQLException {
    return new OutgoingKeyRequest(
        rs.getString(1), rs.getString(2), rs.getString(3), KeyRequestState.fromCode(rs.getInt(4)));
  }

  public static WithheldRecord withheld(ResultSet rs) throws SQLException {
    return new WithheldRecord(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getLong(6));
  }

  public static PendingRoomKeyBundle bundle(ResultSet rs) throws SQLException {
    return new PendingRoomKeyBundle(
        rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4));
  }
}
