package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The echo bot's cross-signing identity on the dev Synapse, judged by a real client (matrix-js-sdk
 * 43, Rust crypto): after the first start the client sees the bot's device signed by its owner; a
 * restart keeps the identity; a lost store with the recovery key restores the same identity for a
 * new device; a recovery key that does not open the bot's secret storage stops the bot instead of
 * replacing its identity (docs/IDENTITY.md).
 */
class IdentityEchoBotTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  @TempDir Path keys;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botLocal = "id_bot_" + suffix;
  private final String botId = "@" + botLocal + ":localhost";
  private final String humanLocal = "id_human_" + suffix;
  private HomeserverClient human;

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

  private void register() throws Exception {
    Vertx v = Vertx.vertx();
    vertxes.add(v);
    WebClient web = WebClient.create(v);
    await(hs.register(web, botLocal, "bot-pass", false));
    await(hs.register(web, humanLocal, "human-pass", false));
    human = new HomeserverClient(web, hs.baseUrl());
    await(human.login(humanLocal, "human-pass", null));
  }

  /** Starts the echo bot as {@code device} with the recovery key file {@code recoveryKey}. */
  private EchoBot startBot(String device, Path recoveryKey) throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    EchoBot bot =
        new EchoBot(
            vertx,
            WebClient.create(vertx),
            new EchoBotConfig(hs.baseUrl(), botLocal, "bot-pass", device, recoveryKey.toString()));
    await(bot.start());
    return bot;
  }

  private void stopBot(EchoBot bot) throws Exception {
    await(bot.close()); // stops the loop and releases the store (and its device lock)
    Vertx v = vertxes.remove(vertxes.size() - 1);
    v.close().toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
  }

  /** The bot's master key as the server shows it to another user, or null. */
  private String serverMasterKey() throws Exception {
    JsonObject body =
        new JsonObject().put("device_keys", new JsonObject().put(botId, new JsonArray()));
    JsonObject resp = await(human.request("POST", "/_matrix/client/v3/keys/query", body));
    JsonObject master = resp.getJsonObject("master_keys", new JsonObject()).getJsonObject(botId);
    return master == null
        ? null
        : (String) master.getJsonObject("keys").iterator().next().getValue();
  }

  /** Waits until the client sees the bot's {@code device} signed by the bot's identity. */
  private JsonObject awaitSignedByOwner(JsClientPeer client, String device) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    JsonObject status = null;
    while (System.nanoTime() < deadline) {
      status = client.deviceVerificationStatus(botId, device);
      if (status != null && status.getBoolean("signed_by_owner")) {
        return status;
      }
      Thread.sleep(500);
    }
    fail("the client never saw " + botId + "/" + device + " signed by its owner: " + status);
    return null;
  }

  private JsClientPeer client(String name) {
    JsClientPeer p = JsClientPeer.start(name + "-" + suffix);
    peers.add(p);
    p.login(hs.baseUrl(), humanLocal, "human-pass");
    p.startClient();
    return p;
  }

  private static void deleteTree(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void botIsCrossSignedByItsOwner_keepsItsIdentity_andRestoresItAfterAStoreLoss() throws Exception {
    register();
    Path recoveryKey = keys.resolve("bot.recovery-key");

    // First start: a new identity, the recovery key file owner-only.
    EchoBot bot = startBot("IDBOT1", recoveryKey);
    assertTrue(Files.exists(recoveryKey), "the recovery key file was created");
    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(recoveryKey)));
    String master = serverMasterKey();
    assertNotNull(master, "the bot's identity is on the server");

    JsClientPeer client = client("alice");
    // A shared room makes the client track the bot's devices (and hear of new ones).
    String roomId = client.createEncryptedRoom(List.of(botId), null);
    client.waitForJoin(roomId, botId, WAIT_MS);
    JsonObject status = awaitSignedByOwner(client, "IDBOT1");
    assertFalse(status.getBoolean("locally_verified"), "nobody verified it by hand: " + status);
    JsonObject identity = client.userVerificationStatus(botId);
    assertTrue(identity.getBoolean("known"), "the client knows the bot's identity: " + identity);

    // Restart on the same store: the same identity, nothing re-created.
    stopBot(bot);
    bot = startBot("IDBOT1", recoveryKey);
    assertEquals(master, serverMasterKey(), "a restart keeps the master key");
    stopBot(bot);

    // The store is lost; a new device starts with the recovery key: the same identity signs it.
    deleteTree(Path.of(EchoBot.DEFAULT_STORE_DIR, botId + "_IDBOT1"));
    startBot("IDBOT2", recoveryKey);
    assertEquals(master, serverMasterKey(), "the recovery key restored the same master key");
    awaitSignedByOwner(client, "IDBOT2");
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void anotherRecoveryKey_stopsTheBot_andLeavesItsIdentityAlone() throws Exception {
    register();
    Path recoveryKey = keys.resolve("bot.recovery-key");
    stopBot(startBot("IDBOTA", recoveryKey));
    String master = serverMasterKey();
    String keyText = Files.readString(recoveryKey).trim();

    Path otherKey = keys.resolve("other.recovery-key");
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> startBot("IDBOTB", otherKey));
    String message = e.getCause().getMessage();
    assertTrue(message.contains("recovery key does not open"), message);
    assertFalse(message.contains(keyText), "the message holds no key");
    assertFalse(message.contains(Files.readString(otherKey).trim()), "nor the other recovery key");
    assertEquals(master, serverMasterKey(), "the identity was not replaced");
    assertNotEquals(keyText, Files.readString(otherKey).trim());
  }
}
