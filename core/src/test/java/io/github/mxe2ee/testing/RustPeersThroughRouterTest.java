package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.testing.RustMachinePeer.PeerException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two (and three) real Rust {@code OlmMachine}s talking through the {@link InMemoryRouter}: proves
 * the router and the peer protocol before the Java engine plugs into the same harness (issue 5,
 * item 9).
 */
class RustPeersThroughRouterTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String ALICE = "@alice:localhost";
  private static final String BOB = "@bob:localhost";
  private static final String ROOM = "!room:localhost";

  private final List<RustMachinePeer> peers = new ArrayList<>();
  private InMemoryRouter router;
  private RustMachinePeer alice;
  private RustMachinePeer bob;

  @BeforeEach
  void setUp() {
    router = new InMemoryRouter();
    alice = peer(ALICE, "ALICEDEVICE");
    bob = peer(BOB, "BOBDEVICE");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    for (RustMachinePeer p : List.of(alice, bob)) {
      p.pump(router); // keys upload
    }
    for (RustMachinePeer p : List.of(alice, bob)) {
      p.sync(router);
      p.updateTrackedUsers(List.of(ALICE, BOB));
      p.pump(router); // keys query
    }
  }

  @AfterEach
  void tearDown() {
    peers.forEach(RustMachinePeer::close);
  }

  private RustMachinePeer peer(String user, String device) {
    RustMachinePeer p = RustMachinePeer.start(user, device);
    peers.add(p);
    p.register(router);
    return p;
  }

  private static ObjectNode message(String body) {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("msgtype", "m.text");
    content.put("body", body);
    return content;
  }

  private ObjectNode send(RustMachinePeer from, String body) {
    ObjectNode encrypted = from.encryptRoomEvent(ROOM, "m.room.message", message(body));
    assertEquals("m.megolm.v1.aes-sha2", encrypted.path("algorithm").asText());
    return router.sendRoomEvent(
        from.userId(), from.deviceId(), ROOM, "m.room.encrypted", encrypted);
  }

  private static ObjectNode trustedOnly() {
    ObjectNode settings = MAPPER.createObjectNode();
    settings.put("only_allow_trusted_devices", true);
    return settings;
  }

  @Test
  void keysAreUploadedAndEachMachineSeesTheOthersDevice() {
    assertTrue(router.oneTimeKeyCounts(BOB, "BOBDEVICE").get("signed_curve25519") > 0);
    ObjectNode seen = alice.device(BOB, "BOBDEVICE");
    assertTrue(seen.path("found").asBoolean(), seen.toString());
    assertEquals(bob.identityKeys().get("curve25519").asText(), seen.get("curve25519").asText());
    assertEquals(bob.identityKeys().get("ed25519").asText(), seen.get("ed25519").asText());
    assertFalse(seen.get("is_verified").asBoolean());
  }

  @Test
  void roomKeysSharedBothWaysAndMessagesDecrypt() {
    int bobKeysBefore = router.oneTimeKeyCounts(BOB, "BOBDEVICE").get("signed_curve25519");
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    assertEquals(
        bobKeysBefore - 1,
        router.oneTimeKeyCounts(BOB, "BOBDEVICE").get("signed_curve25519"),
        "exactly one of Bob's one-time keys claimed");

    List<ObjectNode> received = bob.sync(router);
    ObjectNode roomKey =
        received.stream()
            .filter(e -> "m.room_key".equals(e.path("type").asText()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no m.room_key in " + received));
    assertEquals("decrypted", roomKey.get("kind").asText());
    assertEquals(ALICE, roomKey.get("sender").asText());
    // The sender device of an m.room_key may be resolved lazily by Rust; the Curve25519 key is not.
    assertEquals(
        alice.identityKeys().get("curve25519").asText(),
        roomKey.get("sender_curve25519_key").asText());
    assertEquals(ROOM, roomKey.path("content").path("room_id").asText());

    ObjectNode event = send(alice, "hello Bob");
    ObjectNode clear = bob.decryptRoomEvent(ROOM, event);
    assertEquals("m.room.message", clear.get("type").asText());
    assertEquals("hello Bob", clear.path("content").path("body").asText());
    assertEquals(ALICE, clear.get("sender").asText());
    assertEquals("ALICEDEVICE", clear.get("sender_device").asText());
    assertNotNull(clear.get("verification_state"));

    bob.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    alice.sync(router);
    ObjectNode reply = send(bob, "hello Alice");
    ObjectNode clearReply = alice.decryptRoomEvent(ROOM, reply);
    assertEquals("hello Alice", clearReply.path("content").path("body").asText());
    assertEquals("BOBDEVICE", clearReply.get("sender_device").asText());
    // The same event decrypts twice (not a replay).
    assertEquals(
        "hello Alice", alice.decryptRoomEvent(ROOM, reply).path("content").path("body").asText());
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
    ObjectNode withheld =
        received.stream()
            .filter(e -> "m.room_key.withheld".equals(e.path("type").asText()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no m.room_key.withheld in " + received));
    assertEquals("m.unverified", withheld.path("content").path("code").asText());
    assertEquals(ROOM, withheld.path("content").path("room_id").asText());
    assertTrue(received.stream().noneMatch(e -> "m.room_key".equals(e.path("type").asText())));

    ObjectNode event = send(alice, "secret for verified devices");
    PeerException e = assertThrows(PeerException.class, () -> bob.decryptRoomEvent(ROOM, event));
    assertEquals("withheld", e.kind(), e.error().toString());
    assertEquals("m.unverified", e.error().path("withheld_code").asText());
  }

  @Test
  void deviceVerifiedLateGetsTheSessionFromItsCurrentIndex_earlierStaysWithheld() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), trustedOnly());
    bob.sync(router);
    ObjectNode first = send(alice, "first");

    // Alice now verifies Bob's device: the same session is shared from its current index on.
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", BOB);
    p.put("device_id", "BOBDEVICE");
    p.put("trust", "verified");
    assertTrue(alice.call("machine.set_local_trust", p).get("is_verified").asBoolean());
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), trustedOnly());
    bob.sync(router);
    ObjectNode second = send(alice, "second");
    assertEquals(
        first.path("content").path("session_id"),
        second.path("content").path("session_id"),
        "the outbound session is kept when a device becomes trusted");

    assertEquals(
        "second", bob.decryptRoomEvent(ROOM, second).path("content").path("body").asText());
    // Rust reports the earlier index as withheld (the reason it is missing), not as unknown index.
    PeerException e = assertThrows(PeerException.class, () -> bob.decryptRoomEvent(ROOM, first));
    assertEquals("withheld", e.kind(), e.error().toString());
    assertEquals("m.unverified", e.error().path("withheld_code").asText());
  }

  @Test
  void newDeviceGetsTheSessionFromItsCurrentIndex_unknownIndex() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode first = send(alice, "first");

    RustMachinePeer bob2 = peer(BOB, "BOBSECOND");
    bob2.pump(router);
    bob2.sync(router);
    bob2.updateTrackedUsers(List.of(ALICE, BOB));
    bob2.pump(router);
    alice.sync(router); // device_lists.changed: Bob
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    List<ObjectNode> atBob2 = bob2.sync(router);
    assertTrue(
        atBob2.stream().anyMatch(ev -> "m.room_key".equals(ev.path("type").asText())),
        atBob2.toString());
    ObjectNode second = send(alice, "second");
    assertEquals(
        first.path("content").path("session_id"),
        second.path("content").path("session_id"),
        "the outbound session is kept when a device is added");

    assertEquals(
        "second", bob2.decryptRoomEvent(ROOM, second).path("content").path("body").asText());
    assertEquals("first", bob.decryptRoomEvent(ROOM, first).path("content").path("body").asText());
    PeerException e = assertThrows(PeerException.class, () -> bob2.decryptRoomEvent(ROOM, first));
    assertEquals("unknown_index", e.kind(), e.error().toString());
  }

  @Test
  void blacklistedDeviceGetsWithheldBlacklisted() {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", BOB);
    p.put("device_id", "BOBDEVICE");
    p.put("trust", "blacklisted");
    assertTrue(alice.call("machine.set_local_trust", p).get("is_blacklisted").asBoolean());
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    ObjectNode withheld = only(bob.sync(router), "m.room_key.withheld");
    assertEquals("plaintext", withheld.get("kind").asText());
    assertEquals("m.blacklisted", withheld.path("content").path("code").asText());
    PeerException e =
        assertThrows(PeerException.class, () -> bob.decryptRoomEvent(ROOM, send(alice, "no")));
    assertEquals("withheld", e.kind());
    assertEquals("m.blacklisted", e.error().path("withheld_code").asText());
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
    // Bob, who has keys, got the room key as usual.
    assertEquals("decrypted", only(bob.sync(router), "m.room_key").get("kind").asText());
  }

  private static ObjectNode only(List<ObjectNode> events, String type) {
    List<ObjectNode> matching =
        events.stream().filter(e -> type.equals(e.path("type").asText())).toList();
    assertEquals(1, matching.size(), "exactly one " + type + " in " + events);
    return matching.get(0);
  }

  @Test
  void decryptFailuresAreClassified() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode event = send(alice, "to be tampered with");

    ObjectNode unknownSession = event.deepCopy();
    ((ObjectNode) unknownSession.get("content"))
        .put("session_id", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    PeerException missing =
        assertThrows(PeerException.class, () -> bob.decryptRoomEvent(ROOM, unknownSession));
    assertEquals("missing_session", missing.kind(), missing.error().toString());

    ObjectNode tampered = event.deepCopy();
    String ciphertext = tampered.path("content").path("ciphertext").asText();
    char flipped = ciphertext.charAt(20) == 'A' ? 'B' : 'A';
    ((ObjectNode) tampered.get("content"))
        .put("ciphertext", ciphertext.substring(0, 20) + flipped + ciphertext.substring(21));
    PeerException bad =
        assertThrows(PeerException.class, () -> bob.decryptRoomEvent(ROOM, tampered));
    assertEquals("unable_to_decrypt", bad.kind(), bad.error().toString());

    ObjectNode otherRoom = event.deepCopy();
    PeerException wrongRoom =
        assertThrows(
            PeerException.class, () -> bob.decryptRoomEvent("!elsewhere:localhost", otherRoom));
    assertEquals("missing_session", wrongRoom.kind(), wrongRoom.error().toString());

    // The untouched event still decrypts: failures changed nothing.
    assertEquals(
        "to be tampered with",
        bob.decryptRoomEvent(ROOM, event).path("content").path("body").asText());
  }

  @Test
  void peerReportsErrorsAndKeepsServing() {
    PeerException unknown = assertThrows(PeerException.class, () -> bob.call("machine.nope"));
    assertEquals("unknown_op", unknown.kind());
    PeerException badRequest =
        assertThrows(
            PeerException.class,
            () -> bob.call("machine.encrypt_room_event", MAPPER.createObjectNode()));
    assertEquals("bad_request", badRequest.kind());
    assertEquals(
        bob.identityKeys().get("curve25519").asText(),
        alice.device(BOB, "BOBDEVICE").get("curve25519").asText());
  }

  @Test
  void crossSigningBootstrapAndVerifiedOwnDeviceGetsForwardedKey() {
    // Bob bootstraps cross-signing; the router validates and stores the keys and signatures.
    List<ObjectNode> bootstrap =
        objects(bob.call("machine.bootstrap_cross_signing").get("requests"));
    for (ObjectNode r : bootstrap) {
      bob.send(router, r);
    }
    ObjectNode status = bob.call("machine.cross_signing_status");
    assertTrue(status.get("has_master").asBoolean() && status.get("has_self_signing").asBoolean());
    bob.pump(router);

    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    ObjectNode event = send(alice, "before Bob's second device");

    // Bob logs in a second device; his first device signs it with the self-signing key.
    RustMachinePeer bob2 = peer(BOB, "BOBSECOND");
    bob2.pump(router);
    bob2.sync(router);
    bob2.updateTrackedUsers(List.of(ALICE, BOB));
    bob2.pump(router);
    bob.sync(router);
    bob.pump(router);
    assertFalse(bob.device(BOB, "BOBSECOND").get("is_verified").asBoolean());
    ObjectNode p = MAPPER.createObjectNode();
    p.put("device_id", "BOBSECOND");
    ObjectNode signature = (ObjectNode) bob.call("machine.verify_own_device", p).get("request");
    ObjectNode response = bob.send(router, signature);
    assertTrue(response.get("failures").isEmpty(), response.toString());
    bob.sync(router);
    bob.pump(router);
    ObjectNode seenByBob = bob.device(BOB, "BOBSECOND");
    assertTrue(seenByBob.get("is_cross_signed_by_owner").asBoolean(), seenByBob.toString());
    assertTrue(seenByBob.get("is_verified").asBoolean(), seenByBob.toString());
    alice.sync(router);
    alice.pump(router);
    assertTrue(alice.device(BOB, "BOBSECOND").get("is_cross_signed_by_owner").asBoolean());

    // The new device cannot read the earlier message and asks its own devices for the key.
    PeerException before =
        assertThrows(PeerException.class, () -> bob2.decryptRoomEvent(ROOM, event));
    assertEquals("missing_session", before.kind());
    bob2.sync(router);
    bob2.pump(router);
    ObjectNode trustBob = MAPPER.createObjectNode();
    trustBob.put("user_id", BOB);
    trustBob.put("device_id", "BOBDEVICE");
    trustBob.put("trust", "verified");
    bob2.call("machine.set_local_trust", trustBob);
    ObjectNode ask = MAPPER.createObjectNode();
    ask.put("room_id", ROOM);
    ask.set("event", event);
    List<ObjectNode> keyRequests =
        objects(bob2.call("machine.request_room_key", ask).get("requests"));
    assertFalse(keyRequests.isEmpty(), "a key request is queued");
    for (ObjectNode r : keyRequests) {
      bob2.send(router, r);
    }
    List<ObjectNode> atBob = bob.sync(router);
    assertTrue(
        atBob.stream().anyMatch(e -> "m.room_key_request".equals(e.path("type").asText())),
        atBob.toString());
    bob.establishSessions(router, List.of(BOB));
    bob.sync(router); // processes the request now that a session exists
    bob.pump(router);
    List<ObjectNode> atBob2 = bob2.sync(router);
    assertTrue(
        atBob2.stream().anyMatch(e -> "m.forwarded_room_key".equals(e.path("type").asText())),
        atBob2.toString());
    assertEquals(
        "before Bob's second device",
        bob2.decryptRoomEvent(ROOM, event).path("content").path("body").asText());
  }

  private static List<ObjectNode> objects(com.fasterxml.jackson.databind.JsonNode array) {
    List<ObjectNode> out = new ArrayList<>();
    array.forEach(n -> out.add((ObjectNode) n));
    return out;
  }
}
