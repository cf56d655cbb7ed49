package io.github.mxe2ee.store;

/**
 * The current outbound Megolm session of a room (at most one per room). See {@code
 * shared/spec/matrix-spec/content/olm-megolm/megolm.md}.
 *
 * <p>Index rule: before a ciphertext with index {@code i} leaves the process, the machine saves
 * this record with {@code messageIndex = i + 1}; after a crash the session resumes at the stored
 * index, so no index is ever used twice.
 *
 * <p>The set of devices the session key was shared with is kept apart (see {@link
 * OutboundGroupSessionStore#outboundSharedWith(String)}) so that reserving an index does not
 * rewrite a large room's device list.
 *
 * @param roomId room id, non-empty
 * @param sessionId Megolm session id, non-empty
 * @param pickle encrypted session pickle, non-null
 * @param messageIndex next message index to hand out, {@code >= 0}
 * @param createdAtMillis creation time in ms since the epoch (for rotation by age)
 */
public record OutboundGroupSessionRecord(
    String roomId,
    String sessionId,
    EncryptedPickle pickle,
    long messageIndex,
    long createdAtMillis) {
  /** Validates non-null fields and the index. */
  public OutboundGroupSessionRecord {
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonNull(pickle, "pickle");
    Require.nonNegative(messageIndex, "messageIndex");
  }
}
