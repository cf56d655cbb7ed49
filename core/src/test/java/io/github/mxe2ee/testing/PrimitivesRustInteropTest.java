package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.testing.RustMachinePeer.PeerException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * mxe2ee's Olm, Megolm and Olm-payload code against Element's Rust {@code OlmMachine}, both
 * directions, through the {@link InMemoryRouter}: a room key shared over Olm and a room event under
 * Megolm from Rust to Java and from Java to Rust, and withheld codes both ways (issue 5, item 9, at
 * the level of the primitives while the Java engine is being written; {@link PrimitivesDevice} is
 * the Java side).
 */
class PrimitivesRustInteropTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String RUST = "@rust:localhost";
  private static final String JAVA = "@java:localhost";
  private static final String ROOM = "!interop:localhost";

  private InMemoryRouter router;
  private RustMachinePeer rust;
  private PrimitivesDevice java;

  @BeforeEach
  void setUp() {
    router = new InMemoryRouter();
    rust = RustMachinePeer.start(RUST, "RUSTDEVICE");
    rust.register(router);
    java = new PrimitivesDevice(JAVA, "JAVADEVICE");
    java.upload(router, 5);
    router.joinRoom(ROOM, RUST);
    router.joinRoom(ROOM, JAVA);
    rust.pump(router);
    rust.sync(router);
    rust.updateTrackedUsers(List.of(RUST, JAVA));
    rust.pump(router);
  }

  @AfterEach
  void tearDown() {
    if (rust != null) {
      rust.close();
    }
  }

  private static ObjectNode text(String body) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("msgtype", "m.text");
    c.put("body", body);
    return c;
  }

  @Test
  void rustSharesARoomKeyAndJavaDecryptsItsMessages() {
    ObjectNode seen = rust.device(JAVA, "JAVADEVICE");
    assertEquals(java.curve25519().toBase64(), seen.get("curve25519").asText());

    rust.shareRoomKey(router, ROOM, List.of(RUST, JAVA), null);
    List<ObjectNode> received = java.sync(router);
    ObjectNode roomKey =
        received.stream()
            .filter(p -> "m.room_key".equals(p.path("type").asText()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no m.room_key in " + received));
    assertEquals(ROOM, roomKey.path("content").path("room_id").asText());
    assertEquals(RUST, roomKey.get("sender").asText());
    assertEquals(
        "RUSTDEVICE",
        roomKey.path("sender_device_keys").path("device_id").asText(),
        "Rust sends its device keys in the payload (MSC4147), and OlmPayload checked them");

    for (String body : List.of("first from Rust", "second from Rust")) {
      ObjectNode content = rust.encryptRoomEvent(ROOM, "m.room.message", text(body));
      ObjectNode event =
          router.sendRoomEvent(RUST, "RUSTDEVICE", ROOM, "m.room.encrypted", content);
      ObjectNode clear = java.decryptRoomEvent(ROOM, event);
      assertEquals("m.room.message", clear.get("type").asText());
      assertEquals(body, clear.path("content").path("body").asText());
    }
  }

  @Test
  void javaSharesARoomKeyAndRustDecryptsItsMessages() {
    java.shareRoomKey(router, ROOM, RUST, "RUSTDEVICE");
    List<ObjectNode> received = rust.sync(router);
    ObjectNode roomKey =
        received.stream()
            .filter(e -> "m.room_key".equals(e.path("type").asText()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no m.room_key in " + received));
    assertEquals("decrypted", roomKey.get("kind").asText(), roomKey.toString());
    assertEquals(JAVA, roomKey.get("sender").asText());
    assertEquals(java.curve25519().toBase64(), roomKey.get("sender_curve25519_key").asText());

    for (String body : List.of("first from Java", "second from Java")) {
      ObjectNode content = java.encryptRoomEvent(ROOM, "m.room.message", text(body));
      ObjectNode event =
          router.sendRoomEvent(JAVA, "JAVADEVICE", ROOM, "m.room.encrypted", content);
      ObjectNode clear = rust.decryptRoomEvent(ROOM, event);
      assertEquals(body, clear.path("content").path("body").asText());
      assertEquals(JAVA, clear.get("sender").asText());
      assertEquals("JAVADEVICE", clear.get("sender_device").asText());
      assertEquals(java.curve25519().toBase64(), clear.get("sender_curve25519_key").asText());
      assertEquals(java.ed25519().toBase64(), clear.get("sender_claimed_ed25519_key").asText());
    }
  }

  @Test
  void olmSessionCarriesOnWithNormalMessagesBothWays() {
    String javaRoom = "!java-room:localhost";
    router.joinRoom(javaRoom, RUST);
    router.joinRoom(javaRoom, JAVA);
    rust.shareRoomKey(router, ROOM, List.of(RUST, JAVA), null);
    java.sync(router);
    assertEquals(List.of(0), java.receivedOlmTypes(), "Rust opens with a pre-key message");

    // Java answers on the session Rust opened: a normal message, which Rust decrypts.
    int claimedBefore = router.oneTimeKeyCounts(RUST, "RUSTDEVICE").get("signed_curve25519");
    assertEquals(1, java.shareRoomKey(router, javaRoom, RUST, "RUSTDEVICE"));
    assertEquals(
        claimedBefore,
        router.oneTimeKeyCounts(RUST, "RUSTDEVICE").get("signed_curve25519"),
        "no one-time key claimed for an existing session");
    assertEquals("decrypted", only(rust.sync(router), "m.room_key").get("kind").asText());
    ObjectNode fromJava =
        router.sendRoomEvent(
            JAVA,
            "JAVADEVICE",
            javaRoom,
            "m.room.encrypted",
            java.encryptRoomEvent(javaRoom, "m.room.message", text("on the same session")));
    assertEquals(
        "on the same session",
        rust.decryptRoomEvent(javaRoom, fromJava).path("content").path("body").asText());

    // Rust, having heard back, now sends normal messages too.
    rust.call("machine.invalidate_group_session", roomParam());
    rust.shareRoomKey(router, ROOM, List.of(RUST, JAVA), null);
    java.sync(router);
    assertEquals(List.of(0, 1), java.receivedOlmTypes());
    ObjectNode fromRust =
        router.sendRoomEvent(
            RUST,
            "RUSTDEVICE",
            ROOM,
            "m.room.encrypted",
            rust.encryptRoomEvent(ROOM, "m.room.message", text("new session")));
    assertEquals(
        "new session", java.decryptRoomEvent(ROOM, fromRust).path("content").path("body").asText());
  }

  @Test
  void javaAnswersARustKeyRequestWithAForwardedRoomKey() {
    // Bob has a Rust device and a Java device; Alice (Rust) gives the room key to the Java one
    // only.
    String bobId = "@bob:localhost";
    PrimitivesDevice javaBob = new PrimitivesDevice(bobId, "JAVABOB");
    javaBob.upload(router, 5);
    try (RustMachinePeer rustBob = RustMachinePeer.start(bobId, "RUSTBOB")) {
      rustBob.register(router);
      rustBob.pump(router);
      router.joinRoom(ROOM, bobId);
      rust.sync(router);
      rust.updateTrackedUsers(List.of(bobId));
      rust.pump(router);
      assertTrue(
          rust.setLocalTrust(bobId, "RUSTBOB", "blacklisted").get("is_blacklisted").asBoolean());
      rust.shareRoomKey(router, ROOM, List.of(RUST, bobId), null);
      javaBob.sync(router);
      ObjectNode event =
          router.sendRoomEvent(
              RUST,
              "RUSTDEVICE",
              ROOM,
              "m.room.encrypted",
              rust.encryptRoomEvent(ROOM, "m.room.message", text("for Bob's Java device")));
      assertEquals(
          "for Bob's Java device",
          javaBob.decryptRoomEvent(ROOM, event).path("content").path("body").asText());

      // Bob's Rust device cannot decrypt, trusts his Java device, and asks his own devices.
      rustBob.sync(router);
      rustBob.updateTrackedUsers(List.of(RUST, bobId));
      rustBob.pump(router);
      rustBob.setLocalTrust(bobId, "JAVABOB", "verified");
      assertFalse(rustBob.requestRoomKey(router, ROOM, event).isEmpty());
      ObjectNode request =
          only(javaBob.sync(router), "m.room_key_request").path("content").deepCopy();
      assertEquals("request", request.path("action").asText());
      assertEquals("RUSTBOB", request.path("requesting_device_id").asText());
      assertEquals(ROOM, request.path("body").path("room_id").asText());
      String sessionId = request.path("body").path("session_id").asText();
      assertEquals(event.path("content").path("session_id").asText(), sessionId);

      assertEquals(0, javaBob.forwardRoomKey(router, ROOM, sessionId, bobId, "RUSTBOB"));
      ObjectNode forwarded = only(rustBob.sync(router), "m.forwarded_room_key");
      assertEquals("decrypted", forwarded.get("kind").asText());
      assertEquals("JAVABOB", forwarded.get("sender_device").asText());
      ObjectNode clear = rustBob.decryptRoomEvent(ROOM, event);
      assertEquals("for Bob's Java device", clear.path("content").path("body").asText());
      assertEquals(RUST, clear.get("sender").asText(), "the original sender, not the forwarder");
    }
  }

  @Test
  void rustAnswersAKeyRequestFromItsUsersVerifiedJavaDevice() {
    // The Rust device owns a room session; then its user logs in a Java device.
    rust.shareRoomKey(router, ROOM, List.of(RUST), null);
    ObjectNode event =
        router.sendRoomEvent(
            RUST,
            "RUSTDEVICE",
            ROOM,
            "m.room.encrypted",
            rust.encryptRoomEvent(ROOM, "m.room.message", text("kept for own devices")));
    String sessionId = event.path("content").path("session_id").asText();
    PrimitivesDevice javaTwin = new PrimitivesDevice(RUST, "JAVATWIN");
    javaTwin.upload(router, 5);
    rust.sync(router);
    rust.pump(router);
    assertThrows(IllegalStateException.class, () -> javaTwin.decryptRoomEvent(ROOM, event));

    assertTrue(rust.setLocalTrust(RUST, "JAVATWIN", "verified").get("is_verified").asBoolean());
    javaTwin.requestRoomKey(router, ROOM, sessionId, RUST, "RUSTDEVICE");
    List<ObjectNode> atRust = rust.sync(router);
    assertEquals("plaintext", only(atRust, "m.room_key_request").get("kind").asText());
    rust.establishSessions(router, List.of(RUST)); // claims one of the Java device's keys
    rust.sync(router);
    rust.pump(router);
    ObjectNode forwarded = only(javaTwin.sync(router), "m.forwarded_room_key");
    assertEquals(sessionId, forwarded.path("content").path("session_id").asText());
    assertEquals(
        "kept for own devices",
        javaTwin.decryptRoomEvent(ROOM, event).path("content").path("body").asText(),
        "mxe2ee imports Rust's exported session key");
  }

  private static ObjectNode roomParam() {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", ROOM);
    return p;
  }

  private static ObjectNode only(List<ObjectNode> events, String type) {
    List<ObjectNode> matching =
        events.stream().filter(e -> type.equals(e.path("type").asText())).toList();
    assertEquals(1, matching.size(), "exactly one " + type + " in " + events);
    return matching.get(0);
  }

  @Test
  void withheldFromJavaIsUnderstoodByRust() {
    java.startSessionWithoutSharing(ROOM);
    java.sendWithheld(router, ROOM, RUST, "RUSTDEVICE", "m.unverified");
    List<ObjectNode> received = rust.sync(router);
    ObjectNode withheld =
        received.stream()
            .filter(e -> "m.room_key.withheld".equals(e.path("type").asText()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no withheld in " + received));
    assertEquals("m.unverified", withheld.path("content").path("code").asText());
    ObjectNode content = java.encryptRoomEvent(ROOM, "m.room.message", text("hidden"));
    ObjectNode event = router.sendRoomEvent(JAVA, "JAVADEVICE", ROOM, "m.room.encrypted", content);
    PeerException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            PeerException.class, () -> rust.decryptRoomEvent(ROOM, event));
    assertEquals("withheld", e.kind(), e.error().toString());
    assertEquals("m.unverified", e.error().path("withheld_code").asText());
  }

  @Test
  void withheldFromRustReachesJavaInTheClear() {
    ObjectNode trustedOnly = MAPPER.createObjectNode();
    trustedOnly.put("only_allow_trusted_devices", true);
    rust.shareRoomKey(router, ROOM, List.of(RUST, JAVA), trustedOnly);
    List<ObjectNode> received = java.sync(router);
    assertFalse(received.stream().anyMatch(p -> "m.room_key".equals(p.path("type").asText())));
    ObjectNode withheld =
        received.stream()
            .filter(e -> "m.room_key.withheld".equals(e.path("type").asText()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no withheld in " + received));
    assertEquals(RUST, withheld.get("sender").asText());
    ObjectNode content = withheld.path("content").deepCopy();
    assertEquals("m.unverified", content.path("code").asText());
    assertEquals(ROOM, content.path("room_id").asText());
    assertEquals("m.megolm.v1.aes-sha2", content.path("algorithm").asText());
    ObjectNode event =
        router.sendRoomEvent(
            RUST,
            "RUSTDEVICE",
            ROOM,
            "m.room.encrypted",
            rust.encryptRoomEvent(ROOM, "m.room.message", text("x")));
    assertEquals(
        content.path("session_id").asText(),
        event.path("content").path("session_id").asText(),
        "the withheld notice names the session the event uses");
    assertTrue(content.path("sender_key").isTextual());
  }
}
