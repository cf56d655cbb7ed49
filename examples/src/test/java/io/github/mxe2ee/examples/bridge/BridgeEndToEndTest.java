package io.github.mxe2ee.examples.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The example bridge end to end (issue 15, item 7): the bridge as a child JVM against the dev
 * Synapse (transactions pushed to the registration's {@code url}), a real Matrix user on
 * matrix-js-sdk 43 with its Rust crypto (the crypto of Element Web), and the test playing the
 * remote network over the bridge's HTTP endpoint. mxe2ee is only on the bridge's side: everything
 * the client reports decrypted was decrypted by matrix-js-sdk.
 *
 * <p>One bridge and one Synapse for the class; the steps run in order and build on each other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BridgeEndToEndTest {

  /** Bound for one expected event or message (sync round trips and key sharing). */
  private static final long WAIT_MS = 60_000;

  /** Bound for a bridge start (JVM, store, bot device, listeners). */
  private static final long START_MS = 120_000;

  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String portal = "lobby-" + suffix;
  // Fresh remote names per run: the dev Synapse keeps users (and their identities) across runs.
  private final String bob = "Remote Bob_" + suffix;
  private final String dave = "dave-" + suffix;
  // Not in the appservice's exclusive namespace (@bridge_.*), which Synapse refuses to register.
  private final String alice = "@e2e_alice_" + suffix + ":localhost";
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final List<String> aliceSaid = new ArrayList<>();

  private DevHomeserver hs;
  private Path registration;
  private Path work;
  private Path log;
  private BridgeProcess bridge;
  private JsClientPeer client;
  private String roomId;
  private String ghostBob;
  private String ghostBobDevice;
  private String earlyRoom;
  private final List<String> portalRooms = new ArrayList<>();

  @BeforeAll
  void setUp() throws Exception {
    hs = DevHomeserver.shared();
    registration = ProjectPaths.root().resolve(".run/synapse/appservice-registration.yaml");
    work = Path.of("target", "bridge-e2e-" + suffix).toAbsolutePath();
    log = work.resolve("bridge.log");
    bridge =
        BridgeProcess.start(
            hs.baseUrl(), registration, work.resolve("ghost"), "ghost", log, START_MS);
    Vertx v = Vertx.vertx();
    try {
      hs.register(WebClient.create(v), localOf(alice), "alice-pass", false)
          .toCompletionStage()
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } finally {
      v.close();
    }
    client = JsClientPeer.start("bridge-alice-" + suffix);
    client.login(hs.baseUrl(), localOf(alice), "alice-pass");
    client.startClient();
  }

  @AfterAll
  void tearDown() {
    if (client != null) {
      client.close();
    }
    if (bridge != null) {
      bridge.stop();
    }
  }

  private static String localOf(String userId) {
    return userId.substring(1, userId.indexOf(':'));
  }

  @Test
  @Order(1)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void badRemoteInput_getsJson4xx_andChangesNothing() throws Exception {
    String r = bridge.remoteUrl();
    expectError(post(r + "/remote/portals", "not json"), 400, "M_NOT_JSON");
    expectError(post(r + "/remote/portals", "[1,2]"), 400, "M_BAD_JSON");
    expectError(post(r + "/remote/portals", "{}"), 400, "M_MISSING_PARAM");
    expectError(post(r + "/remote/portals", "{\"portal\":5}"), 400, "M_INVALID_PARAM");
    expectError(post(r + "/remote/portals", "{\"portal\":\"\"}"), 400, "M_INVALID_PARAM");
    expectError(
        post(r + "/remote/portals", json("portal", "p", "invite", new JsonArray().add("alice"))),
        400,
        "M_INVALID_PARAM");
    expectError(
        post(r + "/remote/portals", json("portal", "p", "invite", "@alice:localhost")),
        400,
        "M_INVALID_PARAM");
    expectError(
        post(
            r + "/remote/portals",
            json("portal", "p", "invite", new JsonArray().add("@bridge_bot:localhost"))),
        400,
        "M_INVALID_PARAM");
    expectError(
        post(
            r + "/remote/send", json("portal", "never-opened-" + suffix, "from", "x", "text", "t")),
        404,
        "M_NOT_FOUND");
    expectError(post(r + "/remote/send", json("portal", "p", "text", "t")), 400, "M_MISSING_PARAM");
    expectError(post(r + "/remote/send", json("portal", "p", "from", "x")), 400, "M_MISSING_PARAM");
    expectError(
        post(r + "/remote/send", json("portal", "p", "from", "a\u0000b", "text", "t")),
        400,
        "M_INVALID_PARAM");
    expectError(
        post(r + "/remote/send", json("portal", "p", "from", "x".repeat(65), "text", "t")),
        400,
        "M_INVALID_PARAM");
    expectError(
        post(r + "/remote/send", json("portal", "p", "from", "x", "text", "t".repeat(40_000))),
        400,
        "M_INVALID_PARAM");
    expectError(
        post(r + "/remote/send", "{\"portal\":\"p\",\"text\":\"" + "a".repeat(70_000) + "\"}"),
        413,
        "M_TOO_LARGE");
    expectError(get(r + "/remote/messages"), 400, "M_MISSING_PARAM");
    expectError(get(r + "/remote/messages?portal=a&portal=b"), 400, "M_INVALID_PARAM");
    expectError(get(r + "/remote/messages?portal=nope-" + suffix), 404, "M_NOT_FOUND");
    expectError(get(r + "/remote/portals"), 405, "M_UNRECOGNIZED");
    expectError(get(r + "/remote/nothing"), 404, "M_NOT_FOUND");
  }

  @Test
  @Order(2)
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void remoteMessage_arrivesEncrypted_fromTheGhostsOwnCrossSignedDevice() throws Exception {
    JsonObject opened =
        ok(
            post(
                bridge.remoteUrl() + "/remote/portals",
                json("portal", portal, "invite", new JsonArray().add(alice))));
    roomId = opened.getString("room_id");
    portalRooms.add(roomId);
    assertTrue(opened.getBoolean("created"), opened.encode());
    assertEquals(new JsonArray().add(alice), opened.getJsonArray("invited"), opened.encode());
    JsonObject again =
        ok(
            post(
                bridge.remoteUrl() + "/remote/portals",
                json("portal", portal, "invite", new JsonArray().add(alice))));
    assertEquals(roomId, again.getString("room_id"), "a portal is reused");
    assertFalse(again.getBoolean("created"), again.encode());

    client.acceptInvite(roomId, null, WAIT_MS);
    JsonObject sent =
        ok(
            post(
                bridge.remoteUrl() + "/remote/send",
                json("portal", portal, "from", bob, "text", "hello from the remote side")));
    ghostBob = sent.getString("from");
    assertEquals("@bridge_remote__remote=20_bob__" + suffix + ":localhost", ghostBob);

    JsonObject ev =
        client.waitForEvent(
            roomId,
            new JsonObject().put("sender", ghostBob).put("body", "hello from the remote side"),
            WAIT_MS);
    assertEquals("decrypted", ev.getString("decryption"), ev.encode());
    assertEquals("m.room.encrypted", ev.getString("wire_type"), ev.encode());
    assertEquals(sent.getString("event_id"), ev.getString("event_id"));

    JsonObject info = client.encryptionInfo(roomId, ev.getString("event_id"));
    System.out.println("[shield] ghost devices model: " + info.encode());
    JsonArray devices = client.userDevices(ghostBob);
    assertEquals(1, devices.size(), "the ghost has exactly its own device: " + devices.encode());
    ghostBobDevice = devices.getJsonObject(0).getString("device_id");
    assertEquals(ghostBobDevice, info.getString("sender_device"), info.encode());
    JsonObject device = info.getJsonObject("device");
    assertNotNull(device, info.encode());
    assertTrue(device.getBoolean("signed_by_owner"), "cross-signed by the ghost: " + info.encode());
    assertEquals(
        devices.getJsonObject(0).getString("curve25519"),
        info.getString("sender_curve25519"),
        "the room key came from the ghost's device");
    JsonObject shield = info.getJsonObject("shield");
    assertNotEquals("red", shield.getString("colour"), info.encode());
    JsonObject identity = client.userVerificationStatus(ghostBob);
    assertTrue(identity.getBoolean("known"), "the ghost has a cross-signing identity: " + identity);
  }

  @Test
  @Order(3)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void matrixReply_reachesTheRemoteSideDecrypted() throws Exception {
    say("hello bob, from Matrix");
    awaitRemoteMessages();
  }

  @Test
  @Order(4)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aRetriedTransaction_deliversNothingTwice() throws Exception {
    String eventId = say("said once");
    awaitRemoteMessages();
    // The transaction again as the homeserver would retry it (the same id), and the same event in
    // a transaction with a new id (a retry after the bridge lost its record of the first).
    JsonObject raw =
        asBot("GET", "/_matrix/client/v3/rooms/" + enc(roomId) + "/event/" + enc(eventId));
    assertEquals("m.room.encrypted", raw.getString("type"), raw.encode());
    JsonObject txn = new JsonObject().put("events", new JsonArray().add(raw));
    String hsToken = hs.appserviceSetting("hs_token");
    assertEquals(200, putTransaction("retry-" + suffix, txn, "Bearer " + hsToken).statusCode());
    assertEquals(200, putTransaction("retry-" + suffix, txn, "Bearer " + hsToken).statusCode());
    assertEquals(200, putTransaction("retry2-" + suffix, txn, "Bearer " + hsToken).statusCode());
    awaitRemoteMessages();
  }

  @Test
  @Order(5)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aForgedTransaction_withoutTheHsToken_isRefused() throws Exception {
    JsonObject forged =
        new JsonObject()
            .put(
                "events",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("type", "m.room.message")
                            .put("room_id", roomId)
                            .put("sender", alice)
                            .put("event_id", "$forged-" + suffix)
                            .put("origin_server_ts", System.currentTimeMillis())
                            .put(
                                "content",
                                new JsonObject().put("msgtype", "m.text").put("body", "forged"))));
    assertEquals(401, putTransaction("forged1-" + suffix, forged, null).statusCode());
    assertEquals(
        403, putTransaction("forged2-" + suffix, forged, "Bearer wrong-token").statusCode());
    assertEquals(
        403,
        putTransaction("forged3-" + suffix, forged, "Bearer " + hs.appserviceSetting("as_token"))
            .statusCode(),
        "the as_token is not the hs_token");
    awaitRemoteMessages();
  }

  @Test
  @Order(6)
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void theBridgeKilledMidConversation_losesNothing() throws Exception {
    // A portal where no remote user has spoken: only the bot and the portal's keeper ghost.
    String quiet = "quiet-" + suffix;
    String quietRoom =
        ok(post(
                bridge.remoteUrl() + "/remote/portals",
                json("portal", quiet, "invite", new JsonArray().add(alice))))
            .getString("room_id");
    client.acceptInvite(quietRoom, null, WAIT_MS);
    portalRooms.add(quietRoom);
    bridge.kill();
    // Said while the bridge is down: Synapse cannot deliver it and keeps the transaction.
    say("said while the bridge was down");
    // Alice's first message in the quiet room opens a new Megolm session: its room key goes out
    // while Synapse holds the bridge for down, and Synapse never pushes those to-device messages.
    // The keeper ghost's device reads it from its inbox after the restart.
    client.sendText(quietRoom, "a new session while you were away");
    bridge =
        BridgeProcess.start(
            hs.baseUrl(), registration, work.resolve("ghost"), "ghost", log, START_MS);
    awaitRemoteMessages();
    JsonArray expectedQuiet =
        new JsonArray()
            .add(
                new JsonObject()
                    .put("from", alice)
                    .put("text", "a new session while you were away"));
    long deadline = System.currentTimeMillis() + WAIT_MS;
    JsonArray quietGot = new JsonArray();
    while (System.currentTimeMillis() < deadline && !quietGot.equals(expectedQuiet)) {
      Thread.sleep(250);
      quietGot =
          new JsonArray(get(bridge.remoteUrl() + "/remote/messages?portal=" + enc(quiet)).body());
    }
    assertEquals(expectedQuiet, quietGot, "the key sent while the bridge was down is not lost");
    JsonObject reopened =
        ok(
            post(
                bridge.remoteUrl() + "/remote/portals",
                json("portal", portal, "invite", new JsonArray().add(alice))));
    assertEquals(roomId, reopened.getString("room_id"), "the portal survives the restart");
    assertFalse(reopened.getBoolean("created"), reopened.encode());
    JsonObject sent =
        ok(
            post(
                bridge.remoteUrl() + "/remote/send",
                json("portal", portal, "from", bob, "text", "back again")));
    JsonObject ev =
        client.waitForEvent(
            roomId, new JsonObject().put("sender", ghostBob).put("body", "back again"), WAIT_MS);
    assertEquals("decrypted", ev.getString("decryption"), ev.encode());
    JsonObject info = client.encryptionInfo(roomId, sent.getString("event_id"));
    assertEquals(
        ghostBobDevice,
        info.getString("sender_device"),
        "the ghost keeps its device across restarts");
    say("welcome back");
    awaitRemoteMessages();
  }

  @Test
  @Order(7)
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aMessageSentBeforeTheInviteIsAccepted_isDecryptedAfterJoining() throws Exception {
    String early = "early-" + suffix;
    earlyRoom =
        ok(post(
                bridge.remoteUrl() + "/remote/portals",
                json("portal", early, "invite", new JsonArray().add(alice))))
            .getString("room_id");
    // Two ghosts speak while Alice is only invited: the shared history visibility gives her the
    // room keys as an invited member.
    ok(
        post(
            bridge.remoteUrl() + "/remote/send",
            json("portal", early, "from", bob, "text", "first")));
    ok(
        post(
            bridge.remoteUrl() + "/remote/send",
            json("portal", early, "from", "Carol " + suffix, "text", "second")));
    client.acceptInvite(earlyRoom, null, WAIT_MS);
    portalRooms.add(earlyRoom);
    for (String text : List.of("first", "second")) {
      JsonObject ev = client.waitForEvent(earlyRoom, new JsonObject().put("body", text), WAIT_MS);
      assertEquals("decrypted", ev.getString("decryption"), ev.encode());
    }
    // A new ghost's first messages, all at once: one registration, one device, one join.
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      burst.add(
          http.sendAsync(
              HttpRequest.newBuilder(URI.create(bridge.remoteUrl() + "/remote/send"))
                  .timeout(Duration.ofSeconds(120))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          json("portal", early, "from", "Eve " + suffix, "text", "burst " + i)))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (var f : burst) {
      ok(f.get(120, TimeUnit.SECONDS));
    }
    for (int i = 0; i < 3; i++) {
      JsonObject ev =
          client.waitForEvent(earlyRoom, new JsonObject().put("body", "burst " + i), WAIT_MS);
      assertEquals("decrypted", ev.getString("decryption"), ev.encode());
    }
    // Alice's first message here opens a new Megolm session; its room key is held back 3 s, so
    // the bridge gets the event first (held), then the key: the late decryption is recorded.
    client.delayToDevice(3_000, 1);
    String lateId = client.sendText(earlyRoom, "my key comes late");
    JsonArray expectedLate =
        new JsonArray().add(new JsonObject().put("from", alice).put("text", "my key comes late"));
    long deadline = System.currentTimeMillis() + WAIT_MS;
    JsonArray late = new JsonArray();
    while (System.currentTimeMillis() < deadline && !late.equals(expectedLate)) {
      Thread.sleep(250);
      late =
          new JsonArray(get(bridge.remoteUrl() + "/remote/messages?portal=" + enc(early)).body());
    }
    assertEquals(expectedLate, late, "the late-keyed message reached the remote side once");
    String logText = String.join("\n", bridge.logLines());
    assertTrue(
        logText.contains("held (room key not here yet) event " + lateId), "it was held first");
    assertTrue(logText.contains("relayed " + lateId), "then relayed");
    JsonArray none =
        new JsonArray(get(bridge.remoteUrl() + "/remote/messages?portal=" + enc(early)).body());
    assertEquals(expectedLate, none, "the ghosts' own messages are never returned");
  }

  @Test
  @Order(10)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void noUndecryptableEvents_onEitherSide_inAnyPortal() throws Exception {
    int encrypted = 0;
    for (String room : portalRooms) {
      JsonArray events = client.events(room);
      for (int i = 0; i < events.size(); i++) {
        JsonObject e = events.getJsonObject(i);
        assertNotEquals(
            "failed", e.getString("decryption"), "the client decrypts everything: " + e.encode());
        if (e.getBoolean("encrypted")) {
          encrypted++;
        }
      }
    }
    assertEquals(4, portalRooms.size(), "every portal of the scenario: " + portalRooms);
    // At least the ghosts' 8 messages (Remote Bob 2, the early room's 5, dave 1).
    assertTrue(encrypted >= 8, "the client saw the encrypted messages: " + encrypted);
    for (String line : bridge.logLines()) {
      assertFalse(line.contains("undecryptable event"), "the bridge decrypts everything: " + line);
    }
  }

  @Test
  @Order(8)
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void botDeviceModel_isDecryptable_andItsShieldIsRecorded() throws Exception {
    bridge.stop();
    bridge =
        BridgeProcess.start(hs.baseUrl(), registration, work.resolve("bot"), "bot", log, START_MS);
    String botPortal = "bot-model-" + suffix;
    JsonObject opened =
        ok(
            post(
                bridge.remoteUrl() + "/remote/portals",
                json("portal", botPortal, "invite", new JsonArray().add(alice))));
    String botRoom = opened.getString("room_id");
    portalRooms.add(botRoom);
    client.acceptInvite(botRoom, null, WAIT_MS);
    JsonObject sent =
        ok(
            post(
                bridge.remoteUrl() + "/remote/send",
                json("portal", botPortal, "from", dave, "text", "one device for all")));
    JsonObject ev =
        client.waitForEvent(
            botRoom,
            new JsonObject()
                .put("sender", sent.getString("from"))
                .put("body", "one device for all"),
            WAIT_MS);
    assertEquals("decrypted", ev.getString("decryption"), ev.encode());
    JsonObject info = client.encryptionInfo(botRoom, sent.getString("event_id"));
    System.out.println("[shield] bot device model: " + info.encode());
    assertEquals(
        0, client.userDevices(sent.getString("from")).size(), "the ghost has no device of its own");
    String eventId = client.sendText(botRoom, "and back, in the bot-device model");
    long deadline = System.currentTimeMillis() + WAIT_MS;
    JsonArray expected =
        new JsonArray()
            .add(
                new JsonObject()
                    .put("from", alice)
                    .put("text", "and back, in the bot-device model"));
    JsonArray got = new JsonArray();
    while (System.currentTimeMillis() < deadline && !got.equals(expected)) {
      Thread.sleep(250);
      got =
          new JsonArray(
              get(bridge.remoteUrl() + "/remote/messages?portal=" + enc(botPortal)).body());
    }
    assertEquals(expected, got, "reply " + eventId + " reached the remote side");
    for (String line : bridge.logLines()) {
      assertFalse(line.contains("undecryptable event"), "the bridge decrypts everything: " + line);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Alice says {@code text} in the portal (encrypted by matrix-js-sdk); returns the event id. */
  private String say(String text) {
    aliceSaid.add(text);
    return client.sendText(roomId, text);
  }

  /**
   * Waits until the remote side reads exactly what Alice said, in order, each once, and nothing
   * else (never the ghosts' own messages).
   */
  private void awaitRemoteMessages() throws Exception {
    JsonArray expected = new JsonArray();
    for (String t : aliceSaid) {
      expected.add(new JsonObject().put("from", alice).put("text", t));
    }
    long deadline = System.currentTimeMillis() + WAIT_MS;
    JsonArray got = null;
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<String> r = get(bridge.remoteUrl() + "/remote/messages?portal=" + enc(portal));
      assertEquals(200, r.statusCode(), r.body());
      got = new JsonArray(r.body());
      if (got.equals(expected)) {
        return;
      }
      if (got.size() > expected.size()) {
        break;
      }
      Thread.sleep(250);
    }
    fail(
        "the remote side read "
            + (got == null ? null : got.encode())
            + ", expected "
            + expected.encode());
  }

  private HttpResponse<String> putTransaction(String txnId, JsonObject body, String authorization)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(
                    hs.appserviceSetting("url") + "/_matrix/app/v1/transactions/" + enc(txnId)))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body.encode()));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject asBot(String method, String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(hs.baseUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + hs.appserviceSetting("as_token"))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private HttpResponse<String> post(String url, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
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
    return new JsonObject(r.body());
  }

  private static void expectError(HttpResponse<String> r, int status, String errcode) {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(
        r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
        "JSON error: " + r.headers());
    JsonObject body = new JsonObject(r.body());
    assertEquals(errcode, body.getString("errcode"), r.body());
    assertTrue(body.getString("error") != null && !body.getString("error").isEmpty(), r.body());
  }

  private static String json(Object... kv) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < kv.length; i += 2) {
      o.put((String) kv[i], kv[i + 1]);
    }
    return o.encode();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
