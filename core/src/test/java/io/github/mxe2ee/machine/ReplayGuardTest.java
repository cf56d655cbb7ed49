package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounds of the durable Megolm replay guard, on a real SQLite store, with small bounds (the
 * production ones are {@link ReplayGuard#MAX_ENTRIES}, {@link ReplayGuard#FLUSH_AT}, {@link
 * ReplayGuard#PRUNE_EVERY}).
 */
class ReplayGuardTest {
  private static final AccountId ACCOUNT = AccountId.of("@bot:example.org", "BOTDEVICE");
  private static final String ROOM = "!r:example.org";
  private static final String KEY = "senderCurveKey";
  private static final String SESSION = "sessionId";

  @TempDir Path dir;

  private static void save(ReplayGuard guard, CryptoStore store) {
    Changes changes = new Changes();
    int n = guard.drainInto(changes);
    store.save(changes);
    guard.saved(n);
  }

  @Test
  void atTheBound_theOldestRecordedAreDropped_theKeptStillRefuseReplays() {
    try (CryptoStore store = SqliteCryptoStore.open(dir.resolve("g.db"), ACCOUNT)) {
      ReplayGuard guard = new ReplayGuard(20, 5, 10);
      for (int i = 0; i < 50; i++) {
        assertTrue(guard.check(store, ROOM, KEY, SESSION, i, "$e" + i, i));
        if (guard.flushDue()) {
          save(guard, store);
        }
      }
      assertFalse(guard.hasPending());
      assertEquals(20, store.replayRecordCount(), "pruned to the bound");

      // A restart: a new guard, the same store.
      ReplayGuard after = new ReplayGuard(20, 5, 10);
      for (int i = 30; i < 50; i++) {
        assertFalse(after.check(store, ROOM, KEY, SESSION, i, "$other", i), "replay of " + i);
        assertFalse(after.check(store, ROOM, KEY, SESSION, i, "$e" + i, i + 1), "other timestamp");
        assertTrue(after.check(store, ROOM, KEY, SESSION, i, "$e" + i, i), "same event " + i);
      }
      // Beyond the bound an index is forgotten: the first event to come is taken.
      assertTrue(after.check(store, ROOM, KEY, SESSION, 0, "$first-after-restart", 0));
      // The session is named by its full identity.
      assertTrue(after.check(store, "!other:example.org", KEY, SESSION, 40, "$x", 40));
      assertTrue(after.check(store, ROOM, "otherSenderKey", SESSION, 40, "$x", 40));
    }
  }

  @Test
  void aFailedSave_keepsTheRecordsPending() {
    Path file = dir.resolve("f.db");
    ReplayGuard guard = new ReplayGuard(20, 5, 10);
    CryptoStore store = SqliteCryptoStore.open(file, ACCOUNT);
    assertTrue(guard.check(store, ROOM, KEY, SESSION, 7, "$e7", 7));
    store.close();
    // A real failure: the store is closed under the guard.
    Changes changes = new Changes();
    guard.drainInto(changes);
    CryptoStore closed = store;
    assertThrows(StoreException.class, () -> closed.save(changes));
    assertTrue(guard.hasPending());
    try (CryptoStore reopened = SqliteCryptoStore.open(file, ACCOUNT)) {
      save(guard, reopened);
      assertEquals(1, reopened.replayRecordCount());
      assertFalse(new ReplayGuard().check(reopened, ROOM, KEY, SESSION, 7, "$replay", 7));
    }
  }

  /** A hostile server's huge event id is recorded as a digest: bounded rows, same verdicts. */
  @Test
  void hugeEventIds_areRecordedAsDigests() {
    try (CryptoStore store = SqliteCryptoStore.open(dir.resolve("h.db"), ACCOUNT)) {
      String huge = "$" + "x".repeat(100_000);
      ReplayGuard guard = new ReplayGuard(20, 5, 10);
      assertTrue(guard.check(store, ROOM, KEY, SESSION, 1, huge, 1));
      save(guard, store);
      String stored = store.replayRecord(ROOM, KEY, SESSION, 1).orElseThrow().eventId();
      assertTrue(stored.startsWith("sha256:") && stored.length() < 60, stored);
      ReplayGuard after = new ReplayGuard(20, 5, 10);
      assertTrue(after.check(store, ROOM, KEY, SESSION, 1, huge, 1));
      assertFalse(after.check(store, ROOM, KEY, SESSION, 1, huge + "y", 1));
      assertFalse(after.check(store, ROOM, KEY, SESSION, 1, stored, 1), "the digest is not the id");
    }
  }
}
