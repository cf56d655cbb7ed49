package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.testing.JavaMachine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A room key shared with a larger room (more devices than one claim's parallel threshold, {@link
 * OlmSessions#PARALLEL_CLAIM_THRESHOLD}): every device receives its own key and decrypts, and
 * sharing again after a rotation, on the sessions saved by the first share, works too.
 */
class EngineLargeShareTest extends EngineFixture {

  @Test
  void everyDeviceOfALargeRoomDecryptsAfterAParallelShare() {
    List<JavaMachine> members = new ArrayList<>();
    List<String> users = new ArrayList<>(List.of(ALICE, BOB));
    for (int i = 0; i < OlmSessions.PARALLEL_CLAIM_THRESHOLD + 6; i++) {
      String user = "@member" + i + ":localhost";
      router.joinRoom(ROOM, user);
      users.add(user);
      members.add(machine(user, "DEV" + i));
    }
    for (JavaMachine m : members) {
      m.pump(router);
    }
    alice.sync(router);
    alice.updateTrackedUsers(users);
    alice.pump(router);
    share(alice);
    ObjectNode first = send(alice, "hello everyone");
    for (JavaMachine m : members) {
      m.sync(router);
      assertEquals(
          "hello everyone",
          m.decryptRoomEvent(ROOM, first).path("content").path("body").asText(),
          m.userId());
    }
    alice.machine().invalidateGroupSession(ROOM);
    share(alice);
    ObjectNode second = send(alice, "after rotation");
    assertTrue(!sessionId(first).equals(sessionId(second)));
    for (JavaMachine m : members) {
      m.sync(router);
      assertEquals(
          "after rotation",
          m.decryptRoomEvent(ROOM, second).path("content").path("body").asText(),
          m.userId());
    }
  }
}
