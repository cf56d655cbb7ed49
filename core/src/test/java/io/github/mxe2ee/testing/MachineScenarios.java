package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.json.JsonSigning;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Room-key scenarios between E2EE devices that meet only through an {@link InMemoryRouter} (issue
 * 5, items 5, 6, 7, 8 and 9). Subclasses choose the implementation behind each role with {@link
 * #newMachine}: Rust↔Rust ({@link RustPeersThroughRouterTest}) proves the router and the harness;
 * Java↔Rust and Rust↔Java subclasses are the interop suite once the Java engine exists.
 *
 * <p>Roles: {@code alice} ({@value #ALICE}, device {@code ALICEDEVICE}) and {@code bob} ({@value
 * #BOB}, device {@code BOBDEVICE}) share {@value #ROOM}; some scenarios add {@code bob2}, a second
 * device of Bob. Every scenario asserts what the receiving side observes, never only what the
 * sender claims to have sent.
 */
public abstract class MachineScenarios {
  protected static final ObjectMapper MAPPER = new ObjectMapper();
  protected static final String ALICE = "@alice:localhost";
  protected static final String BOB = "@bob:localhost";
  protected static final String ROOM = "!room:localhost";

  private final List<RoutedMachine> machines = new ArrayList<>();
  protected InMemoryRouter router;
  protected RoutedMachine alice;
  protected RoutedMachine bob;

  /**
   * Creates the machine playing {@code role} ({@code alice}, {@code bob}, {@code bob2}). The device
   * is already registered with {@link #router}; the machine has uploaded nothing yet.
   */
  protected abstract RoutedMachine newMachine(String role, String userId, String deviceId);

  @BeforeEach
  void connectAliceAndBob() {
    router = new InMemoryRouter();
    alice = machine("alice", ALICE, "ALICEDEVICE");
    bob = machine("bob", BOB, "BOBDEVICE");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    for (RoutedMachine m : List.of(alice, bob)) {
      m.pump(router); // keys upload
    }
    for (RoutedMachine m : List.of(alice, bob)) {
      m.sync(router);
      m.updateTrackedUsers(List.of(ALICE, BOB));
      m.pump(router); // keys query
    }
  }

  @AfterEach
  void closeMachines() {
    machines.forEach(RoutedMachine::close);
  }

  /** Registers a device with the router and creates the machine for it (closed after the test). */
  protected RoutedMachine machine(String role, String userId, String deviceId) {
    router.registerDevice(userId, deviceId);
    RoutedMachine m = newMachine(role, userId, deviceId);
    machines.add(m);
    return m;
  }

  /** Bob's second device, logged in after the room exists, with its keys uploaded and queried. */
  protected RoutedMachine secondBobDevice() {
    RoutedMachine bob2 = machine("bob2", BOB, "BOBSECOND");
    bob2.pump(router);
    bob2.sync(router);
    bob2.updateTrackedUsers(List.of(ALICE, BOB));
    bob2.pump(router);
    return bob2;
  }

  protected static ObjectNode message(String body) {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("msgtype", "m.text");
    content.put("body", body);
    return content;
  }

  /** Encrypts a text message and posts it to the room; returns the event as others receive it. */
  protected ObjectNode send(RoutedMachine from, String body) {
    ObjectNode encrypted = from.encryptRoomEvent(ROOM, "m.room.message", message(body));
    assertEquals("m.megolm.v1.aes-sha2", encrypted.path("algorithm").asText());
    return router.sendRoomEvent(
        from.userId(), from.deviceId(), ROOM, "m.room.encrypted", encrypted);
  }

  protected static String body(ObjectNode decrypted) {
    return decrypted.path("content").path("body").asText();
  }

  protected static ObjectNode trustedOnly() {
    ObjectNode settings = MAPPER.createObjectNode();
    settings.put("only_allow_trusted_devices", true);
    return settings;
  }

  protected static ObjectNode only(List<ObjectNode> events, String type) {
    List<ObjectNode> matching =
        events.stream().filter(e -> type.equals(e.path("type").asText())).toList();
    assertEquals(1, matching.size(), "exactly one " + type + " in " + events);
    return matching.get(0);
  }

  protected static boolean anyOfType(List<ObjectNode> events, String type) {
    return events.stream().anyMatch(e -> type.equals(e.path("type").asText()));
  }

  /** Asserts that decryption fails with {@code kind}; returns the failure. */
  protected static Mxe2eeException failsWith(
      String kind, RoutedMachine receiver, String roomId, ObjectNode event) {
    Mxe2eeException e =
        assertThrows(Mxe2eeException.class, () -> receiver.decryptRoomEvent(roomId, event));
    assertEquals(kind, e.kind(), e.getMessage());
    return e;
  }

  // ---------------------------------------------------------------- scenarios

  @Test
  void keysAreUploadedAndEachMachineSeesTheOthersDevice() {
    assertTrue(router.oneTimeKeyCounts(BOB, "BOBDEVICE").get("signed_curve25519") > 0);
    ObjectNode seen = alice.device(BOB, "BOBDEVICE");
    assertTrue(seen.path("found").asBoolean(), seen.toString());
    assertEquals(bob.identityKeys().get("curve25519").asText(), seen.get("curve25519").asText());
    assertEquals(bob.identityKeys().get("ed25519").asText(), seen.get("ed25519").asText());
    assertFalse(seen.get("is_verified").asBoolean());
    ObjectNode seenByBob = bob.device(ALICE, "ALICEDEVICE");
    assertEquals(alice.identityKeys().get("ed25519").asText(), seenByBob.get("ed25519").asText());
  }

  @Test
  void roomKeysSharedBothWaysAndMessagesDecrypt() {
    int bobKeysBefore = router.oneTimeKeyCounts(BOB, "BOBDEVICE").get("signed_curve25519");
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    assertEquals(
        bobKeysBefore - 1,
        router.oneTimeKeyCounts(BOB, "BOBDEVICE").get("signed_curve25519"),
        "exactly one of Bob's one-time keys claimed");

    ObjectNode roomKey = only(bob.sync(router), "m.room_key");
    assertEquals("decrypted", roomKey.get("kind").asText());
    assertEquals(ALICE, roomKey.get("sender").asText());
    // The sender device of an m.room_key may be resolved lazily; the Curve25519 key may not.
    assertEquals(
        alice.identityKeys().get("curve25519").asText(),
        roomKey.get("sender_curve25519_key").asText());
    assertEquals(ROOM, roomKey.path("content").path("room_id").asText());
    assertFalse(roomKey.path("content").has("session_key"), "no key material in summaries");

    ObjectNode event = send(alice, "hello Bob");
    ObjectNode clear = bob.decryptRoomEvent(ROOM, event);
    assertEquals("m.room.message", clear.get("type").asText());
    assertEquals("hello Bob", body(clear));
    assertEquals(ALICE, clear.get("sender").asText());
    assertEquals("ALICEDEVICE", clear.get("sender_device").asText());
    assertNotNull(clear.get("verification_state"));

    bob.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    alice.sync(router);
    ObjectNode reply = send(bob, "hello Alice");
    ObjectNode clearReply = alice.decryptRoomEvent(ROOM, reply);
    assertEquals("hello Alice", body(clearReply));
    assertEquals("BOBDEVICE", clearReply.get("sender_device").asText());
    assertEquals("hello Alice", body(alice.decryptRoomEvent(ROOM, reply)), "same event twice");

    // Later messages in both directions use the established sessions.
    assertEquals("again", body(bob.decryptRoomEvent(ROOM, send(alice, "again"))));
    assertEquals("and again", body(alice.decryptRoomEvent(ROOM, send(bob, "and again"))));
  }

  @Test
  void onlyTrustedDevicesWithholdsTheKeyFromAnUnverifiedDevice() {
    List<ObjectNode> requests =
        alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), trustedOnly());
    assertTrue(
        requests.stream()
            .anyMatch(r -> "m.room_key.withheld".equals(r.path("event_type").asText())),
        "a withheld notice is sent: " + requests);

    List<ObjectNode> received = bob.sync(router);
    ObjectNode withheld = only(received, "m.room_key.withheld");
    assertEquals("m.unverified", withheld.path("content").path("code").asText());
    assertEquals(ROOM, withheld.path("content").path("room_id").asText());
    assertFalse(anyOfType(received, "m.room_key"), received.toString());

    ObjectNode event = send(alice, "secret for verified devices");
    Mxe2eeException e = failsWith("withheld", bob, ROOM, event);
    assertEquals("m.unverified", bob.withheldCode(e));
  }

  @Test
  void blacklistedDeviceGetsWithheldBlacklisted() {
    assertTrue(
        alice.setLocalTrust(BOB, "BOBDEVICE", "blacklisted").get("is_blacklisted").asBoolean());
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    ObjectNode withheld = only(bob.sync(router), "m.room_key.withheld");
    assertEquals("m.blacklisted", withheld.path("content").path("code").asText());
    Mxe2eeException e = failsWith("withheld", bob, ROOM, send(alice, "not for Bob"));
    assertEquals("m.blacklisted", bob.withheldCode(e));
  }

  @Test
  void deviceWithoutOneTimeOrFallbackKeysGetsWithheldNoOlm() {
    // A device that uploads only its identity keys (made by mxe2ee's primitives): nothing to claim.
    String carol = "@carol:localhost";
    router.registerDevice(carol, "CAROLDEVICE");
    router.joinRoom(ROOM, carol);
    Ed25519SecretKey ed = Ed25519SecretKey.generate(new SecureRandom());
    ObjectNode keys = MAPPER.createObjectNode();
    keys.put("user_id", carol);
    keys.put("device_id", "CAROLDEVICE");
    keys.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    keys.putObject("keys")
        .put(
            "curve25519:CAROLDEVICE",
            Curve25519SecretKey.generate(new SecureRandom()).publicKey().toBase64())
        .put("ed25519:CAROLDEVICE", ed.publicKey().toBase64());
    JsonSigning.sign(keys, carol, "ed25519:CAROLDEVICE", ed);
    ObjectNode upload = MAPPER.createObjectNode();
    upload.set("device_keys", keys);
    router.keysUpload(carol, "CAROLDEVICE", upload);

    alice.sync(router);
    alice.updateTrackedUsers(List.of(carol));
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB, carol), null);
    List<ObjectNode> atCarol =
        router.sync(carol, "CAROLDEVICE").eventsOfType("m.room_key.withheld");
    assertEquals(1, atCarol.size(), atCarol.toString());
    ObjectNode content = (ObjectNode) atCarol.get(0).get("content");
    assertEquals("m.no_olm", content.path("code").asText());
    assertEquals(ALICE, atCarol.get(0).get("sender").asText());
    assertEquals(
        alice.identityKeys().get("curve25519").asText(), content.path("sender_key").asText());
    assertEquals("decrypted", only(bob.sync(router), "m.room_key").get("kind").asText());
  }

  @Test
  void newDeviceGetsTheSessionFromItsCurrentIndex_unknownIndex() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode first = send(alice, "first");

    RoutedMachine bob2 = secondBobDevice();
    alice.sync(router); // device_lists.changed: Bob
    alice.pump(router);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    List<ObjectNode> atBob2 = bob2.sync(router);
    assertTrue(anyOfType(atBob2, "m.room_key"), atBob2.toString());
    ObjectNode second = send(alice, "second");
    assertEquals(
        first.path("content").path("session_id"),
        second.path("content").path("session_id"),
        "the outbound session is kept when a device is added");

    assertEquals("second", body(bob2.decryptRoomEvent(ROOM, second)));
    assertEquals("first", body(bob.decryptRoomEvent(ROOM, first)));
    failsWith("unknown_index", bob2, ROOM, first);
  }

  @Test
  void memberLeavingRotatesTheSession() {
    String carolId = "@carol:localhost";
    RoutedMachine carol = machine("carol", carolId, "CAROLDEVICE");
    router.joinRoom(ROOM, carolId);
    carol.pump(router);
    carol.sync(router);
    carol.updateTrackedUsers(List.of(ALICE, BOB, carolId));
    carol.pump(router);
    alice.sync(router);
    alice.updateTrackedUsers(List.of(carolId));
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB, carolId), null);
    bob.sync(router);
    carol.sync(router);
    ObjectNode before = send(alice, "everyone");
    assertEquals("everyone", body(bob.decryptRoomEvent(ROOM, before)));
    assertEquals("everyone", body(carol.decryptRoomEvent(ROOM, before)));

    router.leaveRoom(ROOM, BOB);
    alice.sync(router); // device_lists.left: Bob
    alice.shareRoomKey(router, ROOM, List.of(ALICE, carolId), null);
    carol.sync(router);
    bob.sync(router);
    ObjectNode after = send(alice, "without Bob");
    assertFalse(
        before.path("content").path("session_id").equals(after.path("content").path("session_id")),
        "a new session after a member left");
    assertEquals("without Bob", body(carol.decryptRoomEvent(ROOM, after)));
    failsWith("missing_session", bob, ROOM, after);
  }

  @Test
  void deletedDeviceRotatesTheSession() {
    RoutedMachine bob2 = secondBobDevice();
    alice.sync(router);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    bob2.sync(router);
    ObjectNode before = send(alice, "both of Bob's devices");
    assertEquals("both of Bob's devices", body(bob2.decryptRoomEvent(ROOM, before)));

    router.deleteDevice(BOB, "BOBSECOND");
    alice.sync(router); // device_lists.changed: Bob
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode after = send(alice, "only Bob's first device");
    assertFalse(
        before.path("content").path("session_id").equals(after.path("content").path("session_id")),
        "a new session after a device was removed");
    assertEquals("only Bob's first device", body(bob.decryptRoomEvent(ROOM, after)));
    failsWith("missing_session", bob2, ROOM, after);
  }

  @Test
  void decryptFailuresAreClassified() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode event = send(alice, "to be tampered with");

    ObjectNode unknownSession = event.deepCopy();
    ((ObjectNode) unknownSession.get("content"))
        .put("session_id", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    failsWith("missing_session", bob, ROOM, unknownSession);

    ObjectNode tampered = event.deepCopy();
    String ciphertext = tampered.path("content").path("ciphertext").asText();
    char flipped = ciphertext.charAt(20) == 'A' ? 'B' : 'A';
    ((ObjectNode) tampered.get("content"))
        .put("ciphertext", ciphertext.substring(0, 20) + flipped + ciphertext.substring(21));
    failsWith("unable_to_decrypt", bob, ROOM, tampered);

    failsWith("missing_session", bob, "!elsewhere:localhost", event.deepCopy());

    assertEquals("to be tampered with", body(bob.decryptRoomEvent(ROOM, event)), "unchanged");
  }

  @Test
  void crossSignedOwnDeviceAsksForAKeyAndGetsItForwarded() {
    bob.bootstrapCrossSigning(router);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode event = send(alice, "before Bob's second device");

    // Bob logs in a second device; his first device signs it with the self-signing key.
    RoutedMachine bob2 = secondBobDevice();
    bob.sync(router);
    bob.pump(router);
    assertFalse(bob.device(BOB, "BOBSECOND").get("is_verified").asBoolean());
    bob.verifyOwnDevice(router, "BOBSECOND");
    bob.sync(router);
    bob.pump(router);
    ObjectNode seenByBob = bob.device(BOB, "BOBSECOND");
    assertTrue(seenByBob.get("is_cross_signed_by_owner").asBoolean(), seenByBob.toString());
    assertTrue(seenByBob.get("is_verified").asBoolean(), seenByBob.toString());
    alice.sync(router);
    alice.pump(router);
    assertTrue(alice.device(BOB, "BOBSECOND").get("is_cross_signed_by_owner").asBoolean());

    // The new device cannot read the earlier message and asks its own devices for the key.
    failsWith("missing_session", bob2, ROOM, event);
    bob2.sync(router);
    bob2.pump(router);
    bob2.setLocalTrust(BOB, "BOBDEVICE", "verified");
    assertFalse(bob2.requestRoomKey(router, ROOM, event).isEmpty(), "a key request is sent");
    List<ObjectNode> atBob = bob.sync(router);
    assertTrue(anyOfType(atBob, "m.room_key_request"), atBob.toString());
    bob.establishSessions(router, List.of(BOB));
    bob.sync(router); // answers now that an Olm session exists
    bob.pump(router);
    List<ObjectNode> atBob2 = bob2.sync(router);
    ObjectNode forwarded = only(atBob2, "m.forwarded_room_key");
    assertEquals("decrypted", forwarded.get("kind").asText(), "forwarded keys travel encrypted");
    assertEquals("BOBDEVICE", forwarded.get("sender_device").asText());
    assertEquals("before Bob's second device", body(bob2.decryptRoomEvent(ROOM, event)));

    // Having the key, the requester cancels its request.
    bob2.pump(router);
    List<ObjectNode> cancellations = bob.sync(router);
    assertTrue(
        cancellations.stream()
            .anyMatch(
                e ->
                    "m.room_key_request".equals(e.path("type").asText())
                        && "request_cancellation"
                            .equals(e.path("content").path("action").asText())),
        cancellations.toString());
  }

  @Test
  void ownUnverifiedDeviceGetsNoForwardedKey() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode event = send(alice, "not for unverified devices");
    RoutedMachine bob2 = secondBobDevice();
    bob.sync(router);
    bob.pump(router);
    bob2.setLocalTrust(BOB, "BOBDEVICE", "verified");
    bob2.requestRoomKey(router, ROOM, event);
    assertTrue(anyOfType(bob.sync(router), "m.room_key_request"));
    bob.establishSessions(router, List.of(BOB));
    bob.sync(router);
    bob.pump(router);
    List<ObjectNode> atBob2 = bob2.sync(router);
    assertFalse(anyOfType(atBob2, "m.forwarded_room_key"), atBob2.toString());
    failsWith("missing_session", bob2, ROOM, event);
  }

  @Test
  void keyRequestFromAnotherUserGetsNoForwardedKey() {
    bob.shareRoomKey(router, ROOM, List.of(BOB), null); // Alice is left out on purpose
    ObjectNode event = send(bob, "Bob's notes");
    failsWith("missing_session", alice, ROOM, event);

    // Alice asks Bob's devices directly for the session.
    ObjectNode request = MAPPER.createObjectNode();
    request.put("action", "request");
    request.put("request_id", "alice-asks-bob");
    request.put("requesting_device_id", "ALICEDEVICE");
    ObjectNode what = request.putObject("body");
    what.put("algorithm", "m.megolm.v1.aes-sha2");
    what.put("room_id", ROOM);
    what.put("sender_key", event.path("content").path("sender_key").asText());
    what.put("session_id", event.path("content").path("session_id").asText());
    ObjectNode toDevice = MAPPER.createObjectNode();
    toDevice.putObject("messages").putObject(BOB).set("*", request);
    router.sendToDevice(ALICE, "ALICEDEVICE", "m.room_key_request", "ask-1", toDevice);

    assertTrue(anyOfType(bob.sync(router), "m.room_key_request"));
    bob.establishSessions(router, List.of(ALICE));
    bob.sync(router);
    bob.pump(router);
    List<ObjectNode> atAlice = alice.sync(router);
    assertFalse(anyOfType(atAlice, "m.forwarded_room_key"), atAlice.toString());
    assertFalse(anyOfType(atAlice, "m.room_key"), atAlice.toString());
    failsWith("missing_session", alice, ROOM, event);
  }
}
