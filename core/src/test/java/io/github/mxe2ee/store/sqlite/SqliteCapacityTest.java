package io.github.mxe2ee.store.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening a store with {@value #SESSIONS} inbound group sessions must not load them: lookups are
 * indexed queries. Measured as Java heap growth across open and many lookups, which would be tens
 * of megabytes if the sessions (~400 bytes each) were loaded.
 */
class SqliteCapacityTest {
  static final int SESSIONS = 100_000;

  /** Heap growth allowed for open + lookups; loading every session would need ~60 MB or more. */
  static final long MAX_HEAP_GROWTH_BYTES = 8L * 1024 * 1024;

  @TempDir Path dir;

  private static long usedHeapAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
      best = Math.min(best, rt.totalMemory() - rt.freeMemory());
    }
    return best;
  }

  @Test
  void hundredThousandSessions_areNotLoadedIntoMemory() throws Exception {
    Path file = dir.resolve("big.db");
    AccountId account = AccountId.of("@big:example.org", "BIG");
    try (SqliteCryptoStore store = SqliteCryptoStore.open(file, account)) {
      SessionFiller.fill(store, SESSIONS);
    }
    long before = usedHeapAfterGc();
    try (SqliteCryptoStore store = SqliteCryptoStore.open(file, account)) {
      List<InboundGroupSessionRecord> sample = new ArrayList<>();
      for (int i = 0; i < SESSIONS; i += SESSIONS / 1000) {
        InboundGroupSessionRecord r =
            store.inboundGroupSessions(SessionFiller.roomId(i), SessionFiller.sessionId(i)).stream()
                .findFirst()
                .orElseThrow(AssertionError::new);
        if (sample.size() < 10) {
          sample.add(r);
        }
      }
      assertEquals(SESSIONS, store.inboundGroupSessionCount());
      long growth = usedHeapAfterGc() - before;
      assertTrue(
          growth < MAX_HEAP_GROWTH_BYTES,
          "heap grew by " + growth + " bytes after opening a store of " + SESSIONS + " sessions");
      assertEquals(10, sample.size());
    }
  }
}
