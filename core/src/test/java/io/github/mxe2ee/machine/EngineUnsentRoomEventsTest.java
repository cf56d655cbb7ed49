package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One transaction id, one ciphertext (issue 12 item 4): a send retried with the same transaction
 * id, also by a restarted process, sends the Megolm ciphertext made for its first try, never a
 * second one with a new index that the homeserver would drop as a repeated transaction.
 */
class EngineUnsentRoomEventsTest extends EngineFixture {
  private static final String CAROL = "@carol:localhost";

  @TempDir Path dir;

  private JavaMachine carolOnSqlite() {
    router.registerDevice(CAROL, "CAROLDEVICE");
    router.joinRoom(ROOM, CAROL);
    JavaMachine carol =
        JavaMachine.sqlite(
            JavaMachine.config(CAROL, "CAROLDEVICE").withClock(clock), dir.resolve("carol.db"));
    machines.add(carol);
    carol.pump(router);
    carol.sync(router);
    carol.updateTrackedUsers(List.of(ALICE, BOB, CAROL));
    carol.pump(router);
    share(carol);
    alice.sync(router);
    return carol;
  }

  private long index(ObjectNode content) {
    ObjectNode event = MAPPER.createObjectNode();
    event.put("type", "m.room.encrypted");
    event.put("sender", CAROL);
    event.put("event_id", "$" + content.path("ciphertext").asText().hashCode());
    event.put("origin_server_ts", START);
    event.put("room_id", ROOM);
    event.set("content", content);
    return assertInstanceOf(DecryptionResult.Decrypted.class, alice.decrypt(ROOM, event))
        .messageIndex();
  }

  @Test
  void retriedTxnId_reusesCiphertext_evenAfterRestart() {
    JavaMachine carol = carolOnSqlite();
    OlmMachine m = carol.machine();
    ObjectNode first = m.encryptRoomEvent(ROOM, "m.room.message", text("a"), "txn-1");
    ObjectNode again = m.encryptRoomEvent(ROOM, "m.room.message", text("a"), "txn-1");
    assertEquals(first, again, "the same ciphertext for the same transaction id");
    assertTrue(m.hasUnsentRoomEvent(ROOM, "txn-1"));

    carol.reopen();
    m = carol.machine();
    ObjectNode afterCrash = m.encryptRoomEvent(ROOM, "m.room.message", text("a"), "txn-1");
    assertEquals(first, afterCrash, "a restarted process resends the stored ciphertext");
    assertEquals(0, index(first));

    ObjectNode other = m.encryptRoomEvent(ROOM, "m.room.message", text("b"), "txn-2");
    assertEquals(1, index(other), "another transaction takes the next index");
    assertNotEquals(first, other);

    m.forgetUnsentRoomEvent(ROOM, "txn-1");
    assertFalse(m.hasUnsentRoomEvent(ROOM, "txn-1"));
    assertTrue(m.hasUnsentRoomEvent(ROOM, "txn-2"), "only the answered one is forgotten");
  }

  @Test
  void unsentCiphertexts_areBoundedInCountAndAge() {
    JavaMachine carol = carolOnSqlite();
    OlmMachine m = carol.machine();
    int n = UnsentRoomEvents.MAX_ENTRIES + 5;
    for (int i = 0; i < n; i++) {
      m.encryptRoomEvent(ROOM, "m.room.message", text("x"), "txn-" + i);
    }
    for (int i = 0; i < 5; i++) {
      assertFalse(m.hasUnsentRoomEvent(ROOM, "txn-" + i), "oldest dropped: txn-" + i);
    }
    assertTrue(m.hasUnsentRoomEvent(ROOM, "txn-5"));
    assertTrue(m.hasUnsentRoomEvent(ROOM, "txn-" + (n - 1)));

    clock.advanceMillis(UnsentRoomEvents.MAX_AGE_MS);
    assertFalse(m.hasUnsentRoomEvent(ROOM, "txn-" + (n - 1)), "a day old: expired");
    m.encryptRoomEvent(ROOM, "m.room.message", text("y"), "late");
    assertTrue(m.hasUnsentRoomEvent(ROOM, "late"));
  }
}
