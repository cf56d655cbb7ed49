package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The router against the spec's rules for {@code /keys/*}, {@code /sendToDevice}, cross-signing and
 * device-list notifications ({@code shared/spec/matrix-spec/data/api/client-server/keys.yaml},
 * {@code to_device.yaml}, {@code cross_signing.yaml}), with keys made and signed by mxe2ee's own
 * primitives.
 */
class InMemoryRouterTest {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALICE = "@alice:localhost";
  private static final String BOB = "@bob:localhost";
  private static final String CAROL = "@carol:localhost";
  private static final String ROOM = "!room:localhost";

  private final InMemoryRouter router =
      new InMemoryRouter(Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC));

  /** A device with real keys, able to produce the JSON a client uploads. */
  private static final class Device {
    final String user;
    final String id;
    final Ed25519SecretKey ed = Ed25519SecretKey.generate(RANDOM);
    final Curve25519SecretKey curve = Curve25519SecretKey.generate(RANDOM);

    Device(String user, String id) {
      this.user = user;
      this.id = id;
    }

    ObjectNode deviceKeys() {
      ObjectNode keys = JSON.objectNode();
      keys.put("user_id", user);
      keys.put("device_id", id);
      keys.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
      ObjectNode k = keys.putObject("keys");
      k.put("curve25519:" + id, curve.publicKey().toBase64());
      k.put("ed25519:" + id, ed.publicKey().toBase64());
      JsonSigning.sign(keys, user, "ed25519:" + id, ed);
      return keys;
    }

    ObjectNode signedKey(boolean fallback) {
      ObjectNode key = JSON.objectNode();
      key.put("key", Curve25519SecretKey.generate(RANDOM).publicKey().toBase64());
      if (fallback) {
        key.put("fallback", true);
      }
      JsonSigning.sign(key, user, "ed25519:" + id, ed);
      return key;
    }

    ObjectNode upload(boolean withDeviceKeys, int otks, String fallbackId) {
      ObjectNode body = JSON.objectNode();
      if (withDeviceKeys) {
        body.set("device_keys", deviceKeys());
      }
      ObjectNode o = body.putObject("one_time_keys");
      for (int i = 0; i < otks; i++) {
        o.set(
            "signed_curve25519:" + id + "otk" + i + "-" + RANDOM.nextInt(1 << 30),
            signedKey(false));
      }
      if (fallbackId != null) {
        body.putObject("fallback_keys").set("signed_curve25519:" + fallbackId, signedKey(true));
      }
      return body;
    }
  }

  private Device login(String user, String id) {
    router.registerDevice(user, id);
    return new Device(user, id);
  }

  private static RouterException expectError(String errcode, Executable call) {
    RouterException e = assertThrows(RouterException.class, call);
    assertEquals(errcode, e.errcode(), e.getMessage());
    assertEquals("router", e.kind());
    return e;
  }

  private ObjectNode query(String asUser, String asDevice, String... users) {
    ObjectNode body = JSON.objectNode();
    ObjectNode wanted = body.putObject("device_keys");
    for (String u : users) {
      wanted.putArray(u);
    }
    return router.keysQuery(asUser, asDevice, body);
  }

  private ObjectNode claim(String asUser, String asDevice, String user, String device) {
    ObjectNode body = JSON.objectNode();
    body.putObject("one_time_keys").putObject(user).put(device, "signed_curve25519");
    return router.keysClaim(asUser, asDevice, body);
  }

  // ---------------------------------------------------------------- keys/upload

  @Test
  void upload_storesDeviceKeysAndCountsOneTimeKeys() {
    Device a = login(ALICE, "A1");
    ObjectNode response = router.keysUpload(ALICE, "A1", a.upload(true, 5, "F1"));
    assertEquals(5, response.path("one_time_key_counts").path("signed_curve25519").asInt());
    ObjectNode q = query(ALICE, "A1", ALICE);
    assertEquals(a.deviceKeys(), q.path("device_keys").path(ALICE).path("A1"));
    RouterSync sync = router.sync(ALICE, "A1");
    assertEquals(Map.of("signed_curve25519", 5), sync.oneTimeKeyCounts());
    assertEquals(List.of("signed_curve25519"), sync.unusedFallbackKeyTypes());
    assertEquals(List.of(ALICE), sync.changed(), "own device list change is announced");
  }

  @Test
  void upload_countIncludesSignedCurve25519EvenWhenZero() {
    Device a = login(ALICE, "A1");
    ObjectNode response = router.keysUpload(ALICE, "A1", a.upload(true, 0, null));
    assertEquals(0, response.path("one_time_key_counts").path("signed_curve25519").asInt(-1));
  }

  @Test
  void upload_rejectsDeviceKeysOfAnotherDeviceAndStoresNothing() {
    Device a = login(ALICE, "A1");
    login(ALICE, "A2");
    expectError("M_INVALID_PARAM", () -> router.keysUpload(ALICE, "A2", a.upload(true, 3, "F")));
    assertEquals(0, router.oneTimeKeyCounts(ALICE, "A2").get("signed_curve25519"));
    assertTrue(query(ALICE, "A1", ALICE).path("device_keys").path(ALICE).isEmpty());
  }

  @Test
  void upload_rejectsBadSelfSignature() {
    Device a = login(ALICE, "A1");
    ObjectNode body = a.upload(true, 1, null);
    ObjectNode keys = (ObjectNode) body.get("device_keys");
    keys.putArray("algorithms").add("m.megolm.v1.aes-sha2"); // changes the signed content
    expectError("M_INVALID_SIGNATURE", () -> router.keysUpload(ALICE, "A1", body));
    assertTrue(query(ALICE, "A1", ALICE).path("device_keys").path(ALICE).isEmpty());
  }

  @Test
  void upload_rejectsMissingOrMalformedKeys() {
    Device a = login(ALICE, "A1");
    ObjectNode noEd = a.upload(true, 0, null);
    ((ObjectNode) noEd.get("device_keys").get("keys")).remove("ed25519:A1");
    expectError("M_BAD_JSON", () -> router.keysUpload(ALICE, "A1", noEd));

    ObjectNode shortCurve = a.upload(true, 0, null);
    ((ObjectNode) shortCurve.get("device_keys").get("keys")).put("curve25519:A1", "AAAA");
    expectError("M_INVALID_PARAM", () -> router.keysUpload(ALICE, "A1", shortCurve));

    ObjectNode notBase64 = a.upload(true, 0, null);
    ((ObjectNode) notBase64.get("device_keys").get("keys")).put("curve25519:A1", "!!!");
    expectError("M_INVALID_PARAM", () -> router.keysUpload(ALICE, "A1", notBase64));

    ObjectNode noAlgorithms = a.upload(true, 0, null);
    ((ObjectNode) noAlgorithms.get("device_keys")).putArray("algorithms");
    expectError("M_BAD_JSON", () -> router.keysUpload(ALICE, "A1", noAlgorithms));

    ObjectNode badKeyId = a.upload(true, 0, null);
    ((ObjectNode) badKeyId.get("one_time_keys")).set("nocolon", a.signedKey(false));
    expectError("M_BAD_JSON", () -> router.keysUpload(ALICE, "A1", badKeyId));
  }

  @Test
  void upload_rejectsOneTimeKeySignedByAnotherKeyAndStoresNothingElse() {
    Device a = login(ALICE, "A1");
    Device impostor = new Device(ALICE, "A1");
    ObjectNode body = a.upload(true, 2, null);
    ((ObjectNode) body.get("one_time_keys"))
        .set("signed_curve25519:evil", impostor.signedKey(false));
    expectError("M_INVALID_SIGNATURE", () -> router.keysUpload(ALICE, "A1", body));
    assertEquals(0, router.oneTimeKeyCounts(ALICE, "A1").get("signed_curve25519"));
    assertTrue(query(ALICE, "A1", ALICE).path("device_keys").path(ALICE).isEmpty());
  }

  @Test
  void upload_signedKeyWithoutAnyDeviceKeysIsRefused() {
    Device a = login(ALICE, "A1");
    expectError("M_INVALID_PARAM", () -> router.keysUpload(ALICE, "A1", a.upload(false, 1, null)));
  }

  @Test
  void upload_existingKeyIdWithDifferentKeyIsRefused_sameKeyIsIdempotent() {
    Device a = login(ALICE, "A1");
    router.keysUpload(ALICE, "A1", a.upload(true, 0, null));
    ObjectNode key = a.signedKey(false);
    ObjectNode first = JSON.objectNode();
    first.putObject("one_time_keys").set("signed_curve25519:AAAAAQ", key);
    router.keysUpload(ALICE, "A1", first);
    assertEquals(
        1,
        router
            .keysUpload(ALICE, "A1", first.deepCopy())
            .path("one_time_key_counts")
            .path("signed_curve25519")
            .asInt());

    ObjectNode clash = JSON.objectNode();
    clash.putObject("one_time_keys").set("signed_curve25519:AAAAAQ", a.signedKey(false));
    expectError("M_INVALID_PARAM", () -> router.keysUpload(ALICE, "A1", clash));
    assertEquals(1, router.oneTimeKeyCounts(ALICE, "A1").get("signed_curve25519"));
  }

  @Test
  void upload_atMostOneFallbackKeyPerAlgorithm() {
    Device a = login(ALICE, "A1");
    ObjectNode body = a.upload(true, 0, "F1");
    ((ObjectNode) body.get("fallback_keys")).set("signed_curve25519:F2", a.signedKey(true));
    expectError("M_INVALID_PARAM", () -> router.keysUpload(ALICE, "A1", body));
  }

  @Test
  void requestsFromUnregisteredDevicesAreRefused() {
    Device a = new Device(ALICE, "A1");
    RouterException e =
        expectError(
            "M_UNKNOWN_TOKEN", () -> router.keysUpload(ALICE, "A1", a.upload(true, 1, null)));
    assertEquals(401, e.status());
  }

  // ---------------------------------------------------------------- keys/claim

  @Test
  void claim_returnsEachOneTimeKeyOnceInUploadOrderThenTheFallbackKey() {
    Device b = login(BOB, "B1");
    login(ALICE, "A1");
    ObjectNode firstBatch = b.upload(true, 1, "FB");
    router.keysUpload(BOB, "B1", firstBatch);
    ObjectNode secondBatch = b.upload(false, 1, null);
    router.keysUpload(BOB, "B1", secondBatch);
    String firstId = firstBatch.get("one_time_keys").fieldNames().next();
    String secondId = secondBatch.get("one_time_keys").fieldNames().next();

    ObjectNode c1 = claim(ALICE, "A1", BOB, "B1");
    assertEquals(List.of(firstId), fieldNames(c1.path("one_time_keys").path(BOB).path("B1")));
    assertEquals(
        firstBatch.get("one_time_keys").get(firstId),
        c1.path("one_time_keys").path(BOB).path("B1").path(firstId));
    ObjectNode c2 = claim(ALICE, "A1", BOB, "B1");
    assertEquals(List.of(secondId), fieldNames(c2.path("one_time_keys").path(BOB).path("B1")));
    assertEquals(0, router.oneTimeKeyCounts(BOB, "B1").get("signed_curve25519"));
    assertEquals(List.of("signed_curve25519"), router.sync(BOB, "B1").unusedFallbackKeyTypes());

    for (int i = 0; i < 2; i++) {
      ObjectNode fb = claim(ALICE, "A1", BOB, "B1");
      ObjectNode claimed = (ObjectNode) fb.path("one_time_keys").path(BOB).path("B1");
      assertEquals(List.of("signed_curve25519:FB"), fieldNames(claimed));
      assertTrue(claimed.path("signed_curve25519:FB").path("fallback").asBoolean());
    }
    assertEquals(List.of(), router.sync(BOB, "B1").unusedFallbackKeyTypes(), "fallback key used");

    router.keysUpload(BOB, "B1", b.upload(false, 0, "FC"));
    assertEquals(List.of("signed_curve25519"), router.sync(BOB, "B1").unusedFallbackKeyTypes());
    assertEquals(
        List.of("signed_curve25519:FC"),
        fieldNames(claim(ALICE, "A1", BOB, "B1").path("one_time_keys").path(BOB).path("B1")));
  }

  @Test
  void claim_reuploadOfTheSameFallbackKeyKeepsItUsed() {
    Device b = login(BOB, "B1");
    login(ALICE, "A1");
    ObjectNode body = b.upload(true, 0, "FB");
    router.keysUpload(BOB, "B1", body);
    claim(ALICE, "A1", BOB, "B1");
    ObjectNode again = JSON.objectNode();
    again.set("fallback_keys", body.get("fallback_keys").deepCopy());
    router.keysUpload(BOB, "B1", again);
    assertEquals(List.of(), router.sync(BOB, "B1").unusedFallbackKeyTypes());
  }

  @Test
  void claim_leavesOutDevicesWithoutKeysAndUnknownUsers() {
    login(ALICE, "A1");
    Device b = login(BOB, "B1");
    router.keysUpload(BOB, "B1", b.upload(true, 0, null));
    ObjectNode body = JSON.objectNode();
    ObjectNode wanted = body.putObject("one_time_keys");
    wanted.putObject(BOB).put("B1", "signed_curve25519").put("NOPE", "signed_curve25519");
    wanted.putObject("@nobody:localhost").put("X", "signed_curve25519");
    ObjectNode response = router.keysClaim(ALICE, "A1", body);
    assertTrue(response.path("one_time_keys").isEmpty(), response.toString());
    assertTrue(response.has("failures"));
  }

  @Test
  void claim_malformedRequestClaimsNothing() {
    login(ALICE, "A1");
    Device b = login(BOB, "B1");
    router.keysUpload(BOB, "B1", b.upload(true, 1, null));
    ObjectNode body = JSON.objectNode();
    ObjectNode wanted = body.putObject("one_time_keys");
    wanted.putObject(BOB).put("B1", "signed_curve25519");
    wanted.putObject(CAROL).put("C1", 7);
    expectError("M_BAD_JSON", () -> router.keysClaim(ALICE, "A1", body));
    assertEquals(1, router.oneTimeKeyCounts(BOB, "B1").get("signed_curve25519"));
  }

  // ---------------------------------------------------------------- sendToDevice

  @Test
  void toDevice_deliversToNamedDeviceAndStarAndIgnoresRepeatedTransaction() {
    login(ALICE, "A1");
    login(BOB, "B1");
    login(BOB, "B2");
    ObjectNode body = JSON.objectNode();
    body.putObject("messages").putObject(BOB).putObject("B1").put("n", 1);
    router.sendToDevice(ALICE, "A1", "m.test", "txn1", body);
    router.sendToDevice(ALICE, "A1", "m.test", "txn1", body); // retried by the client
    ObjectNode star = JSON.objectNode();
    ObjectNode toBob = star.putObject("messages").putObject(BOB);
    toBob.putObject("*").put("n", 2);
    star.with("messages").putObject("@nobody:localhost").putObject("X").put("n", 3);
    router.sendToDevice(ALICE, "A1", "m.test", "txn2", star);

    List<ObjectNode> b1 = router.sync(BOB, "B1").toDeviceEvents();
    assertEquals(2, b1.size(), b1.toString());
    assertEquals(ALICE, b1.get(0).get("sender").asText());
    assertEquals("m.test", b1.get(0).get("type").asText());
    assertEquals(1, b1.get(0).path("content").path("n").asInt());
    assertEquals(2, b1.get(1).path("content").path("n").asInt());
    List<ObjectNode> b2 = router.sync(BOB, "B2").toDeviceEvents();
    assertEquals(1, b2.size());
    assertEquals(2, b2.get(0).path("content").path("n").asInt());
    assertEquals(0, router.sync(BOB, "B1").toDeviceEvents().size(), "drained");
  }

  @Test
  void toDevice_sameTransactionIdFromAnotherDeviceIsDelivered() {
    login(ALICE, "A1");
    login(ALICE, "A2");
    login(BOB, "B1");
    ObjectNode body = JSON.objectNode();
    body.putObject("messages").putObject(BOB).putObject("B1").put("n", 1);
    router.sendToDevice(ALICE, "A1", "m.test", "txn", body);
    router.sendToDevice(ALICE, "A2", "m.test", "txn", body);
    assertEquals(2, router.pendingToDevice(BOB, "B1"));
  }

  @Test
  void toDevice_atMostMaxPerSyncTheRestLater() {
    login(ALICE, "A1");
    login(BOB, "B1");
    int total = InMemoryRouter.MAX_TO_DEVICE_PER_SYNC + 7;
    for (int i = 0; i < total; i++) {
      ObjectNode body = JSON.objectNode();
      body.putObject("messages").putObject(BOB).putObject("B1").put("n", i);
      router.sendToDevice(ALICE, "A1", "m.test", "t" + i, body);
    }
    List<ObjectNode> first = router.sync(BOB, "B1").toDeviceEvents();
    assertEquals(InMemoryRouter.MAX_TO_DEVICE_PER_SYNC, first.size());
    List<ObjectNode> second = router.sync(BOB, "B1").toDeviceEvents();
    assertEquals(7, second.size());
    assertEquals(total - 1, second.get(6).path("content").path("n").asInt(), "order kept");
  }

  @Test
  void toDevice_malformedMessagesAreRefusedWhole() {
    login(ALICE, "A1");
    login(BOB, "B1");
    ObjectNode body = JSON.objectNode();
    ObjectNode messages = body.putObject("messages");
    messages.putObject(BOB).putObject("B1").put("n", 1);
    messages.putObject(CAROL).put("C1", "not an object");
    expectError("M_BAD_JSON", () -> router.sendToDevice(ALICE, "A1", "m.test", "t", body));
    assertEquals(0, router.pendingToDevice(BOB, "B1"));
  }

  // ---------------------------------------------------------------- device lists

  @Test
  void deviceLists_followSharedRoomsKeyChangesAndLeaves() {
    Device a = login(ALICE, "A1");
    Device b = login(BOB, "B1");
    Device c = login(CAROL, "C1");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    assertEquals(List.of(BOB), router.sync(ALICE, "A1").changed());
    assertEquals(List.of(ALICE), router.sync(BOB, "B1").changed());
    assertEquals(List.of(), router.sync(CAROL, "C1").changed());

    router.keysUpload(BOB, "B1", b.upload(true, 1, null));
    assertEquals(List.of(BOB), router.sync(ALICE, "A1").changed());
    assertEquals(List.of(BOB), router.sync(BOB, "B1").changed());
    assertEquals(List.of(), router.sync(CAROL, "C1").changed(), "Carol shares no room with Bob");

    router.keysUpload(BOB, "B1", b.upload(true, 1, null)); // same device keys again
    assertEquals(List.of(), router.sync(ALICE, "A1").changed(), "unchanged keys announce nothing");

    Device replaced = new Device(BOB, "B1");
    router.keysUpload(BOB, "B1", replaced.upload(true, 0, null));
    assertEquals(List.of(BOB), router.sync(ALICE, "A1").changed(), "changed identity keys");
    assertEquals(
        replaced.deviceKeys(), query(ALICE, "A1", BOB).path("device_keys").path(BOB).path("B1"));

    router.leaveRoom(ROOM, BOB);
    RouterSync atAlice = router.sync(ALICE, "A1");
    assertEquals(List.of(BOB), atAlice.left());
    assertEquals(List.of(), atAlice.changed());
    assertEquals(List.of(ALICE), router.sync(BOB, "B1").left());

    router.registerDevice(ALICE, "A2");
    router.deleteDevice(ALICE, "A2");
    assertEquals(List.of(ALICE), router.sync(ALICE, "A1").changed());
    router.keysUpload(ALICE, "A1", a.upload(true, 0, null));
    router.keysUpload(CAROL, "C1", c.upload(true, 0, null));
    assertEquals(List.of(), router.sync(BOB, "B1").changed());
  }

  @Test
  void query_returnsOnlyRequestedDevices() {
    Device b1 = login(BOB, "B1");
    Device b2 = login(BOB, "B2");
    login(ALICE, "A1");
    router.keysUpload(BOB, "B1", b1.upload(true, 0, null));
    router.keysUpload(BOB, "B2", b2.upload(true, 0, null));
    ObjectNode body = JSON.objectNode();
    body.putObject("device_keys").putArray(BOB).add("B2");
    ObjectNode r = router.keysQuery(ALICE, "A1", body);
    assertEquals(List.of("B2"), fieldNames(r.path("device_keys").path(BOB)));
    assertEquals(
        List.of("B1", "B2"), fieldNames(query(ALICE, "A1", BOB).path("device_keys").path(BOB)));
    assertTrue(
        query(ALICE, "A1", "@nobody:localhost")
            .path("device_keys")
            .path("@nobody:localhost")
            .isEmpty());
  }

  // ---------------------------------------------------------------- cross-signing

  private static ObjectNode crossSigningKey(String user, String usage, Ed25519SecretKey key) {
    ObjectNode o = JSON.objectNode();
    o.put("user_id", user);
    o.putArray("usage").add(usage);
    String pub = key.publicKey().toBase64();
    o.putObject("keys").put("ed25519:" + pub, pub);
    return o;
  }

  private record Identity(
      Ed25519SecretKey master, Ed25519SecretKey selfSigning, Ed25519SecretKey userSigning) {
    static Identity generate() {
      return new Identity(
          Ed25519SecretKey.generate(RANDOM),
          Ed25519SecretKey.generate(RANDOM),
          Ed25519SecretKey.generate(RANDOM));
    }

    String masterId() {
      return master.publicKey().toBase64();
    }

    ObjectNode upload(String user) {
      ObjectNode body = JSON.objectNode();
      body.set("master_key", crossSigningKey(user, "master", master));
      ObjectNode ssk = crossSigningKey(user, "self_signing", selfSigning);
      JsonSigning.sign(ssk, user, "ed25519:" + masterId(), master);
      body.set("self_signing_key", ssk);
      ObjectNode usk = crossSigningKey(user, "user_signing", userSigning);
      JsonSigning.sign(usk, user, "ed25519:" + masterId(), master);
      body.set("user_signing_key", usk);
      return body;
    }
  }

  @Test
  void crossSigning_keysAreValidatedAndUserSigningKeyIsPrivate() {
    Device a = login(ALICE, "A1");
    login(BOB, "B1");
    router.keysUpload(ALICE, "A1", a.upload(true, 0, null));
    Identity id = Identity.generate();
    router.signingKeysUpload(ALICE, "A1", id.upload(ALICE));
    ObjectNode own = query(ALICE, "A1", ALICE);
    ObjectNode other = query(BOB, "B1", ALICE);
    assertEquals(
        id.masterId(),
        other.path("master_keys").path(ALICE).path("keys").elements().next().asText());
    assertTrue(other.path("self_signing_keys").has(ALICE));
    assertFalse(other.path("user_signing_keys").has(ALICE), "user-signing key is private");
    assertTrue(own.path("user_signing_keys").has(ALICE));
    assertEquals(List.of(ALICE), router.sync(ALICE, "A1").changed());
  }

  @Test
  void crossSigning_invalidUploadsAreRefused() {
    Device a = login(ALICE, "A1");
    router.keysUpload(ALICE, "A1", a.upload(true, 0, null));
    Identity id = Identity.generate();

    ObjectNode notSignedByMaster = id.upload(ALICE);
    ObjectNode ssk = crossSigningKey(ALICE, "self_signing", id.selfSigning());
    JsonSigning.sign(ssk, ALICE, "ed25519:" + id.masterId(), id.selfSigning());
    notSignedByMaster.set("self_signing_key", ssk);
    expectError(
        "M_INVALID_SIGNATURE", () -> router.signingKeysUpload(ALICE, "A1", notSignedByMaster));

    ObjectNode noMaster = id.upload(ALICE);
    noMaster.remove("master_key");
    expectError("M_MISSING_PARAM", () -> router.signingKeysUpload(ALICE, "A1", noMaster));

    ObjectNode wrongUsage = id.upload(ALICE);
    ((ObjectNode) wrongUsage.get("master_key")).putArray("usage").add("self_signing");
    expectError("M_INVALID_PARAM", () -> router.signingKeysUpload(ALICE, "A1", wrongUsage));

    ObjectNode wrongUser = id.upload(ALICE);
    ((ObjectNode) wrongUser.get("master_key")).put("user_id", BOB);
    expectError("M_INVALID_PARAM", () -> router.signingKeysUpload(ALICE, "A1", wrongUser));

    String clashId = id.masterId();
    router.registerDevice(ALICE, clashId);
    expectError("M_FORBIDDEN", () -> router.signingKeysUpload(ALICE, "A1", id.upload(ALICE)));

    assertTrue(query(ALICE, "A1", ALICE).path("master_keys").isEmpty(), "nothing stored");

    // With a stored master key, subkeys alone may be replaced.
    router.deleteDevice(ALICE, clashId);
    router.signingKeysUpload(ALICE, "A1", id.upload(ALICE));
    Ed25519SecretKey newSsk = Ed25519SecretKey.generate(RANDOM);
    ObjectNode onlySsk = JSON.objectNode();
    ObjectNode replacement = crossSigningKey(ALICE, "self_signing", newSsk);
    JsonSigning.sign(replacement, ALICE, "ed25519:" + id.masterId(), id.master());
    onlySsk.set("self_signing_key", replacement);
    router.signingKeysUpload(ALICE, "A1", onlySsk);
    assertEquals(replacement, query(ALICE, "A1", ALICE).path("self_signing_keys").path(ALICE));
  }

  @Test
  void signatures_ownDeviceBySelfSigningKeyIsStoredAndVisible() {
    Device a1 = login(ALICE, "A1");
    Device a2 = login(ALICE, "A2");
    login(BOB, "B1");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    router.keysUpload(ALICE, "A1", a1.upload(true, 0, null));
    router.keysUpload(ALICE, "A2", a2.upload(true, 0, null));
    Identity id = Identity.generate();
    router.signingKeysUpload(ALICE, "A1", id.upload(ALICE));
    router.sync(BOB, "B1");

    String sskId = "ed25519:" + id.selfSigning().publicKey().toBase64();
    ObjectNode signedA2 = a2.deviceKeys();
    JsonSigning.sign(signedA2, ALICE, sskId, id.selfSigning());
    ObjectNode body = JSON.objectNode();
    body.putObject(ALICE).set("A2", signedA2);
    ObjectNode response = router.signaturesUpload(ALICE, "A1", body);
    assertTrue(response.path("failures").isEmpty(), response.toString());

    ObjectNode seen =
        (ObjectNode) query(BOB, "B1", ALICE).path("device_keys").path(ALICE).path("A2");
    assertTrue(
        JsonSigning.verify(seen, ALICE, sskId, id.selfSigning().publicKey()), seen.toString());
    assertTrue(JsonSigning.verify(seen, ALICE, "ed25519:A2", a2.ed.publicKey()));
    assertEquals(List.of(ALICE), router.sync(BOB, "B1").changed());

    // The master key signed by an own device.
    ObjectNode master = (ObjectNode) query(ALICE, "A1", ALICE).path("master_keys").path(ALICE);
    JsonSigning.sign(master, ALICE, "ed25519:A1", a1.ed);
    ObjectNode masterBody = JSON.objectNode();
    masterBody.putObject(ALICE).set(id.masterId(), master);
    assertTrue(router.signaturesUpload(ALICE, "A1", masterBody).path("failures").isEmpty());
    ObjectNode masterSeen = (ObjectNode) query(BOB, "B1", ALICE).path("master_keys").path(ALICE);
    assertTrue(JsonSigning.verify(masterSeen, ALICE, "ed25519:A1", a1.ed.publicKey()));
  }

  @Test
  void signatures_badOnesAreReportedAsFailuresOthersStored() {
    Device a1 = login(ALICE, "A1");
    Device a2 = login(ALICE, "A2");
    router.keysUpload(ALICE, "A1", a1.upload(true, 0, null));
    router.keysUpload(ALICE, "A2", a2.upload(true, 0, null));
    Identity id = Identity.generate();
    router.signingKeysUpload(ALICE, "A1", id.upload(ALICE));
    String sskId = "ed25519:" + id.selfSigning().publicKey().toBase64();

    ObjectNode wrongSigner = a2.deviceKeys();
    Ed25519SecretKey stranger = Ed25519SecretKey.generate(RANDOM);
    JsonSigning.sign(wrongSigner, ALICE, "ed25519:" + stranger.publicKey().toBase64(), stranger);
    ObjectNode forged = a1.deviceKeys();
    ((ObjectNode) forged.get("signatures").get(ALICE))
        .put(sskId, stranger.sign(JsonSigning.signedBytes(forged)).toBase64());
    ObjectNode mismatched = a2.deviceKeys();
    ((ObjectNode) mismatched.get("keys")).put("curve25519:A2", a1.curve.publicKey().toBase64());
    JsonSigning.sign(mismatched, ALICE, sskId, id.selfSigning());

    ObjectNode body = JSON.objectNode();
    ObjectNode forAlice = body.putObject(ALICE);
    forAlice.set("A2", wrongSigner);
    forAlice.set("A1", forged);
    forAlice.set("NOSUCHKEY", a1.deviceKeys());
    ObjectNode response = router.signaturesUpload(ALICE, "A1", body);
    ObjectNode failures = (ObjectNode) response.path("failures").path(ALICE);
    assertEquals("M_INVALID_SIGNATURE", failures.path("A2").path("errcode").asText());
    assertEquals("M_INVALID_SIGNATURE", failures.path("A1").path("errcode").asText());
    assertEquals("M_NOT_FOUND", failures.path("NOSUCHKEY").path("errcode").asText());

    ObjectNode body2 = JSON.objectNode();
    body2.putObject(ALICE).set("A2", mismatched);
    ObjectNode r2 = router.signaturesUpload(ALICE, "A1", body2);
    assertEquals(
        "M_INVALID_SIGNATURE", r2.path("failures").path(ALICE).path("A2").path("errcode").asText());

    ObjectNode good = a2.deviceKeys();
    JsonSigning.sign(good, ALICE, sskId, id.selfSigning());
    ObjectNode malformed = JSON.objectNode();
    malformed.putObject(ALICE).set("A2", good);
    malformed.put(BOB, "not an object");
    expectError("M_BAD_JSON", () -> router.signaturesUpload(ALICE, "A1", malformed));

    ObjectNode seen =
        (ObjectNode) query(ALICE, "A1", ALICE).path("device_keys").path(ALICE).path("A2");
    assertFalse(seen.path("signatures").path(ALICE).has(sskId), "nothing stored");
  }

  @Test
  void signatures_userSigningSignatureOnAnotherUserIsVisibleToTheSignerOnly() {
    Device a = login(ALICE, "A1");
    Device b = login(BOB, "B1");
    Device c = login(CAROL, "C1");
    router.keysUpload(ALICE, "A1", a.upload(true, 0, null));
    router.keysUpload(BOB, "B1", b.upload(true, 0, null));
    router.keysUpload(CAROL, "C1", c.upload(true, 0, null));
    Identity alice = Identity.generate();
    Identity bob = Identity.generate();
    router.signingKeysUpload(ALICE, "A1", alice.upload(ALICE));
    router.signingKeysUpload(BOB, "B1", bob.upload(BOB));
    router.sync(ALICE, "A1");

    ObjectNode bobMaster = (ObjectNode) query(ALICE, "A1", BOB).path("master_keys").path(BOB);
    String uskId = "ed25519:" + alice.userSigning().publicKey().toBase64();
    JsonSigning.sign(bobMaster, ALICE, uskId, alice.userSigning());
    ObjectNode body = JSON.objectNode();
    body.putObject(BOB).set(bob.masterId(), bobMaster);
    assertTrue(router.signaturesUpload(ALICE, "A1", body).path("failures").isEmpty());

    assertTrue(
        query(ALICE, "A1", BOB)
            .path("master_keys")
            .path(BOB)
            .path("signatures")
            .path(ALICE)
            .has(uskId));
    assertFalse(
        query(CAROL, "C1", BOB).path("master_keys").path(BOB).path("signatures").has(ALICE));
    assertEquals(List.of(BOB), router.sync(ALICE, "A1").changed());

    // Signing another user's device directly is not allowed.
    ObjectNode bobDevice = b.deviceKeys();
    JsonSigning.sign(bobDevice, ALICE, uskId, alice.userSigning());
    ObjectNode direct = JSON.objectNode();
    direct.putObject(BOB).set("B1", bobDevice);
    assertEquals(
        "M_NOT_FOUND",
        router
            .signaturesUpload(ALICE, "A1", direct)
            .path("failures")
            .path(BOB)
            .path("B1")
            .path("errcode")
            .asText());
  }

  // ---------------------------------------------------------------- rooms and dispatch

  @Test
  void route_dispatchesByTypeAndStoresRoomMessages() {
    Device a = login(ALICE, "A1");
    router.joinRoom(ROOM, ALICE);
    ObjectNode upload = JSON.objectNode();
    upload.put("request_id", "r1");
    upload.put("type", "keys_upload");
    upload.set("body", a.upload(true, 2, null));
    assertEquals(
        2,
        router
            .route(ALICE, "A1", upload)
            .path("one_time_key_counts")
            .path("signed_curve25519")
            .asInt());

    ObjectNode message = JSON.objectNode();
    message.put("type", "room_message");
    message.put("room_id", ROOM);
    message.put("event_type", "m.room.encrypted");
    message.put("txn_id", "t1");
    message.putObject("body").put("algorithm", "m.megolm.v1.aes-sha2");
    String eventId = router.route(ALICE, "A1", message).get("event_id").asText();
    List<ObjectNode> timeline = router.roomEvents(ROOM);
    assertEquals(1, timeline.size());
    assertEquals(eventId, timeline.get(0).get("event_id").asText());
    assertEquals(ALICE, timeline.get(0).get("sender").asText());
    assertEquals(1_700_000_000_000L, timeline.get(0).get("origin_server_ts").asLong());
    assertEquals(ROOM, timeline.get(0).get("room_id").asText());

    ObjectNode unknown = JSON.objectNode();
    unknown.put("type", "room_keys_version");
    unknown.putObject("body");
    expectError("M_UNRECOGNIZED", () -> router.route(ALICE, "A1", unknown));
    ObjectNode backup = JSON.objectNode();
    backup.put("type", "keys_backup");
    backup.putObject("body");
    expectError("M_BAD_JSON", () -> router.route(ALICE, "A1", backup));
    backup.put("version", "1");
    expectError("M_NOT_FOUND", () -> router.route(ALICE, "A1", backup));
    String version = router.createKeyBackupVersion(ALICE, JSON.objectNode());
    backup.put("version", version + "0");
    expectError("M_WRONG_ROOM_KEYS_VERSION", () -> router.route(ALICE, "A1", backup));

    login(BOB, "B1");
    expectError(
        "M_FORBIDDEN",
        () -> router.sendRoomEvent(BOB, "B1", ROOM, "m.room.message", JSON.objectNode()));
  }

  @Test
  void route_acceptsTheMachinesOutgoingRequestsAndSyncFeedsTheMachinesSyncChanges() {
    Device a = login(ALICE, "A1");
    login(BOB, "B1");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    ObjectNode counts =
        router.route(
            ALICE,
            "A1",
            new OutgoingRequest("up-1", RequestType.KEYS_UPLOAD, a.upload(true, 3, "FA"), null));
    assertEquals(3, counts.path("one_time_key_counts").path("signed_curve25519").asInt());
    ObjectNode body = JSON.objectNode();
    body.putObject("messages").putObject(BOB).putObject("B1").put("n", 1);
    OutgoingRequest toDevice = new OutgoingRequest("txn-7", RequestType.TO_DEVICE, body, "m.test");
    router.route(ALICE, "A1", toDevice);
    router.route(ALICE, "A1", toDevice); // a repeated request is the same transaction

    RouterSync sync = router.sync(BOB, "B1");
    assertEquals("s1", sync.nextBatch());
    ObjectNode response = sync.toSyncResponse();
    assertEquals(1, response.path("to_device").path("events").size());
    io.github.mxe2ee.machine.SyncChanges pushed = sync.toMachineSyncChanges();
    assertEquals(sync.toDeviceEvents(), pushed.toDeviceEvents());
    assertEquals(List.of(ALICE), pushed.changedUsers());
    assertEquals(List.of(), pushed.leftUsers());
    assertEquals(Map.of("signed_curve25519", 0), pushed.oneTimeKeyCounts());
    assertEquals(List.of(), pushed.unusedFallbackKeyTypes(), "present but empty: none unused");
    assertEquals("s1", pushed.nextBatch());
    assertEquals("s2", router.sync(BOB, "B1").nextBatch());

    RouterSync aliceSync = router.sync(ALICE, "A1");
    io.github.mxe2ee.machine.SyncChanges atAlice = aliceSync.toMachineSyncChanges();
    assertEquals(Map.of("signed_curve25519", 3), atAlice.oneTimeKeyCounts());
    assertEquals(List.of("signed_curve25519"), atAlice.unusedFallbackKeyTypes());
  }

  @Test
  void sync_asAppserviceTransactionCarriesTheSameChanges() {
    Device a = login(ALICE, "A1");
    login(BOB, "B1");
    router.joinRoom(ROOM, ALICE);
    router.joinRoom(ROOM, BOB);
    router.keysUpload(ALICE, "A1", a.upload(true, 2, "FA"));
    ObjectNode body = JSON.objectNode();
    body.putObject("messages").putObject(ALICE).putObject("A1").put("n", 1);
    router.sendToDevice(BOB, "B1", "m.test", "t", body);

    RouterSync sync = router.sync(ALICE, "A1");
    ObjectNode txn = sync.toAppserviceTransaction(ALICE, "A1");
    assertEquals(ALICE, txn.path("to_device").path(0).path("to_user_id").asText());
    io.github.mxe2ee.machine.SyncChanges fromTxn =
        io.github.mxe2ee.machine.SyncChanges.fromTransaction(txn, ALICE, "A1");
    io.github.mxe2ee.machine.SyncChanges fromSync = sync.toMachineSyncChanges();
    assertEquals(fromSync.toDeviceEvents(), fromTxn.toDeviceEvents());
    assertEquals(fromSync.changedUsers(), fromTxn.changedUsers());
    assertEquals(fromSync.oneTimeKeyCounts(), fromTxn.oneTimeKeyCounts());
    assertEquals(Map.of("signed_curve25519", 2), fromTxn.oneTimeKeyCounts());
    assertEquals(fromSync.unusedFallbackKeyTypes(), fromTxn.unusedFallbackKeyTypes());
    assertEquals(
        List.of(),
        io.github.mxe2ee.machine.SyncChanges.fromTransaction(txn, BOB, "B1").toDeviceEvents(),
        "addressed to Alice's device only");
  }

  private static List<String> fieldNames(com.fasterxml.jackson.databind.JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
