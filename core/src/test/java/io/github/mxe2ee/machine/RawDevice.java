package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.testing.InMemoryRouter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A device built from mxe2ee's Olm primitives only, with no machine: it sends the Olm to-device
 * messages a well-behaved machine never would (tampered payloads, unrequested forwarded keys) so
 * that the receiving machine's checks can be exercised. Its device keys are uploaded to the router.
 */
final class RawDevice {
  private static final AtomicLong TXN = new AtomicLong();

  final String userId;
  final String deviceId;
  final Account account = Account.create();
  final DeviceKeys keys;

  RawDevice(InMemoryRouter router, String userId, String deviceId) {
    this.userId = userId;
    this.deviceId = deviceId;
    router.registerDevice(userId, deviceId);
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    json.put("user_id", userId).put("device_id", deviceId);
    json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    json.putObject("keys")
        .put("curve25519:" + deviceId, account.curve25519Key().toBase64())
        .put("ed25519:" + deviceId, account.ed25519Key().toBase64());
    sign(json);
    keys = DeviceKeys.parse(json);
    ObjectNode upload = JsonNodeFactory.instance.objectNode();
    upload.set("device_keys", json);
    router.keysUpload(userId, deviceId, upload);
  }

  void sign(ObjectNode json) {
    String sig = account.sign(JsonSigning.signedBytes(json)).toBase64();
    ObjectNode signatures =
        json.has("signatures") ? (ObjectNode) json.get("signatures") : json.putObject("signatures");
    signatures.putObject(userId).put("ed25519:" + deviceId, sig);
  }

  /** Claims a one-time key of the target device and creates an outbound session to it. */
  Session claimSession(InMemoryRouter router, String user, String device, Curve25519PublicKey to) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.putObject("one_time_keys").putObject(user).put(device, "signed_curve25519");
    JsonNode keys = router.keysClaim(userId, deviceId, body).path("one_time_keys").path(user);
    JsonNode key = keys.path(device).elements().next();
    return account.createOutboundSession(
        to, Curve25519PublicKey.fromBase64(key.path("key").asText()));
  }

  /** A well-formed payload for the target, to tamper with before {@link #send}. */
  ObjectNode payload(String type, ObjectNode content, String toUser, Ed25519PublicKey toEd) {
    return OlmPayload.build(type, content, userId, keys, toUser, toEd);
  }

  /** Encrypts {@code payload} on {@code session} and sends it as an Olm to-device message. */
  void send(
      InMemoryRouter router,
      Session session,
      String toUser,
      String toDevice,
      Curve25519PublicKey toCurve,
      ObjectNode payload) {
    sendRaw(router, toUser, toDevice, toCurve, session.encrypt(payload.toString()));
  }

  void sendRaw(
      InMemoryRouter router,
      String toUser,
      String toDevice,
      Curve25519PublicKey toCurve,
      AnyOlmMessage message) {
    sendBody(router, toUser, toDevice, toCurve, message.type().wireType(), message.toBase64());
  }

  void sendBody(
      InMemoryRouter router,
      String toUser,
      String toDevice,
      Curve25519PublicKey toCurve,
      long type,
      String body) {
    ObjectNode content = JsonNodeFactory.instance.objectNode();
    content.put("algorithm", "m.olm.v1.curve25519-aes-sha2");
    content.put("sender_key", account.curve25519Key().toBase64());
    ObjectNode c = content.putObject("ciphertext").putObject(toCurve.toBase64());
    c.put("type", type);
    c.put("body", body);
    ObjectNode messages = JsonNodeFactory.instance.objectNode();
    messages.putObject("messages").putObject(toUser).set(toDevice, content);
    router.sendToDevice(
        userId, deviceId, "m.room.encrypted", "raw-" + TXN.incrementAndGet(), messages);
  }
}
