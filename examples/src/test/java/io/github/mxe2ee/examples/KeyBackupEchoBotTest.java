package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
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
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key backup on by default, end to end on the dev Synapse (docs/KEY_BACKUP.md): the echo bot,
 * started with a recovery key, creates a backup version and backs up the room keys it receives; a
 * real matrix-js-sdk 43 client (Rust crypto) logged in as the bot's own user with the same recovery
 * key, as an operator would in Element, finds that backup trusted (signed by the bot's identity)
 * and matching the backup key in secret storage, and decrypts the room's history from it; after the
 * bot's store is lost, the plugin on a new device with the same recovery key restores the room keys
 * from the backup and decrypts the messages sent before the loss; and the echo bot on yet another
 * new device echoes a message whose room key never reached it (held back in transit), with the
 * Megolm session it restored from the backup.
 */
class KeyBackupEchoBotTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  @TempDir Path dir;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botLocal = "kb_bot_" + suffix;
  private final String botId = "@" + botLocal + ":localhost";
  private final String humanLocal = "kb_human_" + suffix;

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

  private Vertx vertx() {
    Vertx v = Vertx.vertx();
    vertxes.add(v);
    return v;
  }

  private JsClientPeer client(String name, String user, String password) {
    JsClientPeer p = JsClientPeer.start(name + "-" + suffix);
    peers.add(p);
    p.login(hs.baseUrl(), user, password);
    return p;
  }

  /** The bot's master key as the server shows it, or null. */
  private String serverMasterKey(HomeserverClient asker) throws Exception {
    JsonObject body =
        new JsonObject().put("device_keys", new JsonObject().put(botId, new JsonArray()));
    JsonObject resp = await(asker.request("POST", "/_matrix/client/v3/keys/query", body));
    JsonObject master = resp.getJsonObject("master_keys", new JsonObject()).getJsonObject(botId);
    return master == null
        ? null
        : (String) master.getJsonObject("keys").iterator().next().getValue();
  }

  private static void deleteTree(Path d) throws Exception {
    if (!Files.exists(d)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(d)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void botBacksUpRoomKeys_elementStackTrustsAndReadsTheBackup_andALostStoreRestoresFromIt()
      throws Exception {
    Vertx v = vertx();
    WebClient web = WebClient.create(v);
    await(hs.register(web, botLocal, "bot-pass", false));
    await(hs.register(web, humanLocal, "human-pass", false));
    HomeserverClient human = new HomeserverClient(web, hs.baseUrl());
    await(human.login(humanLocal, "human-pass", null));
    Path recoveryKey = dir.resolve("bot.recovery-key");

    // The bot's first start: identity, then a backup version of its own.
    Vertx botVertx = vertx();
    EchoBot bot =
        new EchoBot(
            botVertx,
            WebClient.create(botVertx),
            new EchoBotConfig(
                hs.baseUrl(), botLocal, "bot-pass", "KBBOT1", recoveryKey.toString()));
    await(bot.start());
    String master = serverMasterKey(human);
    assertNotNull(master);

    JsClientPeer alice = client("alice", humanLocal, "human-pass");
    alice.startClient();
    String roomId = alice.createEncryptedRoom(List.of(botId), null);
    alice.waitForJoin(roomId, botId, WAIT_MS);
    alice.sendText(roomId, "sent before the loss");
    alice.waitForEvent(
        roomId,
        new JsonObject().put("sender", botId).put("body", "echo: sent before the loss"),
        WAIT_MS);

    // The operator logs in as the bot's own user with the recovery key, as in Element.
    String keyText = Files.readString(recoveryKey).trim();
    JsClientPeer operator = client("operator", botLocal, "bot-pass");
    operator.startClient(keyText);
    JsonObject status = awaitBackupCount(operator, 1);
    assertEquals("m.megolm_backup.v1.curve25519-aes-sha2", status.getString("algorithm"));
    JsonObject restored = operator.restoreFromRecovery();
    assertTrue(restored.getInteger("imported") >= 1, "matrix-js-sdk restored: " + restored);
    status = operator.keyBackupStatus();
    assertTrue(status.getBoolean("trusted"), "signed by the bot's identity: " + status);
    assertTrue(
        status.getBoolean("matches_decryption_key"),
        "the backup key in secret storage is the version's: " + status);
    operator.waitForEvent(roomId, new JsonObject().put("body", "sent before the loss"), WAIT_MS);
    assertEquals(master, serverMasterKey(human), "the client did not replace the identity");

    // The bot's store is lost. The plugin starts on a new device with the same recovery key.
    await(bot.close());
    deleteTree(Path.of(EchoBot.DEFAULT_STORE_DIR, botId + "_KBBOT1"));
    Vertx v2 = vertx();
    HomeserverClient botClient = new HomeserverClient(WebClient.create(v2), hs.baseUrl());
    await(botClient.login(botLocal, "bot-pass", "KBBOT2"));
    Path store = dir.resolve("store2");
    Files.createDirectories(store);
    MatrixE2ee e2ee =
        MatrixE2ee.create(
            v2,
            botClient,
            new E2eeOptions()
                .setStorePath(store.resolve("mxe2ee.db").toString())
                .setPickleKeyFile(store.resolve("pickle.key").toString())
                .setRecoveryKeyFile(recoveryKey.toString())
                .setAccountPassword("bot-pass"));
    await(e2ee.start());
    try {
      JsonObject old = awaitDecryptedHistory(botClient, e2ee, roomId, "sent before the loss");
      assertEquals(alice.deviceInfo().getString("user_id"), old.getString("sender"));
      assertFalse(
          old.getJsonObject("mxe2ee").getBoolean("authenticated", true),
          "a key from the backup proves nothing about the sender: " + old.getJsonObject("mxe2ee"));
      assertEquals(master, serverMasterKey(human), "the same identity");
      assertEquals(
          status.getString("version"),
          operator.keyBackupStatus().getString("version"),
          "the restart made no second backup version");
    } finally {
      await(e2ee.close());
    }

    // No other device of the bot's user is online from here on, so none can forward the key.
    peers.remove(operator);
    operator.close();

    // Lost again; the echo bot starts on a third device. Alice's room key for it is held back
    // (lost in transit): the bot can read her next message, in the same Megolm session, only
    // with the session it restores from the backup, and it echoes it.
    Vertx botVertx3 = vertx();
    EchoBot bot3 =
        new EchoBot(
            botVertx3,
            WebClient.create(botVertx3),
            new EchoBotConfig(
                hs.baseUrl(), botLocal, "bot-pass", "KBBOT3", recoveryKey.toString()));
    await(bot3.start());
    await(bot3.firstSync());
    alice.delayToDevice(600_000, 100);
    alice.sendText(roomId, "only in the backup");
    alice.waitForEvent(
        roomId,
        new JsonObject().put("sender", botId).put("body", "echo: only in the backup"),
        WAIT_MS);
    JsonObject flushed = alice.call("flush_to_device", new JsonObject(), 30_000);
    assertTrue(
        flushed.getInteger("flushed") >= 1,
        "the room key for the new device was still held back when the echo came: " + flushed);
    await(bot3.close());
  }

  /** Waits until the account's backup holds at least {@code count} keys; returns its status. */
  private static JsonObject awaitBackupCount(JsClientPeer client, int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    JsonObject status = null;
    while (System.nanoTime() < deadline) {
      status = client.keyBackupStatus();
      Integer n = status.getInteger("count");
      if (status.getString("version") != null && n != null && n >= count) {
        return status;
      }
      Thread.sleep(500);
    }
    fail("the backup never held " + count + " keys: " + status);
    return null;
  }

  /**
   * Reads the room's history with the bot's access token and hands it to the plugin as a sync body,
   * until the event with {@code body} comes back decrypted (the restore runs in the background
   * after start).
   */
  private static JsonObject awaitDecryptedHistory(
      HomeserverClient botClient, MatrixE2ee e2ee, String roomId, String body) throws Exception {
    String path =
        "/_matrix/client/v3/rooms/"
            + URLEncoder.encode(roomId, StandardCharsets.UTF_8)
            + "/messages?dir=b&limit=50";
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    JsonArray last = null;
    while (System.nanoTime() < deadline) {
      JsonObject page = await(botClient.request("GET", path, null));
      JsonArray events = page.getJsonArray("chunk", new JsonArray());
      JsonObject sync =
          new JsonObject()
              .put(
                  "rooms",
                  new JsonObject()
                      .put(
                          "join",
                          new JsonObject()
                              .put(
                                  roomId,
                                  new JsonObject()
                                      .put("timeline", new JsonObject().put("events", events)))));
      JsonObject decrypted = await(e2ee.onSync(sync));
      last =
          decrypted
              .getJsonObject("rooms")
              .getJsonObject("join")
              .getJsonObject(roomId)
              .getJsonObject("timeline")
              .getJsonArray("events");
      for (Object o : last) {
        JsonObject ev = (JsonObject) o;
        if (body.equals(ev.getJsonObject("content", new JsonObject()).getString("body"))) {
          return ev;
        }
      }
      Thread.sleep(500);
    }
    fail("the plugin never decrypted '" + body + "' from the backup");
    return null;
  }
}
