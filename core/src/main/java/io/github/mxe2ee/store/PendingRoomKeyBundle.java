package io.github.mxe2ee.store;

/**
 * An MSC4268 room key bundle announced by the user who invited us, not yet downloaded and imported
 * (for example because we have not joined yet). At most one per (room, inviter): a newer one from
 * the same user replaces it, and one from another user never does (schema version 4; before, a
 * stranger's announcement could replace the inviter's).
 *
 * @param roomId room id, non-empty
 * @param inviter user id of the sender (the inviter, if it is to be imported), non-empty
 * @param bundleInfoJson the {@code m.room_key_bundle} content (URL, encryption info), non-empty
 * @param receivedAtMillis when the bundle notice arrived, ms since the epoch
 */
public record PendingRoomKeyBundle(
    String roomId, String inviter, String bundleInfoJson, long receivedAtMillis) {
  /** Validates non-null fields. */
  public PendingRoomKeyBundle {
    Require.nonEmpty(roomId, "roomId");
    Require.nonEmpty(inviter, "inviter");
    Require.nonEmpty(bundleInfoJson, "bundleInfoJson");
  }
}
