package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.history.RoomMessages;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bridge receives room history (MSC4268; docs/HISTORY_SHARING.md, "Bridges"): a Matrix user on
 * matrix-js-sdk 43 (Rust crypto, cross-signed) with earlier encrypted messages in a {@code shared}
 * room invites the bridge bot; matrix-js-sdk sends its room key bundle to the bot's device, and the
 * invite and the {@code m.room_key_bundle} reach the bridge only through appservice transactions
 * (the bot cannot {@code /sync}). When the bot joins, its device imports the bundle and reads the
 * messages sent before it was there, each vouched for by the inviter.
 */
class AppserviceHistoryTest {
  private static final long WAIT_MS = 60_000;

  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final List<AutoCloseable> closing = new ArrayList<>();
  private AppserviceE2ee as;
  private HttpServer server;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    if (as != null) {
      await(as.close());
    }
    if (server != null) {
      await(server.close());
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Type of the probe to-device messages (plaintext, ignored by the engine). */
  private static final String PROBE_TYPE = "org.mxe2ee.test.probe";

  /**
   * Waits until Synapse pushes to-device messages to the bot's device live. After an earlier test's
   * bridge went away, Synapse holds the appservice for down; while it recovers (the ping starts it)
   * it resends held transactions without their to-device messages (docs/BRIDGES.md), and the bot's
   * device cannot read its inbox: a room key bundle sent meanwhile would be lost. So a probe is
   * sent to the bot's device until one arrives in a transaction.
   */
  private void awaitLiveToDevice(
      AppserviceTestSupport s, String bot, String device, Set<String> seen) throws Exception {
    String local = "as_hist_probe_" + suffix;
    await(s.hs.register(s.web, local, local + "-pass", false));
    HomeserverClient prober = new HomeserverClient(s.web, s.hs.baseUrl());
    await(prober.login(local, local + "-pass", null));
    long deadline = System.currentTimeMillis() + WAIT_MS;
    for (int i = 0; System.currentTimeMillis() < deadline; i++) {
      String nonce = "probe-" + suffix + "-" + i;
      await(
          prober.request(
              "PUT",
              AppserviceTestSupport.CS + "/sendToDevice/" + PROBE_TYPE + "/" + nonce,
              new JsonObject()
                  .put(
                      "messages",
                      new JsonObject()
                          .put(
                              bot,
                              new JsonObject().put(device, new JsonObject().put("n", nonce))))));
      for (int w = 0; w < 20; w++) {
        if (seen.stream().anyMatch(b -> b.contains(nonce))) {
          return;
        }
        Thread.sleep(100);
      }
    }
    throw new AssertionError("Synapse never pushed a to-device message to the bot's device");
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void botInvitedByACrossSignedUser_importsTheBundleOnJoining() throws Exception {
    AppserviceTestSupport s = new AppserviceTestSupport(vertx);
    as =
        AppserviceE2ee.create(
            vertx, s.options(dir.resolve("bridge.db"), AppserviceTestSupport.randomKey()));
    await(as.start());
    Set<String> probesSeen = ConcurrentHashMap.newKeySet();
    Router router = Router.router(vertx);
    // Peeks at each transaction for the probes below, then hands it to the plugin's endpoint.
    router
        .put("/_matrix/app/v1/transactions/:txnId")
        .handler(BodyHandler.create(false))
        .handler(
            ctx -> {
              String body = ctx.body().asString();
              if (body != null && body.contains(PROBE_TYPE)) {
                probesSeen.add(body);
              }
              ctx.next();
            });
    as.mount(router);
    server =
        await(
            vertx
                .createHttpServer()
                .requestHandler(router)
                .listen(s.appservicePort(), "127.0.0.1"));
    await(as.ping());
    String bot = as.botUserId();
    awaitLiveToDevice(s, bot, as.botDeviceId(), probesSeen);

    String local = "as_hist_alice_" + suffix;
    String alice = "@" + local + ":localhost";
    await(s.hs.register(s.web, local, local + "-pass", false));
    JsClientPeer a = JsClientPeer.start(local);
    closing.add(a);
    a.login(s.hs.baseUrl(), local, local + "-pass");
    a.startClient();
    JsonObject cs = a.bootstrapCrossSigning(local + "-pass");
    assertEquals(Boolean.TRUE, cs.getBoolean("own_identity_verified"), cs.encode());
    String roomId = a.createEncryptedRoom(List.of(), "shared");
    List<String> before = List.of("one " + suffix, "two " + suffix, "three " + suffix);
    for (String text : before) {
      a.sendText(roomId, text);
    }

    a.invite(roomId, bot); // matrix-js-sdk shares the room's history with the bot's device
    s.joinAs(roomId, null); // the bridge accepts the invite, as bridges do

    long deadline = System.currentTimeMillis() + WAIT_MS;
    RoomMessages read;
    List<String> got;
    do {
      Thread.sleep(500);
      read = await(as.bot().history().lastMessages(roomId, 10, null));
      got = new ArrayList<>();
      for (JsonObject m : read.messages()) {
        if (alice.equals(m.getString("sender"))
            && m.getValue("mxe2ee") instanceof JsonObject info
            && alice.equals(info.getValue("forwarder"))) {
          got.add(m.getJsonObject("content").getString("body"));
        }
      }
    } while (!got.equals(before) && System.currentTimeMillis() < deadline);
    assertEquals(
        before,
        got,
        "the bot read alice's earlier messages with the keys of her bundle: "
            + read.messages()
            + ", undecryptable "
            + read.failures());
    assertTrue(read.undecryptable() == 0, "nothing left undecryptable: " + read.failures());
  }
}
