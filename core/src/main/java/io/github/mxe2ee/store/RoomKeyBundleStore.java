package io.github.mxe2ee.store;

import java.util.List;
import java.util.Optional;

/** Reads MSC4268 room key bundles received but not imported yet. */
public interface RoomKeyBundleStore {
  /** Returns the pending bundle {@code inviter} sent for a room, if any. */
  Optional<PendingRoomKeyBundle> pendingRoomKeyBundle(String roomId, String inviter);

  /** Returns all pending bundles, ordered by room id, then inviter. */
  List<PendingRoomKeyBundle> pendingRoomKeyBundles();
}
