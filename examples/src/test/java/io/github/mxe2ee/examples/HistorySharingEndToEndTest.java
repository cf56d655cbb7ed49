package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Room history sharing (MSC4268, docs/HISTORY_SHARING.md) on the dev Synapse between the echo bot
 * and real clients (matrix-js-sdk 43, Rust crypto): a user invites the bot into a {@code shared}
 * room and the bot reads the messages sent before it joined ({@code !history}); the bot invites a
 * second user ({@code !invite}) who reads the bot's earlier messages; in a {@code joined} room
 * nothing is shared and the client's reason is {@code m.history_not_shared}.
 */
class HistorySharingEndToEndTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botLocal = "hist_bot_" + suffix;
  private final String botId = "@" + botLocal + ":localhost";

  @AfterEach
  void tearDown() throws Exception {
    for (JsClientPeer p : peers) {
      p.close();
    }
    for (Vertx v : vertxes) {
      v.close().toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
  }

  private WebClient web() {
    Vertx v = Vertx.vertx();
    vertxes.add(v);
    return WebClient.create(v);
  }

  private EchoBot startEchoBot() throws Exception {
    await(hs.register(web(), botLocal, "bot-pass", false));
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    EchoBot bot =
        new EchoBot(
            vertx,
            WebClient.create(vertx),
            new EchoBotConfig(hs.baseUrl(), botLocal, "bot-pass", "HISTBOT"));
    await(bot.start());
    await(bot.firstSync());
    return bot;
  }

  /** A registered user with one js client device whose cross-signing is set up. */
  private JsClientPeer user(String local) throws Exception {
    await(hs.register(web(), local, local + "-pass", false));
    JsClientPeer p = JsClientPeer.start(local);
    peers.add(p);
    p.login(hs.baseUrl(), local, local + "-pass");
    p.startClient();
    JsonObject cs = p.bootstrapCrossSigning(local + "-pass");
    assertEquals(Boolean.TRUE, cs.getBoolean("own_identity_verified"), cs.encode());
    return p;
  }

  private static JsonObject notice(String sender, String prefix) {
    return new JsonObject()
        .put("sender", sender)
        .put("type", "m.room.message")
        .put("msgtype", "m.notice")
        .put("body_prefix", prefix);
  }

  /** The events of {@code history} sent by {@code sender} with body {@code body}. */
  private static List<JsonObject> find(JsonArray history, String sender, String body) {
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      JsonObject e = history.getJsonObject(i);
      if (sender.equals(e.getString("sender"))
          && "m.room.encrypted".equals(e.getString("wire_type"))) {
        JsonObject c = e.getJsonObject("content");
        if (body == null || (c != null && body.equals(c.getString("body")))) {
          out.add(e);
        }
      }
    }
    return out;
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void botReadsHistoryItWasInvitedToAndSharesItsOwnOnInvite() throws Exception {
    EchoBot bot = startEchoBot();
    JsClientPeer alice = user("hist_alice_" + suffix);
    String aliceId = "@hist_alice_" + suffix + ":localhost";
    String roomId = alice.createEncryptedRoom(List.of(), "shared");
    List<String> before = List.of("first " + suffix, "second " + suffix, "third " + suffix);
    for (String text : before) {
      alice.sendText(roomId, text);
    }

    // (a) alice invites the bot: matrix-js-sdk shares the room's history with the bot's
    // cross-signed device; the bot joins, imports it and lists the earlier messages.
    alice.invite(roomId, botId);
    alice.waitForJoin(roomId, botId, WAIT_MS);
    String command = alice.sendText(roomId, "!history 5");
    JsonObject reply = alice.waitForEvent(roomId, notice(botId, "history: "), WAIT_MS);
    String body = reply.getJsonObject("content").getString("body");
    for (String text : before) {
      assertTrue(
          body.contains(aliceId + ": " + text + " [key shared by " + aliceId + "]"),
          "the bot read '" + text + "' with the key alice's bundle vouched for: " + body);
    }
    assertTrue(!body.contains("!history"), "the command itself is not listed: " + body);
    assertNotNull(command);
    // The earlier messages the bot held undecryptable at its join were re-emitted once the
    // bundle's keys arrived (late-key path), marked as history: the bot does not echo the past.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (bot.e2ee().lateKeyStats().reEmitted() < before.size()) {
      assertTrue(System.nanoTime() < deadline, "re-emitted: " + bot.e2ee().lateKeyStats());
      Thread.sleep(200);
    }

    // (b) the bot invites carol (!invite): its bundle holds the keys of the bot's own messages
    // (and of alice's, re-shared), carol's client imports it when joining and reads them.
    JsClientPeer carol = user("hist_carol_" + suffix);
    String carolId = "@hist_carol_" + suffix + ":localhost";
    alice.sendText(roomId, "!invite " + carolId);
    JsonObject invited = alice.waitForEvent(roomId, notice(botId, "invite: "), WAIT_MS);
    String inviteBody = invited.getJsonObject("content").getString("body");
    assertTrue(
        inviteBody.startsWith("invite: invited " + carolId + "; shared the keys of "), inviteBody);
    JsonObject accepted = carol.acceptInvite(roomId, WAIT_MS);
    assertEquals(botId, accepted.getString("inviter"));
    JsonArray history = carol.roomHistory(roomId, 100, WAIT_MS);
    List<JsonObject> botMessages =
        find(history, botId, reply.getJsonObject("content").getString("body"));
    assertEquals(
        1, botMessages.size(), "carol sees the bot's !history answer: " + history.encode());
    JsonObject answer = botMessages.get(0);
    assertEquals("decrypted", answer.getString("decryption"), answer.encode());
    assertEquals(
        botId, answer.getString("forwarder"), "the bot vouched for it: " + answer.encode());
    for (String text : before) {
      List<JsonObject> e = find(history, aliceId, text);
      assertEquals(1, e.size(), text + " in " + history.encode());
      assertEquals("decrypted", e.get(0).getString("decryption"), e.get(0).encode());
      assertEquals(List.of(), find(history, botId, "echo: " + text), "the past is not echoed");
    }
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void joinedVisibilityRoomSharesNothingAndSaysWhy() throws Exception {
    startEchoBot();
    JsClientPeer alice = user("hist_alice_" + suffix);
    String aliceId = "@hist_alice_" + suffix + ":localhost";
    String roomId = alice.createEncryptedRoom(List.of(botId), "joined");
    alice.waitForJoin(roomId, botId, WAIT_MS);
    String text = "members only " + suffix;
    alice.sendText(roomId, text);
    alice.waitForEvent(
        roomId, new JsonObject().put("sender", botId).put("body", "echo: " + text), WAIT_MS);

    JsClientPeer carol = user("hist_carol_" + suffix);
    String carolId = "@hist_carol_" + suffix + ":localhost";
    alice.sendText(roomId, "!invite " + carolId);
    JsonObject invited = alice.waitForEvent(roomId, notice(botId, "invite: "), WAIT_MS);
    String inviteBody = invited.getJsonObject("content").getString("body");
    assertTrue(
        inviteBody.startsWith("invite: invited " + carolId + "; shared the keys of 0 sessions"),
        inviteBody);
    assertTrue(inviteBody.contains("withheld: m.history_not_shared"), inviteBody);
    carol.acceptInvite(roomId, WAIT_MS);
    // With joined visibility the server never gives carol the earlier events; what her client
    // would show for them is what its crypto says about the raw events (fetched as alice).
    JsonArray history = carol.roomHistory(roomId, 100, WAIT_MS);
    assertEquals(List.of(), find(history, botId, null), "the server hides earlier events");
    List<JsonObject> raw = rawEncryptedEvents(roomId, "hist_alice_" + suffix);
    List<JsonObject> earlier = new ArrayList<>();
    for (JsonObject e : raw) {
      if (e.getLong("origin_server_ts") < invited.getLong("origin_server_ts")) {
        earlier.add(e);
      }
    }
    assertTrue(earlier.size() >= 2, "alice's message and the bot's echo: " + raw);
    for (JsonObject e : earlier) {
      JsonObject verdict = carol.decryptRaw(roomId, e);
      assertEquals("failed", verdict.getString("decryption"), "nothing shared: " + verdict);
      assertEquals(
          "m.history_not_shared", verdict.getString("withheld_code"), e.getString("event_id"));
    }
    assertTrue(
        raw.stream().anyMatch(e -> aliceId.equals(e.getString("sender")))
            && raw.stream().anyMatch(e -> botId.equals(e.getString("sender"))));
    // The bot does not repeat to carol what the room's visibility hid from her.
    carol.sendText(roomId, "!history 5");
    JsonObject reply = carol.waitForEvent(roomId, notice(botId, "history: "), WAIT_MS);
    String body = reply.getJsonObject("content").getString("body");
    assertTrue(!body.contains(text), "not repeated to a later member: " + body);
    assertTrue(body.contains("not shown"), body);
  }

  /** The room's encrypted events as the server gives them to {@code local} (a new login). */
  private List<JsonObject> rawEncryptedEvents(String roomId, String local) throws Exception {
    io.github.mxe2ee.plugin.HomeserverClient c =
        new io.github.mxe2ee.plugin.HomeserverClient(web(), hs.baseUrl());
    await(c.login(local, local + "-pass", null));
    try {
      JsonObject page =
          await(
              c.request(
                  "GET",
                  "/_matrix/client/v3/rooms/"
                      + java.net.URLEncoder.encode(roomId, java.nio.charset.StandardCharsets.UTF_8)
                      + "/messages?dir=b&limit=100",
                  null));
      List<JsonObject> out = new ArrayList<>();
      for (Object o : page.getJsonArray("chunk")) {
        JsonObject e = (JsonObject) o;
        if ("m.room.encrypted".equals(e.getString("type"))) {
          out.add(e);
        }
      }
      return out;
    } finally {
      await(c.request("POST", "/_matrix/client/v3/logout", new JsonObject()));
    }
  }
}
