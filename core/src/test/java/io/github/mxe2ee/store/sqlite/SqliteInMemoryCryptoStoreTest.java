package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.CryptoStoreContractTest;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The store contract on a shared-cache in-memory SQLite database. A keeper store of a third account
 * stays open for the whole test so the database survives the contract's reopens.
 */
class SqliteInMemoryCryptoStoreTest extends CryptoStoreContractTest {
  private final String name = "t" + UUID.randomUUID().toString().replace("-", "");
  private CryptoStore keeper;

  @BeforeEach
  void openKeeper() {
    keeper = SqliteCryptoStore.openInMemory(name, AccountId.of("@keeper:example.org", "K"));
  }

  @AfterEach
  void closeKeeper() {
    keeper.close();
  }

  @Override
  protected CryptoStore open(AccountId account) {
    return SqliteCryptoStore.openInMemory(name, account);
  }
}
