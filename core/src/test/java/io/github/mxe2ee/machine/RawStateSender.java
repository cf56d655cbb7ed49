package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.olm.IdentityKeys;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;

/**
 * Fault injection for the encrypted-state tests: a Megolm session of a real device (its identity
 * keys), whose key is imported by the receiver, that encrypts ANY plaintext, so that a test can
 * build what a hostile or broken client would send (a plaintext with a wrong or missing {@code
 * state_key}, a never-encrypted type). A real {@link OlmMachine} refuses to encrypt those, so no
 * real part can produce them; the ciphertext itself is genuine Megolm.
 */
final class RawStateSender {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final OutboundGroupSession session = OutboundGroupSession.create(new SecureRandom());
  private final String userId;
  private final String deviceId;
  private final IdentityKeys keys;
  private final String roomId;
  private int events;

  /**
   * @param sender the device whose identity keys the session claims
   * @param receiver the machine that imports the session (as from a key file)
   */
  RawStateSender(OlmMachine sender, OlmMachine receiver, String roomId) {
    this.userId = sender.userId();
    this.deviceId = sender.deviceId();
    this.keys = sender.identityKeys();
    this.roomId = roomId;
    InboundGroupSession inbound = InboundGroupSession.fromSessionKey(session.sessionKey());
    receiver.importRoomKeys(
        List.of(
            ExportedRoomKey.fromSession(
                inbound, roomId, keys.curve25519(), keys.ed25519(), List.of(), false)));
  }

  /** The plaintext payload a well-behaved client encrypts for a state event. */
  ObjectNode payload(String type, String stateKey, ObjectNode content) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("type", type);
    if (stateKey != null) {
      p.put("state_key", stateKey);
    }
    p.set("content", content);
    p.put("room_id", roomId);
    return p;
  }

  /**
   * The event as the homeserver serves it: {@code m.room.encrypted} with {@code outerStateKey}
   * (none if null) around the Megolm encryption of {@code plaintext}.
   */
  ObjectNode event(ObjectNode plaintext, String outerStateKey) {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("algorithm", "m.megolm.v1.aes-sha2");
    content.put("sender_key", keys.curve25519().toBase64());
    content.put(
        "ciphertext",
        session.encrypt(plaintext.toString().getBytes(StandardCharsets.UTF_8)).toBase64());
    content.put("session_id", session.sessionId());
    content.put("device_id", deviceId);
    ObjectNode event = MAPPER.createObjectNode();
    event.put("type", "m.room.encrypted");
    if (outerStateKey != null) {
      event.put("state_key", outerStateKey);
    }
    event.put("sender", userId);
    event.put("event_id", "$raw" + (++events) + ":localhost");
    event.put("origin_server_ts", 1_700_000_000_000L + events);
    event.put("room_id", roomId);
    event.set("content", content);
    return event;
  }
}
