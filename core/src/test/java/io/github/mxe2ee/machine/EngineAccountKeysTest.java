package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys on the server and cross-signing (issue 5, items 1 and 3), two Java machines through the
 * router.
 */
class EngineAccountKeysTest extends EngineFixture {
  private static final String SIGNED = "signed_curve25519";

  @TempDir Path dir;

  private int count(JavaMachine m) {
    return router.oneTimeKeyCounts(m.userId(), m.deviceId()).getOrDefault(SIGNED, 0);
  }

  /** Claims one key of {@code m} as Bob would; returns {@code {keyId: key}}. */
  private Map.Entry<String, JsonNode> claimOne(JavaMachine m) {
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("one_time_keys").putObject(m.userId()).put(m.deviceId(), SIGNED);
    JsonNode keys =
        router
            .keysClaim(BOB, "BOBDEVICE", body)
            .path("one_time_keys")
            .path(m.userId())
            .path(m.deviceId());
    return keys.fields().next();
  }

  @Test
  void oneTimeKeysAreToppedUpFromTheSyncCounts() {
    int full = count(alice);
    assertEquals(
        io.github.mxe2ee.olm.Account.create().maxNumberOfOneTimeKeys() / 2,
        full,
        "half of what the account can hold");
    for (int i = 0; i < 12; i++) {
      claimOne(alice);
    }
    assertEquals(full - 12, count(alice));
    alice.sync(router);
    alice.pump(router);
    assertEquals(full, count(alice));
    alice.sync(router);
    assertTrue(alice.pump(router).isEmpty(), "nothing more to upload");
  }

  @Test
  void fallbackKeyIsRotatedWhenTheServerReportsItUsed_andTheOldOneStillWorks() {
    int full = count(alice);
    for (int i = 0; i < full; i++) {
      claimOne(alice);
    }
    RawDevice carol = new RawDevice(router, "@carol:localhost", "CAROLDEVICE");
    ObjectNode claim = MAPPER.createObjectNode();
    claim.putObject("one_time_keys").putObject(ALICE).put("ALICEDEVICE", SIGNED);
    var used =
        router
            .keysClaim("@carol:localhost", "CAROLDEVICE", claim)
            .path("one_time_keys")
            .path(ALICE)
            .path("ALICEDEVICE")
            .fields()
            .next();
    assertTrue(used.getValue().path("fallback").asBoolean(), "only the fallback key was left");

    alice.sync(router); // device_unused_fallback_key_types: []
    List<ObjectNode> sent = alice.pump(router);
    ObjectNode upload =
        sent.stream()
            .filter(r -> "keys_upload".equals(r.path("type").asText()))
            .findFirst()
            .orElseThrow();
    JsonNode fallback = upload.path("body").path("fallback_keys");
    assertEquals(1, fallback.size(), upload.toString());
    assertNotEquals(used.getKey(), fallback.fieldNames().next(), "a new fallback key");
    assertEquals(full, count(alice), "and the one-time keys topped up");

    // A session made with the previous fallback key still opens.
    Curve25519PublicKey aliceCurve =
        Curve25519PublicKey.fromBase64(alice.identityKeys().path("curve25519").asText());
    Session s =
        carol.account.createOutboundSession(
            aliceCurve, Curve25519PublicKey.fromBase64(used.getValue().path("key").asText()));
    alice.updateTrackedUsers(List.of("@carol:localhost"));
    alice.pump(router);
    ObjectNode payload =
        carol.payload(
            "m.dummy",
            MAPPER.createObjectNode(),
            ALICE,
            Ed25519PublicKey.fromBase64(alice.identityKeys().path("ed25519").asText()));
    carol.send(router, s, ALICE, "ALICEDEVICE", aliceCurve, payload);
    assertEquals("decrypted", alice.sync(router).get(0).path("kind").asText());
  }

  @Test
  void uploadRecoversWhenTheServerAlreadyHoldsAKeyId() throws Exception {
    // A real clash: the device's store is restored from a copy older than its last upload, so the
    // account generates key ids the server already holds with other keys.
    String carol = "@carol:localhost";
    Path file = dir.resolve("carol.db");
    Path snapshot = dir.resolve("carol-snapshot.db");
    router.registerDevice(carol, "CAROLDEVICE");
    MachineConfig config = JavaMachine.config(carol, "CAROLDEVICE").withClock(clock);
    JavaMachine first = JavaMachine.sqlite(config, file);
    first.pump(router);
    first.close();
    Files.copy(file, snapshot);

    int full = router.oneTimeKeyCounts(carol, "CAROLDEVICE").get(SIGNED);
    JavaMachine second = JavaMachine.sqlite(config, file);
    machines.add(second);
    for (int i = 0; i < 20; i++) {
      claimOne(second);
    }
    second.sync(router);
    second.pump(router); // the server now holds twenty keys with ids the snapshot has not used yet
    second.close();
    for (String suffix : List.of("", "-wal", "-shm")) {
      Files.deleteIfExists(Path.of(file + suffix));
    }
    Files.copy(snapshot, file, StandardCopyOption.REPLACE_EXISTING);

    JavaMachine restored = JavaMachine.sqlite(config, file);
    machines.add(restored);
    for (int i = 0; i < 5; i++) {
      claimOne(restored);
    }
    restored.sync(router);
    List<ObjectNode> sent = restored.pump(router);
    assertTrue(
        sent.stream().filter(r -> "keys_upload".equals(r.path("type").asText())).count() >= 2,
        "a refused upload, then a fresh one: " + sent);
    assertEquals(full, count(restored), "back to a full set of one-time keys");
    restored.sync(router);
    assertTrue(restored.pump(router).isEmpty());
  }

  @Test
  void bootstrapAndVerifyOwnDeviceByFingerprint() {
    alice.bootstrapCrossSigning(router);
    alice.sync(router);
    alice.pump(router);
    ObjectNode self = alice.device(ALICE, "ALICEDEVICE");
    assertTrue(self.path("is_cross_signed_by_owner").asBoolean(), self.toString());
    assertTrue(self.path("is_verified").asBoolean(), "we hold our master key");

    JavaMachine alice2 = loggedIn(ALICE, "ALICESECOND");
    alice.sync(router);
    alice.pump(router);
    assertFalse(alice.device(ALICE, "ALICESECOND").path("is_verified").asBoolean());
    OlmMachine m = alice.machine();
    String wrong = bob.identityKeys().path("ed25519").asText();
    assertThrows(IllegalArgumentException.class, () -> m.verifyOwnDevice("ALICESECOND", wrong));
    assertFalse(alice.device(ALICE, "ALICESECOND").path("is_verified").asBoolean());

    alice.verifyOwnDevice(router, "ALICESECOND");
    alice.sync(router);
    alice.pump(router);
    ObjectNode second = alice.device(ALICE, "ALICESECOND");
    assertTrue(second.path("is_cross_signed_by_owner").asBoolean(), second.toString());
    assertTrue(second.path("is_verified").asBoolean(), second.toString());

    bob.sync(router);
    bob.pump(router);
    ObjectNode seenByBob = bob.device(ALICE, "ALICESECOND");
    assertTrue(seenByBob.path("is_cross_signed_by_owner").asBoolean(), seenByBob.toString());
    assertFalse(seenByBob.path("is_verified").asBoolean(), "Bob has not verified Alice");
    assertTrue(alice2.machine().device(ALICE, "ALICEDEVICE").isPresent());
  }
}
