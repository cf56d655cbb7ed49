package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.OlmPayload;
import io.github.mxe2ee.megolm.ExportedSessionKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.megolm.SessionKey;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.InboundCreationResult;
import io.github.mxe2ee.olm.OlmMessage;
import io.github.mxe2ee.olm.PreKeyMessage;
import io.github.mxe2ee.olm.Session;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A bare device made of mxe2ee's Olm and Megolm primitives and nothing else: a stand-in that lets
 * the Rust {@code OlmMachine} exchange real room keys and room events with mxe2ee's cryptography
 * through the {@link InMemoryRouter} before mxe2ee's own {@code OlmMachine} exists. It is
 * deliberately naive (no store, no trust policy, no device tracking): a test fixture, not an
 * engine.
 *
 * <p>Wire formats follow {@code shared/spec/matrix-spec/content/client-server-api/modules/
 * end_to_end_encryption.md} ("m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2", "m.room_key",
 * "m.room_key.withheld") and MSC4147 ({@code sender_device_keys}, via {@link OlmPayload}).
 *
 * <p>Not thread-safe. Throws whatever the primitives throw on bad input.
 */
final class PrimitivesDevice {
  static final String OLM = "m.olm.v1.curve25519-aes-sha2";
  static final String MEGOLM = "m.megolm.v1.aes-sha2";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final String userId;
  private final String deviceId;
  private final Account account;
  private final ObjectNode deviceKeys;
  private final Map<String, Session> sessionsByPeerKey = new HashMap<>();
  private final Map<String, ReceivedKey> inbound = new HashMap<>();

  /** A room key received over Olm, with where it came from. */
  private record ReceivedKey(
      InboundGroupSession session,
      Curve25519PublicKey senderKey,
      Ed25519PublicKey claimedEd25519) {}

  private final Map<String, OutboundGroupSession> outbound = new HashMap<>();
  private final List<Integer> receivedOlmTypes = new ArrayList<>();

  PrimitivesDevice(String userId, String deviceId) {
    this.userId = userId;
    this.deviceId = deviceId;
    this.account = Account.create(new SecureRandom());
    ObjectNode keys = MAPPER.createObjectNode();
    keys.put("user_id", userId);
    keys.put("device_id", deviceId);
    keys.putArray("algorithms").add(OLM).add(MEGOLM);
    keys.putObject("keys")
        .put("curve25519:" + deviceId, account.curve25519Key().toBase64())
        .put("ed25519:" + deviceId, account.ed25519Key().toBase64());
    sign(keys);
    this.deviceKeys = keys;
  }

  String userId() {
    return userId;
  }

  String deviceId() {
    return deviceId;
  }

  Curve25519PublicKey curve25519() {
    return account.curve25519Key();
  }

  private void sign(ObjectNode obj) {
    String signature = account.sign(JsonSigning.signedBytes(obj)).toBase64();
    obj.putObject("signatures").putObject(userId).put("ed25519:" + deviceId, signature);
  }

  /** Registers with the router and uploads device keys and {@code otks} signed one-time keys. */
  void upload(InMemoryRouter router, int otks) {
    router.registerDevice(userId, deviceId);
    ObjectNode body = MAPPER.createObjectNode();
    body.set("device_keys", deviceKeys.deepCopy());
    ObjectNode keys = body.putObject("one_time_keys");
    account
        .generateOneTimeKeys(otks)
        .forEach(
            (id, key) -> {
              ObjectNode k = MAPPER.createObjectNode();
              k.put("key", key.toBase64());
              sign(k);
              keys.set("signed_curve25519:" + id, k);
            });
    account.markKeysAsPublished();
    router.keysUpload(userId, deviceId, body);
  }

