package io.github.mxe2ee.store;

import java.util.List;
import java.util.Optional;

/** Reads the users whose device lists are tracked. */
public interface TrackedUserStore {
  /** Returns one tracked user, if tracked. */
  Optional<TrackedUser> trackedUser(String userId);

  /** Returns all tracked users, ordered by user id. */
  List<TrackedUser> trackedUsers();

  /** Returns the ids of tracked users whose device list is outdated, ordered by user id. */
  List<String> outdatedUsers();
}
