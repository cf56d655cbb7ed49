package io.github.mxe2ee.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.json.JsonSigning;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A cross-signing public key (schema {@code definitions/cross_signing_key.yaml}): exactly one
 * Ed25519 key whose id is {@code ed25519:<base64 public key>}, its usages and signatures. Immutable
 * and thread-safe.
 *
 * @param userId the owner
 * @param usage what the key is for (at least one)
 * @param publicKey the key
 * @param json the object as received (a copy; use {@link #toJson()})
 */
public record CrossSigningKey(
    String userId, Set<KeyUsage> usage, Ed25519PublicKey publicKey, ObjectNode json) {

  /** Compact canonical constructor: copies the mutable parts. */
  public CrossSigningKey {
    Objects.requireNonNull(userId, "userId");
    usage = Set.copyOf(usage);
    Objects.requireNonNull(publicKey, "publicKey");
    json = json.deepCopy();
  }

  /**
   * Parses a cross-signing key object.
   *
   * @throws DeviceKeysException if it is malformed: no user id, no known usage, not exactly one
   *     key, a key id that does not name the key, or a bad key
   */
  public static CrossSigningKey parse(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new DeviceKeysException("cross-signing key: expected an object");
    }
    String userId = Json.text(node, "user_id", "cross-signing key");
    String what = "cross-signing key of " + userId;
    EnumSet<KeyUsage> usage = EnumSet.noneOf(KeyUsage.class);
    for (JsonNode u : Json.array(node, "usage", what)) {
      KeyUsage known = u.isTextual() ? KeyUsage.fromWire(u.textValue()) : null;
      if (known != null) {
        usage.add(known);
      }
    }
    if (usage.isEmpty()) {
      throw new DeviceKeysException(what + ": no known usage");
    }
    JsonNode keys = Json.object(node, "keys", what);
    if (keys.size() != 1) {
      throw new DeviceKeysException(what + ": expected exactly one key but found " + keys.size());
    }
    Iterator<Map.Entry<String, JsonNode>> it = keys.fields();
    Map.Entry<String, JsonNode> entry = it.next();
    if (!entry.getValue().isTextual()
        || !entry.getKey().equals("ed25519:" + entry.getValue().textValue())) {
      throw new DeviceKeysException(what + ": key id must be ed25519:<the public key>");
    }
    Ed25519PublicKey key;
    try {
      key = Ed25519PublicKey.fromBase64(entry.getValue().textValue());
    } catch (DecodeException e) {
      throw new DeviceKeysException(what + ": malformed key: " + e.getMessage());
    }
    return new CrossSigningKey(userId, usage, key, (ObjectNode) node);
  }

  /** The key id, {@code ed25519:<base64 public key>}. */
  public String keyId() {
    return "ed25519:" + publicKey.toBase64();
  }

  /** True if this key has {@code u} among its usages. */
  public boolean has(KeyUsage u) {
    return usage.contains(u);
  }

  /** True if {@code signer} signed this object with {@code key} (key id derived from the key). */
  public boolean isSignedBy(String signerUserId, Ed25519PublicKey key) {
    return JsonSigning.verify(json, signerUserId, "ed25519:" + key.toBase64(), key);
  }

  /** True if {@code other} signed this object with key id {@code keyId}. */
  public boolean isSignedBy(String signerUserId, String keyId, Ed25519PublicKey key) {
    return JsonSigning.verify(json, signerUserId, keyId, key);
  }

  /** A copy of the object as received. */
  public ObjectNode toJson() {
    return json.deepCopy();
  }

  @Override
  public String toString() {
    return "CrossSigningKey[" + userId + " " + usage + " " + publicKey + "]";
  }
}
