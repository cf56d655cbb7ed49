package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.appservice.AppserviceTestSupport.Human;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.state.RoomState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Encrypted state (issue 16, item 3: "of /sync and transactions") through appservice transactions:
 * a Matrix user's plugin encrypts state events (MSC4362) in a room that encrypts state; Synapse
 * pushes them to the bridge in real transactions, and {@link AppserviceE2ee#onTransaction} hands
 * them over decrypted with the packed state key checked; the same events moved under another state
 * key, moved out of state or into it are refused with {@code STATE_KEY_MISMATCH} and never handed
 * over as state; a forged {@code mxe2ee} decryption mark on a plain event is removed.
 */
class AppserviceEncryptedStateTest {
  private Vertx vertx;
  private AppserviceTestSupport t;
  private Path dir;
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    t = new AppserviceTestSupport(vertx);
    dir = Files.createTempDirectory("mxe2ee-as-state");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  private JsonObject receivedEvent(String eventId) {
    JsonObject found = null;
    for (JsonObject e : received) {
      if (eventId.equals(e.getString("event_id"))) {
        found = e;
      }
    }
    return found;
  }

  private JsonArray handOver(AppserviceE2ee as, String txnId, JsonArray events) throws Exception {
    received.clear();
    JsonObject out = await(as.onTransaction(txnId, new JsonObject().put("events", events)));
    assertEquals(events.size(), received.size(), "everything handed over: " + received);
    return out.getJsonArray("events");
  }

  private static void assertRefusedAsState(JsonObject delivered, String why) {
    assertEquals("m.room.encrypted", delivered.getString("type"), why + ": " + delivered);
    JsonObject info = delivered.getJsonObject("mxe2ee");
    assertNotNull(info, why + ": no mxe2ee");
    assertEquals("STATE_KEY_MISMATCH", info.getString("decryption_failure"), why);
    assertNull(info.getValue("encrypted"), why);
    assertFalse(delivered.getJsonObject("content").containsKey("topic"), why);
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void encryptedStateInTransactions_isDecryptedAndItsStateKeyChecked() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    TransactionRecorder recorder = new TransactionRecorder(t).listen();
    Human human = t.human("as_state_" + s, dir);
    AppserviceE2ee as =
        AppserviceE2ee.create(
            vertx, t.options(dir.resolve("bridge.db"), AppserviceTestSupport.randomKey()));
    as.transactionHandler(
        (txnId, txn) -> {
          txn.getJsonArray("events").forEach(o -> received.add((JsonObject) o));
          return Future.succeededFuture();
        });
    await(as.start());
    await(as.ping());
    String roomId =
        await(
            human
                .e2ee()
                .createEncryptedRoom(
                    new JsonObject()
                        .put("preset", "private_chat")
                        .put("invite", new JsonArray().add(as.botUserId())),
                    true));
    t.joinAs(roomId, null);
    t.sync(human);

    String topic = "encrypted topic " + s;
    String topicId =
        await(
            human
                .e2ee()
                .sendStateEvent(roomId, "m.room.topic", "", new JsonObject().put("topic", topic)));
    String bridgeStateKey = "@remote_" + s + ":example.org";
    String customId =
        await(
            human
                .e2ee()
                .sendStateEvent(
                    roomId,
                    "com.example.bridge.portal",
                    bridgeStateKey,
                    new JsonObject().put("remote", "channel-" + s)));
    String messageId =
        await(
            human
                .e2ee()
                .send(
                    roomId,
                    "m.room.message",
                    new JsonObject().put("msgtype", "m.text").put("body", "hello " + s)));
    recorder.awaitPushed(as.botDeviceId(), topicId, customId, messageId);
    JsonObject rawTopic = recorder.event(topicId);
    JsonObject rawCustom = recorder.event(customId);
    JsonObject rawMessage = recorder.event(messageId);
    assertEquals("m.room.encrypted", rawTopic.getString("type"), "the server saw no plain topic");
    assertEquals("m.room.topic:", rawTopic.getString("state_key"));
    assertEquals("com.example.bridge.portal:" + bridgeStateKey, rawCustom.getString("state_key"));

    // The real transactions, room keys included: state decrypted, state key checked.
    JsonObject all =
        new JsonObject()
            .put("events", recorder.events())
            .put("de.sorunome.msc2409.to_device", recorder.toDevice());
    received.clear();
    await(as.onTransaction("state-" + s, all));
    JsonObject gotTopic = receivedEvent(topicId);
    assertEquals("m.room.topic", gotTopic.getString("type"), gotTopic.encode());
    assertEquals("", gotTopic.getString("state_key"));
    assertEquals(topic, gotTopic.getJsonObject("content").getString("topic"));
    assertTrue(gotTopic.getJsonObject("mxe2ee").getBoolean("encrypted"));
    assertEquals("m.room.topic:", gotTopic.getJsonObject("mxe2ee").getString("packed_state_key"));
    JsonObject gotCustom = receivedEvent(customId);
    assertEquals("com.example.bridge.portal", gotCustom.getString("type"), gotCustom.encode());
    assertEquals(bridgeStateKey, gotCustom.getString("state_key"));
    assertEquals("channel-" + s, gotCustom.getJsonObject("content").getString("remote"));
    JsonObject gotMessage = receivedEvent(messageId);
    assertEquals("m.room.message", gotMessage.getString("type"));
    assertFalse(gotMessage.containsKey("state_key"));
    RoomState state = await(as.bot().roomState(roomId));
    assertEquals(topic, state.topic().orElse(null), "the bot keeps the decrypted topic");
    assertEquals(
        "channel-" + s,
        state
            .content("com.example.bridge.portal", bridgeStateKey)
            .map(c -> c.getString("remote"))
            .orElse(null));

    // The same ciphertexts moved by the server: under another type, another state key, out of
    // state (a timeline position) and a message into state. Each refused, never state.
    JsonArray moved = new JsonArray();
    moved.add(rawTopic.copy().put("state_key", "m.room.name:"));
    moved.add(rawTopic.copy().put("state_key", "m.room.topic:@bob:localhost"));
    moved.add(rawCustom.copy().put("state_key", "com.example.bridge.portal:@other:example.org"));
    JsonObject unstated = rawTopic.copy();
    unstated.remove("state_key");
    moved.add(unstated);
    moved.add(rawTopic.copy().put("state_key", "m.room.topic"));
    JsonArray out = handOver(as, "moved-" + s, moved);
    for (int i = 0; i < out.size(); i++) {
      assertRefusedAsState(out.getJsonObject(i), "moved #" + i);
    }
    state = await(as.bot().roomState(roomId));
    assertEquals(topic, state.topic().orElse(null), "the genuine topic stays");
    assertTrue(state.name().isEmpty(), "no name from a moved topic: " + state);
    assertTrue(state.content("m.room.topic", "@bob:localhost").isEmpty());
    assertTrue(state.content("com.example.bridge.portal", "@other:example.org").isEmpty());

    // A message served as the current topic: refused, and the server's claim that the current
    // topic is an event nobody can read hides the readable one (as any unreadable encrypted
    // state does); its text never becomes the topic.
    out =
        handOver(
            as,
            "message-as-state-" + s,
            new JsonArray().add(rawMessage.copy().put("state_key", "m.room.topic:")));
    assertRefusedAsState(out.getJsonObject(0), "message as state");
    state = await(as.bot().roomState(roomId));
    assertTrue(state.topic().isEmpty(), "no readable topic: " + state);
    assertFalse(state.isEncrypted("m.room.topic", ""));
    // The genuine event again (the server serves it as current): read again.
    out = handOver(as, "topic-again-" + s, new JsonArray().add(rawTopic.copy()));
    assertEquals("m.room.topic", out.getJsonObject(0).getString("type"));
    assertEquals(topic, await(as.bot().roomState(roomId)).topic().orElse(null));

    // Forged decryption marks on plain events (state and message, with and without a room id)
    // are removed before anything reads them.
    JsonObject forgedInfo =
        new JsonObject()
            .put("encrypted", true)
            .put("authenticated", true)
            .put("trust", "CROSS_SIGNED")
            .put("packed_state_key", "m.room.topic:");
    JsonArray forged = new JsonArray();
    forged.add(
        new JsonObject()
            .put("type", "m.room.topic")
            .put("state_key", "")
            .put("room_id", roomId)
            .put("sender", human.userId())
            .put("event_id", "$forged-topic-" + s)
            .put("origin_server_ts", 1)
            .put("content", new JsonObject().put("topic", "plain forged " + s))
            .put("mxe2ee", forgedInfo.copy()));
    forged.add(
        new JsonObject()
            .put("type", "m.room.message")
            .put("room_id", roomId)
            .put("sender", human.userId())
            .put("event_id", "$forged-msg-" + s)
            .put("origin_server_ts", 1)
            .put("content", new JsonObject().put("msgtype", "m.text").put("body", "!topic x"))
            .put("mxe2ee", forgedInfo.copy()));
    forged.add(
        new JsonObject()
            .put("type", "m.room.message")
            .put("sender", human.userId())
            .put("event_id", "$forged-noroom-" + s)
            .put("origin_server_ts", 1)
            .put("content", new JsonObject().put("msgtype", "m.text").put("body", "no room"))
            .put("mxe2ee", forgedInfo.copy()));
    out = handOver(as, "forged-" + s, forged);
    for (int i = 0; i < out.size(); i++) {
      assertFalse(
          out.getJsonObject(i).containsKey("mxe2ee"), "forged mark #" + i + " removed: " + out);
    }
    // In the ephemeral section too (receipts, typing: the plugin never marks them).
    JsonObject withEphemeral =
        new JsonObject()
            .put("events", new JsonArray())
            .put(
                "ephemeral",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("type", "m.typing")
                            .put("room_id", roomId)
                            .put("content", new JsonObject().put("user_ids", new JsonArray()))
                            .put("mxe2ee", forgedInfo.copy())));
    JsonObject handed = await(as.onTransaction("forged-ephemeral-" + s, withEphemeral));
    assertFalse(
        handed.getJsonArray("ephemeral").getJsonObject(0).containsKey("mxe2ee"),
        "forged mark in ephemeral removed: " + handed);
    state = await(as.bot().roomState(roomId));
    assertEquals(topic, state.topic().orElse(null), "a plain topic does not replace the encrypted");
    assertTrue(state.isEncrypted("m.room.topic", ""));

    await(as.close());
    recorder.close();
    await(human.e2ee().close());
  }
}
