package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.machine.DeviceIdentityConflictException;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, defect 1: a hostile homeserver tries to move verification to its own keys by deleting a
 * verified device from a {@code /keys/query} answer and listing the same device id again with the
 * attacker's keys (or by re-listing it with other keys straight away). A (user, device id) stays
 * bound to the first keys the machine accepted for it: the replacement is refused, is not trusted,
 * gets no room key and no forwarded key, and this holds across a restart. A device that comes back
 * with its own keys is revived with its trust.
 */
class DeviceKeyReplacementAttackTest {
  static final String BOT = "@bot:hs.example";
  static final String BOB = "@bob:hs.example";
  static final String ROOM = "!room:hs.example";

  @TempDir Path dir;

  private JavaMachine bot;
  private final HostileHomeserver server = new HostileHomeserver();

  @AfterEach
  void close() {
    if (bot != null) {
      bot.close();
    }
  }

  private OlmMachine start(JavaMachine machine, FakeDevice... devices) {
    bot = machine;
    for (FakeDevice d : devices) {
      server.list(d);
    }
    OlmMachine m = bot.machine();
    m.updateTrackedUsers(List.of(BOB));
    server.serve(m);
    return m;
  }

  private OlmMachine startInMemory(FakeDevice... devices) {
    return start(JavaMachine.inMemory(BOT, "BOTDEVICE"), devices);
  }

  /** Creates the room's outbound session (our inbound copy is what a key request asks for). */
  private String roomSession(OlmMachine m) {
    for (OutgoingRequest r : m.shareRoomKey(ROOM, List.of(), SharingStrategy.VERIFIED_ONLY)) {
      server.send(m, r);
    }
    ObjectNode content = JsonNodeFactory.instance.objectNode().put("body", "secret history");
    return m.encryptRoomEvent(ROOM, "m.room.message", content).path("session_id").asText();
  }

  /** Shares the room key with Bob's devices, only to verified ones. */
  private void shareWithBob(OlmMachine m) {
    m.getMissingSessions(List.of(BOB)).ifPresent(r -> server.send(m, r));
    for (OutgoingRequest r : m.shareRoomKey(ROOM, List.of(BOB), SharingStrategy.VERIFIED_ONLY)) {
      server.send(m, r);
    }
  }

  private static Optional<DeviceTrust> trustOf(OlmMachine m, String user, FakeDevice d) {
    return m.device(user, d.deviceId)
        .filter(i -> i.keys().ed25519().toBase64().equals(d.ed25519()))
        .map(OlmMachine.DeviceInfo::trust);
  }

  private static void assertNotTrusted(OlmMachine m, String user, FakeDevice attacker) {
    Optional<OlmMachine.DeviceInfo> shown = m.device(user, attacker.deviceId);
    assertTrue(
        shown.isEmpty() || !shown.get().keys().ed25519().toBase64().equals(attacker.ed25519()),
        "the attacker's keys are shown under " + attacker.deviceId + ": " + shown);
  }

  @Test
  void ownVerifiedDeviceOmittedThenRelistedWithAttackerKeys_isNotVerifiedAndGetsNoForwardedKey() {
    FakeDevice real = new FakeDevice(BOT, "BOTOTHER");
    OlmMachine m = startInMemory(real);
    m.setLocalTrust(BOT, real.deviceId, LocalTrust.VERIFIED);
    assertEquals(Optional.of(DeviceTrust.VERIFIED_LOCALLY), trustOf(m, BOT, real));
    String session = roomSession(m);

    server.omit(BOT, real.deviceId);
    server.announceChange(m, BOT);
    FakeDevice attacker = new FakeDevice(BOT, "BOTOTHER");
    server.list(attacker);
    server.announceChange(m, BOT);

    server.deliver(m, HostileHomeserver.keyRequest(attacker, ROOM, session));
    assertFalse(
        server.typesReceivedBy(attacker).contains("m.forwarded_room_key"),
        "the room key was forwarded to the attacker's device");
    assertNotTrusted(m, BOT, attacker);
    assertEquals(1, m.trustCounters().refusedDeviceKeys(), "the refusal is counted");
  }

  @Test
  void otherUsersVerifiedDeviceOmittedThenRelistedWithAttackerKeys_isNotVerifiedAndGetsNoRoomKey() {
    FakeDevice phone = new FakeDevice(BOB, "BOBPHONE");
    OlmMachine m = startInMemory(phone);
    m.setLocalTrust(BOB, phone.deviceId, LocalTrust.VERIFIED);

    server.omit(BOB, phone.deviceId);
    server.announceChange(m, BOB);
    FakeDevice attacker = new FakeDevice(BOB, "BOBPHONE");
    server.list(attacker);
    server.announceChange(m, BOB);

    roomSession(m);
    shareWithBob(m);
    assertFalse(
        server.typesReceivedBy(attacker).contains("m.room_key"),
        "the room key was shared with the attacker's device");
    assertNotTrusted(m, BOB, attacker);
    assertEquals(1, m.trustCounters().refusedDeviceKeys(), "the refusal is counted");
  }

  @Test
  void deviceRelistedWithOtherKeysWhileNeverDeleted_keepsItsKeysAndTrust() {
    FakeDevice phone = new FakeDevice(BOB, "BOBPHONE");
    OlmMachine m = startInMemory(phone);
    m.setLocalTrust(BOB, phone.deviceId, LocalTrust.VERIFIED);

    FakeDevice attacker = new FakeDevice(BOB, "BOBPHONE");
    server.list(attacker);
    server.announceChange(m, BOB);

    assertNotTrusted(m, BOB, attacker);
    assertEquals(Optional.of(DeviceTrust.VERIFIED_LOCALLY), trustOf(m, BOB, phone));
    assertEquals(1, m.trustCounters().refusedDeviceKeys(), "the refusal is counted");
    roomSession(m);
    shareWithBob(m);
    assertFalse(server.typesReceivedBy(attacker).contains("m.room_key"), "key to the attacker");
  }

