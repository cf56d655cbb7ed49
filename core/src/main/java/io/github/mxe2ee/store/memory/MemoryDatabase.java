package io.github.mxe2ee.store.memory;

import io.github.mxe2ee.store.AccountId;
import java.util.HashMap;
import java.util.Map;

/**
 * A process-local "database" that several {@link MemoryCryptoStore}s (one per account) can share,
 * mirroring how SQLite files hold several accounts. Closing a store keeps its data here, so a test
 * can reopen it. Thread-safe: all access is serialized on this object.
 */
public final class MemoryDatabase {
  private final Map<AccountId, MemoryState> accounts = new HashMap<>();

  /** Creates an empty database. */
  public MemoryDatabase() {}

  /** Returns the committed state of an account, creating an empty one. Caller holds the lock. */
  MemoryState state(AccountId account) {
    return accounts.computeIfAbsent(account, a -> new MemoryState());
  }

  /** Replaces the committed state of an account. Caller holds the lock. */
  void commit(AccountId account, MemoryState state) {
    accounts.put(account, state);
  }
}
