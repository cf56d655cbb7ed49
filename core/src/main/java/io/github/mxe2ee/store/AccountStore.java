package io.github.mxe2ee.store;

import java.util.Optional;

/** Reads the Olm account of the store's {@link AccountId}. */
public interface AccountStore {
  /** Returns the account, or empty before the first save of one. */
  Optional<AccountRecord> account();
}
