package io.github.mxe2ee.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeysQueryProcessorTest {
  private final Map<String, Map<String, DeviceKeys>> storedDevices = new HashMap<>();
  private final Map<String, Map<String, DeviceKeys>> tombstones = new HashMap<>();
  private final Map<String, UserIdentity> storedIdentities = new HashMap<>();
  private final KeysQueryProcessor.Known known =
      new KeysQueryProcessor.Known() {
        @Override
        public Map<String, DeviceKeys> devicesOf(String userId) {
          return storedDevices.getOrDefault(userId, Map.of());
        }

        @Override
        public Map<String, DeviceKeys> boundDevicesOf(String userId) {
          Map<String, DeviceKeys> all = new HashMap<>(tombstones.getOrDefault(userId, Map.of()));
          all.putAll(devicesOf(userId));
          return all;
        }

        @Override
        public UserIdentity identityOf(String userId) {
          return storedIdentities.get(userId);
        }
      };

  private ObjectNode response() {
    ObjectNode r = TestKeys.MAPPER.createObjectNode();
    r.putObject("device_keys");
    r.putObject("failures");
    return r;
  }

  private static void addDevice(ObjectNode response, String userId, String listedAs, ObjectNode d) {
    ObjectNode users = (ObjectNode) response.get("device_keys");
    ObjectNode devices =
        users.has(userId) ? (ObjectNode) users.get(userId) : users.putObject(userId);
    devices.set(listedAs, d);
  }

  @Test
  void acceptsValidDevicesAndIdentity() {
    TestKeys.Identity bob = TestKeys.identity("@bob:localhost");
    TestKeys.Device phone = TestKeys.device("@bob:localhost", "PHONE");
    bob.crossSign(phone);
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "PHONE", phone.json());
    r.putObject("master_keys").set("@bob:localhost", bob.masterJson());
    r.putObject("self_signing_keys").set("@bob:localhost", bob.selfJson());

    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertFalse(u.failed());
    assertEquals(List.of(), u.problems());
    assertTrue(u.devices().containsKey("PHONE"));
    assertNotNull(u.identity());
    assertTrue(u.identity().hasSigned(u.devices().get("PHONE")));
  }

  @Test
  void rejectsMismatchedIdsAndBadSelfSignatures() {
    TestKeys.Device honest = TestKeys.device("@bob:localhost", "PHONE");
    TestKeys.Device listedWrong = TestKeys.device("@bob:localhost", "LAPTOP");
    TestKeys.Device otherUser = TestKeys.device("@mallory:localhost", "EVIL");
    ObjectNode badSig = TestKeys.device("@bob:localhost", "TAMPERED").json();
    badSig.withArray("algorithms").add("extra");
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "PHONE", honest.json());
    addDevice(r, "@bob:localhost", "NOTLAPTOP", listedWrong.json());
    addDevice(r, "@bob:localhost", "EVIL", otherUser.json());
    addDevice(r, "@bob:localhost", "TAMPERED", badSig);

    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertEquals(List.of("PHONE"), List.copyOf(u.devices().keySet()));
    assertEquals(3, u.problems().size(), u.problems().toString());
  }

  @Test
  void knownDeviceKeysNeverSilentlyChange() {
    TestKeys.Device original = TestKeys.device("@bob:localhost", "PHONE");
    storedDevices.put("@bob:localhost", Map.of("PHONE", original.keys()));
    TestKeys.Device impostor = TestKeys.device("@bob:localhost", "PHONE");
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "PHONE", impostor.json());

    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertEquals(original.keys().ed25519(), u.devices().get("PHONE").ed25519());
    assertEquals(1, u.problems().size());
  }

  @Test
  void reportsRemovedDevicesAndFailedUsers() {
    storedDevices.put(
        "@bob:localhost", Map.of("OLD", TestKeys.device("@bob:localhost", "OLD").keys()));
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "NEW", TestKeys.device("@bob:localhost", "NEW").json());
    ((ObjectNode) r.get("failures")).putObject("remote.example");

    Map<String, UserKeysUpdate> updates =
        KeysQueryProcessor.process(
            r, List.of("@bob:localhost", "@carol:remote.example", "@dave:localhost"), known);
    assertEquals(java.util.Set.of("OLD"), updates.get("@bob:localhost").removedDeviceIds());
    assertTrue(updates.get("@carol:remote.example").failed());
    assertTrue(updates.get("@dave:localhost").failed(), "missing user must stay outdated");
  }

  @Test
  void flagsChangedMasterKeyAndRejectsForgedIdentity() {
    TestKeys.Identity before = TestKeys.identity("@bob:localhost");
    storedIdentities.put("@bob:localhost", before.parsed(false));
    TestKeys.Identity after = TestKeys.identity("@bob:localhost");
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "PHONE", TestKeys.device("@bob:localhost", "PHONE").json());
    r.putObject("master_keys").set("@bob:localhost", after.masterJson());
    r.putObject("self_signing_keys").set("@bob:localhost", after.selfJson());
    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertTrue(u.masterKeyChanged());

    ((ObjectNode) r.get("self_signing_keys")).set("@bob:localhost", before.selfJson());
    UserKeysUpdate forged =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertNull(forged.identity());
    assertFalse(forged.problems().isEmpty());
  }

  @Test
  void deletedDeviceListedAgainWithOtherKeys_isRefusedAndStaysDeleted() {
    TestKeys.Device original = TestKeys.device("@bob:localhost", "PHONE");
    tombstones.put("@bob:localhost", Map.of("PHONE", original.keys()));
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "PHONE", TestKeys.device("@bob:localhost", "PHONE").json());

    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertTrue(u.devices().isEmpty(), "the replacement is not accepted: " + u.devices());
    assertEquals(1, u.refused().size());
    assertEquals(RefusedDeviceKeys.Reason.KEYS_CHANGED, u.refused().get(0).reason());
    assertEquals(original.keys().ed25519().toBase64(), u.refused().get(0).boundEd25519());
  }

  @Test
  void deletedDeviceListedAgainWithItsOwnKeys_isRevived() {
    TestKeys.Device original = TestKeys.device("@bob:localhost", "PHONE");
    tombstones.put("@bob:localhost", Map.of("PHONE", original.keys()));
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "PHONE", original.json());

    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertTrue(u.devices().get("PHONE").sameKeysAs(original.keys()));
    assertTrue(u.refused().isEmpty());
  }

  @Test
  void newDeviceIdWithAKeyOfAnotherDevice_isRefused() {
    TestKeys.Device phone = TestKeys.device("@bob:localhost", "PHONE");
    tombstones.put("@bob:localhost", Map.of("PHONE", phone.keys()));
    // A new id whose Curve25519 key is the (deleted) phone's, self-signed by a fresh Ed25519 key.
    TestKeys.Device clone = TestKeys.device("@bob:localhost", "CLONE");
    ObjectNode json = clone.json();
    json.remove("signatures");
    ((ObjectNode) json.get("keys")).put("curve25519:CLONE", phone.keys().curve25519().toBase64());
    io.github.mxe2ee.json.JsonSigning.sign(
        json, "@bob:localhost", "ed25519:CLONE", clone.signing());
    ObjectNode r = response();
    addDevice(r, "@bob:localhost", "CLONE", json);

    UserKeysUpdate u =
        KeysQueryProcessor.process(r, List.of("@bob:localhost"), known).get("@bob:localhost");
    assertTrue(u.devices().isEmpty(), u.devices().toString());
    assertEquals(RefusedDeviceKeys.Reason.KEY_OF_ANOTHER_DEVICE, u.refused().get(0).reason());
  }
}
