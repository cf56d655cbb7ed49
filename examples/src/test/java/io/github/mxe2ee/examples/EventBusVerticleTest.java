package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.bus.BusAddresses;
import io.github.mxe2ee.plugin.bus.BusFailure;
import io.github.mxe2ee.plugin.bus.Mxe2eeVerticle;
import io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Event bus mode end to end (issue 12, item 6): {@link Mxe2eeVerticle} deployed with a config in
 * the file's format on the dev Synapse, a matrix-js-sdk client (Rust crypto) on the other side, and
 * a bot that is nothing but event bus consumers: it joins on {@code <prefix>.invites}, reads the
 * decrypted message from {@code <prefix>.events} and answers through {@code <prefix>.send}; the
 * client decrypts the answer. The plugin's metrics show the decryption and the shared room key.
 */
class EventBusVerticleTest {
  private static final long EVENT_WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 60;

  private Vertx vertx;
  private JsClientPeer client;

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void busBotAnswersAJsClientThroughTheVerticle() throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String botLocal = "bus_bot_" + suffix;
    String botId = "@" + botLocal + ":localhost";
    String humanLocal = "bus_human_" + suffix;
    vertx = Vertx.vertx();
    WebClient web = WebClient.create(vertx);
    await(hs.register(web, botLocal, "bot-pass", false));
    await(hs.register(web, humanLocal, "human-pass", false));

    Path dir = Files.createTempDirectory("mxe2ee-bus");
    String prefix = "bus" + suffix;
    JsonObject config =
        new JsonObject()
            .put("homeserver", hs.baseUrl())
            .put(
                "login",
                new JsonObject()
                    .put("user", botLocal)
                    .put("password", "bot-pass")
                    .put("device_id", "BUSBOT"))
            .put("store", "sqlite:" + dir.resolve("bot.db"))
            .put("pickle_key", new JsonObject().put("file", dir.resolve("pickle.key").toString()))
            .put("bus", new JsonObject().put("address_prefix", prefix));

    // The bot: event bus consumers only, registered before the verticle starts syncing.
    BusAddresses at = new BusAddresses(prefix);
    EventBus bus = vertx.eventBus();
    bus.<JsonObject>consumer(
        at.invites(), m -> bus.request(at.join(), new JsonObject().put("room_id", roomOf(m))));
    bus.<JsonObject>consumer(
        at.events(),
        m -> {
          JsonObject e = m.body().getJsonObject("event");
          JsonObject info = e.getJsonObject("mxe2ee");
          if (m.body().getBoolean("initial")
              || !"m.room.message".equals(e.getString("type"))
              || botId.equals(e.getString("sender"))
              || info == null
              || !Boolean.TRUE.equals(info.getBoolean("encrypted"))) {
            return;
          }
          String text = e.getJsonObject("content").getString("body");
          bus.request(
              at.send(),
              new JsonObject()
                  .put("room_id", roomOf(m))
                  .put("type", "m.room.message")
                  .put("txn_id", "bus-" + e.getString("event_id").hashCode())
                  .put(
                      "content",
                      new JsonObject().put("msgtype", "m.notice").put("body", "bus: " + text)));
        });

    // Every log line of the run, formatted as a handler would write it (JUL is the default
    // System.Logger backend): checked at the end for plaintext and secrets.
    java.util.List<String> logLines = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler capture =
        new java.util.logging.Handler() {
          private final java.util.logging.SimpleFormatter f =
              new java.util.logging.SimpleFormatter();

          @Override
          public void publish(java.util.logging.LogRecord r) {
            logLines.add(f.format(r));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    capture.setLevel(java.util.logging.Level.ALL);
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    java.util.logging.Level rootLevel = root.getLevel();
    root.addHandler(capture);
    root.setLevel(java.util.logging.Level.FINE);

    Mxe2eeVerticle verticle = new Mxe2eeVerticle();
    await(vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config)));

    client = JsClientPeer.start("bus-" + suffix);
    client.login(hs.baseUrl(), humanLocal, "human-pass");
    client.startClient();
    String roomId = client.createEncryptedRoom(List.of(botId), null);
    client.waitForJoin(roomId, botId, EVENT_WAIT_MS);

    String text = "hello bus " + suffix;
    client.sendText(roomId, text);
    JsonObject answer =
        client.waitForEvent(
            roomId,
            new JsonObject()
                .put("sender", botId)
                .put("type", "m.room.message")
                .put("body", "bus: " + text),
            EVENT_WAIT_MS);
    assertEquals("decrypted", answer.getString("decryption"), answer.encode());
    assertEquals("m.room.encrypted", answer.getString("wire_type"), answer.encode());

    // The device address names the device the client decrypted from.
    Message<JsonObject> device = await(bus.request(at.device(), new JsonObject()));
    assertEquals(botId, device.body().getString("user_id"));
    assertEquals("BUSBOT", device.body().getString("device_id"));
    JsonArray botDevices = client.userDevices(botId);
    assertEquals(1, botDevices.size(), botDevices.encode());
    assertEquals(
        botDevices.getJsonObject(0).getString("ed25519"), device.body().getString("ed25519"));
    assertEquals(
        botDevices.getJsonObject(0).getString("curve25519"),
        answer.getString("sender_curve25519"),
        "the answer came from the bot's device");

    // A malformed request fails with a documented code, and nothing is sent.
    ExecutionException bad =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class,
            () -> await(bus.request(at.send(), new JsonObject().put("room_id", roomId))));
    ReplyException reply = assertInstanceOf(ReplyException.class, bad.getCause());
    assertEquals(BusFailure.BAD_REQUEST, reply.failureCode());

    MeterRegistry registry = verticle.e2ee().metrics().registry();
    assertTrue(registry.get(Mxe2eeMetrics.EVENTS_DECRYPTED).counter().count() >= 1);
    assertTrue(registry.get(Mxe2eeMetrics.ROOM_KEYS_SHARED).counter().count() >= 1);
    assertTrue(
        registry.get(Mxe2eeMetrics.REQUESTS).tag("endpoint", "room_send").timer().count() >= 1);

    await(vertx.undeploy(verticle.deploymentID()));
    root.removeHandler(capture);
    root.setLevel(rootLevel);
    String pickleKey =
        java.util.Base64.getEncoder()
            .withoutPadding()
            .encodeToString(Files.readAllBytes(dir.resolve("pickle.key")));
    assertTrue(
        logLines.stream().anyMatch(l -> l.contains(roomId) && l.contains("decrypted (session ")),
        "the decryption is logged with its ids: " + logLines);
    for (String line : logLines) {
      assertTrue(!line.contains(text), "no plaintext in logs: " + line);
      assertTrue(!line.contains("bot-pass"), "no password in logs: " + line);
      assertTrue(!line.contains(pickleKey), "no pickle key in logs: " + line);
    }
  }

  private static String roomOf(Message<JsonObject> m) {
    return m.body().getString("room_id");
  }
}
