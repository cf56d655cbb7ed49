package io.github.mxe2ee.adversarial;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.InboundCreationResult;
import io.github.mxe2ee.olm.PreKeyMessage;
import io.github.mxe2ee.olm.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A device made of a real Olm {@link Account} and nothing else: an honest device or the attacker's
 * replacement, depending on the test. It produces its signed device keys and signed one-time keys
 * (as a homeserver hands them out) and decrypts the Olm messages a machine sends it, so a test can
 * read what the machine really gave away.
 */
final class FakeDevice {
  final String userId;
  final String deviceId;
  final Account account = Account.create();
  private final List<Session> sessions = new ArrayList<>();

  FakeDevice(String userId, String deviceId) {
    this.userId = userId;
    this.deviceId = deviceId;
  }

  String ed25519() {
    return account.ed25519Key().toBase64();
  }

  String curve25519() {
    return account.curve25519Key().toBase64();
  }

  /** The device keys object, signed by the device's own Ed25519 key. */
  ObjectNode keysJson() {
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    json.put("user_id", userId).put("device_id", deviceId);
    json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    json.putObject("keys")
        .put("curve25519:" + deviceId, curve25519())
        .put("ed25519:" + deviceId, ed25519());
    sign(json);
    return json;
  }

  /** The device keys object, self-signed and cross-signed by {@code selfSigning}. */
  ObjectNode keysJsonCrossSignedBy(Ed25519SecretKey selfSigning) {
    ObjectNode json = keysJson();
    JsonSigning.sign(json, userId, "ed25519:" + selfSigning.publicKey().toBase64(), selfSigning);
    return json;
  }

  private void sign(ObjectNode json) {
    String sig = account.sign(JsonSigning.signedBytes(json)).toBase64();
    ObjectNode signatures =
        json.has("signatures") ? (ObjectNode) json.get("signatures") : json.putObject("signatures");
    ObjectNode mine =
        signatures.has(userId) ? (ObjectNode) signatures.get(userId) : signatures.putObject(userId);
    mine.put("ed25519:" + deviceId, sig);
  }

  /** One fresh signed one-time key, as {@code /keys/claim} returns it: {@code {key_id: {...}}}. */
  ObjectNode claimOneTimeKey() {
    Map<String, Curve25519PublicKey> keys = account.generateOneTimeKeys(1);
    account.markKeysAsPublished();
    Map.Entry<String, Curve25519PublicKey> key = keys.entrySet().iterator().next();
    ObjectNode otk = JsonNodeFactory.instance.objectNode();
    otk.put("key", key.getValue().toBase64());
    sign(otk);
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.set("signed_curve25519:" + key.getKey(), otk);
    return out;
  }

  /**
   * Decrypts an {@code m.room.encrypted} Olm content sent to this device (a pre-key message, as a
   * machine's first message on a new session is), or returns null if none of it is for this device.
   *
   * @return the decrypted payload
   */
  JsonNode decrypt(JsonNode content) {
    JsonNode mine = content.path("ciphertext").path(curve25519());
    if (mine.isMissingNode()) {
      return null;
    }
    AnyOlmMessage message =
        AnyOlmMessage.fromBase64(mine.path("type").asLong(), mine.path("body").asText());
    String plaintext = null;
    for (Session s : sessions) {
      try {
        plaintext = s.decrypt(message);
        break;
      } catch (RuntimeException e) {
        // not this session's message: try the next, then a new inbound session
      }
    }
    if (plaintext == null) {
      if (!(message instanceof PreKeyMessage pre)) {
        throw new IllegalStateException("a normal message on no known session");
      }
      InboundCreationResult created =
          account.createInboundSession(
              Curve25519PublicKey.fromBase64(content.path("sender_key").asText()), pre);
      sessions.add(created.session());
      plaintext = created.plaintext();
    }
    try {
      return new ObjectMapper().readTree(plaintext);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("plaintext is not JSON", e);
    }
  }
}
