package io.github.mxe2ee.examples.appservice;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * Shared steps of the bridge-mode tests against the dev Synapse: a Matrix user running the plugin,
 * the appservice's options from the effective registration, joins as appservice users.
 */
final class AppserviceTestSupport {
  static final long WAIT_S = 90;
  static final String CS = "/_matrix/client/v3";

  final Vertx vertx;
  final WebClient web;
  final DevHomeserver hs;

  AppserviceTestSupport(Vertx vertx) {
    this.vertx = vertx;
    this.web = WebClient.create(vertx);
    this.hs = DevHomeserver.shared();
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
  }

  /** The port the registration points Synapse at (its {@code url}). */
  int appservicePort() {
    return URI.create(hs.appserviceSetting("url")).getPort();
  }

  String hsToken() {
    return hs.appserviceSetting("hs_token");
  }

  String asToken() {
    return hs.appserviceSetting("as_token");
  }

  /** Bridge options on {@code store} with a fixed pickle key. */
  AppserviceOptions options(Path store, byte[] pickleKey) {
    return new AppserviceOptions()
        .setHomeserverUrl(hs.baseUrl())
        .setAsToken(asToken())
        .setHsToken(hsToken())
        .setBotLocalpart(hs.appserviceSetting("sender_localpart"))
        .setAppserviceId(hs.appserviceSetting("id"))
        .setEngine(
            new E2eeOptions()
                .setStorePath(store.toString())
                .setPickleKeyBase64(
                    Base64.getEncoder().withoutPadding().encodeToString(pickleKey)));
  }

  static byte[] randomKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return key;
  }

  /** A Matrix user with its own plugin device. */
  record Human(String userId, HomeserverClient client, MatrixE2ee e2ee, String[] since) {}

  Human human(String localpart, Path dir) throws Exception {
    await(hs.register(web, localpart, "pw-" + localpart, false));
    HomeserverClient client = new HomeserverClient(web, hs.baseUrl());
    await(client.login(localpart, "pw-" + localpart, null));
    MatrixE2ee e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve(localpart + ".db").toString())
                .setPickleKeyBase64(
                    Base64.getEncoder().withoutPadding().encodeToString(randomKey())));
    await(e2ee.start());
    return new Human(client.session().userId(), client, e2ee, new String[1]);
  }

  JsonObject sync(Human h) throws Exception {
    JsonObject body = await(h.client().sync(h.since()[0], 0));
    h.since()[0] = body.getString("next_batch");
    return await(h.e2ee().onSync(body));
  }

  /** Syncs until a decrypted m.room.message with {@code text} shows up in {@code roomId}. */
  JsonObject receive(Human h, String roomId, String text) throws Exception {
    for (int i = 0; i < 80; i++) {
      JsonArray events =
          sync(h)
              .getJsonObject("rooms", new JsonObject())
              .getJsonObject("join", new JsonObject())
              .getJsonObject(roomId, new JsonObject())
              .getJsonObject("timeline", new JsonObject())
              .getJsonArray("events", new JsonArray());
      for (int j = 0; j < events.size(); j++) {
        JsonObject e = events.getJsonObject(j);
        if ("m.room.message".equals(e.getString("type"))
            && text.equals(e.getJsonObject("content").getString("body"))) {
          return e;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError(h.userId() + " never decrypted '" + text + "' in " + roomId);
  }

  /** Syncs once; the first timeline event of {@code sender} in {@code roomId}, or null. */
  JsonObject firstFrom(Human h, String roomId, String sender) throws Exception {
    JsonArray events =
        sync(h)
            .getJsonObject("rooms", new JsonObject())
            .getJsonObject("join", new JsonObject())
            .getJsonObject(roomId, new JsonObject())
            .getJsonObject("timeline", new JsonObject())
            .getJsonArray("events", new JsonArray());
    for (int j = 0; j < events.size(); j++) {
      JsonObject e = events.getJsonObject(j);
      if (sender.equals(e.getString("sender")) && !e.containsKey("state_key")) {
        return e;
      }
    }
    return null;
  }

  /** An encrypted private room made by {@code h}, inviting {@code invite}. */
  String encryptedRoom(Human h, String... invite) throws Exception {
    JsonArray invites = new JsonArray();
    for (String u : invite) {
      invites.add(u);
    }
    JsonObject create =
        new JsonObject()
            .put("preset", "private_chat")
            .put("invite", invites)
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
    return await(h.client().request("POST", CS + "/createRoom", create)).getString("room_id");
  }

  /** Joins {@code roomId} as an appservice user (null: the bot). */
  void joinAs(String roomId, String userId) throws Exception {
    String path = CS + "/join/" + URLEncoder.encode(roomId, StandardCharsets.UTF_8);
    var req = web.postAbs(hs.baseUrl() + path).bearerTokenAuthentication(asToken());
    if (userId != null) {
      req.addQueryParam("user_id", userId);
    }
    var r = await(req.sendJsonObject(new JsonObject()));
    if (r.statusCode() != 200) {
      throw new AssertionError(
          "join as " + userId + ": " + r.statusCode() + " " + r.bodyAsString());
    }
  }
}