  @Test
  void ownDeviceIdListedByTheServerWithOtherKeys_isRefused() {
    FakeDevice attacker = new FakeDevice(BOT, "BOTDEVICE");
    server.list(attacker); // listed before our own upload: the server's first answer lies
    // A fresh account checks the server's keys for its device id before uploading its own: other
    // keys there stop the machine (DeviceIdentityConflictException) with nothing uploaded.
    assertThrows(DeviceIdentityConflictException.class, this::startInMemory);
    OlmMachine m = bot.machine();
    assertTrue(m.identityConflict().isPresent(), "the conflict stays known");
    Optional<OlmMachine.DeviceInfo> shown = m.device(BOT, "BOTDEVICE");
    assertTrue(
        shown.isEmpty() || shown.get().keys().ed25519().equals(m.identityKeys().ed25519()),
        "our own device id shows the attacker's keys: " + shown);
  }

  @Test
  void ownDeviceIdRelistedWithOtherKeysAfterOurUpload_neverShowsThem() {
    OlmMachine m = startInMemory();
    server.list(new FakeDevice(BOT, "BOTDEVICE"));
    try {
      server.announceChange(m, BOT);
    } catch (DeviceIdentityConflictException expected) {
      // The running check may stop the machine; either way the keys are never taken.
    }
    Optional<OlmMachine.DeviceInfo> shown = m.device(BOT, "BOTDEVICE");
    assertTrue(
        shown.isEmpty() || shown.get().keys().ed25519().equals(m.identityKeys().ed25519()),
        "our own device id shows the attacker's keys: " + shown);
    assertTrue(
        m.identityConflict().isPresent() || m.trustCounters().refusedDeviceKeys() > 0,
        "the replacement is refused and reported");
  }

  @Test
  void deviceRevivedWithTheSameKeys_keepsItsTrust() {
    FakeDevice real = new FakeDevice(BOT, "BOTOTHER");
    OlmMachine m = startInMemory(real);
    m.setLocalTrust(BOT, real.deviceId, LocalTrust.VERIFIED);
    String session = roomSession(m);

    server.omit(BOT, real.deviceId);
    server.announceChange(m, BOT);
    assertTrue(m.device(BOT, real.deviceId).isEmpty(), "deleted devices are not listed");
    server.list(real);
    server.announceChange(m, BOT);

    assertEquals(Optional.of(DeviceTrust.VERIFIED_LOCALLY), trustOf(m, BOT, real));
    assertEquals(0, m.trustCounters().refusedDeviceKeys(), "nothing refused");
    server.deliver(m, HostileHomeserver.keyRequest(real, ROOM, session));
    assertTrue(
        server.typesReceivedBy(real).contains("m.forwarded_room_key"),
        "the revived verified device gets the key it asked for");
  }

  @Test
  void keyRequestPolicyNone_refusesEvenAVerifiedOwnDevice() {
    FakeDevice real = new FakeDevice(BOT, "BOTOTHER");
    OlmMachine m =
        start(
            JavaMachine.inMemory(
                JavaMachine.config(BOT, "BOTDEVICE")
                    .withKeyRequestPolicy(io.github.mxe2ee.machine.KeyRequestPolicy.NONE)),
            real);
    m.setLocalTrust(BOT, real.deviceId, LocalTrust.VERIFIED);
    String session = roomSession(m);
    server.deliver(m, HostileHomeserver.keyRequest(real, ROOM, session));
    assertFalse(
        server.typesReceivedBy(real).contains("m.forwarded_room_key"),
        "with the policy NONE no device gets a key by request");
    String withheldCode = null;
    for (var sent : server.toDevice) {
      var notice = sent.path("body").path("messages").path(BOT).path(real.deviceId);
      if ("m.room_key.withheld".equals(sent.path("event_type").asText()) && notice.isObject()) {
        withheldCode = notice.path("code").asText();
      }
    }
    assertEquals("m.unauthorised", withheldCode, "the refusal is told with m.unauthorised");
  }

  @Test
  void replacementAfterARestartIsRefused_theTombstoneIsPersistedInSqlite() {
    FakeDevice phone = new FakeDevice(BOB, "BOBPHONE");
    Path file = dir.resolve("bot.sqlite");
    OlmMachine m = start(JavaMachine.sqlite(JavaMachine.config(BOT, "BOTDEVICE"), file), phone);
    m.setLocalTrust(BOB, phone.deviceId, LocalTrust.VERIFIED);
    server.omit(BOB, phone.deviceId);
    server.announceChange(m, BOB);

    bot.reopen();
    m = bot.machine();
    FakeDevice attacker = new FakeDevice(BOB, "BOBPHONE");
    server.list(attacker);
    server.announceChange(m, BOB);
    assertNotTrusted(m, BOB, attacker);
    assertEquals(1, m.trustCounters().refusedDeviceKeys(), "the refusal is counted");

    bot.reopen();
    m = bot.machine();
    assertNotTrusted(m, BOB, attacker);
    roomSession(m);
    shareWithBob(m);
    assertFalse(server.typesReceivedBy(attacker).contains("m.room_key"), "key to the attacker");
  }
}
