package io.github.mxe2ee.store.memory;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.CryptoStoreContractTest;

/** The store contract on {@link MemoryCryptoStore}. */
class MemoryCryptoStoreTest extends CryptoStoreContractTest {
  private final MemoryDatabase db = new MemoryDatabase();

  @Override
  protected CryptoStore open(AccountId account) {
    return MemoryCryptoStore.open(db, account);
  }
}
