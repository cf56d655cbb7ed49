package io.github.mxe2ee.store;

/**
 * A Megolm inbound group session, found by (room id, sender key, session id): the same session id
 * under another room or from another sender's Curve25519 key is another record, with its own flags
 * (spec: {@code end_to_end_encryption.md}, "m.megolm.v1.aes-sha2"; MSC3700 dropped {@code
 * sender_key} from new events, so a lookup by room and session id alone may find several).
 *
 * @param roomId room the session belongs to, non-empty
 * @param sessionId Megolm session id (the session's Ed25519 public key, unpadded base64), non-empty
 * @param senderKey Curve25519 key of the device that sent the room key (for an import: the key the
 *     file or backup claims), non-empty
 * @param signingKey Ed25519 key that device claimed, non-empty
 * @param firstKnownIndex first message index this copy can decrypt, {@code >= 0}
 * @param sharedHistory the MSC3061 {@code shared_history} flag: may be shared with future members
 *     in an MSC4268 room key bundle
 * @param backedUp whether the current server-side key backup version holds this session
 * @param authenticated true only if the key came over Olm ({@code m.room_key}) from the device
 *     whose Curve25519 key is {@code senderKey}, for this room; false for a key file, a backup, a
 *     forwarded key, or a copy whose source is unknown
 * @param senderUserId the user whose device sent the key over Olm (events naming another sender are
 *     refused), or null when unknown (imports)
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
    boolean authenticated,
    String senderUserId,
    EncryptedPickle pickle) {
  /** Validates non-null fields and the index. */
  public InboundGroupSessionRecord {
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonEmpty(senderKey, "senderKey");
    Require.nonEmpty(signingKey, "signingKey");
    Require.nonNegative(firstKnownIndex, "firstKnownIndex");
    Require.nonNull(pickle, "pickle");
    if (senderUserId != null && senderUserId.isEmpty()) {
      throw new IllegalArgumentException("senderUserId must be null or non-empty");
    }
  }

  /**
   * An unauthenticated record with no known sender user (as an import makes): see the canonical
   * constructor for the other fields.
   */
  public InboundGroupSessionRecord(
      String roomId,
      String sessionId,
      String senderKey,
      String signingKey,
      long firstKnownIndex,
      boolean sharedHistory,
      boolean backedUp,
      EncryptedPickle pickle) {
    this(
        roomId,
        sessionId,
        senderKey,
        signingKey,
        firstKnownIndex,
        sharedHistory,
        backedUp,
        false,
        null,
        pickle);
  }

  /** Returns a copy with {@code backedUp} set. */
  public InboundGroupSessionRecord withBackedUp(boolean value) {
    return new InboundGroupSessionRecord(
        roomId,
        sessionId,
        senderKey,
        signingKey,
        firstKnownIndex,
        sharedHistory,
        value,
        authenticated,
        senderUserId,
        pickle);
  }

  /** True if this record is for exactly this (room id, sender key, session id). */
  public boolean is(String room, String sender, String session) {
    return roomId.equals(room) && senderKey.equals(sender) && sessionId.equals(session);
  }
}
