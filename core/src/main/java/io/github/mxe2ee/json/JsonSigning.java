package io.github.mxe2ee.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519Signature;

/**
 * Signing JSON objects as the spec's appendix defines it ({@code
 * shared/spec/matrix-spec/content/appendices.md}, "Signing JSON"): remove {@code signatures} and
 * {@code unsigned}, sign the canonical JSON bytes of what remains with Ed25519, and store the
 * unpadded base64 signature at {@code signatures[entity][keyId]}. Stateless and thread-safe.
 */
public final class JsonSigning {
  private JsonSigning() {}

  /** The bytes that are signed: canonical JSON of {@code obj} without signatures and unsigned. */
  public static byte[] signedBytes(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    copy.remove("signatures");
    copy.remove("unsigned");
    return CanonicalJson.encodeBytes(copy);
  }

  /**
   * Signs {@code obj} in place, keeping any other signatures it has.
   *
   * @param entity the user id or server name that signs
   * @param keyId the key id with its algorithm, such as {@code ed25519:DEVICEID}
   * @return the signature added
   */
  public static Ed25519Signature sign(
      ObjectNode obj, String entity, String keyId, Ed25519SecretKey key) {
    Ed25519Signature signature = key.sign(signedBytes(obj));
    JsonNode existing = obj.get("signatures");
    ObjectNode signatures = existing instanceof ObjectNode o ? o : obj.putObject("signatures");
    JsonNode forEntity = signatures.get(entity);
    ObjectNode entitySignatures =
        forEntity instanceof ObjectNode o ? o : signatures.putObject(entity);
    entitySignatures.put(keyId, signature.toBase64());
    return signature;
  }

  /**
   * Checks the signature at {@code signatures[entity][keyId]}.
   *
   * @return true if it is present and valid for {@code key}; false if it is missing, malformed, or
   *     does not verify
   */
  public static boolean verify(ObjectNode obj, String entity, String keyId, Ed25519PublicKey key) {
    JsonNode value = obj.path("signatures").path(entity).path(keyId);
    if (!value.isTextual()) {
      return false;
    }
    Ed25519Signature signature;
    try {
      signature = Ed25519Signature.fromBase64(value.textValue());
    } catch (DecodeException e) {
      return false;
    }
    try {
      return key.verify(signedBytes(obj), signature);
    } catch (DecodeException e) {
      return false;
    }
  }
}
