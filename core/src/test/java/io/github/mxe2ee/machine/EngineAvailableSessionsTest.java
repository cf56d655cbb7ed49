package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.testing.JavaMachine;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link OlmMachine#takeAvailableSessions()}: the machine tells its caller which held events may
 * decrypt now (issue 12, item 3, "late keys").
 */
class EngineAvailableSessionsTest extends EngineFixture {

  private static String senderKey(ObjectNode event) {
    return event.path("content").path("sender_key").asText(null);
  }

  @Test
  void lateRoomKey_isReportedOnceAfterTheSyncThatBroughtIt() {
    bob.machine().takeAvailableSessions();
    share(alice);
    ObjectNode event = send(alice, "before the key");
    // Bob sees the event before the to-device message that carries its key.
    assertInstanceOf(
        DecryptionResult.UnableToDecrypt.class, bob.machine().decryptRoomEvent(ROOM, event));
    assertTrue(bob.machine().takeAvailableSessions().isEmpty(), "nothing arrived yet");

    bob.sync(router);
    AvailableSessions available = bob.machine().takeAvailableSessions();
    assertFalse(available.overflowed());
    assertTrue(available.covers(ROOM, senderKey(event), sessionId(event)));
    assertTrue(available.covers(ROOM, null, sessionId(event)), "events without sender_key too");
    assertFalse(available.covers("!other:localhost", null, sessionId(event)), "room is part of it");
    assertInstanceOf(DecryptionResult.Decrypted.class, bob.machine().decryptRoomEvent(ROOM, event));
    assertTrue(bob.machine().takeAvailableSessions().isEmpty(), "taken once");
  }

  @Test
  void importedRoomKey_isReported() {
    share(alice);
    ObjectNode event = send(alice, "for the laptop");
    bob.sync(router);
    List<ExportedRoomKey> keys = bob.machine().exportRoomKeys(r -> r.roomId().equals(ROOM));
    JavaMachine laptop = loggedIn(BOB, "BOBLAPTOP");
    laptop.machine().takeAvailableSessions();
    assertInstanceOf(
        DecryptionResult.UnableToDecrypt.class, laptop.machine().decryptRoomEvent(ROOM, event));

    laptop.machine().importRoomKeys(keys);
    assertTrue(
        laptop.machine().takeAvailableSessions().covers(ROOM, senderKey(event), sessionId(event)));
    // Importing the same keys again stores nothing better: nothing to retry.
    laptop.machine().importRoomKeys(keys);
    assertTrue(laptop.machine().takeAvailableSessions().isEmpty());
  }

  @Test
  void reopenedMachine_reportsNothingFromBefore() {
    share(alice);
    send(alice, "x");
    bob.sync(router);
    bob.reopen();
    assertEquals(AvailableSessions.NONE, bob.machine().takeAvailableSessions());
  }

  @Test
  void missingKey_isRequestedFromOwnDevicesOnlyAfterTheDelay() {
    bob.machine().setKeyRequestDelay(3_000);
    share(alice);
    ObjectNode event = send(alice, "key in flight");
    assertInstanceOf(
        DecryptionResult.UnableToDecrypt.class, bob.machine().decryptRoomEvent(ROOM, event));
    assertFalse(keyRequestSent(bob.pump(router)), "not asked while the key may be in flight");
    clock.advanceMillis(2_999);
    assertFalse(keyRequestSent(bob.pump(router)));
    clock.advanceMillis(1);
    assertTrue(keyRequestSent(bob.pump(router)), "asked once the delay has passed");
  }

  private static boolean keyRequestSent(List<ObjectNode> sent) {
    return sent.stream().anyMatch(r -> "m.room_key_request".equals(r.path("event_type").asText()));
  }
}
