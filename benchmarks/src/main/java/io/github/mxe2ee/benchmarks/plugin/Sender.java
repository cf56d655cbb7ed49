package io.github.mxe2ee.benchmarks.plugin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The other side of the plugin benchmarks: a real {@link OlmMachine} (in memory) of {@value #USER}
 * that uploads its device keys to the {@link BenchHomeserver}, shares a Megolm room key with the
 * bot over Olm (its {@code /keys/query} and {@code /keys/claim} answered from what the bot uploaded
 * to that server) and encrypts timeline events, exactly as another client would.
 */
final class Sender implements AutoCloseable {
  static final String USER = "@alice:localhost";
  static final String DEVICE = "ALICEDEVICE";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final OlmMachine machine;
  private final MemoryCryptoStore store;
  private long events;

  /** Creates the sender and uploads its device keys to {@code hs}. */
  Sender(BenchHomeserver hs) {
    store = MemoryCryptoStore.create(AccountId.of(USER, DEVICE));
    byte[] key = new byte[32];
    key[0] = 7;
    machine = OlmMachine.open(MachineConfig.of(USER, DEVICE, key), store);
    for (int round = 0; round < 4; round++) {
      for (OutgoingRequest r : machine.outgoingRequests()) {
        if (r.type() == RequestType.KEYS_UPLOAD) {
          hs.putDeviceKeys(USER, DEVICE, json(r.body().get("device_keys")));
          ObjectNode counts = MAPPER.createObjectNode();
          counts.putObject("one_time_key_counts").put("signed_curve25519", 50);
          machine.markRequestAsSent(r.requestId(), r.type(), counts);
          return;
        }
        if (r.type() == RequestType.KEYS_QUERY) {
          ObjectNode none = MAPPER.createObjectNode();
          none.putObject("device_keys").putObject(USER);
          none.putObject("failures");
          machine.markRequestAsSent(r.requestId(), r.type(), none);
        }
      }
    }
    throw new IllegalStateException("the sender never uploaded its keys");
  }

  /**
   * Creates a Megolm session for {@code room} and shares it with {@code user}'s device over Olm.
   *
   * @return the {@code m.room.encrypted} to-device event the bot's {@code /sync} would carry
   */
  JsonObject shareRoomKey(BenchHomeserver hs, String room, String user, String device) {
    machine.onRoomEncryption(
        room, MAPPER.createObjectNode().put("algorithm", "m.megolm.v1.aes-sha2"));
    machine.updateTrackedUsers(List.of(user));
    for (OutgoingRequest r : machine.outgoingRequests()) {
      if (r.type() == RequestType.KEYS_QUERY) {
        ObjectNode answer = MAPPER.createObjectNode();
        answer
            .putObject("device_keys")
            .putObject(user)
            .set(device, node(hs.deviceKeys(user, device)));
        answer.putObject("failures");
        machine.markRequestAsSent(r.requestId(), r.type(), answer);
      }
    }
    OutgoingRequest claim = machine.getMissingSessions(List.of(user)).orElse(null);
    if (claim != null) {
      JsonObject otk = hs.claimOneTimeKey(user, device);
      if (otk == null) {
        throw new IllegalStateException("the bot has no one-time key on the server");
      }
      ObjectNode answer = MAPPER.createObjectNode();
      answer.putObject("one_time_keys").putObject(user).set(device, node(otk));
      answer.putObject("failures");
      machine.markRequestAsSent(claim.requestId(), RequestType.KEYS_CLAIM, answer);
    }
    for (OutgoingRequest r : machine.shareRoomKey(room, List.of(user))) {
      ObjectNode content = (ObjectNode) r.body().path("messages").path(user).path(device);
      if (!content.isMissingNode() && "m.room.encrypted".equals(r.eventType())) {
        machine.markRequestAsSent(r.requestId(), r.type(), MAPPER.createObjectNode());
        return new JsonObject()
            .put("type", "m.room.encrypted")
            .put("sender", USER)
            .put("content", json(content));
      }
    }
    throw new IllegalStateException("no room key for the bot");
  }

  /** One encrypted timeline event of {@code room}, as a sync delivers it. */
  JsonObject encrypted(String room, String text) {
    ObjectNode content =
        machine.encryptRoomEvent(
            room,
            "m.room.message",
            MAPPER.createObjectNode().put("msgtype", "m.text").put("body", text));
    long n = ++events;
    return new JsonObject()
        .put("type", "m.room.encrypted")
        .put("sender", USER)
        .put("event_id", "$bench" + n + ":localhost")
        .put("origin_server_ts", 1_700_000_000_000L + n)
        .put("content", json(content));
  }

  /** The state a bot sees when it joins the room: encryption, and the sender as a member. */
  static JsonArray roomState(String room) {
    return new JsonArray()
        .add(
            new JsonObject()
                .put("type", "m.room.encryption")
                .put("state_key", "")
                .put("sender", USER)
                .put("event_id", "$enc:localhost")
                .put("content", new JsonObject().put("algorithm", "m.megolm.v1.aes-sha2")))
        .add(
            new JsonObject()
                .put("type", "m.room.member")
                .put("state_key", USER)
                .put("sender", USER)
                .put("event_id", "$member:localhost")
                .put("content", new JsonObject().put("membership", "join")));
  }

  static JsonObject json(com.fasterxml.jackson.databind.JsonNode node) {
    return new JsonObject(node.toString());
  }

  static ObjectNode node(JsonObject json) {
    try {
      return (ObjectNode) MAPPER.readTree(json.encode());
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    machine.close();
    store.close();
  }
}
