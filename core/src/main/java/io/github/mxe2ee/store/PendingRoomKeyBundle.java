package io.github.mxe2ee.store;

/**
 * An MSC4268 room key bundle announced by the user who invited us, not yet downloaded and imported
 * (for example because we have not joined yet). At most one per room: a newer one replaces it.
 *
 * @param roomId room id, non-empty
 * @param inviter user id of the inviter; only bundles from the inviter are accepted, non-empty
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
