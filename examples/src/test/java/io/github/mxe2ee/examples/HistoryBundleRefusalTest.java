package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.github.mxe2ee.plugin.history.HistoryOptions;
import io.github.mxe2ee.plugin.history.RoomMessages;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * Room key bundles the plugin must refuse (MSC4268, docs/HISTORY_SHARING.md, "Plugin"), on the dev
 * Synapse with a real inviter (matrix-js-sdk 43, Rust crypto, which shares the room's history when
 * it invites): a bundle larger than the configured bound, a bundle whose bytes the server changed
 * (hash mismatch), and a bundle from a member who is not the inviter. Each is refused with a logged
 * reason and imports nothing: the bot still cannot read the messages sent before it joined. And the
 * one bundle it must take survives a restart: the inviter's, found in the store after the bot
 * restarted between its join and the import.
 */
class HistoryBundleRefusalTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  @TempDir Path dir;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<Runnable> closers = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
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

  @BeforeEach
  void captureLogs() {
    historyLog.setLevel(java.util.logging.Level.FINE);
    historyLog.addHandler(capture);
  }

  @AfterEach
  void tearDown() throws Exception {
    historyLog.removeHandler(capture);
    historyLog.setLevel(null);
    for (Runnable r : closers) {
      r.run();
    }
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

  private Vertx vertx() {
    Vertx v = Vertx.vertx();
    vertxes.add(v);
    return v;
  }

  /**
   * A bot on the plugin (cross-signed: recovery key file and password) that joins the rooms it is
   * invited to, talking to the homeserver at {@code baseUrl}.
   */
  private final class PluginBot {
    final String userId;
    final MatrixE2ee e2ee;
    final HomeserverClient client;

    final String deviceId;

    PluginBot(String local, String baseUrl, HistoryOptions history) throws Exception {
      this(local, baseUrl, history, null);
    }

    /** With {@code deviceId} non-null: the user exists, log in again as that device (a restart). */
    PluginBot(String local, String baseUrl, HistoryOptions history, String deviceId)
        throws Exception {
      Vertx vertx = vertx();
      if (deviceId == null) {
        await(hs.register(WebClient.create(vertx), local, local + "-pass", false));
      }
      client = new HomeserverClient(WebClient.create(vertx), baseUrl);
      HomeserverClient.Session s = await(client.login(local, local + "-pass", deviceId));
      userId = s.userId();
      this.deviceId = s.deviceId();
      Path d = dir.resolve(local);
      java.nio.file.Files.createDirectories(d);
      e2ee =
          MatrixE2ee.create(
              vertx,
              client,
              new E2eeOptions()
                  .setStorePath(d.resolve("mxe2ee.db").toString())
                  .setPickleKeyFile(d.resolve("pickle.key").toString())
                  .setRecoveryKeyFile(d.resolve("recovery.key").toString())
                  .setAccountPassword(local + "-pass")
                  .setHistory(history));
      await(e2ee.start());
      loop =
          SyncLoop.create(
                  vertx,
                  client,
                  e2ee,
                  new SyncLoopOptions().setTimeoutMs(2_000),
                  batch -> {
                    JsonObject invite =
                        batch
                            .body()
                            .getJsonObject("rooms", new JsonObject())
                            .getJsonObject("invite");
                    List<Future<JsonObject>> joins = new ArrayList<>();
                    if (invite != null) {
                      for (String roomId : invite.fieldNames()) {
                        joins.add(client.request("POST", path(roomId, "join"), new JsonObject()));
                      }
                    }
                    return Future.join(joins).mapEmpty();
                  })
              .start();
      closer =
          () -> {
            try {
              await(loop.stop());
              await(e2ee.close());
            } catch (Exception e) {
              // closing after a failed test: nothing more to do
            }
          };
      closers.add(closer);
    }

    private final Runnable closer;
    private final SyncLoop loop;

    /** Stops the loop and closes the plugin (its store is released). */
    void stop() {
      closers.remove(closer);
      closer.run();
    }
  }

  private static String path(String roomId, String action) {
    return "/_matrix/client/v3/rooms/"
        + URLEncoder.encode(roomId, StandardCharsets.UTF_8).replace("+", "%20")
        + "/"
        + action;
  }

  /** A js client user; cross-signed (so it shares history when it invites) if asked. */
  private JsClientPeer user(String local, boolean crossSigned) throws Exception {
    await(hs.register(WebClient.create(vertx()), local, local + "-pass", false));
    JsClientPeer p = JsClientPeer.start(local);
    peers.add(p);
    p.login(hs.baseUrl(), local, local + "-pass");
    p.startClient();
    if (crossSigned) {
      p.bootstrapCrossSigning(local + "-pass");
    }
    return p;
  }

  /** Waits until a history log line contains {@code text}. */
  private String awaitLog(String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (System.nanoTime() < deadline) {
      for (String line : logged) {
        if (line.contains(text)) {
          return line;
        }
      }
      Thread.sleep(200);
    }
    fail("no log line with '" + text + "' in " + logged);
    return null;
  }

  /**
   * Asserts that the bot reads none of the two messages sent before it joined, and that reading
   * them back does not count them again as undecryptable in the metrics.
   */
  private static void assertNothingImported(PluginBot bot, String roomId) throws Exception {
    // Until the bot has processed its join (the room's state and events), then without syncs.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    RoomMessages seen = await(bot.e2ee.history().lastMessages(roomId, 10, null));
    while (seen.messages().size() + seen.undecryptable() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(300);
      seen = await(bot.e2ee.history().lastMessages(roomId, 10, null));
    }
    await(bot.loop.stop());
    double counted = undecryptableCount(bot);
    RoomMessages m = await(bot.e2ee.history().lastMessages(roomId, 10, null));
    assertEquals(List.of(), m.messages(), "nothing decryptable");
    assertEquals(2, m.undecryptable(), "both earlier messages stay undecryptable: " + m);
    assertEquals(counted, undecryptableCount(bot), "history read back is not counted again");
  }

  private static double undecryptableCount(PluginBot bot) {
    return bot
        .e2ee
        .metrics()
        .registry()
        .find(io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics.EVENTS_UNDECRYPTABLE)
        .counters()
        .stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count)
        .sum();
  }

  /** A shared-visibility room of {@code alice} with two messages, then the bot invited. */
  private String roomWithHistoryThenInvite(JsClientPeer alice, PluginBot bot) {
    String roomId = alice.createEncryptedRoom(List.of(), "shared");
    alice.sendText(roomId, "one " + suffix);
    alice.sendText(roomId, "two " + suffix);
    alice.invite(roomId, bot.userId);
    alice.waitForJoin(roomId, bot.userId, WAIT_MS);
    return roomId;
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void oversizedBundleIsRefusedWithoutImporting() throws Exception {
    PluginBot bot =
        new PluginBot(
            "big_bot_" + suffix, hs.baseUrl(), new HistoryOptions().setMaxBundleBytes(64));
    JsClientPeer alice = user("big_alice_" + suffix, true);
    String roomId = roomWithHistoryThenInvite(alice, bot);
    String line = awaitLog("larger than 64 bytes");
    assertTrue(line.contains(roomId), line);
    assertNothingImported(bot, roomId);
    assertFalse(logged.stream().anyMatch(l -> l.contains("imported the room key bundle")));
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void bundleChangedByTheServerFailsItsHashAndImportsNothing() throws Exception {
    String proxy = tamperingProxy();
    PluginBot bot = new PluginBot("hash_bot_" + suffix, proxy, new HistoryOptions());
    JsClientPeer alice = user("hash_alice_" + suffix, true);
    String roomId = roomWithHistoryThenInvite(alice, bot);
    String line = awaitLog("HASH_MISMATCH");
    assertTrue(line.contains(roomId), line);
    assertNothingImported(bot, roomId);
    assertFalse(logged.stream().anyMatch(l -> l.contains("imported the room key bundle")));
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void bundleFromAMemberWhoIsNotTheInviterIsNeverUsed() throws Exception {
    PluginBot bot = new PluginBot("inv_bot_" + suffix, hs.baseUrl(), new HistoryOptions());
    PluginBot mallory = new PluginBot("inv_mallory_" + suffix, hs.baseUrl(), new HistoryOptions());
    // alice has no cross-signing: matrix-js-sdk shares no history when she invites.
    JsClientPeer alice = user("inv_alice_" + suffix, false);
    String roomId = alice.createEncryptedRoom(List.of(mallory.userId), "shared");
    alice.waitForJoin(roomId, mallory.userId, WAIT_MS);
    alice.sendText(roomId, "one " + suffix);
    alice.sendText(roomId, "two " + suffix);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (await(mallory.e2ee.history().lastMessages(roomId, 10, null)).messages().size() < 2) {
      assertTrue(System.nanoTime() < deadline, "mallory never got alice's keys");
      Thread.sleep(500);
    }
    // mallory leaves, then "invites" the bot: the bundle goes out, the invite is refused.
    await(mallory.client.request("POST", path(roomId, "leave"), new JsonObject()));
    try {
      await(mallory.e2ee.invite(roomId, bot.userId));
      fail("a user who left cannot invite");
    } catch (java.util.concurrent.ExecutionException expected) {
      // 403 from the server
    }
    awaitLog("room key bundle (1 sessions, 0 withheld) for " + bot.userId + ": sent to [");
    alice.invite(roomId, bot.userId);
    alice.waitForJoin(roomId, bot.userId, WAIT_MS);
    // The bot follows its join and looks for a bundle from alice, its inviter (there is none);
    // mallory's, kept by the engine, is never fetched.
    String aliceId = alice.deviceInfo().getString("user_id");
    awaitLog("joined " + roomId + " on the invite of " + aliceId);
    awaitLog("room " + roomId + ": no room key bundle from " + aliceId);
    assertNothingImported(bot, roomId);
    assertFalse(logged.stream().anyMatch(l -> l.contains("imported the room key bundle")));
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void bundleOfTheInviterIsImportedAfterARestart() throws Exception {
    // The first run joins but does not import (receiving off), like a bot stopped right after
    // its join; the restarted bot finds the inviter's announcement in its store and imports it.
    PluginBot first =
        new PluginBot(
            "rst_bot_" + suffix, hs.baseUrl(), new HistoryOptions().setAcceptBundles(false));
    JsClientPeer alice = user("rst_alice_" + suffix, true);
    String roomId = roomWithHistoryThenInvite(alice, first);
    assertNothingImported(first, roomId);
    first.stop();
    PluginBot again =
        new PluginBot("rst_bot_" + suffix, hs.baseUrl(), new HistoryOptions(), first.deviceId);
    awaitLog("imported the room key bundle of " + alice.deviceInfo().getString("user_id"));
    RoomMessages m = await(again.e2ee.history().lastMessages(roomId, 10, null));
    assertEquals(2, m.messages().size(), "both earlier messages decrypted: " + m);
    assertEquals("one " + suffix, m.messages().get(0).getJsonObject("content").getString("body"));
    assertEquals(
        alice.deviceInfo().getString("user_id"),
        m.messages().get(0).getJsonObject("mxe2ee").getString("forwarder"));
  }

  /**
   * A homeserver that changes stored media: a reverse proxy to the dev Synapse that flips one bit
   * of every media download. Fault injection of what a malicious server could do; everything else
   * passes through unchanged.
   */
  private String tamperingProxy() throws Exception {
    Vertx vertx = vertx();
    HttpClient http = vertx.createHttpClient();
    String target = hs.baseUrl();
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(
                req ->
                    req.body()
                        .compose(
                            body -> {
                              RequestOptions o =
                                  new RequestOptions()
                                      .setMethod(req.method())
                                      .setAbsoluteURI(target + req.uri())
                                      .setIdleTimeout(120_000);
                              MultiMap h = MultiMap.caseInsensitiveMultiMap().addAll(req.headers());
                              for (String n : List.of("Host", "Content-Length", "Connection")) {
                                h.remove(n);
                              }
                              o.setHeaders(h);
                              return http.request(o).compose(out -> out.send(body));
                            })
                        .compose(resp -> resp.body().map(b -> new Object[] {resp, b}))
                        .onSuccess(
                            pair -> {
                              var resp = (io.vertx.core.http.HttpClientResponse) pair[0];
                              Buffer b = (Buffer) pair[1];
                              if (req.path().contains("/media/")
                                  && req.path().contains("/download/")
                                  && b.length() > 0) {
                                b.setByte(0, (byte) (b.getByte(0) ^ 1));
                              }
                              var out = req.response().setStatusCode(resp.statusCode());
                              resp.headers()
                                  .forEach(
                                      e -> {
                                        if (!List.of(
                                                "content-length", "transfer-encoding", "connection")
                                            .contains(e.getKey().toLowerCase())) {
                                          out.headers().add(e.getKey(), e.getValue());
                                        }
                                      });
                              out.end(b);
                            })
                        .onFailure(err -> req.response().setStatusCode(502).end()));
    await(server.listen(0, "127.0.0.1"));
    return "http://127.0.0.1:" + server.actualPort();
  }
}
