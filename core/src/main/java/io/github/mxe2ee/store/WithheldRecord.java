package io.github.mxe2ee.store;

/**
 * A received {@code m.room_key.withheld} notice: the sender will not give us this session. Used to
 * classify decryption failures. See {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}.
 *
 * @param roomId room id, non-empty
 * @param sessionId Megolm session id, non-empty
 * @param senderKey Curve25519 key of the withholding device, non-empty
 * @param code the withheld code, e.g. {@code m.unverified}, non-empty
 * @param reason human-readable reason, may be null
 * @param receivedAtMillis when the notice arrived (epoch millis; 0 if unknown, such as rows from
 *     before schema version 2): the oldest records are pruned first when a bound is reached
 */
public record WithheldRecord(
    String roomId,
    String sessionId,
    String senderKey,
    String code,
    String reason,
    long receivedAtMillis) {
  /** Validates non-null fields. */
  public WithheldRecord {
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonEmpty(senderKey, "senderKey");
    Require.nonEmpty(code, "code");
    Require.nonNegative(receivedAtMillis, "receivedAtMillis");
  }

  /** A record whose arrival time is unknown (0). */
  public WithheldRecord(
      String roomId, String sessionId, String senderKey, String code, String reason) {
    this(roomId, sessionId, senderKey, code, reason, 0);
  }
}
