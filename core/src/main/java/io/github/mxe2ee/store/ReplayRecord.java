package io.github.mxe2ee.store;

/**
 * Which event used one message index of one inbound Megolm session (spec: End-to-End Encryption,
 * "Megolm", replay protection): the session is named by its full identity (room id, sender's
 * Curve25519 key, session id), as inbound sessions are stored. Holds ids only, no key material.
 *
 * @param roomId the room of the session
 * @param senderKey the Curve25519 key of the session's sender
 * @param sessionId the Megolm session id
 * @param messageIndex the ratchet index the event was encrypted at
 * @param eventId the event id that first decrypted at this index
 * @param timestampMillis that event's {@code origin_server_ts}
 */
public record ReplayRecord(
    String roomId,
    String senderKey,
    String sessionId,
    long messageIndex,
    String eventId,
    long timestampMillis) {
  /** Validates arguments: ids non-null (the event id may be empty), index non-negative. */
  public ReplayRecord {
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(senderKey, "senderKey");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonNegative(messageIndex, "messageIndex");
    Require.nonNull(eventId, "eventId");
  }
}
