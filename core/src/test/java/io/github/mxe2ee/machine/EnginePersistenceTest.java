package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A machine on SQLite opened again on the same file (issue 5, ARCHITECTURE.md "Persistence"): the
 * account, Olm sessions, inbound sessions and the outbound session with its next index survive; no
 * Megolm index is used twice.
 */
class EnginePersistenceTest extends EngineFixture {
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
    alice.sync(router);
    alice.updateTrackedUsers(List.of(CAROL));
    alice.pump(router);
    return carol;
  }

  private long index(JavaMachine receiver, ObjectNode event) {
    return assertInstanceOf(DecryptionResult.Decrypted.class, receiver.decrypt(ROOM, event))
        .messageIndex();
  }

  @Test
  void outboundSessionAndItsIndexSurviveReopen() {
    JavaMachine carol = carolOnSqlite();
    ObjectNode keysBefore = carol.identityKeys();
    share(carol);
    alice.sync(router);
    ObjectNode first = send(carol, "0");
    send(carol, "1");
    ObjectNode third = send(carol, "2");
    assertEquals(2, index(alice, third));
    int aliceKeys = router.oneTimeKeyCounts(ALICE, "ALICEDEVICE").get("signed_curve25519");

    carol.reopen();
    assertEquals(keysBefore, carol.identityKeys(), "same account");
    List<ObjectNode> again = share(carol);
    assertTrue(again.isEmpty(), "already shared with everyone: " + again);
    ObjectNode fourth = send(carol, "3");
    assertEquals(sessionId(first), sessionId(fourth), "same outbound session");
    assertEquals(3, index(alice, fourth), "the next index, never one used before");

    carol.machine().invalidateGroupSession(ROOM);
    share(carol); // over the Olm session made before the reopen
    assertEquals(
        aliceKeys,
        router.oneTimeKeyCounts(ALICE, "ALICEDEVICE").get("signed_curve25519"),
        "no new one-time key claimed: the Olm session survived");
    List<ObjectNode> atAlice = alice.sync(router);
    assertEquals("decrypted", ofType(atAlice, "m.room_key").get(0).path("kind").asText());
    assertEquals(0, index(alice, send(carol, "new session")));
  }

  /**
   * Two machines serving one device on one store (what the PostgreSQL advisory lock prevents; here
   * it is as if that lock were lost): both load the outbound session at the same index, and the one
   * that saves second is refused instead of handing the index out again. It then reloads from the
   * store and continues after the other's index.
   */
  @Test
  void aSecondMachineOnTheSameStoreCannotReuseAnIndex() {
    JavaMachine carol = carolOnSqlite();
    share(carol);
    alice.sync(router);
    assertEquals(0, index(alice, send(carol, "0")));
    try (OlmMachine twin =
        OlmMachine.open(JavaMachine.config(CAROL, "CAROLDEVICE").withClock(clock), carol.store())) {
      ObjectNode fromTwin =
          router.sendRoomEvent(
              CAROL,
              "CAROLDEVICE",
              ROOM,
              "m.room.encrypted",
              twin.encryptRoomEvent(ROOM, "m.room.message", text("1 from the twin")));
      assertEquals(1, index(alice, fromTwin));
      StoreException refused = assertThrows(StoreException.class, () -> send(carol, "1 again"));
      assertEquals(StoreException.Reason.CONSTRAINT, refused.reason());
      assertEquals(2, index(alice, send(carol, "2")), "continues after the twin's index");
    }
  }

  @Test
  void inboundSessionsSurviveReopen() {
    JavaMachine carol = carolOnSqlite();
    share(alice);
    carol.sync(router);
    ObjectNode before = send(alice, "before");
    assertEquals("before", EngineRoomKeysTest.body(carol, before));

    carol.reopen();
    assertEquals("before", EngineRoomKeysTest.body(carol, before), "same event after reopen");
    assertEquals("after", EngineRoomKeysTest.body(carol, send(alice, "after")));
    // Alice rotates; the new key arrives over the Olm session Carol made before the reopen.
    alice.machine().invalidateGroupSession(ROOM);
    share(alice);
    carol.reopen();
    List<ObjectNode> got = carol.sync(router);
    assertEquals("decrypted", ofType(got, "m.room_key").get(0).path("kind").asText());
    assertEquals("rotated", EngineRoomKeysTest.body(carol, send(alice, "rotated")));
  }
}
