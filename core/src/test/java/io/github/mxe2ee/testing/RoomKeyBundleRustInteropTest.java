package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.attachment.AttachmentCipher;
import io.github.mxe2ee.attachment.EncryptedAttachment;
import io.github.mxe2ee.attachment.EncryptedFile;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.ReceivedRoomKeyBundle;
import io.github.mxe2ee.machine.RoomKeyBundle;
import io.github.mxe2ee.machine.RoomKeyBundleImport;
import io.github.mxe2ee.machine.RoomKeyBundleShare;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 interop: MSC4268 room key bundles and the {@code shared_history} flag between mxe2ee's
 * Java {@code OlmMachine} and Element's Rust {@code OlmMachine} (matrix-sdk-crypto-wasm 18.9, its
 * {@code buildRoomKeyBundle}, {@code shareRoomKeyBundleData}, {@code getReceivedRoomKeyBundleData}
 * and {@code receiveRoomKeyBundle}), through the in-memory router. Alice writes in a room before
 * Bob is invited, first while the history visibility is {@code shared}, then after it became {@code
 * joined}; she then shares the room's history with Bob. The "media repository" is the test: the
 * encrypted bundle is handed over as bytes. Skipped with a reason when the Node peer is not
 * installed.
 */
class RoomKeyBundleRustInteropTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String ALICE = "@alice:localhost";
  private static final String BOB = "@bob:localhost";
  private static final String ROOM = "!history:localhost";
  private static final String MXC = "mxc://localhost/bundle1";

  private final List<RoutedMachine> machines = new ArrayList<>();

  /** The content (without the key) of the last forwarded key {@link #forwardToSecondDevice} saw. */
  private ObjectNode forwardedContent;

  private InMemoryRouter router;

  @BeforeEach
  void router() {
    router = new InMemoryRouter();
  }

  @AfterEach
  void close() {
    machines.forEach(RoutedMachine::close);
  }

  private RoutedMachine rust(String user, String device) {
    router.registerDevice(user, device);
    RoutedMachine m = RustMachinePeer.start(user, device);
    machines.add(m);
    return m;
  }

  private JavaMachine java(String user, String device) {
    router.registerDevice(user, device);
    JavaMachine m = JavaMachine.inMemory(user, device);
    machines.add(m);
    return m;
  }

  /** Keys uploaded, cross-signing identities created, each machine knows the other's keys. */
  private void connect(RoutedMachine alice, RoutedMachine bob) {
    for (RoutedMachine m : List.of(alice, bob)) {
      m.pump(router);
      m.bootstrapCrossSigning(router);
    }
    for (RoutedMachine m : List.of(alice, bob)) {
      m.sync(router);
      m.updateTrackedUsers(List.of(ALICE, BOB));
      m.pump(router);
    }
    router.joinRoom(ROOM, ALICE);
  }

  private static ObjectNode visibility(String v) {
    ObjectNode s = MAPPER.createObjectNode();
    s.put("history_visibility", v);
    return s;
  }

  private ObjectNode send(RoutedMachine from, String body) {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("msgtype", "m.text");
    content.put("body", body);
    return router.sendRoomEvent(
        from.userId(),
        from.deviceId(),
        ROOM,
        "m.room.encrypted",
        from.encryptRoomEvent(ROOM, "m.room.message", content));
  }

  /**
   * Alice writes two messages while the room's history is shared, then one after it became
   * joined-only (a new session: the change rotates it). Returns the three events.
   */
  private List<ObjectNode> aliceWritesHistory(RoutedMachine alice) {
    alice.shareRoomKey(router, ROOM, List.of(ALICE), visibility("shared"));
    ObjectNode first = send(alice, "shared one");
    ObjectNode second = send(alice, "shared two");
    if (alice instanceof RustMachinePeer r) {
      // The wasm machine rotates on a settings change only when asked; the Java one rotates itself.
      ObjectNode p = MAPPER.createObjectNode();
      p.put("room_id", ROOM);
      r.call("machine.invalidate_group_session", p);
    }
    alice.shareRoomKey(router, ROOM, List.of(ALICE), visibility("joined"));
    ObjectNode hidden = send(alice, "joined only");
    assertFalse(
        hidden
            .path("content")
            .path("session_id")
            .asText()
            .equals(first.path("content").path("session_id").asText()),
        "the visibility change rotated the session");
    return List.of(first, second, hidden);
  }

  private static Set<String> sessionIds(JsonNode array) {
    Set<String> out = new HashSet<>();
    array.forEach(e -> out.add(e.path("session_id").asText()));
    return out;
  }

  private static String sessionOf(ObjectNode event) {
    return event.path("content").path("session_id").asText();
  }

  /** The plaintext bundle the Rust machine builds for the room. */
  private static JsonNode rustBundle(RustMachinePeer peer) throws Exception {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", ROOM);
    JsonNode bundle = peer.call("bundle.build", p).get("bundle");
    assertTrue(bundle != null && bundle.isObject(), "Rust built a bundle");
    byte[] ciphertext = Base64.getDecoder().decode(bundle.path("ciphertext").asText());
    EncryptedFile file = EncryptedFile.fromJson(bundle.get("encryption_info"));
    return MAPPER.readTree(AttachmentCipher.decrypt(ciphertext, file));
  }

  // ---------------------------------------------------------------- shared_history in m.room_key

  /**
   * Defect: the Java machine wrote the flag in {@code m.room_key} only as {@code shared_history},
   * which matrix-rust-sdk does not read ({@code m.shared_history}): Rust stored Java's keys as not
   * shareable and listed them as withheld in its own bundle.
   */
  @Test
  void sharedHistoryFlagOfAJavaRoomKeyReachesRust() throws Exception {
    JavaMachine alice = java(ALICE, "ALICEDEVICE");
    RustMachinePeer bob = (RustMachinePeer) rust(BOB, "BOBDEVICE");
    connect(alice, bob);
    router.joinRoom(ROOM, BOB);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), visibility("shared"));
    ObjectNode event = send(alice, "hello");
    bob.sync(router);
    assertEquals("hello", bob.decryptRoomEvent(ROOM, event).path("content").path("body").asText());

    JsonNode bundle = rustBundle(bob);
    assertTrue(sessionIds(bundle.path("room_keys")).contains(sessionOf(event)), bundle.toString());
    assertFalse(sessionIds(bundle.path("withheld")).contains(sessionOf(event)));
  }

  /**
   * Defect: the Java machine read the flag in {@code m.room_key} only as {@code shared_history};
   * matrix-rust-sdk writes {@code m.shared_history}, so Rust's shareable keys were stored as not
   * shareable and left out of Java's bundles.
   */
  @Test
  void sharedHistoryFlagOfARustRoomKeyReachesJava() {
    RoutedMachine alice = rust(ALICE, "ALICEDEVICE");
    JavaMachine bob = java(BOB, "BOBDEVICE");
    connect(alice, bob);
    router.joinRoom(ROOM, BOB);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), visibility("shared"));
    ObjectNode event = send(alice, "hello");
    bob.sync(router);
    assertEquals("hello", bob.decryptRoomEvent(ROOM, event).path("content").path("body").asText());

    RoomKeyBundle bundle = bob.machine().buildRoomKeyBundle(ROOM);
    assertEquals(1, bundle.sharedSessions(), bundle.toString());
    assertEquals(0, bundle.withheldSessions(), bundle.toString());
  }

  // ---------------------------------------------------------------- shared_history in forwarded
  // keys

  /**
   * Bob's first device forwards a shared-history key to his second, on request (spec, "Key
   * requests"); the second device must still see it as history it may pass on in its own bundle.
   * Returns the event whose key was forwarded.
   */
  private ObjectNode forwardToSecondDevice(
      RoutedMachine alice, RoutedMachine bob, RoutedMachine bob2) {
    connect(alice, bob);
    router.joinRoom(ROOM, BOB);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), visibility("shared"));
    bob.sync(router);
    ObjectNode event = send(alice, "before the second device");
    bob2.pump(router);
    bob2.sync(router);
    bob2.updateTrackedUsers(List.of(ALICE, BOB));
    bob2.pump(router);
    bob.sync(router);
    bob.pump(router);
    bob.verifyOwnDevice(router, "BOBSECOND");
    bob.sync(router);
    bob.pump(router);
    bob2.sync(router);
    bob2.pump(router);
    bob2.setLocalTrust(BOB, "BOBDEVICE", "verified");
    assertFalse(bob2.requestRoomKey(router, ROOM, event).isEmpty(), "a key request is sent");
    bob.sync(router);
    bob.establishSessions(router, List.of(BOB));
    bob.sync(router);
    bob.pump(router);
    List<ObjectNode> got = bob2.sync(router);
    forwardedContent =
        got.stream()
            .filter(e -> "m.forwarded_room_key".equals(e.path("type").asText()))
            .findFirst()
            .map(e -> (ObjectNode) e.get("content"))
            .orElseThrow(() -> new AssertionError("no forwarded key in " + got));
    assertEquals(
        "before the second device",
        bob2.decryptRoomEvent(ROOM, event).path("content").path("body").asText());
    return event;
  }

  /**
   * matrix-rust-sdk's {@code m.forwarded_room_key} content has no {@code shared_history} field
   * (0.19: it neither writes nor reads one), so a key Element forwards arrives without the flag,
   * and an absent flag means false (MSC4268). The Java machine must then not take the key for
   * shareable history; should a later Rust send the flag, Java must honour it. Either way the
   * session is in exactly one of the bundle's lists.
   */
  @Test
  void sharedHistoryOfAKeyRustForwardsIsWhatItsContentSays() {
    JavaMachine alice = java(ALICE, "ALICEDEVICE");
    RoutedMachine bob = rust(BOB, "BOBDEVICE");
    JavaMachine bob2 = java(BOB, "BOBSECOND");
    ObjectNode event = forwardToSecondDevice(alice, bob, bob2);
    boolean sent = ExportedRoomKey.readSharedHistory(forwardedContent);
    assertEquals(
        sent,
        bob2.store().inboundGroupSessions(ROOM, sessionOf(event)).get(0).sharedHistory(),
        forwardedContent.toString());
    RoomKeyBundle bundle = bob2.machine().buildRoomKeyBundle(ROOM);
    assertEquals(sent ? 1 : 0, bundle.sharedSessions(), bundle.toString());
    assertEquals(sent ? 0 : 1, bundle.withheldSessions(), bundle.toString());
  }

  // ---------------------------------------------------------------- Rust builds, Java imports

  @Test
  void javaImportsARustBundleAndDecryptsTheRoomsEarlierMessages() throws Exception {
    RustMachinePeer alice = (RustMachinePeer) rust(ALICE, "ALICEDEVICE");
    JavaMachine bob = java(BOB, "BOBDEVICE");
    connect(alice, bob);
    List<ObjectNode> history = aliceWritesHistory(alice);

    // Alice invites Bob: builds, "uploads" and announces the bundle.
    ObjectNode build = MAPPER.createObjectNode();
    build.put("room_id", ROOM);
    JsonNode bundle = alice.call("bundle.build", build).get("bundle");
    byte[] ciphertext = Base64.getDecoder().decode(bundle.path("ciphertext").asText());
    alice.establishSessions(router, List.of(BOB));
    ObjectNode share = MAPPER.createObjectNode();
    share.put("user_id", BOB);
    share.put("room_id", ROOM);
    share.put("url", MXC);
    share.set("encryption_info", bundle.get("encryption_info"));
    List<JsonNode> requests = new ArrayList<>();
    alice.call("bundle.share", share).get("requests").forEach(requests::add);
    assertEquals(1, requests.size(), "one to-device request for Bob's cross-signed device");
    requests.forEach(r -> alice.send(router, (ObjectNode) r));

    List<ObjectNode> received = bob.sync(router);
    assertTrue(
        received.stream().anyMatch(e -> "m.room_key_bundle".equals(e.path("type").asText())),
        received.toString());
    OlmMachine machine = bob.machine();
    ReceivedRoomKeyBundle announced = machine.receivedRoomKeyBundle(ROOM, ALICE).orElseThrow();
    assertEquals(MXC, announced.file().url().orElseThrow());
    assertEquals("ALICEDEVICE", announced.senderDeviceId());

    RoomKeyBundleImport result = machine.importRoomKeyBundle(ROOM, ALICE, ciphertext);
    RoomKeyBundleImport.Imported imported =
        assertInstanceOf(RoomKeyBundleImport.Imported.class, result, result.toString());
    assertEquals(1, imported.imported());
    assertEquals(1, imported.withheld());
    assertTrue(
        machine.takeAvailableSessions().covers(ROOM, null, sessionOf(history.get(0))),
        "the imported session feeds the late-key path");

    for (int i = 0; i < 2; i++) {
      DecryptionResult r = bob.decrypt(ROOM, history.get(i));
      DecryptionResult.Decrypted d = assertInstanceOf(DecryptionResult.Decrypted.class, r);
      assertEquals(i == 0 ? "shared one" : "shared two", d.content().path("body").asText());
      assertEquals(ALICE, d.forwarder());
      assertEquals("ALICEDEVICE", d.forwarderDevice());
    }
    DecryptionResult hidden = bob.decrypt(ROOM, history.get(2));
    DecryptionResult.UnableToDecrypt u =
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, hidden);
    assertEquals(DecryptionFailure.WITHHELD, u.reason());
    assertEquals("m.history_not_shared", u.withheldCode());
    assertTrue(machine.receivedRoomKeyBundle(ROOM, ALICE).isEmpty(), "used once");
  }

  // ---------------------------------------------------------------- Java builds, Rust imports

  @Test
  void rustImportsAJavaBundleAndDecryptsTheRoomsEarlierMessages() {
    JavaMachine alice = java(ALICE, "ALICEDEVICE");
    RustMachinePeer bob = (RustMachinePeer) rust(BOB, "BOBDEVICE");
    connect(alice, bob);
    List<ObjectNode> history = aliceWritesHistory(alice);

    OlmMachine machine = alice.machine();
    RoomKeyBundle bundle = machine.buildRoomKeyBundle(ROOM);
    assertEquals(1, bundle.sharedSessions(), bundle.toString());
    assertEquals(1, bundle.withheldSessions(), bundle.toString());
    EncryptedAttachment encrypted = bundle.encrypt(new SecureRandom());
    bundle.wipe();
    alice.establishSessions(router, List.of(BOB));
    RoomKeyBundleShare share = machine.shareRoomKeyBundle(ROOM, BOB, encrypted.file().withUrl(MXC));
    assertEquals(List.of("BOBDEVICE"), share.devices(), share.toString());
    for (OutgoingRequest r : share.requests()) {
      assertNotNull(alice.send(router, r));
    }

    bob.sync(router);
    ObjectNode query = MAPPER.createObjectNode();
    query.put("room_id", ROOM);
    query.put("inviter", ALICE);
    JsonNode found = bob.call("bundle.received", query);
    assertTrue(found.path("found").asBoolean(), found.toString());
    assertEquals(MXC, found.path("url").asText());
    ObjectNode receive = query.deepCopy();
    receive.put("ciphertext", Base64.getEncoder().encodeToString(encrypted.ciphertext()));
    bob.call("bundle.receive", receive);

    for (int i = 0; i < 2; i++) {
      ObjectNode d = bob.decryptRoomEvent(ROOM, history.get(i));
      assertEquals(i == 0 ? "shared one" : "shared two", d.path("content").path("body").asText());
      assertEquals(ALICE, d.path("forwarder").asText());
      assertEquals("ALICEDEVICE", d.path("forwarder_device").asText());
    }
    Mxe2eeException e =
        assertThrows(Mxe2eeException.class, () -> bob.decryptRoomEvent(ROOM, history.get(2)));
    assertEquals("withheld", e.kind(), e.getMessage());
    assertEquals("m.history_not_shared", bob.withheldCode(e));
  }
}