  /**
   * Takes this device's next sync: decrypts Olm to-device events and keeps the room keys.
   *
   * @return each to-device event's decrypted payload (or the event itself if sent in the clear)
   */
  List<ObjectNode> sync(InMemoryRouter router) {
    List<ObjectNode> out = new ArrayList<>();
    for (ObjectNode event : router.sync(userId, deviceId).toDeviceEvents()) {
      if (!"m.room.encrypted".equals(event.path("type").asText())) {
        out.add(event);
        continue;
      }
      JsonNode content = event.get("content");
      Curve25519PublicKey senderKey =
          Curve25519PublicKey.fromBase64(content.get("sender_key").asText());
      JsonNode mine = content.path("ciphertext").get(curve25519().toBase64());
      String body = mine.get("body").asText();
      String plaintext;
      receivedOlmTypes.add(mine.get("type").asInt());
      if (mine.get("type").asInt() == 0) {
        PreKeyMessage preKey = PreKeyMessage.fromBase64(body);
        Session existing = sessionsByPeerKey.get(senderKey.toBase64());
        if (existing != null && existing.matchesInboundSession(preKey)) {
          // The sender has not heard back yet and still sends pre-key messages on this session,
          // naming a one-time key that was already used up when the session was created.
          plaintext = existing.decrypt(preKey);
        } else {
          InboundCreationResult created = account.createInboundSession(senderKey, preKey);
          sessionsByPeerKey.put(senderKey.toBase64(), created.session());
          plaintext = created.plaintext();
        }
      } else {
        plaintext =
            sessionsByPeerKey.get(senderKey.toBase64()).decrypt(OlmMessage.fromBase64(body));
      }
      ObjectNode payload = parse(plaintext);
      OlmPayload checked =
          OlmPayload.validate(
              payload, event.get("sender").asText(), senderKey, userId, account.ed25519Key());
      if ("m.room_key".equals(checked.type())) {
        ObjectNode key = checked.content();
        InboundGroupSession session =
            InboundGroupSession.fromSessionKey(
                SessionKey.fromBase64(key.get("session_key").asText()));
        inbound.put(
            key.get("room_id").asText() + "|" + session.sessionId(),
            new ReceivedKey(session, senderKey, checked.senderEd25519()));
      }
      if ("m.forwarded_room_key".equals(checked.type())) {
        ObjectNode key = checked.content();
        InboundGroupSession session =
            InboundGroupSession.fromExportedSessionKey(
                ExportedSessionKey.fromBase64(key.get("session_key").asText()));
        inbound.put(
            key.get("room_id").asText() + "|" + session.sessionId(),
            new ReceivedKey(
                session,
                Curve25519PublicKey.fromBase64(key.get("sender_key").asText()),
                Ed25519PublicKey.fromBase64(key.get("sender_claimed_ed25519_key").asText())));
      }
      out.add(payload);
    }
    return out;
  }

  /** Asks one device for a room key with a plaintext {@code m.room_key_request}. */
  void requestRoomKey(
      InMemoryRouter router, String roomId, String sessionId, String toUser, String toDevice) {
    ObjectNode request = MAPPER.createObjectNode();
    request.put("action", "request");
    request.put("request_id", deviceId + "-request-" + (++txn));
    request.put("requesting_device_id", deviceId);
    ObjectNode body = request.putObject("body");
    body.put("algorithm", MEGOLM);
    body.put("room_id", roomId);
    body.put("session_id", sessionId);
    sendToDevice(router, "m.room_key_request", toUser, toDevice, request);
  }

  /** Decrypts a Megolm room event with a room key received earlier; returns the cleartext event. */
  ObjectNode decryptRoomEvent(String roomId, ObjectNode event) {
    JsonNode content = event.get("content");
    ReceivedKey key = inbound.get(roomId + "|" + content.get("session_id").asText());
    if (key == null) {
      throw new IllegalStateException("no room key for " + content.get("session_id"));
    }
    InboundGroupSession session = key.session();
    ObjectNode clear =
        parse(
            session
                .decrypt(MegolmMessage.fromBase64(content.get("ciphertext").asText()))
                .plaintextUtf8());
    if (!roomId.equals(clear.path("room_id").asText())) {
      throw new IllegalStateException("event encrypted for another room");
    }
    return clear;
  }

  /**
   * Starts a Megolm session for the room and sends its key over Olm to one device, whose keys are
   * queried through the router. The Olm session already shared with that device is reused;
   * otherwise one of its one-time keys is claimed (and its signature checked).
   *
   * @return the Olm message type sent: 0 (pre-key) or 1 (normal)
   */
  int shareRoomKey(InMemoryRouter router, String roomId, String toUser, String toDevice) {
    OutboundGroupSession group = OutboundGroupSession.create(new SecureRandom());
    outbound.put(roomId, group);
    ObjectNode roomKey = MAPPER.createObjectNode();
    roomKey.put("algorithm", MEGOLM);
    roomKey.put("room_id", roomId);
    roomKey.put("session_id", group.sessionId());
    roomKey.put("session_key", group.sessionKey().toBase64());
    return sendOlm(router, "m.room_key", roomKey, toUser, toDevice);
  }

  /**
   * Answers a key request: sends {@code m.forwarded_room_key} with the session exported at its
   * first known index, over Olm, to one device (spec: "m.forwarded_room_key").
   *
   * @return the Olm message type sent
   */
  int forwardRoomKey(
      InMemoryRouter router, String roomId, String sessionId, String toUser, String toDevice) {
    ReceivedKey key = inbound.get(roomId + "|" + sessionId);
    ObjectNode forwarded = MAPPER.createObjectNode();
    forwarded.put("algorithm", MEGOLM);
    forwarded.put("room_id", roomId);
    forwarded.put("sender_key", key.senderKey().toBase64());
    forwarded.put("sender_claimed_ed25519_key", key.claimedEd25519().toBase64());
    forwarded.put("session_id", sessionId);
    forwarded.put("session_key", key.session().exportAtFirstKnownIndex().toBase64());
    forwarded.putArray("forwarding_curve25519_key_chain");
    return sendOlm(router, "m.forwarded_room_key", forwarded, toUser, toDevice);
  }

