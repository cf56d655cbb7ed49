package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.testing.InMemoryRouter;
import io.github.mxe2ee.testing.JavaMachine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Two (or more) Java machines connected through an {@link InMemoryRouter}, sharing one {@link
 * MutableClock}: the base of the engine's two-machine suite (issue 5, item 9). Alice and Bob share
 * {@link #ROOM}; both have uploaded keys and queried each other.
 */
abstract class EngineFixture {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final String ALICE = "@alice:localhost";
  static final String BOB = "@bob:localhost";
  static final String ROOM = "!room:localhost";
  static final long START = 1_700_000_000_000L;

  final MutableClock clock = new MutableClock(START);
  final List<JavaMachine> machines = new ArrayList<>();
  InMemoryRouter router;
  JavaMachine alice;
  JavaMachine bob;

  @BeforeEach
  void connect() {
    router = new InMemoryRouter(clock);
    alice = machine(ALICE, "ALICEDEVICE");
    bob = machine(BOB, "BOBDEVICE");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    for (JavaMachine m : List.of(alice, bob)) {
      m.pump(router);
    }
    for (JavaMachine m : List.of(alice, bob)) {
      m.sync(router);
      m.updateTrackedUsers(List.of(ALICE, BOB));
      m.pump(router);
    }
  }

  @AfterEach
  void closeAll() {
    machines.forEach(JavaMachine::close);
  }

  /** A registered device with a Java machine on memory (not yet uploaded). */
  JavaMachine machine(String user, String device) {
    router.registerDevice(user, device);
    JavaMachine m = JavaMachine.inMemory(JavaMachine.config(user, device).withClock(clock));
    machines.add(m);
    return m;
  }

  /** A device logged in later: uploaded, synced, tracking Alice and Bob. */
  JavaMachine loggedIn(String user, String device) {
    JavaMachine m = machine(user, device);
    m.pump(router);
    m.sync(router);
    m.updateTrackedUsers(List.of(ALICE, BOB, user));
    m.pump(router);
    return m;
  }

  static ObjectNode text(String body) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("msgtype", "m.text");
    c.put("body", body);
    return c;
  }

  /** Encrypts with {@code from}'s outbound session and posts to the room. */
  ObjectNode send(JavaMachine from, String body) {
    return router.sendRoomEvent(
        from.userId(),
        from.deviceId(),
        ROOM,
        "m.room.encrypted",
        from.encryptRoomEvent(ROOM, "m.room.message", text(body)));
  }

  /** Shares {@code from}'s room key with the room's members as the router knows them. */
  List<ObjectNode> share(JavaMachine from) {
    return from.shareRoomKey(router, ROOM, router.members(ROOM), null);
  }

  static String sessionId(ObjectNode event) {
    return event.path("content").path("session_id").asText();
  }

  static List<ObjectNode> ofType(List<ObjectNode> events, String type) {
    return events.stream().filter(e -> type.equals(e.path("type").asText())).toList();
  }
}
