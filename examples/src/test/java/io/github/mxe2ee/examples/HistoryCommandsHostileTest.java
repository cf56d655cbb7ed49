package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile {@code !history} / {@code !invite} commands to the echo bot on the dev Synapse, sent by a
 * real matrix-js-sdk client: each gets one clear reply, the bot keeps answering, and an invite that
 * the server must refuse (the bot itself, a member already joined, a room where the bot lacks the
 * invite power level) shares no history: the room key bundle would otherwise be uploaded and sent
 * to a user the room never admitted (MSC4268 sends it before the invite).
 */
class HistoryCommandsHostileTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botLocal = "hostile_bot_" + suffix;
  private final String botId = "@" + botLocal + ":localhost";
  private final List<String> logged = new CopyOnWriteArrayList<>();
  private final Logger historyLog = Logger.getLogger("io.github.mxe2ee.plugin.history");
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          Object[] p = r.getParameters();
          logged.add(
              p == null
                  ? r.getMessage()
                  : java.text.MessageFormat.format(r.getMessage().replace("'", "''"), p));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private final List<String> answered = new ArrayList<>();

  @BeforeEach
  void captureLogs() {
    historyLog.setLevel(java.util.logging.Level.FINE);
    historyLog.addHandler(capture);
  }

  @AfterEach
  void tearDown() throws Exception {
    historyLog.removeHandler(capture);
    historyLog.setLevel(null);
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

  /** Sends {@code command} and returns the body of the bot's reply starting with {@code prefix}. */
  private String ask(JsClientPeer alice, String roomId, String command, String prefix) {
    alice.sendText(roomId, command);
    JsonObject match =
        new JsonObject()
            .put("sender", botId)
            .put("type", "m.room.message")
            .put("msgtype", "m.notice")
            .put("body_prefix", prefix)
            .put("not_event_ids", new JsonArray(new ArrayList<>(answered)));
    JsonObject reply = alice.waitForEvent(roomId, match, WAIT_MS);
    answered.add(reply.getString("event_id"));
    return reply.getJsonObject("content").getString("body");
  }

  /** Whether the plugin logged a room key bundle built or sent for {@code userId}. */
  private boolean bundleFor(String userId) {
    for (String line : logged) {
      if (line.contains("room key bundle (") && line.contains(userId)) {
        return true;
      }
    }
    return false;
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void hostileArguments_getClearReplies_andDoomedInvitesShareNothing() throws Exception {
    await(hs.register(web(), botLocal, "bot-pass", false));
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    EchoBot bot =
        new EchoBot(
            vertx,
            WebClient.create(vertx),
            new EchoBotConfig(hs.baseUrl(), botLocal, "bot-pass", "HOSTILE"));
    await(bot.start());
    await(bot.firstSync());
    JsClientPeer alice = user("hostile_alice_" + suffix);
    String aliceId = "@hostile_alice_" + suffix + ":localhost";
    user("hostile_carol_" + suffix); // cross-signed: a bundle would be sent to her
    String carolId = "@hostile_carol_" + suffix + ":localhost";
    String roomId = alice.createEncryptedRoom(List.of(botId), "shared");
    alice.waitForJoin(roomId, botId, WAIT_MS);
    alice.sendText(roomId, "some history " + suffix);

    String usage = HistoryCommand.USAGE;
    for (String bad :
        List.of(
            "!history abc",
            "!history -5",
            "!history 0",
            "!history 1.5",
            "!history 5 6",
            "!history " + "9".repeat(10_000))) {
      assertEquals(
          usage,
          ask(alice, roomId, bad, "history: "),
          bad.substring(0, Math.min(bad.length(), 20)));
    }
    assertTrue(
        ask(alice, roomId, "!history 99999999999999999999", "history: ")
            .contains("at most " + HistoryCommand.MAX_N));
    for (String bad :
        List.of(
            "!invite",
            "!invite bob",
            "!invite @bob",
            "!invite @bob:localhost @eve:localhost",
            "!invite @bo\u0001b:localhost",
            "!invite @bob:local\u202ehost",
            "!invite @" + "x".repeat(10_000) + ":localhost")) {
      assertEquals(
          InviteCommand.USAGE,
          ask(alice, roomId, bad, "invite: "),
          bad.substring(0, Math.min(bad.length(), 20)));
    }
    assertEquals(
        InviteCommand.SELF, ask(alice, roomId, "!invite " + botId, "invite: "), "the bot itself");

    // Alice is joined already: the server refuses, and no bundle goes to her.
    String joined = ask(alice, roomId, "!invite " + aliceId, "invite: ");
    assertTrue(joined.startsWith("invite: could not invite " + aliceId + ": M_FORBIDDEN"), joined);
    assertTrue(!bundleFor(aliceId), "no room key bundle for a member: " + logged);

    // Only power level 50 may invite now; the bot has 0: the server refuses, nothing is shared.
    alice.call(
        "set_state",
        new JsonObject()
            .put("room_id", roomId)
            .put("type", "m.room.power_levels")
            .put(
                "content",
                new JsonObject()
                    .put("users", new JsonObject()) // alice created the room: v12 ranks her above
                    .put("users_default", 0)
                    .put("events_default", 0)
                    .put("state_default", 50)
                    .put("invite", 50)
                    .put("kick", 50)
                    .put("ban", 50)
                    .put("redact", 50)),
        WAIT_MS);
    String noPower = ask(alice, roomId, "!invite " + carolId, "invite: ");
    assertTrue(
        noPower.startsWith("invite: could not invite " + carolId + ": M_FORBIDDEN"), noPower);
    assertTrue(!bundleFor(carolId), "no room key bundle for a user not admitted: " + logged);

    // Still answering, and reading the room.
    String last = ask(alice, roomId, "!history 1", "history: ");
    assertTrue(last.startsWith("history: the last 1 message of this room I can decrypt"), last);
  }
}