  /**
   * Olm-encrypts one to-device event for one device (keys queried through the router; the Olm
   * session shared with it reused, else a one-time key claimed and its signature checked).
   *
   * @return the Olm message type sent: 0 (pre-key) or 1 (normal)
   */
  private int sendOlm(
      InMemoryRouter router, String type, ObjectNode eventContent, String toUser, String toDevice) {
    ObjectNode query = MAPPER.createObjectNode();
    query.putObject("device_keys").putArray(toUser).add(toDevice);
    DeviceKeys theirs =
        DeviceKeys.parse(
            router
                .keysQuery(userId, deviceId, query)
                .path("device_keys")
                .path(toUser)
                .get(toDevice));
    if (!theirs.hasValidSelfSignature()) {
      throw new IllegalStateException("device keys of " + toDevice + " are not self-signed");
    }
    Session session = sessionsByPeerKey.get(theirs.curve25519().toBase64());
    if (session == null) {
      ObjectNode claim = MAPPER.createObjectNode();
      claim.putObject("one_time_keys").putObject(toUser).put(toDevice, "signed_curve25519");
      JsonNode claimed =
          router
              .keysClaim(userId, deviceId, claim)
              .path("one_time_keys")
              .path(toUser)
              .path(toDevice);
      ObjectNode otk = (ObjectNode) claimed.elements().next();
      if (!JsonSigning.verify(otk, toUser, "ed25519:" + toDevice, theirs.ed25519())) {
        throw new IllegalStateException("claimed one-time key is not signed by " + toDevice);
      }
      session =
          account.createOutboundSession(
              theirs.curve25519(), Curve25519PublicKey.fromBase64(otk.get("key").asText()));
    }
    ObjectNode payload =
        OlmPayload.build(
            type, eventContent, userId, DeviceKeys.parse(deviceKeys), toUser, theirs.ed25519());
    AnyOlmMessage message = session.encrypt(payload.toString());
    sessionsByPeerKey.put(theirs.curve25519().toBase64(), session);
    ObjectNode content = MAPPER.createObjectNode();
    content.put("algorithm", OLM);
    content.put("sender_key", curve25519().toBase64());
    ObjectNode ciphertext =
        content.putObject("ciphertext").putObject(theirs.curve25519().toBase64());
    ciphertext.put("type", message.type().wireType());
    ciphertext.put("body", message.toBase64());
    sendToDevice(router, "m.room.encrypted", toUser, toDevice, content);
    return message.type().wireType();
  }

  /** Starts a Megolm session for the room without giving its key to anyone. */
  String startSessionWithoutSharing(String roomId) {
    OutboundGroupSession group = OutboundGroupSession.create(new SecureRandom());
    outbound.put(roomId, group);
    return group.sessionId();
  }

  /** Tells one device that this room's current session is withheld from it, with {@code code}. */
  void sendWithheld(
      InMemoryRouter router, String roomId, String toUser, String toDevice, String code) {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("algorithm", MEGOLM);
    content.put("room_id", roomId);
    content.put("session_id", outbound.get(roomId).sessionId());
    content.put("sender_key", curve25519().toBase64());
    content.put("code", code);
    content.put("reason", "withheld by the test");
    content.put("from_device", deviceId);
    sendToDevice(router, "m.room_key.withheld", toUser, toDevice, content);
  }

  /** Megolm-encrypts a room event with the room's current session; returns the content. */
  ObjectNode encryptRoomEvent(String roomId, String type, ObjectNode content) {
    ObjectNode clear = MAPPER.createObjectNode();
    clear.put("type", type);
    clear.set("content", content);
    clear.put("room_id", roomId);
    MegolmMessage message = outbound.get(roomId).encrypt(clear.toString());
    ObjectNode encrypted = MAPPER.createObjectNode();
    encrypted.put("algorithm", MEGOLM);
    encrypted.put("sender_key", curve25519().toBase64());
    encrypted.put("ciphertext", message.toBase64());
    encrypted.put("session_id", outbound.get(roomId).sessionId());
    encrypted.put("device_id", deviceId);
    return encrypted;
  }

  /** The Olm message types (0 pre-key, 1 normal) of every encrypted to-device event received. */
  List<Integer> receivedOlmTypes() {
    return List.copyOf(receivedOlmTypes);
  }

  Ed25519PublicKey ed25519() {
    return account.ed25519Key();
  }

  private long txn;

  private void sendToDevice(
      InMemoryRouter router, String type, String toUser, String toDevice, ObjectNode content) {
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("messages").putObject(toUser).set(toDevice, content);
    router.sendToDevice(userId, deviceId, type, deviceId + "-" + (++txn), body);
  }

  private static ObjectNode parse(String json) {
    try {
      return (ObjectNode) MAPPER.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
