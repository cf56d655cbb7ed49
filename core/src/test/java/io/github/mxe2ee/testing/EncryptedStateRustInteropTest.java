package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.EncryptedState;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Encrypted state events (MSC4362, issue 16) between Element's Rust {@code OlmMachine}
 * (matrix-sdk-crypto-wasm 18.9, {@code encryptStateEvent}, {@code RoomSettings.encryptStateEvents})
 * and the Java engine, both ways, through the {@link InMemoryRouter}: each decrypts what the other
 * encrypts with the real type and state key, and each refuses the same event moved under another
 * state key. Skipped with a reason when the Node peer is not installed.
 */
class EncryptedStateRustInteropTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String ALICE = "@alice:localhost";
  private static final String BOB = "@bob:localhost";
  private static final String ROOM = "!room:localhost";

  private InMemoryRouter router;
  private RustMachinePeer rust;
  private JavaMachine javaPeer;

  @BeforeEach
  void connect() {
    router = new InMemoryRouter();
    router.registerDevice(ALICE, "ALICEDEVICE");
    router.registerDevice(BOB, "BOBDEVICE");
    rust = RustMachinePeer.start(ALICE, "ALICEDEVICE");
    javaPeer = JavaMachine.inMemory(BOB, "BOBDEVICE");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    for (RoutedMachine m : List.<RoutedMachine>of(rust, javaPeer)) {
      m.pump(router);
    }
    for (RoutedMachine m : List.<RoutedMachine>of(rust, javaPeer)) {
      m.sync(router);
      m.updateTrackedUsers(List.of(ALICE, BOB));
      m.pump(router);
    }
  }

  @AfterEach
  void close() {
    if (rust != null) {
      rust.close();
    }
    if (javaPeer != null) {
      javaPeer.close();
    }
  }

  private static ObjectNode topic(String text) {
    return MAPPER.createObjectNode().put("topic", text);
  }

  /** The event as the server serves it: {@code m.room.encrypted} under {@code stateKey}. */
  private ObjectNode asState(String sender, String device, ObjectNode content, String stateKey) {
    ObjectNode event = router.sendRoomEvent(sender, device, ROOM, "m.room.encrypted", content);
    event.put("state_key", stateKey);
    return event;
  }

  @Test
  void rustEncryptsAStateEvent_javaDecryptsAndChecksThePackedKey() {
    ObjectNode settings = MAPPER.createObjectNode();
    settings.put("room_id", ROOM);
    settings.put("encrypt_state_events", true);
    rust.call("machine.set_room_settings", settings);
    rust.shareRoomKey(router, ROOM, router.members(ROOM), null);
    javaPeer.sync(router);

    ObjectNode req = MAPPER.createObjectNode();
    req.put("room_id", ROOM);
    req.put("type", "com.example.bridge");
    req.put("state_key", "@bob:localhost");
    req.set("content", MAPPER.createObjectNode().put("portal", "42"));
    ObjectNode content = (ObjectNode) rust.call("machine.encrypt_state_event", req).get("content");
    ObjectNode event = asState(ALICE, "ALICEDEVICE", content, "com.example.bridge:@bob:localhost");

    ObjectNode moved = event.deepCopy();
    moved.put("state_key", "com.example.bridge:@alice:localhost");
    assertEquals(
        DecryptionFailure.STATE_KEY_MISMATCH,
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, javaPeer.decrypt(ROOM, moved))
            .reason(),
        "Java refuses Rust's event under another state key");

    DecryptionResult.Decrypted d =
        assertInstanceOf(DecryptionResult.Decrypted.class, javaPeer.decrypt(ROOM, event));
    assertEquals("com.example.bridge", d.type());
    assertEquals("@bob:localhost", d.stateKey());
    assertEquals("42", d.content().path("portal").asText());
    assertTrue(d.authenticated(), "the room key came over Olm from Rust's device");
  }

  @Test
  void javaEncryptsAStateEvent_rustDecryptsIt_andRefusesItMoved() {
    javaPeer
        .machine()
        .onRoomEncryption(
            ROOM,
            MAPPER
                .createObjectNode()
                .put("algorithm", "m.megolm.v1.aes-sha2")
                .put(EncryptedState.UNSTABLE_FLAG, true));
    javaPeer.shareRoomKey(router, ROOM, router.members(ROOM), null);
    rust.sync(router);

    ObjectNode content =
        javaPeer.machine().encryptStateEvent(ROOM, "m.room.topic", "", topic("from Java"));
    ObjectNode event = asState(BOB, "BOBDEVICE", content, EncryptedState.pack("m.room.topic", ""));

    ObjectNode moved = event.deepCopy();
    moved.put("state_key", "m.room.name:");
    ObjectNode movedReq = MAPPER.createObjectNode();
    movedReq.put("room_id", ROOM);
    movedReq.set("event", moved);
    RustMachinePeer.PeerException refused =
        assertThrows(
            RustMachinePeer.PeerException.class,
            () -> rust.call("machine.decrypt_state_event", movedReq),
            "Rust refuses Java's event under another state key");
    assertTrue(
        refused.getMessage().toLowerCase(java.util.Locale.ROOT).contains("state key"),
        refused.getMessage());

    ObjectNode req = MAPPER.createObjectNode();
    req.put("room_id", ROOM);
    req.set("event", event);
    ObjectNode clear = rust.call("machine.decrypt_state_event", req);
    assertEquals("m.room.topic", clear.path("type").asText());
    assertEquals("", clear.path("state_key").asText(null));
    assertEquals("from Java", clear.path("content").path("topic").asText());
  }
}
