package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.json.JsonSigning;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class OlmPayloadTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Ed25519SecretKey aliceEd = Ed25519SecretKey.generate(RANDOM);
  private final Curve25519SecretKey aliceCurve = Curve25519SecretKey.generate(RANDOM);
  private final Ed25519SecretKey bobEd = Ed25519SecretKey.generate(RANDOM);
  private final DeviceKeys aliceKeys = deviceKeys("@alice:x", "ALICE", aliceEd, aliceCurve);

  private static DeviceKeys deviceKeys(
      String user, String device, Ed25519SecretKey ed, Curve25519SecretKey curve) {
    ObjectNode json = MAPPER.createObjectNode().put("user_id", user).put("device_id", device);
    json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2");
    json.putObject("keys")
        .put("curve25519:" + device, curve.publicKey().toBase64())
        .put("ed25519:" + device, ed.publicKey().toBase64());
    JsonSigning.sign(json, user, "ed25519:" + device, ed);
    return DeviceKeys.parse(json);
  }

  private ObjectNode payload() {
    ObjectNode content = MAPPER.createObjectNode().put("room_id", "!r:x");
    return OlmPayload.build(
        "m.room_key", content, "@alice:x", aliceKeys, "@bob:x", bobEd.publicKey());
  }

  private OlmPayload validate(ObjectNode payload) {
    return OlmPayload.validate(
        payload, "@alice:x", aliceCurve.publicKey(), "@bob:x", bobEd.publicKey());
  }

  @Test
  void buildThenValidate_roundTrips() {
    OlmPayload p = validate(payload());
    assertEquals("m.room_key", p.type());
    assertEquals("!r:x", p.content().get("room_id").textValue());
    assertEquals(aliceEd.publicKey(), p.senderEd25519());
    assertEquals("ALICE", p.senderDeviceKeys().deviceId());
  }

  @Test
  void validate_appliesEverySpecCheck() {
    assertRejected(p -> p.put("sender", "@mallory:x"));
    assertRejected(p -> p.put("recipient", "@carol:x"));
    assertRejected(
        p ->
            p.putObject("recipient_keys")
                .put("ed25519", Ed25519SecretKey.generate(RANDOM).publicKey().toBase64()));
    assertRejected(p -> p.remove("keys"));
    assertRejected(p -> p.remove("content"));
    assertRejected(p -> p.remove("type"));
    assertRejected(
        p ->
            p.putObject("keys")
                .put("ed25519", Ed25519SecretKey.generate(RANDOM).publicKey().toBase64()));
    assertRejected(p -> ((ObjectNode) p.get("sender_device_keys")).put("user_id", "@mallory:x"));
    assertRejected(
        p ->
            p.set(
                "sender_device_keys",
                deviceKeys("@alice:x", "ALICE", aliceEd, Curve25519SecretKey.generate(RANDOM))
                    .toJson()));
    assertRejected(
        p -> ((ObjectNode) p.get("sender_device_keys")).putArray("algorithms").add("tampered"));
  }

  @Test
  void validate_acceptsPayloadWithoutSenderDeviceKeys() {
    ObjectNode p = payload();
    p.remove("sender_device_keys");
    assertEquals(null, validate(p).senderDeviceKeys());
  }

  private void assertRejected(Consumer<ObjectNode> tamper) {
    ObjectNode p = payload();
    tamper.accept(p);
    OlmPayloadException e = assertThrows(OlmPayloadException.class, () -> validate(p));
    assertEquals("olm_payload", e.kind());
  }

  @Test
  void sharedJsonWithRecipient_isTheSamePayloadAsBuild() throws Exception {
    ObjectNode content = MAPPER.createObjectNode().put("room_id", "!r:x").put("key", "k\"\u00e9");
    byte[] shared =
        OlmPayload.sharedJson("m.room_key", content, "@alice:x", aliceKeys, aliceKeys.toJson());
    for (String weird :
        List.of("@b\"o\\b:x", "@\u00e9\u4e2d\ud83d\ude00:x", "@c\u0001\n\u001f\u007f:x")) {
      byte[] joined = OlmPayload.withRecipient(shared, weird, bobEd.publicKey());
      ObjectNode built =
          OlmPayload.build("m.room_key", content, "@alice:x", aliceKeys, weird, bobEd.publicKey());
      assertEquals(built, MAPPER.readTree(joined), weird);
    }
  }
}
