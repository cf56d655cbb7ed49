package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.testing.JavaMachine;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, defect 1, for cross-signing identities: a hostile homeserver replaces a user's master
 * key (with a valid chain it made itself). That is an identity change: every trust derived from the
 * old identity is dropped (devices signed by the old self-signing key are no longer cross-signed;
 * for our own user, holding the old private master key no longer verifies anything), it is counted,
 * and no device becomes trusted for key requests through the new identity.
 */
class MasterKeyReplacementAttackTest {
  static final String BOT = "@bot:hs.example";
  static final String BOB = "@bob:hs.example";
  static final String ROOM = "!room:hs.example";
  static final SecureRandom RANDOM = new SecureRandom();

  private JavaMachine bot;
  private final HostileHomeserver server = new HostileHomeserver();

  @AfterEach
  void close() {
    if (bot != null) {
      bot.close();
    }
  }

  /** A cross-signing identity with its private keys, as the attacker (or an honest user) has. */
  record Identity(String userId, Ed25519SecretKey master, Ed25519SecretKey self) {
    static Identity create(String userId) {
      return new Identity(
          userId, Ed25519SecretKey.generate(RANDOM), Ed25519SecretKey.generate(RANDOM));
    }

    ObjectNode keys() {
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      out.set("master_key", key("master", master, null));
      out.set("self_signing_key", key("self_signing", self, master));
      out.set("user_signing_key", key("user_signing", Ed25519SecretKey.generate(RANDOM), master));
      return out;
    }

    private ObjectNode key(String usage, Ed25519SecretKey key, Ed25519SecretKey signer) {
      ObjectNode json = JsonNodeFactory.instance.objectNode();
      json.put("user_id", userId);
      json.putArray("usage").add(usage);
      String b64 = key.publicKey().toBase64();
      json.putObject("keys").put("ed25519:" + b64, b64);
      if (signer != null) {
        JsonSigning.sign(json, userId, "ed25519:" + signer.publicKey().toBase64(), signer);
      }
      return json;
    }
  }

  private static Optional<DeviceTrust> trustOf(OlmMachine m, String user, FakeDevice d) {
    return m.device(user, d.deviceId)
        .filter(i -> i.keys().ed25519().toBase64().equals(d.ed25519()))
        .map(OlmMachine.DeviceInfo::trust);
  }

  private String roomSession(OlmMachine m) {
    for (OutgoingRequest r : m.shareRoomKey(ROOM, List.of(), SharingStrategy.VERIFIED_ONLY)) {
      server.send(m, r);
    }
    ObjectNode content = JsonNodeFactory.instance.objectNode().put("body", "secret history");
    return m.encryptRoomEvent(ROOM, "m.room.message", content).path("session_id").asText();
  }

  @Test
  void ownMasterKeyReplacedByTheServer_noDeviceBecomesTrustedForKeyRequests() {
    FakeDevice other = new FakeDevice(BOT, "BOTOTHER");
    server.list(other);
    bot = JavaMachine.inMemory(BOT, "BOTDEVICE");
    OlmMachine m = bot.machine();
    server.serve(m);
    for (OutgoingRequest r : m.bootstrapCrossSigning()) {
      server.send(m, r);
    }
    server.serve(m);
    server.send(m, m.verifyOwnDevice(other.deviceId, other.ed25519()));
    server.announceChange(m, BOT);
    assertEquals(Optional.of(DeviceTrust.CROSS_SIGNED_VERIFIED), trustOf(m, BOT, other));
    String session = roomSession(m);

    // The server swaps in an identity of its own and cross-signs its device and ours with it.
    Identity forged = Identity.create(BOT);
    FakeDevice evil = new FakeDevice(BOT, "EVIL");
    server.serveIdentity(BOT, forged.keys());
    server.list(evil, evil.keysJsonCrossSignedBy(forged.self()));
    server.list(other, other.keysJsonCrossSignedBy(forged.self()));
    server.announceChange(m, BOT);

    assertFalse(m.hasCrossSigningKeys(), "our private master key no longer matches");
    assertFalse(trustOf(m, BOT, other).orElseThrow().isVerified(), "trust from the old identity");
    assertFalse(trustOf(m, BOT, evil).orElseThrow().isVerified(), "trust from the forged one");
    assertEquals(1, m.trustCounters().identityChanges(), "the identity change is counted");
    server.deliver(
        m,
        HostileHomeserver.keyRequest(evil, ROOM, session),
        HostileHomeserver.keyRequest(other, ROOM, session));
    assertFalse(server.typesReceivedBy(evil).contains("m.forwarded_room_key"), "key to EVIL");
    assertFalse(server.typesReceivedBy(other).contains("m.forwarded_room_key"), "not re-verified");
  }

  @Test
  void othersMasterKeyReplaced_devicesSignedByTheOldIdentityAreNoLongerCrossSigned() {
    Identity bob = Identity.create(BOB);
    FakeDevice phone = new FakeDevice(BOB, "BOBPHONE");
    server.serveIdentity(BOB, bob.keys());
    server.list(phone, phone.keysJsonCrossSignedBy(bob.self()));
    bot = JavaMachine.inMemory(BOT, "BOTDEVICE");
    OlmMachine m = bot.machine();
    m.updateTrackedUsers(List.of(BOB));
    server.serve(m);
    assertEquals(Optional.of(DeviceTrust.CROSS_SIGNED), trustOf(m, BOB, phone));

    Identity forged = Identity.create(BOB);
    FakeDevice evil = new FakeDevice(BOB, "EVIL");
    server.serveIdentity(BOB, forged.keys());
    server.list(evil, evil.keysJsonCrossSignedBy(forged.self()));
    server.announceChange(m, BOB);

    assertEquals(Optional.of(DeviceTrust.UNVERIFIED), trustOf(m, BOB, phone));
    assertFalse(trustOf(m, BOB, evil).orElseThrow().isVerified());
    assertEquals(1, m.trustCounters().identityChanges(), "the identity change is counted");
    assertTrue(m.trustCounters().refusedDeviceKeys() == 0, "no device keys changed");
  }
}
