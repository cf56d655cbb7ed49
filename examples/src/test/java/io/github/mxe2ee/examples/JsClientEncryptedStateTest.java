package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Encrypted state (MSC4362, issue 16) end to end on the dev Synapse: matrix-js-sdk 43 with {@code
 * enableEncryptedStateEvents} and the {@link EchoBot}. The client sets an encrypted topic and the
 * bot reads it ({@code !topic}); the bot sets an encrypted topic ({@code !topic <text>}) and the
 * client reads it. The room's state on the server (Synapse's admin API) holds only the ciphertexts
 * under the packed state key {@code m.room.topic:}, never a plain topic.
 */
class JsClientEncryptedStateTest {
  private static final long EVENT_WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 60;

  private final Vertx vertx = Vertx.vertx();
  private JsClientPeer client;
  private EchoBot bot;

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (bot != null) {
      await(bot.close());
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
  }

  /** The room's current state events as the server holds them (admin API). */
  private static JsonArray serverState(HomeserverClient admin, String roomId) throws Exception {
    String path =
        "/_synapse/admin/v1/rooms/" + URLEncoder.encode(roomId, StandardCharsets.UTF_8) + "/state";
    return await(admin.request("GET", path, null)).getJsonArray("state");
  }

  /** Asserts the server has the topic only encrypted, under the packed key, with no plaintext. */
  private static void assertTopicEncryptedOnServer(JsonArray state, String topicText) {
    boolean encrypted = false;
    for (int i = 0; i < state.size(); i++) {
      JsonObject e = state.getJsonObject(i);
      assertFalse("m.room.topic".equals(e.getString("type")), "no plain topic: " + e.encode());
      assertFalse(e.encode().contains(topicText), "the topic text never reaches the server");
      if ("m.room.encrypted".equals(e.getString("type"))
          && "m.room.topic:".equals(e.getString("state_key"))) {
        encrypted = true;
        assertEquals(
            "m.megolm.v1.aes-sha2", e.getJsonObject("content").getString("algorithm"), e.encode());
      }
    }
    assertTrue(encrypted, "an encrypted topic under m.room.topic: in " + state.encode());
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void topicSetByEitherSideIsEncryptedAndReadByTheOther() throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String botLocal = "state_bot_" + suffix;
    String botId = "@" + botLocal + ":localhost";
    String humanLocal = "state_human_" + suffix;
    String adminLocal = "state_admin_" + suffix;
    WebClient web = WebClient.create(vertx);
    await(hs.register(web, botLocal, "bot-pass", false));
    await(hs.register(web, humanLocal, "human-pass", false));
    await(hs.register(web, adminLocal, "admin-pass", true));
    HomeserverClient admin = new HomeserverClient(web, hs.baseUrl());
    await(admin.login(adminLocal, "admin-pass", null));

    bot =
        new EchoBot(vertx, web, new EchoBotConfig(hs.baseUrl(), botLocal, "bot-pass", "STATEBOT"));
    await(bot.start());
    await(bot.firstSync());

    client = JsClientPeer.start("state-" + suffix);
    client.login(hs.baseUrl(), humanLocal, "human-pass");
    client.call("start", new JsonObject().put("encrypted_state_events", true), 60_000);
    JsonObject room =
        client.call(
            "create_room_encrypted_state",
            new JsonObject()
                .put("invite", new JsonArray().add(botId))
                .put("power_users", new JsonObject().put(botId, 50)),
            EVENT_WAIT_MS);
    String roomId = room.getString("room_id");
    assertEquals(Boolean.TRUE, room.getValue("encrypt_state_events"), room.encode());
    client.waitForJoin(roomId, botId, EVENT_WAIT_MS);

    // 1. The client sets an encrypted topic; the bot reads it decrypted.
    String clientTopic = "client's secret topic " + suffix;
    client.call(
        "set_state",
        new JsonObject()
            .put("room_id", roomId)
            .put("type", "m.room.topic")
            .put("content", new JsonObject().put("topic", clientTopic)),
        EVENT_WAIT_MS);
    assertTopicEncryptedOnServer(serverState(admin, roomId), clientTopic);
    client.sendText(roomId, "!topic");
    JsonObject told =
        client.waitForEvent(
            roomId, new JsonObject().put("sender", botId).put("body", clientTopic), EVENT_WAIT_MS);
    assertEquals("decrypted", told.getString("decryption"), told.encode());
    assertEquals("m.notice", told.getJsonObject("content").getString("msgtype"));

    // 2. The bot sets an encrypted topic; the client reads it decrypted.
    String botTopic = "bot's secret topic " + suffix;
    client.sendText(roomId, "!topic " + botTopic);
    JsonObject read =
        client.call(
            "wait_for_state",
            new JsonObject()
                .put("room_id", roomId)
                .put("type", "m.room.topic")
                .put("field", "topic")
                .put("value", botTopic)
                .put("timeout_ms", EVENT_WAIT_MS),
            EVENT_WAIT_MS + 5_000);
    assertEquals(botId, read.getString("sender"), read.encode());
    assertEquals("decrypted", read.getString("decryption"), read.encode());
    assertEquals("m.room.encrypted", read.getString("wire_type"), read.encode());
    assertEquals("m.room.topic:", read.getString("wire_state_key"), read.encode());
    assertEquals("", read.getString("state_key"));
    assertTopicEncryptedOnServer(serverState(admin, roomId), botTopic);

    // 3. The bot's own view follows: !topic now tells the topic it set.
    client.sendText(roomId, "!topic");
    String toldBotTopic =
        client
            .waitForEvent(
                roomId, new JsonObject().put("sender", botId).put("body", botTopic), EVENT_WAIT_MS)
            .getString("event_id");
    assertEquals(
        botTopic, await(bot.e2ee().roomState(roomId)).topic().orElse(null), "the plugin's view");

    // 4. A plain !topic in this encrypted room (what a homeserver could make up) is ignored.
    HomeserverClient plain = new HomeserverClient(web, hs.baseUrl());
    await(plain.login(humanLocal, "human-pass", null));
    String forged = "forged topic " + suffix;
    await(
        plain.request(
            "PUT",
            "/_matrix/client/v3/rooms/"
                + URLEncoder.encode(roomId, StandardCharsets.UTF_8)
                + "/send/m.room.message/forged-"
                + suffix,
            new JsonObject().put("msgtype", "m.text").put("body", "!topic " + forged)));
    client.sendText(roomId, "!topic");
    client.waitForEvent(
        roomId,
        new JsonObject()
            .put("sender", botId)
            .put("body", botTopic)
            .put("not_event_ids", new JsonArray().add(toldBotTopic)),
        EVENT_WAIT_MS);
    assertFalse(
        serverState(admin, roomId).encode().contains("forged"), "no topic from a plain command");
    assertEquals(botTopic, await(bot.e2ee().roomState(roomId)).topic().orElse(null));
  }
}
