package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.OlmPayload;
import io.github.mxe2ee.machine.RoomKeyImportResult;
import io.github.mxe2ee.megolm.ExportedSessionKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.testing.InMemoryRouter;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, defect 2: a Megolm session is bound to its room, its sender's Curve25519 key and its
 * ratchet. Bob runs the real {@link io.github.mxe2ee.machine.OlmMachine} on SQLite; Alice (whom Bob
 * verified) and Mallory are devices built from mxe2ee's Olm and Megolm primitives, so that Mallory
 * can send what a well-behaved machine never would, and a hostile homeserver can deliver room
 * events with any {@code sender}.
 */
class ForgedAuthenticityAttackTest {
  private static final String ALICE = "@alice:localhost";
  private static final String BOB = "@bob:localhost";
  private static final String MALLORY = "@mallory:localhost";
  private static final String ROOM = "!real:localhost";
  private static final String OTHER_ROOM = "!other:localhost";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final AtomicLong EVENTS = new AtomicLong();

  @TempDir Path dir;

  private InMemoryRouter router;
  private JavaMachine bob;
  private Peer alice;
  private Peer mallory;

  @BeforeEach
  void setUp() {
    router = new InMemoryRouter();
    router.registerDevice(BOB, "BOBDEVICE");
    bob = JavaMachine.sqlite(JavaMachine.config(BOB, "BOBDEVICE"), dir.resolve("bob.db"));
    bob.pump(router);
    alice = new Peer(router, ALICE, "ALICEDEVICE");
    mallory = new Peer(router, MALLORY, "MALLORYDEVICE");
    bob.updateTrackedUsers(List.of(ALICE, MALLORY));
    bob.pump(router);
    bob.machine().setLocalTrust(ALICE, "ALICEDEVICE", LocalTrust.VERIFIED);
  }

  @AfterEach
  void tearDown() {
    bob.close();
  }

  @Test
  void importedSessionThenRoomKeyForAnotherRoom_forgedEventsStayUnauthenticated() {
    // Mallory makes her own session and has the server write it into a key file / backup entry
    // that claims Alice's keys, for the real room: imported, correctly, as unauthenticated.
    OutboundGroupSession forged = OutboundGroupSession.create(RANDOM);
    ExportedRoomKey claim = exported(ROOM, alice, forged);
    assertEquals(new RoomKeyImportResult(1, 1), bob.machine().importRoomKeys(List.of(claim)));
    // Then any user who can claim a one-time key sends the same session id for another room.
    mallory.sendRoomKey(router, bob, OTHER_ROOM, forged);
    bob.sync(router);

    assertForgedShowsUnauthenticated(forged, "after the m.room_key for another room");
    bob.reopen();
    assertForgedShowsUnauthenticated(forged, "after a restart");
  }

  @Test
  void importedSessionFromABackupEntry_thenRoomKeyForAnotherRoom_staysUnauthenticated() {
    OutboundGroupSession forged = OutboundGroupSession.create(RANDOM);
    // The same, through a key backup the hostile server wrote (anyone can encrypt to its key).
    io.github.mxe2ee.backup.BackupDecryptionKey backupKey =
        io.github.mxe2ee.backup.BackupDecryptionKey.generate(RANDOM);
    ObjectNode entry = exported(ROOM, alice, forged).toJson();
    entry.remove("room_id");
    entry.remove("session_id");
    ObjectNode data = JsonNodeFactory.instance.objectNode();
    data.put("first_message_index", 0);
    data.put("forwarded_count", 0);
    data.put("is_verified", true);
    data.set(
        "session_data",
        backupKey
            .encryptionKey()
            .encrypt(entry.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), RANDOM)
            .toJson());
    ObjectNode response = JsonNodeFactory.instance.objectNode();
    response.putObject("rooms").putObject(ROOM).putObject("sessions").set(forged.sessionId(), data);
    assertEquals(
        new RoomKeyImportResult(1, 1), bob.machine().importBackedUpRoomKeys(backupKey, response));
    mallory.sendRoomKey(router, bob, OTHER_ROOM, forged);
    bob.sync(router);

