package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The encrypt flow through the plugin (issue 12 item 4) on the dev Synapse, with matrix-js-sdk 43
 * (Rust crypto) on the other side: everything asserted as decrypted was decrypted by matrix-js-sdk,
 * and the room keys counted are the {@code m.room_key} to-device messages it received. One bot (the
 * plugin with its {@link SyncLoop}, joining the rooms it is invited to) and one human device serve
 * the whole class.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class EncryptFlowEndToEndTest {
  private static final long WAIT_MS = 60_000;

  private static DevHomeserver hs;
  private static Vertx vertx;
  private static HomeserverClient client;
  private static MatrixE2ee e2ee;
  private static SyncLoop loop;
  private static JsClientPeer human;
  private static String botId;
  private static String humanId;

  @BeforeAll
  static void setUp() throws Exception {
    hs = DevHomeserver.shared();
    vertx = Vertx.vertx();
    WebClient web = WebClient.create(vertx);
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String botLocal = "send_bot_" + suffix;
    String humanLocal = "send_human_" + suffix;
    await(hs.register(web, botLocal, "bot-pass", false));
    await(hs.register(web, humanLocal, "human-pass", false));
    botId = "@" + botLocal + ":" + hs.serverName();
    humanId = "@" + humanLocal + ":" + hs.serverName();

    client = new HomeserverClient(web, hs.baseUrl());
    await(client.login(botLocal, "bot-pass", "SENDBOT"));
    Path dir = Files.createTempDirectory("mxe2ee-send-e2e");
    e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve("bot.db").toString())
                .setPickleKeyFile(dir.resolve("pickle.key").toString()));
    await(e2ee.start());
    loop =
        SyncLoop.create(
                vertx,
                client,
                e2ee,
                new SyncLoopOptions().setTimeoutMs(2_000),
                batch -> {
                  List<Future<JsonObject>> joins = new ArrayList<>();
                  for (String room : batch.invitedRooms()) {
                    joins.add(
                        client.request(
                            "POST",
                            "/_matrix/client/v3/rooms/" + encode(room) + "/join",
                            new JsonObject()));
                  }
                  return Future.join(joins).mapEmpty();
                })
            .start();

    human = JsClientPeer.start("send-human-" + suffix);
    human.login(hs.baseUrl(), humanLocal, "human-pass");
    human.startClient();
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (human != null) {
      human.close();
    }
    if (loop != null) {
      await(loop.stop());
    }
    if (e2ee != null) {
      await(e2ee.close());
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static JsonObject text(String body) {
    return new JsonObject().put("msgtype", "m.text").put("body", body);
  }

  /** The bot's events in the human's timeline of {@code room}, in arrival order. */
  private static List<JsonObject> fromBot(String room) {
    JsonArray all = human.events(room);
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      JsonObject e = all.getJsonObject(i);
      if (botId.equals(e.getString("sender")) && "m.room.message".equals(e.getString("type"))
          || botId.equals(e.getString("sender"))
              && "m.room.encrypted".equals(e.getString("wire_type"))) {
        out.add(e);
      }
    }
    return out;
  }

  /** The {@code m.room_key} messages the human's device got from the bot for {@code room}. */
  private static List<JsonObject> roomKeysFromBot(String room) {
    JsonArray got =
        human
            .call("to_device_received", new JsonObject().put("type", "m.room_key"), 10_000)
            .getJsonArray("messages");
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < got.size(); i++) {
      JsonObject m = got.getJsonObject(i);
      if (botId.equals(m.getString("sender")) && room.equals(m.getString("room_id"))) {
        out.add(m);
      }
    }
    return out;
  }

  @Test
  void twentyConcurrentSends_shareOneRoomKey_andDecryptInOrder() throws Exception {
    String room = human.createEncryptedRoom(List.of(botId), "shared");
    human.waitForJoin(room, botId, WAIT_MS);

    List<Future<String>> sends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sends.add(e2ee.send(room, "m.room.message", text("burst " + i)));
    }
    await(Future.all(sends));
    human.waitForEvent(
        room,
        new JsonObject()
            .put("sender", botId)
            .put("body", "burst 19")
            .put("decryption", "decrypted"),
        WAIT_MS);

    List<String> bodies = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (JsonObject e : fromBot(room)) {
      assertEquals("decrypted", e.getString("decryption"), e.encode());
      bodies.add(e.getJsonObject("content").getString("body"));
    }
    for (int i = 0; i < 20; i++) {
      expected.add("burst " + i);
    }
    assertEquals(expected, bodies, "all twenty decrypted, in the order of the send() calls");
    List<JsonObject> keys = roomKeysFromBot(room);
    assertEquals(1, keys.size(), "one m.room_key for the human's one device: " + keys);
    assertEquals(true, keys.get(0).getBoolean("encrypted"), "over Olm: " + keys);
  }

  @Test
  void invitedMember_decryptsWhatWasSentWhileInvited() throws Exception {
    JsonObject created =
        await(
            client.request(
                "POST",
                "/_matrix/client/v3/createRoom",
                new JsonObject()
                    .put("preset", "private_chat")
                    .put("invite", new JsonArray().add(humanId))
                    .put(
                        "initial_state",
                        new JsonArray()
                            .add(
                                new JsonObject()
                                    .put("type", "m.room.encryption")
                                    .put("state_key", "")
                                    .put(
                                        "content",
                                        new JsonObject().put("algorithm", "m.megolm.v1.aes-sha2")))
                            .add(
                                new JsonObject()
                                    .put("type", "m.room.history_visibility")
                                    .put("state_key", "")
                                    .put(
                                        "content",
                                        new JsonObject().put("history_visibility", "invited"))))));
    String room = created.getString("room_id");
    for (int i = 0; i < 3; i++) {
      await(e2ee.send(room, "m.room.message", text("while invited " + i)));
    }
    human.call("join", new JsonObject().put("room_id", room).put("timeout_ms", WAIT_MS), WAIT_MS);
    for (int i = 0; i < 3; i++) {
      JsonObject e =
          human.waitForEvent(
              room,
              new JsonObject().put("sender", botId).put("body", "while invited " + i),
              WAIT_MS);
      assertEquals("decrypted", e.getString("decryption"), e.encode());
    }
    assertEquals(1, roomKeysFromBot(room).size(), "the key came while the human was invited");
  }
}
