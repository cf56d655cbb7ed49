package io.github.mxe2ee.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.json.JsonSigning;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A device's published identity keys (spec: {@code end_to_end_encryption.md}, "Device keys"; schema
 * {@code data/api/client-server/definitions/device_keys.yaml}). Immutable and thread-safe.
 *
 * <p>{@link #parse} checks the structure; {@link #hasValidSelfSignature()} checks that the device's
 * own Ed25519 key signed the object, which every receiver must check before trusting any key in it.
 * The original JSON is kept (as a private copy) because signatures cover it byte for byte and it
 * must be stored and re-sent unchanged.
 *
 * @param userId the owner, never null
 * @param deviceId the device id, never null
 * @param algorithms the encryption algorithms the device supports
 * @param curve25519 the Olm identity key
 * @param ed25519 the fingerprint key that signs everything else
 * @param displayName from {@code unsigned.device_display_name}, or null
 * @param json the object as received (a copy; use {@link #toJson()})
 */
public record DeviceKeys(
    String userId,
    String deviceId,
    List<String> algorithms,
    Curve25519PublicKey curve25519,
    Ed25519PublicKey ed25519,
    String displayName,
    ObjectNode json) {

  /** Compact canonical constructor: copies the mutable parts. */
  public DeviceKeys {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    algorithms = List.copyOf(algorithms);
    Objects.requireNonNull(curve25519, "curve25519");
    Objects.requireNonNull(ed25519, "ed25519");
    json = json.deepCopy();
  }

  /**
   * Parses a device-keys object.
   *
   * @throws DeviceKeysException if a required field is missing or a key is malformed
   */
  public static DeviceKeys parse(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new DeviceKeysException("device keys: expected an object");
    }
    String what = "device keys";
    String userId = Json.text(node, "user_id", what);
    String deviceId = Json.text(node, "device_id", what);
    if (userId.isBlank() || deviceId.isBlank()) {
      throw new DeviceKeysException(what + ": user_id and device_id must not be empty");
    }
    what = "device keys of " + userId + "/" + deviceId;
    List<String> algorithms = new ArrayList<>();
    for (JsonNode a : Json.array(node, "algorithms", what)) {
      if (!a.isTextual()) {
        throw new DeviceKeysException(what + ": algorithms must be strings");
      }
      algorithms.add(a.textValue());
    }
    JsonNode keys = Json.object(node, "keys", what);
    Json.object(node, "signatures", what);
    Curve25519PublicKey curve;
    Ed25519PublicKey ed;
    try {
      curve = Curve25519PublicKey.fromBase64(Json.text(keys, "curve25519:" + deviceId, what));
      ed = Ed25519PublicKey.fromBase64(Json.text(keys, "ed25519:" + deviceId, what));
    } catch (DeviceKeysException e) {
      throw e;
    } catch (DecodeException e) {
      throw new DeviceKeysException(what + ": malformed key: " + e.getMessage());
    }
    JsonNode name = node.path("unsigned").path("device_display_name");
    return new DeviceKeys(
        userId,
        deviceId,
        algorithms,
        curve,
        ed,
        name.isTextual() ? name.textValue() : null,
        (ObjectNode) node);
  }

  /** True if the device's own Ed25519 key signed this object. */
  public boolean hasValidSelfSignature() {
    return isSignedBy(userId, "ed25519:" + deviceId, ed25519);
  }

  /** True if {@code signer}'s key {@code keyId} signed this object. */
  public boolean isSignedBy(String signer, String keyId, Ed25519PublicKey key) {
    return JsonSigning.verify(json, signer, keyId, key);
  }

  /** A copy of the object as received. */
  public ObjectNode toJson() {
    return json.deepCopy();
  }

  /** True if both describe the same keys (ignoring signatures and unsigned data). */
  public boolean sameKeysAs(DeviceKeys other) {
    return userId.equals(other.userId)
        && deviceId.equals(other.deviceId)
        && curve25519.equals(other.curve25519)
        && ed25519.equals(other.ed25519);
  }

  @Override
  public String toString() {
    return "DeviceKeys[" + userId + "/" + deviceId + ", ed25519=" + ed25519 + "]";
  }
}