    assertForgedShowsUnauthenticated(forged, "after the m.room_key for another room");
    bob.reopen();
    assertForgedShowsUnauthenticated(forged, "after a restart");
  }

  private void assertForgedShowsUnauthenticated(OutboundGroupSession forged, String when) {
    for (boolean withSenderKey : new boolean[] {true, false}) {
      DecryptionResult.Decrypted d =
          decrypted(ROOM, event(ROOM, alice, forged, "forged " + when, withSenderKey));
      assertFalse(d.authenticated(), "forged event authenticated " + when);
      assertNotEquals(DeviceTrust.VERIFIED_LOCALLY, d.trust(), "impersonated trust " + when);
      assertEquals(DeviceTrust.UNAUTHENTICATED, d.trust(), when);
    }
  }

  @Test
  void tamperedCopyImportedUnderAnotherRoom_doesNotBreakTheRealRoom() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    ExportedRoomKey genuine = exported(OTHER_ROOM, alice, real);
    alice.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "one", true)));

    byte[] bytes = genuine.sessionKey().toBytes();
    bytes[5 + 17] ^= 1; // a byte of the ratchet (after version and index)
    ExportedRoomKey tampered =
        ExportedRoomKey.of(
            OTHER_ROOM,
            alice.curve(),
            alice.account.ed25519Key(),
            List.of(),
            ExportedSessionKey.fromBytes(bytes),
            false);
    assertEquals(new RoomKeyImportResult(1, 1), bob.machine().importRoomKeys(List.of(tampered)));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "two", true)));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "three", false)));

    // The same tampered ratchet for the real room is a different session under the same id:
    // refused, and the real copy keeps working.
    ExportedRoomKey tamperedHere =
        ExportedRoomKey.of(
            ROOM,
            alice.curve(),
            alice.account.ed25519Key(),
            List.of(),
            ExportedSessionKey.fromBytes(bytes),
            false);
    assertEquals(
        new RoomKeyImportResult(1, 0), bob.machine().importRoomKeys(List.of(tamperedHere)));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "four", true)));

    bob.reopen();
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "five", true)));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "six", false)));
  }

  @Test
  void roomKeyFromAnotherDevice_doesNotUpgradeTheImportedCopy() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    bob.machine().importRoomKeys(List.of(exported(ROOM, alice, real)));
    // Mallory, a room member, received Alice's key and re-sends it over her own Olm channel.
    mallory.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    for (boolean withSenderKey : new boolean[] {true, false}) {
      DecryptionResult.Decrypted d =
          decrypted(ROOM, event(ROOM, alice, real, "from alice", withSenderKey));
      assertFalse(d.authenticated());
      assertEquals(DeviceTrust.UNAUTHENTICATED, d.trust());
      assertEquals("ALICEDEVICE", d.senderDeviceId());
    }
    bob.reopen();
    DecryptionResult.Decrypted d = decrypted(ROOM, event(ROOM, alice, real, "again", false));
    assertFalse(d.authenticated());
    assertEquals(DeviceTrust.UNAUTHENTICATED, d.trust());
  }

  @Test
  void roomKeyFromAnotherDeviceFirst_doesNotBlockTheRealSendersKey() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    mallory.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    alice.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "one", true)));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "two", false)));
    bob.reopen();
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "three", false)));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "four", true)));
  }

  @Test
  void realRoomKeyAfterAnImport_upgradesTheSameRatchet() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    bob.machine().importRoomKeys(List.of(exported(ROOM, alice, real)));
    ObjectNode first = event(ROOM, alice, real, "zero", true);
    DecryptionResult.Decrypted before = decrypted(ROOM, first);
    assertFalse(before.authenticated());
    assertEquals(DeviceTrust.UNAUTHENTICATED, before.trust());

    // Alice's own m.room_key arrives later, at a later index: the same ratchet, so the imported
    // copy (which reaches further back) is kept and becomes authenticated.
    alice.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "one", true)));
    assertAuthenticatedFromAlice(decrypted(ROOM, first));
    bob.reopen();
    assertAuthenticatedFromAlice(decrypted(ROOM, first));
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "two", false)));
  }

  @Test
  void realRoomKeyAtTheSameIndex_upgradesTheImport() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    bob.machine().importRoomKeys(List.of(exported(ROOM, alice, real)));
    alice.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "one", true)));
  }

  @Test
  void squattingImportWithAnotherRatchet_isReplacedByTheRealRoomKey() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    byte[] bytes = exported(ROOM, alice, real).sessionKey().toBytes();
    bytes[5] ^= 1;
    ExportedRoomKey squat =
        ExportedRoomKey.of(
            ROOM,
            alice.curve(),
            alice.account.ed25519Key(),
            List.of(),
            ExportedSessionKey.fromBytes(bytes),
            false);
    assertEquals(new RoomKeyImportResult(1, 1), bob.machine().importRoomKeys(List.of(squat)));
    alice.sendRoomKey(router, bob, ROOM, real);
    bob.sync(router);
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "one", true)));
    bob.reopen();
    assertAuthenticatedFromAlice(decrypted(ROOM, event(ROOM, alice, real, "two", false)));
  }

  @Test
  void anotherUsersWithheldNotice_doesNotApplyToTheRealSendersSession() {
    OutboundGroupSession real = OutboundGroupSession.create(RANDOM);
    // Mallory (a known device of hers) says she withholds Alice's session id, naming her own key.
    ObjectNode notice = JsonNodeFactory.instance.objectNode();
    notice.put("algorithm", "m.megolm.v1.aes-sha2");
    notice.put("room_id", ROOM);
    notice.put("session_id", real.sessionId());
    notice.put("sender_key", mallory.curve().toBase64());
    notice.put("from_device", mallory.deviceId);
    notice.put("code", "m.blacklisted");
    ObjectNode messages = JsonNodeFactory.instance.objectNode();
    messages.putObject("messages").putObject(BOB).set("BOBDEVICE", notice);
    router.sendToDevice(MALLORY, mallory.deviceId, "m.room_key.withheld", "w1", messages);
    bob.sync(router);
    for (boolean withSenderKey : new boolean[] {true, false}) {
      DecryptionResult.UnableToDecrypt u =
          assertInstanceOf(
              DecryptionResult.UnableToDecrypt.class,
              bob.machine()
                  .decryptRoomEvent(ROOM, event(ROOM, alice, real, "secret", withSenderKey)));
      assertEquals(
          io.github.mxe2ee.machine.DecryptionFailure.MISSING_SESSION,
          u.reason(),
          "Mallory's notice is not Alice's");
    }
    // Her notice still explains her own events.
    DecryptionResult.UnableToDecrypt own =
        assertInstanceOf(
            DecryptionResult.UnableToDecrypt.class,
            bob.machine().decryptRoomEvent(ROOM, event(ROOM, mallory, real, "hers", false)));
    assertEquals(io.github.mxe2ee.machine.DecryptionFailure.WITHHELD, own.reason());
  }

  // ------------------------------------------------------------------ helpers

  private static void assertAuthenticatedFromAlice(DecryptionResult.Decrypted d) {
    assertTrue(d.authenticated(), "from Alice's own device over Olm");
    assertEquals(DeviceTrust.VERIFIED_LOCALLY, d.trust());
    assertEquals("ALICEDEVICE", d.senderDeviceId());
  }

  private DecryptionResult.Decrypted decrypted(String roomId, ObjectNode event) {
    return assertInstanceOf(
        DecryptionResult.Decrypted.class, bob.machine().decryptRoomEvent(roomId, event));
  }

  /** A key-file entry for {@code session} that claims {@code owner}'s keys. */
  private static ExportedRoomKey exported(String roomId, Peer owner, OutboundGroupSession session) {
    return ExportedRoomKey.of(
        roomId,
        owner.curve(),
        owner.account.ed25519Key(),
        List.of(),
        InboundGroupSession.fromSessionKey(session.sessionKey()).exportAtFirstKnownIndex(),
        false);
  }

  /**
   * A room event encrypted with {@code session} as the homeserver delivers it, naming {@code
   * claimed} as sender (a hostile server can name anyone).
   */
  private static ObjectNode event(
      String roomId,
      Peer claimed,
      OutboundGroupSession session,
      String body,
      boolean withSenderKey) {
    ObjectNode plain = JsonNodeFactory.instance.objectNode();
    plain.put("type", "m.room.message");
    plain.putObject("content").put("msgtype", "m.text").put("body", body);
    plain.put("room_id", roomId);
    ObjectNode content = JsonNodeFactory.instance.objectNode();
    content.put("algorithm", "m.megolm.v1.aes-sha2");
    if (withSenderKey) {
      content.put("sender_key", claimed.curve().toBase64());
      content.put("device_id", claimed.deviceId);
    }
    content.put("ciphertext", session.encrypt(plain.toString()).toBase64());
    content.put("session_id", session.sessionId());
    ObjectNode event = JsonNodeFactory.instance.objectNode();
    event.put("event_id", "$forged" + EVENTS.incrementAndGet() + ":localhost");
    event.put("sender", claimed.userId);
    event.put("room_id", roomId);
    event.put("type", "m.room.encrypted");
    event.put("origin_server_ts", 1_700_000_000_000L + EVENTS.get());
    event.set("content", content);
    return event;
  }

  /** A device made of mxe2ee's Olm primitives, its signed keys uploaded to the router. */
  private static final class Peer {
    private static final AtomicLong TXN = new AtomicLong();
    final String userId;
    final String deviceId;
    final Account account = Account.create();
    final DeviceKeys keys;

    Peer(InMemoryRouter router, String userId, String deviceId) {
      this.userId = userId;
      this.deviceId = deviceId;
      router.registerDevice(userId, deviceId);
      ObjectNode json = JsonNodeFactory.instance.objectNode();
      json.put("user_id", userId).put("device_id", deviceId);
      json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
      json.putObject("keys")
          .put("curve25519:" + deviceId, account.curve25519Key().toBase64())
          .put("ed25519:" + deviceId, account.ed25519Key().toBase64());
      String sig = account.sign(JsonSigning.signedBytes(json)).toBase64();
      json.putObject("signatures").putObject(userId).put("ed25519:" + deviceId, sig);
      keys = DeviceKeys.parse(json);
      ObjectNode upload = JsonNodeFactory.instance.objectNode();
      upload.set("device_keys", json);
      router.keysUpload(userId, deviceId, upload);
    }

    Curve25519PublicKey curve() {
      return account.curve25519Key();
    }

    /**
     * Sends {@code m.room_key} for {@code session} (at its current index) over a new Olm session.
     */
    void sendRoomKey(
        InMemoryRouter router, JavaMachine to, String roomId, OutboundGroupSession session) {
      ObjectNode roomKey = JsonNodeFactory.instance.objectNode();
      roomKey.put("algorithm", "m.megolm.v1.aes-sha2");
      roomKey.put("room_id", roomId);
      roomKey.put("session_id", session.sessionId());
      roomKey.put("session_key", session.sessionKey().toBase64());
      Curve25519PublicKey toCurve = to.machine().identityKeys().curve25519();
      ObjectNode claim = JsonNodeFactory.instance.objectNode();
      claim
          .putObject("one_time_keys")
          .putObject(to.userId())
          .put(to.deviceId(), "signed_curve25519");
      JsonNode otk =
          router
              .keysClaim(userId, deviceId, claim)
              .path("one_time_keys")
              .path(to.userId())
              .path(to.deviceId())
              .elements()
              .next();
      Session olm =
          account.createOutboundSession(
              toCurve, Curve25519PublicKey.fromBase64(otk.path("key").asText()));
      ObjectNode payload =
          OlmPayload.build(
              "m.room_key",
              roomKey,
              userId,
              keys,
              to.userId(),
              to.machine().identityKeys().ed25519());
      var message = olm.encrypt(payload.toString());
      ObjectNode content = JsonNodeFactory.instance.objectNode();
      content.put("algorithm", "m.olm.v1.curve25519-aes-sha2");
      content.put("sender_key", curve().toBase64());
      ObjectNode c = content.putObject("ciphertext").putObject(toCurve.toBase64());
      c.put("type", message.type().wireType());
      c.put("body", message.toBase64());
      ObjectNode messages = JsonNodeFactory.instance.objectNode();
      messages.putObject("messages").putObject(to.userId()).set(to.deviceId(), content);
      router.sendToDevice(
          userId, deviceId, "m.room.encrypted", "peer-" + TXN.incrementAndGet(), messages);
    }
  }
}
