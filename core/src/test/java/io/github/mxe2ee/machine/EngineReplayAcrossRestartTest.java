package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
    router.registerDevice(CAROL, "CAROLDEVICE");
    router.joinRoom(ROOM, CAROL);
    var config = JavaMachine.config(CAROL, "CAROLDEVICE").withClock(clock);
    JavaMachine carol =
        sqlite ? JavaMachine.sqlite(config, dir.resolve("carol.db")) : JavaMachine.inMemory(config);
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

  private void replayAfterRestartIsRefused(boolean sqlite) {
    JavaMachine carol = carol(sqlite);
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
    replayAfterRestartIsRefused(true);
  }

  @Test
  void replayAfterRestart_isRefused_memory() {
    replayAfterRestartIsRefused(false);
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
