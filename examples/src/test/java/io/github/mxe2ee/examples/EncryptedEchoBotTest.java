package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The demo's main job end to end on the real dev Synapse: a user invites the {@link EchoBot} to an
 * encrypted room, the bot joins by itself, and answers the user's encrypted message with an
 * encrypted echo that the user's device decrypts.
 */
class EncryptedEchoBotTest {
  private static final long WAIT_S = 60;

  private Vertx vertx;
  private WebClient web;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    web = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void botJoinsAndEchoesAnEncryptedMessage() throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String botUser = "echo_e2e_" + suffix;
    String human = "human_" + suffix;
    await(hs.register(web, botUser, "bot-pass", false));
    await(hs.register(web, human, "human-pass", false));

    EchoBot bot =
        new EchoBot(vertx, web, new EchoBotConfig(hs.baseUrl(), botUser, "bot-pass", "ECHOBOT"));
    await(bot.start());
    await(bot.firstSync());

    HomeserverClient client = new HomeserverClient(web, hs.baseUrl());
    await(client.login(human, "human-pass", null));
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    Path dir = Files.createTempDirectory("mxe2ee-human");
    MatrixE2ee e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve("human.db").toString())
                .setPickleKeyBase64(UnpaddedBase64.encode(key)));
    await(e2ee.start());

    JsonObject create =
        new JsonObject()
            .put("invite", new JsonArray().add("@" + botUser + ":localhost"))
            .put(
                "initial_state",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("type", "m.room.encryption")
                            .put("state_key", "")
                            .put(
                                "content",
                                new JsonObject().put("algorithm", "m.megolm.v1.aes-sha2"))));
    String roomId =
        await(client.request("POST", "/_matrix/client/v3/createRoom", create)).getString("room_id");

    String since = null;
    boolean joined = false;
    for (int i = 0; i < 80 && !joined; i++) {
      JsonObject members =
          await(
              client.request(
                  "GET",
                  "/_matrix/client/v3/rooms/"
                      + java.net.URLEncoder.encode(roomId, java.nio.charset.StandardCharsets.UTF_8)
                      + "/joined_members",
                  null));
      joined = members.getJsonObject("joined").containsKey("@" + botUser + ":localhost");
      if (!joined) {
        Thread.sleep(250);
      }
    }
    assertTrue(joined, "the bot joined the room it was invited to");

    JsonObject first = await(client.sync(null, 0));
    since = first.getString("next_batch");
    await(e2ee.onSync(first));
    await(
        e2ee.send(
            roomId,
            "m.room.message",
            new JsonObject().put("msgtype", "m.text").put("body", "ping")));

    JsonObject echo = null;
    for (int i = 0; i < 80 && echo == null; i++) {
      JsonObject raw = await(client.sync(since, 1000));
      since = raw.getString("next_batch");
      JsonObject sync = await(e2ee.onSync(raw));
      JsonArray events =
          sync.getJsonObject("rooms", new JsonObject())
              .getJsonObject("join", new JsonObject())
              .getJsonObject(roomId, new JsonObject())
              .getJsonObject("timeline", new JsonObject())
              .getJsonArray("events", new JsonArray());
      for (int j = 0; j < events.size(); j++) {
        JsonObject e = events.getJsonObject(j);
        if ("m.room.message".equals(e.getString("type"))
            && ("@" + botUser + ":localhost").equals(e.getString("sender"))) {
          echo = e;
        }
      }
    }
    assertTrue(echo != null, "the bot's echo arrived and decrypted");
    assertEquals("echo: ping", echo.getJsonObject("content").getString("body"));
    assertEquals("m.notice", echo.getJsonObject("content").getString("msgtype"));
    assertTrue(echo.getJsonObject("mxe2ee").getBoolean("encrypted"));
    assertEquals(1, bot.echoCount());
    bot.stop();
    await(e2ee.close());
  }
}
