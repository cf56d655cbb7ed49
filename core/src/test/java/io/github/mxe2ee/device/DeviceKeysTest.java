package io.github.mxe2ee.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class DeviceKeysTest {
  @Test
  void parse_readsKeysAndChecksSelfSignature() {
    TestKeys.Device d = TestKeys.device("@bot:localhost", "BOTDEVICE");
    DeviceKeys keys = d.keys();
    assertEquals("@bot:localhost", keys.userId());
    assertEquals("BOTDEVICE", keys.deviceId());
    assertEquals(d.signing().publicKey(), keys.ed25519());
    assertEquals("test device", keys.displayName());
    assertTrue(keys.hasValidSelfSignature());
  }

  @Test
  void selfSignature_failsWhenAnySignedFieldChanges() {
    TestKeys.Device d = TestKeys.device("@bot:localhost", "BOTDEVICE");
    ObjectNode tampered = d.json().deepCopy();
    tampered.withArray("algorithms").add("m.evil");
    assertFalse(DeviceKeys.parse(tampered).hasValidSelfSignature());
    ObjectNode unsignedChange = d.json().deepCopy();
    unsignedChange.putObject("unsigned").put("device_display_name", "renamed");
    assertTrue(DeviceKeys.parse(unsignedChange).hasValidSelfSignature());
  }

  @Test
  void parse_rejectsMissingFieldsAndBadKeys() {
    TestKeys.Device d = TestKeys.device("@bot:localhost", "BOTDEVICE");
    for (String field : new String[] {"user_id", "device_id", "algorithms", "keys", "signatures"}) {
      ObjectNode broken = d.json().deepCopy();
      broken.remove(field);
      assertThrows(DeviceKeysException.class, () -> DeviceKeys.parse(broken), field);
    }
    ObjectNode badKey = d.json().deepCopy();
    ((ObjectNode) badKey.get("keys")).put("curve25519:BOTDEVICE", "AAAA");
    DeviceKeysException e = assertThrows(DeviceKeysException.class, () -> DeviceKeys.parse(badKey));
    assertEquals("device_keys", e.kind());
    ObjectNode wrongId = d.json().deepCopy();
    wrongId.put("device_id", "OTHER");
    assertThrows(DeviceKeysException.class, () -> DeviceKeys.parse(wrongId));
    assertThrows(DeviceKeysException.class, () -> DeviceKeys.parse(TestKeys.MAPPER.nullNode()));
  }

  @Test
  void keysAreCopiedSoCallersCannotChangeThem() {
    TestKeys.Device d = TestKeys.device("@bot:localhost", "BOTDEVICE");
    DeviceKeys keys = d.keys();
    d.json().put("user_id", "@mallory:localhost");
    keys.toJson().put("user_id", "@mallory:localhost");
    assertTrue(keys.hasValidSelfSignature());
    assertEquals("@bot:localhost", keys.toJson().get("user_id").textValue());
  }
}
