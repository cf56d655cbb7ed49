package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.attachment.AttachmentCipher;
import io.github.mxe2ee.attachment.EncryptedAttachment;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.testing.InMemoryRouter;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * MSC4268 room key bundles between Java machines (issue 14): the happy path with its guarantees
 * (forwarder, late-key path, withheld reasons, persistence), and one test per bad bundle, each
 * rejected with a logged reason (ids only) and importing nothing. Alice, Bob and Carol have
 * cross-signing identities; Dave has none.
 */
class EngineRoomKeyBundlesTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final String ALICE = "@alice:localhost";
  static final String BOB = "@bob:localhost";
  static final String CAROL = "@carol:localhost";
  static final String DAVE = "@dave:localhost";
  static final String ROOM = "!room:localhost";
  static final String ROOM2 = "!other:localhost";
  static final String MXC = "mxc://localhost/bundle";

  final MutableClock clock = new MutableClock(1_700_000_000_000L);
  final List<JavaMachine> machines = new ArrayList<>();
  final List<String> logs = new ArrayList<>();
  final Logger logger = Logger.getLogger(RoomKeyBundles.class.getName());
  final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          String m = r.getMessage();
          Object[] p = r.getParameters();
          logs.add(p == null ? m : java.text.MessageFormat.format(m, p));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  InMemoryRouter router;
  JavaMachine alice;
  JavaMachine bob;
  JavaMachine carol;
  JavaMachine dave;

  @BeforeEach
  void connect() {
    logger.addHandler(capture);
    router = new InMemoryRouter(clock);
    alice = machine(ALICE, "ALICEDEVICE");
    bob = machine(BOB, "BOBDEVICE");
    carol = machine(CAROL, "CAROLDEVICE");
    dave = machine(DAVE, "DAVEDEVICE");
    for (JavaMachine m : machines) {
      m.pump(router);
      if (m != dave) {
        m.bootstrapCrossSigning(router);
      }
    }
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM2, ALICE);
    List<String> all = List.of(ALICE, BOB, CAROL, DAVE);
    for (JavaMachine m : machines) {
      m.sync(router);
      m.updateTrackedUsers(all);
      m.pump(router);
    }
  }

  @AfterEach
  void closeAll() {
    logger.removeHandler(capture);
    machines.forEach(JavaMachine::close);
  }

  JavaMachine machine(String user, String device) {
    router.registerDevice(user, device);
    JavaMachine m = JavaMachine.inMemory(JavaMachine.config(user, device).withClock(clock));
    machines.add(m);
    return m;
  }

  ObjectNode send(JavaMachine from, String room, String body) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("msgtype", "m.text");
    c.put("body", body);
    return router.sendRoomEvent(
        from.userId(),
        from.deviceId(),
        room,
        "m.room.encrypted",
        from.encryptRoomEvent(room, "m.room.message", c));
  }

  /** Alice writes in {@code room} with history visibility {@code visibility}. */
  ObjectNode write(String room, String visibility, String body) {
    ObjectNode s = MAPPER.createObjectNode();
    s.put("history_visibility", visibility);
    alice.shareRoomKey(router, room, List.of(ALICE), s);
    return send(alice, room, body);
  }

  /**
   * {@code from} announces to Bob, for {@code room}, a bundle whose plaintext is {@code json}; Bob
   * syncs. Returns the ciphertext "uploaded".
   */
  byte[] announce(JavaMachine from, String room, byte[] json) {
    EncryptedAttachment a = AttachmentCipher.encrypt(json, new SecureRandom());
    from.establishSessions(router, List.of(BOB));
    RoomKeyBundleShare share = from.machine().shareRoomKeyBundle(room, BOB, a.file().withUrl(MXC));
    assertEquals(List.of("BOBDEVICE"), share.devices(), share.toString());
    share.requests().forEach(r -> from.send(router, r));
    bob.sync(router);
    return a.ciphertext();
  }

  byte[] aliceBundle(String room) {
    return alice.machine().buildRoomKeyBundle(room).json();
  }

  /** Asserts a rejection for {@code reason}, logged, and that Bob can still not decrypt. */
  void rejected(
      RoomKeyBundleImport result, RoomKeyBundleImport.Reason reason, ObjectNode... events) {
    RoomKeyBundleImport.Rejected r =
        assertInstanceOf(RoomKeyBundleImport.Rejected.class, result, result.toString());
    assertEquals(reason, r.reason(), r.message());
    assertTrue(
        logs.stream().anyMatch(l -> l.contains("rejected (" + reason + ")")), logs.toString());
    assertTrue(bob.machine().takeAvailableSessions().isEmpty(), "nothing imported");
    for (ObjectNode e : events) {
      assertInstanceOf(DecryptionResult.UnableToDecrypt.class, bob.decrypt(ROOM, e));
    }
    noKeyMaterialLogged();
  }

  void noKeyMaterialLogged() {
    for (JavaMachine m : List.of(alice)) {
      for (var key : m.machine().exportRoomKeys(r -> true)) {
        String sessionKey = key.toJson().path("session_key").asText();
        logs.forEach(l -> assertFalse(l.contains(sessionKey.substring(0, 20)), l));
      }
    }
    logs.forEach(l -> assertFalse(l.contains("\"k\""), l));
  }

  // ---------------------------------------------------------------- happy path

  @Test
  void bundleFromACrossSignedInviterImportsTheRoomsSharedHistory() {
    ObjectNode shared = write(ROOM, "shared", "before bob");
    ObjectNode hidden = write(ROOM, "joined", "members only");
    RoomKeyBundle bundle = alice.machine().buildRoomKeyBundle(ROOM);
    assertEquals(1, bundle.sharedSessions());
    assertEquals(1, bundle.withheldSessions());
    assertFalse(bundle.toString().contains("session_key"));
    byte[] ct = announce(alice, ROOM, bundle.json());

    ReceivedRoomKeyBundle announced = bob.machine().receivedRoomKeyBundle(ROOM, ALICE).get();
    assertEquals("ALICEDEVICE", announced.senderDeviceId());
    assertFalse(announced.toString().contains(announced.file().toJson().path("key").toString()));
    bob.reopen(); // the announcement survives a restart
    RoomKeyBundleImport.Imported ok =
        assertInstanceOf(
            RoomKeyBundleImport.Imported.class, bob.machine().importRoomKeyBundle(ROOM, ALICE, ct));
    assertEquals(1, ok.imported());
    assertEquals(1, ok.withheld());
    assertTrue(
        bob.machine()
            .takeAvailableSessions()
            .covers(ROOM, null, shared.path("content").path("session_id").asText()));
    DecryptionResult.Decrypted d =
        assertInstanceOf(DecryptionResult.Decrypted.class, bob.decrypt(ROOM, shared));
    assertEquals("before bob", d.content().path("body").asText());
    assertEquals(ALICE, d.forwarder());
    assertEquals("ALICEDEVICE", d.forwarderDevice());
    assertFalse(d.authenticated());
    DecryptionResult.UnableToDecrypt u =
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, bob.decrypt(ROOM, hidden));
    assertEquals("m.history_not_shared", u.withheldCode());
    assertTrue(bob.machine().receivedRoomKeyBundle(ROOM, ALICE).isEmpty());
    // Imported keys are shareable history themselves: Bob can pass them on.
    assertEquals(1, bob.machine().buildRoomKeyBundle(ROOM).sharedSessions());
    noKeyMaterialLogged();
  }

  @Test
  void forwarderIsNotShownOnceTheSendersOwnKeyArrives() {
    ObjectNode shared = write(ROOM, "shared", "before bob");
    byte[] ct = announce(alice, ROOM, aliceBundle(ROOM));
    bob.machine().importRoomKeyBundle(ROOM, ALICE, ct);
    router.joinRoom(ROOM, BOB);
    bob.sync(router);
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), null);
    bob.sync(router);
    DecryptionResult.Decrypted d =
        assertInstanceOf(DecryptionResult.Decrypted.class, bob.decrypt(ROOM, shared));
    assertTrue(d.authenticated(), "Alice's m.room_key upgraded the copy");
    assertNull(d.forwarder());
  }

  @Test
  void anotherUsersAnnouncementDoesNotReplaceTheInviters() {
    write(ROOM, "shared", "x");
    byte[] ct = announce(alice, ROOM, aliceBundle(ROOM));
    announce(carol, ROOM, "{}".getBytes(StandardCharsets.UTF_8));
    assertEquals(2, bob.machine().receivedRoomKeyBundles().size());
    assertInstanceOf(
        RoomKeyBundleImport.Imported.class, bob.machine().importRoomKeyBundle(ROOM, ALICE, ct));
  }

  @Test
  void buildNeverListsASessionInBothLists() {
    write(ROOM, "shared", "a");
    write(ROOM, "joined", "b");
    write(ROOM, "world_readable", "c");
    write(ROOM, "invited", "d");
    ObjectNode json = (ObjectNode) readTree(aliceBundle(ROOM));
    List<String> keys = new ArrayList<>();
    json.get("room_keys").forEach(e -> keys.add(e.path("session_id").asText()));
    List<String> withheld = new ArrayList<>();
    json.get("withheld").forEach(e -> withheld.add(e.path("session_id").asText()));
    assertEquals(2, keys.size());
    assertEquals(2, withheld.size());
    assertTrue(keys.stream().noneMatch(withheld::contains));
    json.get("room_keys").forEach(e -> assertFalse(e.has("forwarding_curve25519_key_chain")));
    json.get("withheld")
        .forEach(e -> assertEquals("m.history_not_shared", e.path("code").asText()));
  }

  // ---------------------------------------------------------------- bad bundles

  @Test
  void wrongHashIsRejected() {
    ObjectNode e = write(ROOM, "shared", "x");
    byte[] ct = announce(alice, ROOM, aliceBundle(ROOM));
    ct[ct.length / 2] ^= 1;
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, ct),
        RoomKeyBundleImport.Reason.HASH_MISMATCH,
        e);
    assertTrue(bob.machine().receivedRoomKeyBundle(ROOM, ALICE).isEmpty(), "discarded");
  }

  @Test
  void bundleOfAnotherRoomIsRejected() {
    ObjectNode e = write(ROOM2, "shared", "x");
    // Announced for ROOM, but it is ROOM2's genuine bundle.
    byte[] ct = announce(alice, ROOM, aliceBundle(ROOM2));
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, ct), RoomKeyBundleImport.Reason.OTHER_ROOM);
    assertInstanceOf(DecryptionResult.UnableToDecrypt.class, bob.decrypt(ROOM2, e));
  }

  @Test
  void announcementIsNotUsedForAnotherRoom() {
    write(ROOM2, "shared", "x");
    byte[] ct = announce(alice, ROOM, aliceBundle(ROOM2));
    rejected(
        bob.machine().importRoomKeyBundle(ROOM2, ALICE, ct),
        RoomKeyBundleImport.Reason.NO_BUNDLE_FROM_INVITER);
  }

  @Test
  void sessionsForAnotherRoomInsideAreRejectedAndNothingIsImported() {
    ObjectNode e = write(ROOM, "shared", "x");
    write(ROOM2, "shared", "y");
    ObjectNode mixed = (ObjectNode) readTree(aliceBundle(ROOM));
    ArrayNode keys = (ArrayNode) mixed.get("room_keys");
    keys.add(readTree(aliceBundle(ROOM2)).get("room_keys").get(0));
    byte[] ct = announce(alice, ROOM, mixed.toString().getBytes(StandardCharsets.UTF_8));
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, ct),
        RoomKeyBundleImport.Reason.OTHER_ROOM,
        e);
  }

  @Test
  void malformedJsonIsRejected() {
    ObjectNode e = write(ROOM, "shared", "x");
    String good = new String(aliceBundle(ROOM), StandardCharsets.UTF_8);
    byte[] ct = announce(alice, ROOM, good.substring(0, good.length() - 3).getBytes());
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, ct),
        RoomKeyBundleImport.Reason.MALFORMED,
        e);
  }

  @Test
  void sessionInBothListsIsRejected() {
    ObjectNode e = write(ROOM, "shared", "x");
    ObjectNode json = (ObjectNode) readTree(aliceBundle(ROOM));
    ObjectNode w = ((ArrayNode) json.get("withheld")).addObject();
    w.put("room_id", ROOM);
    w.put("session_id", json.get("room_keys").get(0).path("session_id").asText());
    w.put("sender_key", json.get("room_keys").get(0).path("sender_key").asText());
    w.put("code", "m.history_not_shared");
    byte[] ct = announce(alice, ROOM, json.toString().getBytes(StandardCharsets.UTF_8));
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, ct),
        RoomKeyBundleImport.Reason.MALFORMED,
        e);
  }

  @Test
  void oversizedBundleIsRejected() {
    ObjectNode e = write(ROOM, "shared", "x");
    announce(alice, ROOM, aliceBundle(ROOM));
    byte[] big = new byte[(int) ReceivedRoomKeyBundle.MAX_BUNDLE_BYTES + 1];
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, big),
        RoomKeyBundleImport.Reason.TOO_LARGE,
        e);
  }

  @Test
  void bundleFromSomeoneOtherThanTheInviterIsNotUsed() {
    ObjectNode e = write(ROOM, "shared", "x");
    // Carol (cross-signed, but not the inviter) sends Alice's bundle: Bob was invited by Alice.
    byte[] ct = announce(carol, ROOM, aliceBundle(ROOM));
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, ALICE, ct),
        RoomKeyBundleImport.Reason.NO_BUNDLE_FROM_INVITER,
        e);
    assertTrue(bob.machine().receivedRoomKeyBundle(ROOM, CAROL).isPresent());
  }

  @Test
  void inviterWithoutCrossSigningIsRejectedAndTheAnnouncementKept() {
    ObjectNode e = write(ROOM, "shared", "x");
    byte[] ct = announce(dave, ROOM, aliceBundle(ROOM));
    rejected(
        bob.machine().importRoomKeyBundle(ROOM, DAVE, ct),
        RoomKeyBundleImport.Reason.INVITER_NOT_CROSS_SIGNED,
        e);
    assertTrue(bob.machine().receivedRoomKeyBundle(ROOM, DAVE).isPresent(), "kept for a retry");
  }

  /** Bound: one sender's flood of announcements drops its own oldest, never another's. */
  @Test
  void oneSendersFloodOfAnnouncementsDropsOnlyItsOwnOldest() {
    write(ROOM, "shared", "x");
    byte[] ct = announce(alice, ROOM, aliceBundle(ROOM));
    for (int i = 0; i < RoomKeyBundles.MAX_PENDING_PER_SENDER + 5; i++) {
      clock.advanceMillis(1);
      announce(carol, "!flood" + i + ":localhost", "{}".getBytes(StandardCharsets.UTF_8));
    }
    List<ReceivedRoomKeyBundle> kept = bob.machine().receivedRoomKeyBundles();
    assertEquals(RoomKeyBundles.MAX_PENDING_PER_SENDER + 1, kept.size());
    assertTrue(bob.machine().receivedRoomKeyBundle("!flood0:localhost", CAROL).isEmpty());
    assertTrue(
        bob.machine()
            .receivedRoomKeyBundle(
                "!flood" + (RoomKeyBundles.MAX_PENDING_PER_SENDER + 4) + ":localhost", CAROL)
            .isPresent());
    assertInstanceOf(
        RoomKeyBundleImport.Imported.class, bob.machine().importRoomKeyBundle(ROOM, ALICE, ct));
  }

  /** A raw device's Olm-encrypted bundle announcement to Bob, as {@code type}. */
  private void rawAnnouncement(String type, boolean withDeviceKeys) {
    RawDevice raw = new RawDevice(router, "@raw:localhost", "RAWDEVICE");
    bob.updateTrackedUsers(List.of("@raw:localhost"));
    bob.pump(router);
    var bobKeys = bob.machine().deviceKeys();
    Curve25519PublicKey bobCurve = bobKeys.curve25519();
    Session s = raw.claimSession(router, BOB, "BOBDEVICE", bobCurve);
    EncryptedAttachment a = AttachmentCipher.encrypt(new byte[] {'{', '}'}, new SecureRandom());
    ObjectNode content = MAPPER.createObjectNode();
    content.put("room_id", ROOM);
    content.set("file", a.file().withUrl(MXC).toJson());
    ObjectNode payload = raw.payload(type, content, BOB, bobKeys.ed25519());
    if (!withDeviceKeys) {
      payload.remove("sender_device_keys");
    }
    raw.send(router, s, BOB, "BOBDEVICE", bobCurve, payload);
    bob.sync(router);
  }

  @Test
  void announcementWithoutSenderDeviceKeysIsIgnored() {
    rawAnnouncement("m.room_key_bundle", false);
    assertTrue(bob.machine().receivedRoomKeyBundles().isEmpty());
    assertTrue(logs.stream().anyMatch(l -> l.contains("no sender_device_keys")), logs.toString());
  }

  /** MSC4268's unstable event type (older Element) is read as the stable one. */
  @Test
  void unstableAnnouncementTypeIsAccepted() {
    rawAnnouncement("io.element.msc4268.room_key_bundle", true);
    assertTrue(bob.machine().receivedRoomKeyBundle(ROOM, "@raw:localhost").isPresent());
  }

  @Test
  void unstableHistoryNotSharedCodeIsStoredAsTheStableCode() throws Exception {
    String json =
        "{\"withheld\":[{\"room_id\":\"!r:x\",\"session_id\":\"S\",\"sender_key\":\"K\","
            + "\"code\":\"io.element.msc4268.history_not_shared\"}]}";
    RoomKeyBundles.ParsedBundle p =
        RoomKeyBundles.parse(json.getBytes(StandardCharsets.UTF_8), "!r:x");
    assertEquals("m.history_not_shared", p.withheld().get(0).code());
  }

  @Test
  void bundleEventShownToTheCallerCarriesNoFileKey() {
    write(ROOM, "shared", "x");
    EncryptedAttachment a = AttachmentCipher.encrypt(aliceBundle(ROOM), new SecureRandom());
    alice.establishSessions(router, List.of(BOB));
    alice
        .machine()
        .shareRoomKeyBundle(ROOM, BOB, a.file().withUrl(MXC))
        .requests()
        .forEach(r -> alice.send(router, r));
    List<ObjectNode> seen = bob.sync(router);
    ObjectNode ev =
        seen.stream()
            .filter(x -> "m.room_key_bundle".equals(x.path("type").asText()))
            .findFirst()
            .orElseThrow();
    assertEquals(ROOM, ev.path("content").path("room_id").asText());
    assertFalse(ev.path("content").has("file"));
    assertArrayEquals(
        a.file().sha256(), bob.machine().receivedRoomKeyBundle(ROOM, ALICE).get().file().sha256());
  }

  @Test
  void invitesDevicesNotCrossSignedByTheirOwnerGetNothing() {
    write(ROOM, "shared", "x");
    EncryptedAttachment a = AttachmentCipher.encrypt(aliceBundle(ROOM), new SecureRandom());
    alice.establishSessions(router, List.of(DAVE));
    RoomKeyBundleShare share =
        alice.machine().shareRoomKeyBundle(ROOM, DAVE, a.file().withUrl(MXC));
    assertTrue(share.requests().isEmpty());
    assertEquals("m.unverified", share.skipped().get("DAVEDEVICE"));
  }

  private static com.fasterxml.jackson.databind.JsonNode readTree(byte[] b) {
    try {
      return MAPPER.readTree(b);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
