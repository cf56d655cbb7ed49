package io.github.mxe2ee.store;

/**
 * A user whose device list the machine follows.
 *
 * @param userId Matrix user id, non-empty
 * @param outdated the device list changed (or was never fetched) and needs a {@code /keys/query}
 */
public record TrackedUser(String userId, boolean outdated) {
  /** Validates the user id. */
  public TrackedUser {
    Require.nonEmpty(userId, "userId");
  }
}
