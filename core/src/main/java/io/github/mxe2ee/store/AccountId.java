package io.github.mxe2ee.store;

import java.util.Objects;

/**
 * The account (user id and device id) a store instance is scoped to. Several accounts (several
 * bots, or the many devices of a bridge) may share one database; every row belongs to exactly one
 * of them and a store never reads or writes another account's rows.
 *
 * @param userId Matrix user id, for example {@code @bot:example.org}; non-empty
 * @param deviceId device id; non-empty
 */
public record AccountId(String userId, String deviceId) {
  /** Validates both parts. */
  public AccountId {
    Require.nonEmpty(userId, "userId");
    Require.nonEmpty(deviceId, "deviceId");
  }

  @Override
  public String toString() {
    return userId + "/" + deviceId;
  }

  /** Same as the canonical constructor; reads better at call sites. */
  public static AccountId of(String userId, String deviceId) {
    return new AccountId(Objects.requireNonNull(userId), Objects.requireNonNull(deviceId));
  }
}
