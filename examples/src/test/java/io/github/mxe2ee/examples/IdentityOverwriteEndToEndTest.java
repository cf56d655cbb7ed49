package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.machine.DeviceIdentityConflictException;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Careless operator against the real Synapse (issue 10, item 4): a bot started with device id X,
 * whose store (and pickle key) is then deleted, starts again with X. It used to upload a new
 * identity over the device; now {@link MatrixE2ee#start()} fails with a message that says what
 * happened and what to do, and the server still lists the original keys.
 */
class IdentityOverwriteEndToEndTest {
  private static final long WAIT_S = 60;

  @TempDir Path dir;

  private Vertx vertx;
  private WebClient web;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    web = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
  }

  private E2eeOptions options(Path stateDir) {
    return new E2eeOptions()
        .setStorePath(stateDir.resolve("mxe2ee.db").toString())
        .setPickleKeyFile(stateDir.resolve("pickle.key").toString());
  }

  private static JsonObject serverKeys(HomeserverClient client, String userId, String device)
      throws Exception {
    JsonObject query =
        new JsonObject().put("device_keys", new JsonObject().put(userId, new JsonArray()));
    return await(client.request("POST", "/_matrix/client/v3/keys/query", query))
        .getJsonObject("device_keys")
        .getJsonObject(userId)
        .getJsonObject(device)
        .getJsonObject("keys");
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void lostStore_sameDeviceId_startFails_andServerKeysAreUnchanged() throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    String user = "idsafe_" + UUID.randomUUID().toString().substring(0, 8);
    String userId = "@" + user + ":" + hs.serverName();
    String device = "IDSAFEBOT";
    await(hs.register(web, user, "bot-pass", false));
    Path state = dir.resolve("state");

    HomeserverClient first = new HomeserverClient(web, hs.baseUrl());
    await(first.login(user, "bot-pass", device));
    MatrixE2ee e2ee = MatrixE2ee.create(vertx, first, options(state));
    await(e2ee.start());
    String fingerprint = e2ee.fingerprint();
    await(e2ee.close());
    JsonObject original = serverKeys(first, userId, device);
    assertEquals(fingerprint, original.getString("ed25519:" + device));

    // The operator loses the store and its pickle key, and starts the bot again with device X.
    try (Stream<Path> files = Files.walk(state)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    HomeserverClient second = new HomeserverClient(web, hs.baseUrl());
    await(second.login(user, "bot-pass", device));
    MatrixE2ee again = MatrixE2ee.create(vertx, second, options(state));
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> await(again.start()));
    assertTrue(
        e.getCause() instanceof DeviceIdentityConflictException,
        "start fails with: " + e.getCause());
    String message = e.getCause().getMessage();
    assertTrue(message.contains(device) && message.contains(fingerprint), message);
    assertTrue(message.contains("new device id") && message.contains("restore"), message);
    assertEquals(original, serverKeys(second, userId, device), "the server's keys are unchanged");
  }
}
