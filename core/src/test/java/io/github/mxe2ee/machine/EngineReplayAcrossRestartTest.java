package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.store.postgres.PostgresCryptoStore;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Megolm replay protection survives a restart (spec: End-to-End Encryption, "Megolm", "Clients must
 * guard against replay attacks"): a hostile homeserver that waits for the bot to restart and then
 * serves an already decrypted ciphertext under another event id is refused, on SQLite and on the
 * in-memory store (reopened on the same data); the same event decrypts again.
 */
class EngineReplayAcrossRestartTest extends EngineFixture {
  private static final String CAROL = "@carol:localhost";

  @TempDir Path dir;

  private JavaMachine carol(boolean sqlite) {
    return carol(sqlite ? "sqlite" : "memory");
  }

  private JavaMachine carol(String backend) {
    router.registerDevice(CAROL, "CAROLDEVICE");
    router.joinRoom(ROOM, CAROL);
    var config = JavaMachine.config(CAROL, "CAROLDEVICE").withClock(clock);
    JavaMachine carol =
        switch (backend) {
          case "sqlite" -> JavaMachine.sqlite(config, dir.resolve("carol.db"));
          case "postgres" -> JavaMachine.on(config, id -> PostgresCryptoStore.open(pgUrl(), id));
          default -> JavaMachine.inMemory(config);
        };
    machines.add(carol);
    carol.pump(router);
    carol.sync(router);
    carol.updateTrackedUsers(List.of(ALICE, BOB, CAROL));
    carol.pump(router);
    alice.sync(router);
    alice.updateTrackedUsers(List.of(CAROL));
    alice.pump(router);
    return carol;
  }

  private static ObjectNode underAnotherId(ObjectNode event, String id) {
    ObjectNode copy = event.deepCopy();
    copy.put("event_id", id);
    return copy;
  }

  private void replayAfterRestartIsRefused(String backend) {
    JavaMachine carol = carol(backend);
    share(alice);
    carol.sync(router);
    ObjectNode first = send(alice, "hello");
    assertInstanceOf(DecryptionResult.Decrypted.class, carol.decrypt(ROOM, first));

    carol.reopen();

    DecryptionResult replayed = carol.decrypt(ROOM, underAnotherId(first, "$replayed"));
    assertEquals(
        DecryptionFailure.REPLAY,
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, replayed).reason());
    DecryptionResult again = carol.decrypt(ROOM, first);
    assertEquals(0, assertInstanceOf(DecryptionResult.Decrypted.class, again).messageIndex());
  }

  @Test
  void replayAfterRestart_isRefused_sqlite() {
    replayAfterRestartIsRefused("sqlite");
  }

  @Test
  void replayAfterRestart_isRefused_memory() {
    replayAfterRestartIsRefused("memory");
  }

  /**
   * The same on PostgreSQL (the server scripts/setup.sh starts; skipped without one, not in CI).
   */
  @Test
  void replayAfterRestart_isRefused_postgres() {
    replayAfterRestartIsRefused("postgres");
  }

  private static final String PG_URL =
      java.util.Optional.ofNullable(System.getenv("MXE2EE_PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:54329/mxe2ee_test?user=mxe2ee");

  private String pgSchema;

  private String pgUrl() {
    if (pgSchema == null) {
      pgSchema = "t_" + java.util.UUID.randomUUID().toString().replace("-", "");
      try (var c = java.sql.DriverManager.getConnection(PG_URL + "&connectTimeout=5");
          var st = c.createStatement()) {
        st.execute("CREATE SCHEMA " + pgSchema);
      } catch (java.sql.SQLException e) {
        if (System.getenv("CI") != null) {
          throw new AssertionError("no PostgreSQL at " + PG_URL.split("\\?")[0], e);
        }
        org.junit.jupiter.api.Assumptions.abort(
            "no PostgreSQL: run scripts/setup.d/40-postgres.sh");
      }
    }
    return PG_URL + "&currentSchema=" + pgSchema;
  }

  @org.junit.jupiter.api.AfterEach
  void dropPgSchema() throws java.sql.SQLException {
    if (pgSchema != null) {
      machines.forEach(JavaMachine::close);
      machines.clear();
      try (var c = java.sql.DriverManager.getConnection(PG_URL);
          var st = c.createStatement()) {
        st.execute("DROP SCHEMA IF EXISTS " + pgSchema + " CASCADE");
      }
    }
  }

  /** A batch decrypt records its indices in one save; they survive the restart too. */
  @Test
  void replayOfABatchAfterRestart_isRefused() {
    JavaMachine carol = carol(true);
    share(alice);
    carol.sync(router);
    List<ObjectNode> events = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      events.add(send(alice, "m" + i));
    }
    for (DecryptionResult r : carol.machine().decryptRoomEvents(ROOM, events)) {
      assertInstanceOf(DecryptionResult.Decrypted.class, r);
    }
    carol.reopen();
    List<ObjectNode> replays = new ArrayList<>();
    for (ObjectNode e : events) {
      replays.add(underAnotherId(e, e.path("event_id").asText() + "x"));
    }
    for (DecryptionResult r : carol.machine().decryptRoomEvents(ROOM, replays)) {
      assertEquals(
          DecryptionFailure.REPLAY,
          assertInstanceOf(DecryptionResult.UnableToDecrypt.class, r).reason());
    }
    for (DecryptionResult r : carol.machine().decryptRoomEvents(ROOM, events)) {
      assertInstanceOf(DecryptionResult.Decrypted.class, r);
    }
  }

  /**
   * Single decrypts are saved in batches of {@link ReplayGuard#FLUSH_AT} (no fsync per event): the
   * records are in the store after that many, without a close.
   */
  @Test
  void singleDecrypts_areSavedEveryFlushAt() {
    JavaMachine carol = carol(true);
    share(alice);
    carol.sync(router);
    for (int i = 0; i < ReplayGuard.FLUSH_AT; i++) {
      assertEquals(0, carol.store().replayRecordCount(), "still batched at " + i);
      assertInstanceOf(DecryptionResult.Decrypted.class, carol.decrypt(ROOM, send(alice, "m" + i)));
    }
    assertEquals(ReplayGuard.FLUSH_AT, carol.store().replayRecordCount());
  }
}
