package io.github.mxe2ee.store;

/**
 * A room key request ({@code m.room_key_request}) this device sent or is about to send to its own
 * devices. See {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Key
 * sharing". At most one request exists per (room, session).
 *
 * @param requestId the request id (also the to-device transaction's {@code request_id}), non-empty
 * @param roomId room of the missing session, non-empty
 * @param sessionId the missing Megolm session id, non-empty
 * @param state where the request is, non-null
 */
public record OutgoingKeyRequest(
    String requestId, String roomId, String sessionId, KeyRequestState state) {
  /** Validates non-null fields. */
  public OutgoingKeyRequest {
    Require.nonEmpty(requestId, "requestId");
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonNull(state, "state");
  }
}
