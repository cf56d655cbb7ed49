package io.github.mxe2ee.adversarial;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The second process of {@link SecondProcessSameDeviceTest}: opens the SQLite store {@code args[0]}
 * for user {@code args[1]}, device {@code args[2]}, prints {@code OPENED} or {@code REFUSED
 * <reason> <message>} on one line, and if opened holds the store (saving once) until its stdin
 * closes.
 */
public final class StoreLockChild {
  private StoreLockChild() {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) throws IOException {
    CryptoStore store;
    try {
      store = SqliteCryptoStore.open(Path.of(args[0]), AccountId.of(args[1], args[2]));
    } catch (StoreException e) {
      System.out.println("REFUSED " + e.reason() + " " + e.getMessage().replace('\n', ' '));
      System.out.flush();
      return;
    }
    store.save(new Changes().putSyncToken("child"));
    System.out.println("OPENED");
    System.out.flush();
    while (System.in.read() >= 0) {
      // Hold the store until the parent closes our stdin.
    }
    store.close();
  }
}
