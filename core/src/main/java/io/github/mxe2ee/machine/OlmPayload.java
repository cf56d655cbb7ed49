package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceKeysException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The plaintext of an {@code m.olm.v1.curve25519-aes-sha2} message (spec: {@code
 * end_to_end_encryption.md}, "m.olm.v1.curve25519-aes-sha2" and "Validation of incoming decrypted
 * events"; MSC4147 for {@code sender_device_keys}). {@link #build} writes it; {@link #validate}
 * applies every check the spec requires of a receiver. Stateless and thread-safe.
 *
 * @param type the to-device event type
 * @param content the event content
 * @param sender the sending user
 * @param senderEd25519 the Ed25519 key the sender claims inside the encrypted payload
 * @param senderDeviceKeys the sender's signed device keys (MSC4147), already checked, or null
 */
public record OlmPayload(
    String type,
    ObjectNode content,
    String sender,
    Ed25519PublicKey senderEd25519,
    DeviceKeys senderDeviceKeys) {

  /** Compact canonical constructor: copies the content. */
  public OlmPayload {
    Objects.requireNonNull(type, "type");
    content = content.deepCopy();
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(senderEd25519, "senderEd25519");
  }

  /** A copy of the content. */
  @Override
  public ObjectNode content() {
    return content.deepCopy();
  }

  /**
   * Builds the plaintext to encrypt for one recipient device.
   *
   * @param ownDeviceKeys our signed device keys, sent as {@code sender_device_keys} (MSC4147)
   */
  public static ObjectNode build(
      String type,
      ObjectNode content,
      String ownUserId,
      DeviceKeys ownDeviceKeys,
      String recipientUserId,
      Ed25519PublicKey recipientEd25519) {
    ObjectNode payload =
        senderPart(type, content.deepCopy(), ownUserId, ownDeviceKeys, ownDeviceKeys.toJson());
    payload.put("recipient", recipientUserId);
    payload.putObject("recipient_keys").put("ed25519", recipientEd25519.toBase64());
    return payload;
  }

  /**
   * Everything but the recipient fields; {@code content} and the keys JSON are used as they are.
   */
  private static ObjectNode senderPart(
      String type,
      ObjectNode content,
      String ownUserId,
      DeviceKeys ownDeviceKeys,
      ObjectNode ownDeviceKeysJson) {
    ObjectNode payload = JsonNodeFactory.instance.objectNode();
    payload.put("type", type);
    payload.set("content", content);
    payload.put("sender", ownUserId);
    payload.put("sender_device", ownDeviceKeys.deviceId());
    payload.putObject("keys").put("ed25519", ownDeviceKeys.ed25519().toBase64());
    payload.set("sender_device_keys", ownDeviceKeysJson);
    return payload;
  }

  /**
   * The recipient-independent part of a payload, serialised once for a share to many devices: a
   * JSON object without its closing brace, as UTF-8. Complete it with {@link #withRecipient}.
   */
  static byte[] sharedJson(
      String type,
      ObjectNode content,
      String ownUserId,
      DeviceKeys ownDeviceKeys,
      ObjectNode ownDeviceKeysJson) {
    String json = senderPart(type, content, ownUserId, ownDeviceKeys, ownDeviceKeysJson).toString();
    return json.substring(0, json.length() - 1).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Completes {@link #sharedJson} for one recipient: the UTF-8 JSON of the same object {@link
   * #build} makes (field order aside).
   */
  static byte[] withRecipient(
      byte[] sharedJson, String recipientUserId, Ed25519PublicKey recipientEd25519) {
    StringBuilder tail = new StringBuilder(96 + recipientUserId.length());
    tail.append(",\"recipient\":");
    appendJsonString(tail, recipientUserId);
    tail.append(",\"recipient_keys\":{\"ed25519\":\"")
        .append(recipientEd25519.toBase64())
        .append("\"}}");
    byte[] end = tail.toString().getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(sharedJson, sharedJson.length + end.length);
    System.arraycopy(end, 0, out, sharedJson.length, end.length);
    return out;
  }

  /**
   * Appends {@code s} as a JSON string literal (RFC 8259 section 7): quotation mark, reverse
   * solidus and control characters escaped, everything else as is.
   */
  static void appendJsonString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /**
   * Applies the spec's checks to a decrypted payload.
   *
   * @param payload the decrypted JSON
   * @param eventSender the {@code sender} of the to-device event (set by the homeserver)
   * @param senderKey the Curve25519 key the Olm session was established with
   * @param ownUserId our user id
   * @param ownEd25519 our device's Ed25519 key
   * @throws OlmPayloadException naming the first failed check
   */
  public static OlmPayload validate(
      JsonNode payload,
      String eventSender,
      Curve25519PublicKey senderKey,
      String ownUserId,
      Ed25519PublicKey ownEd25519) {
    if (payload == null || !payload.isObject()) {
      throw new OlmPayloadException("payload is not a JSON object");
    }
    String type = text(payload, "type");
    JsonNode content = payload.get("content");
    if (content == null || !content.isObject()) {
      throw new OlmPayloadException("payload has no content object");
    }
    String sender = text(payload, "sender");
    if (!sender.equals(eventSender)) {
      throw new OlmPayloadException("sender in payload does not match the event sender");
    }
    Ed25519PublicKey claimed = ed25519(payload.path("keys"), "keys.ed25519");
    if (!ownUserId.equals(text(payload, "recipient"))) {
      throw new OlmPayloadException("recipient does not match our user id");
    }
    if (!ownEd25519.equals(ed25519(payload.path("recipient_keys"), "recipient_keys.ed25519"))) {
      throw new OlmPayloadException("recipient_keys.ed25519 does not match our device key");
    }
    DeviceKeys deviceKeys = null;
    JsonNode sdk = payload.get("sender_device_keys");
    if (sdk != null && !sdk.isNull()) {
      try {
        deviceKeys = DeviceKeys.parse(sdk);
      } catch (DeviceKeysException e) {
        throw new OlmPayloadException("sender_device_keys malformed: " + e.getMessage());
      }
      if (!deviceKeys.userId().equals(eventSender)) {
        throw new OlmPayloadException("sender_device_keys.user_id does not match the sender");
      }
      if (!deviceKeys.curve25519().equals(senderKey)) {
        throw new OlmPayloadException("sender_device_keys curve25519 key is not the sender key");
      }
      if (!deviceKeys.ed25519().equals(claimed)) {
        throw new OlmPayloadException("sender_device_keys ed25519 key differs from keys.ed25519");
      }
      if (!deviceKeys.hasValidSelfSignature()) {
        throw new OlmPayloadException("sender_device_keys signature does not verify");
      }
    }
    return new OlmPayload(type, (ObjectNode) content, sender, claimed, deviceKeys);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new OlmPayloadException("payload field " + field + " missing or not a string");
    }
    return v.textValue();
  }

  private static Ed25519PublicKey ed25519(JsonNode node, String what) {
    JsonNode v = node.get("ed25519");
    if (v == null || !v.isTextual()) {
      throw new OlmPayloadException(what + " missing");
    }
    try {
      return Ed25519PublicKey.fromBase64(v.textValue());
    } catch (DecodeException e) {
      throw new OlmPayloadException(what + " malformed");
    }
  }

  /** Identity: payloads may carry room keys, so they are never compared by content. */
  @Override
  public boolean equals(Object o) {
    return o == this;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "OlmPayload[" + type + " from " + sender + "]";
  }
}
