package io.github.mxe2ee.examples.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.testing.BridgeProcess;
import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.examples.testing.ProjectPaths;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bridge shares a portal's history with the Matrix users it invites later (MSC4268;
 * docs/HISTORY_SHARING.md, "Bridges"): the example bridge as a child JVM on the dev Synapse, two
 * Matrix users on matrix-js-sdk 43 with its Rust crypto (Element's), the test playing the remote
 * network. Alice is in the portal while a remote user's ghost and she talk; then the remote side
 * opens the portal again with Carol in {@code invite}; Carol's client imports the bridge bot's room
 * key bundle on joining and decrypts the ghost's and Alice's earlier messages, each vouched for by
 * the bridge bot. Everything Carol reports decrypted was decrypted by matrix-js-sdk.
 */
class BridgeHistoryEndToEndTest {
  private static final long WAIT_MS = 60_000;
  private static final long START_MS = 120_000;
  private static final String BOT = "@bridge_bot:localhost";

  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String portal = "history-" + suffix;
  // Fresh names per run: the dev Synapse keeps users (and their identities) across runs.
  private final String remote = "bob-" + suffix;
  private final String alice = "@hist_br_alice_" + suffix + ":localhost";
  private final String carol = "@hist_br_carol_" + suffix + ":localhost";
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private BridgeProcess bridge;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    if (bridge != null) {
      bridge.stop();
    }
  }

  /** A registered Matrix user on a new js client device, cross-signed (Element's default). */
  private JsClientPeer user(DevHomeserver hs, String userId) throws Exception {
    String local = userId.substring(1, userId.indexOf(':'));
    Vertx v = Vertx.vertx();
    try {
      hs.register(WebClient.create(v), local, local + "-pass", false)
          .toCompletionStage()
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } finally {
      v.close();
    }
    JsClientPeer p = JsClientPeer.start(local);
    closing.add(p);
    p.login(hs.baseUrl(), local, local + "-pass");
    p.startClient();
    JsonObject cs = p.bootstrapCrossSigning(local + "-pass");
    assertEquals(Boolean.TRUE, cs.getBoolean("own_identity_verified"), cs.encode());
    return p;
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void userInvitedLater_readsTheGhostsAndTheFirstUsersEarlierMessages() throws Exception {
    scenario("ghost");
  }

  /** The same with the single bot device model: the bot's device encrypts for the ghosts. */
  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void botDeviceModel_userInvitedLater_readsTheEarlierMessagesToo() throws Exception {
    scenario("bot");
  }

  private void scenario(String devices) throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    Path work = Path.of("target", "bridge-history-" + suffix).toAbsolutePath();
    bridge =
        BridgeProcess.start(
            hs.baseUrl(),
            ProjectPaths.root().resolve(".run/synapse/appservice-registration.yaml"),
            work.resolve(devices),
            devices,
            work.resolve("bridge-" + devices + ".log"),
            START_MS);
    JsClientPeer a = user(hs, alice);

    JsonObject opened = ok(post("/remote/portals", json("portal", portal, "invite", arr(alice))));
    String roomId = opened.getString("room_id");
    a.acceptInvite(roomId, null, WAIT_MS);
    String ghostText = "the remote side says hello " + suffix;
    JsonObject sent =
        ok(post("/remote/send", json("portal", portal, "from", remote, "text", ghostText)));
    String ghost = sent.getString("from");
    a.waitForEvent(
        roomId,
        new JsonObject().put("sender", ghost).put("body", ghostText).put("decryption", "decrypted"),
        WAIT_MS);
    String aliceText = "alice answers " + suffix;
    a.sendText(roomId, aliceText);
    awaitRemote(aliceText);

    // Carol is invited to the existing portal: the bridge bot shares the portal's history.
    JsClientPeer c = user(hs, carol);
    JsonObject again = ok(post("/remote/portals", json("portal", portal, "invite", arr(carol))));
    assertEquals(roomId, again.getString("room_id"), again.encode());
    assertEquals(arr(carol), again.getJsonArray("invited"), again.encode());
    JsonObject accepted = c.acceptInvite(roomId, WAIT_MS);
    assertEquals(BOT, accepted.getString("inviter"), accepted.encode());

    JsonArray history = c.roomHistory(roomId, 100, WAIT_MS);
    for (String[] said :
        List.of(new String[] {ghost, ghostText}, new String[] {alice, aliceText})) {
      JsonObject e = find(history, said[0], said[1]);
      assertEquals("decrypted", e.getString("decryption"), e.encode());
      assertEquals(BOT, e.getString("forwarder"), "the bridge bot vouched for it: " + e.encode());
    }
    // And the conversation goes on with Carol in it.
    String after = "after carol joined " + suffix;
    ok(post("/remote/send", json("portal", portal, "from", remote, "text", after)));
    c.waitForEvent(
        roomId,
        new JsonObject().put("sender", ghost).put("body", after).put("decryption", "decrypted"),
        WAIT_MS);
  }

  /** The encrypted event of {@code sender} with {@code body} in Carol's history (must be one). */
  private static JsonObject find(JsonArray history, String sender, String body) {
    JsonObject found = null;
    for (int i = 0; i < history.size(); i++) {
      JsonObject e = history.getJsonObject(i);
      JsonObject content = e.getJsonObject("content");
      if (sender.equals(e.getString("sender"))
          && "m.room.encrypted".equals(e.getString("wire_type"))
          && content != null
          && body.equals(content.getString("body"))) {
        if (found != null) {
          fail("twice: " + body + " in " + history.encode());
        }
        found = e;
      }
    }
    if (found == null) {
      // Not decrypted: show what the client has for that sender.
      List<String> bySender = new ArrayList<>();
      for (int i = 0; i < history.size(); i++) {
        if (sender.equals(history.getJsonObject(i).getString("sender"))) {
          bySender.add(history.getJsonObject(i).encode());
        }
      }
      fail("carol did not decrypt '" + body + "' of " + sender + "; she has " + bySender);
    }
    return found;
  }

  private void awaitRemote(String text) throws Exception {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<String> r =
          get(
              bridge.remoteUrl()
                  + "/remote/messages?portal="
                  + URLEncoder.encode(portal, StandardCharsets.UTF_8));
      assertEquals(200, r.statusCode(), r.body());
      if (r.body().contains(text)) {
        return;
      }
      Thread.sleep(250);
    }
    fail("the remote side never read '" + text + "'");
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(bridge.remoteUrl() + path))
            .timeout(Duration.ofSeconds(120))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    JsonObject body = new JsonObject(r.body());
    assertTrue(body.getJsonArray("failed", new JsonArray()).isEmpty(), r.body());
    return body;
  }

  private static JsonArray arr(String... items) {
    JsonArray a = new JsonArray();
    for (String s : items) {
      a.add(s);
    }
    return a;
  }

  private static String json(Object... kv) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < kv.length; i += 2) {
      o.put((String) kv[i], kv[i + 1]);
    }
    return o.encode();
  }
}
