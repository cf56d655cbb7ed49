package io.github.mxe2ee.store;

/**
 * A Megolm inbound group session, found by room id and session id. See {@code
 * shared/spec/matrix-spec/content/olm-megolm/megolm.md}.
 *
 * @param roomId room the session belongs to, non-empty
 * @param sessionId Megolm session id (the session's Ed25519 public key, unpadded base64), non-empty
 * @param senderKey Curve25519 key of the device that sent the room key, non-empty
 * @param signingKey Ed25519 key that device claimed, non-empty
 * @param firstKnownIndex first message index this copy can decrypt, {@code >= 0}
 * @param sharedHistory the MSC3061 {@code shared_history} flag: may be shared with future members
 *     in an MSC4268 room key bundle
 * @param backedUp whether the current server-side key backup version holds this session
 * @param pickle encrypted session pickle, non-null
 */
public record InboundGroupSessionRecord(
    String roomId,
    String sessionId,
    String senderKey,
    String signingKey,
    long firstKnownIndex,
    boolean sharedHistory,
    boolean backedUp,
    EncryptedPickle pickle) {
  /** Validates non-null fields and the index. */
  public InboundGroupSessionRecord {
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonEmpty(senderKey, "senderKey");
    Require.nonEmpty(signingKey, "signingKey");
    Require.nonNegative(firstKnownIndex, "firstKnownIndex");
    Require.nonNull(pickle, "pickle");
  }

  /** Returns a copy with {@code backedUp} set. */
  public InboundGroupSessionRecord withBackedUp(boolean value) {
    return new InboundGroupSessionRecord(
        roomId, sessionId, senderKey, signingKey, firstKnownIndex, sharedHistory, value, pickle);
  }
}
