package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.verification.Verification;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Headless SAS verification of the echo bot on the dev Synapse (issue 13, items 4 and 6), against
 * real matrix-js-sdk 43 clients (Rust crypto): "operator" clients log in as the bot's own user. One
 * bot for the whole scenario, in order:
 *
 * <ol>
 *   <li>another user's request is cancelled by the policy with {@code m.user};
 *   <li>the bot starts a SAS with an operator device; a wrong {@code !confirm} cancels it with
 *       {@code m.mismatched_sas};
 *   <li>an operator device starts a SAS with the bot; the bot logs exactly {@code SAS <flow>:
 *       <decimals> <emoji names>}, equal to what the client shows; {@code !confirm <decimals>} from
 *       the operator makes both sides done; the client sees the bot verified, the bot cross-signs
 *       the operator device (another user sees it signed by its owner);
 *   <li>the verified operator device asks for the key of a message it cannot read and gets it; the
 *       unverified one asks and gets {@code m.room_key.withheld} {@code m.unverified};
 *   <li>the bot starts a SAS with that device again and the operator confirms: both done, signed.
 * </ol>
 */
class SasEchoBotTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  @TempDir Path keys;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botLocal = "sas_bot_" + suffix;
  private final String botId = "@" + botLocal + ":localhost";
  private final String humanLocal = "sas_human_" + suffix;
  private final List<String> botLog = new CopyOnWriteArrayList<>();
  private final Logger botLogger = Logger.getLogger(EchoBot.class.getName());
  private final Handler capture =
      new Handler() {
        private final SimpleFormatter f = new SimpleFormatter();

        @Override
        public void publish(LogRecord record) {
          botLog.add(f.formatMessage(record));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private EchoBot bot;

  @AfterEach
  void tearDown() throws Exception {
    botLogger.removeHandler(capture);
    if (bot != null) {
      await(bot.close());
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

  private JsClientPeer client(String name, String user, String password) {
    JsClientPeer p = JsClientPeer.start(name + "-" + suffix);
    peers.add(p);
    p.login(hs.baseUrl(), user, password);
    p.startClient();
    return p;
  }

  /** Waits for the first bot log line starting with {@code prefix}. */
  private String awaitLog(String prefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (System.nanoTime() < deadline) {
      for (String line : botLog) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      Thread.sleep(200);
    }
    fail("the bot never logged a line starting with '" + prefix + "'");
    return null;
  }

  /** The line the bot must log for a SAS the client shows. */
  private static String expectedLine(String flowId, JsonObject sas) {
    String decimals =
        sas.getJsonArray("decimals").stream().map(String::valueOf).collect(Collectors.joining(" "));
    String emoji =
        sas.getJsonArray("emoji").stream()
            .map(o -> ((JsonObject) o).getString("name"))
            .collect(Collectors.joining(" "));
    return "SAS " + flowId + ": " + decimals + " " + emoji;
  }

  private static String decimals(JsonObject sas) {
    return sas.getJsonArray("decimals").stream()
        .map(String::valueOf)
        .collect(Collectors.joining(" "));
  }

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void operatorVerifiesTheBotBySas_getsRoomKeys_andUnverifiedDevicesGetWithheld() throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    WebClient web = WebClient.create(vertx);
    await(hs.register(web, botLocal, "bot-pass", false));
    await(hs.register(web, humanLocal, "human-pass", false));
    botLogger.addHandler(capture);
    bot =
        new EchoBot(
            vertx,
            web,
            new EchoBotConfig(
                hs.baseUrl(),
                botLocal,
                "bot-pass",
                "SASBOT",
                keys.resolve("bot.recovery-key").toString()));
    await(bot.start());
    await(bot.firstSync());

    // A conversation the operator devices, logged in later, cannot read.
    JsClientPeer human = client("human", humanLocal, "human-pass");
    String roomId = human.createEncryptedRoom(List.of(botId), null);
    human.waitForJoin(roomId, botId, WAIT_MS);
    human.sendText(roomId, "hello bot");
    human.waitForEvent(
        roomId, new JsonObject().put("sender", botId).put("body", "echo: hello bot"), WAIT_MS);

    // 1. The policy: another user may not verify the bot.
    JsonObject refused = human.requestVerification(botId, "SASBOT");
    JsonObject refusedEnd = human.waitVerificationEnd(refused.getString("flow_id"), WAIT_MS);
    assertEquals("cancelled", refusedEnd.getString("phase"), refusedEnd.encode());
    assertEquals("m.user", refusedEnd.getString("cancellation_code"), refusedEnd.encode());

    // 2. The bot starts a SAS with an operator device; a wrong !confirm cancels it.
    JsClientPeer unverified = client("op-unverified", botLocal, "bot-pass");
    String unverifiedDevice = unverified.deviceInfo().getString("device_id");
    // The Rust crypto ignores a verification request from a device it has not downloaded yet.
    waitUntilKnown(unverified, botId, "SASBOT");
    Verification started = startFromBot(unverifiedDevice);
    JsonObject incoming = unverified.waitVerificationRequest(WAIT_MS);
    assertEquals(started.flowId(), incoming.getString("flow_id"));
    unverified.acceptVerification(started.flowId());
    JsonObject wrongSas = unverified.waitSas(started.flowId(), WAIT_MS);
    assertEquals(expectedLine(started.flowId(), wrongSas), awaitLog("SAS " + started.flowId()));
    unverified.sendText(roomId, "!confirm 1000 1000 1000");
    JsonObject mismatched = unverified.waitVerificationEnd(started.flowId(), WAIT_MS);
    assertEquals("cancelled", mismatched.getString("phase"), mismatched.encode());
    assertEquals("m.mismatched_sas", mismatched.getString("cancellation_code"));

    // 3. The operator verifies the bot: the client starts, the bot logs, !confirm confirms.
    JsClientPeer operator = client("operator", botLocal, "bot-pass");
    String operatorDevice = operator.deviceInfo().getString("device_id");
    String flowId = operator.requestVerification(botId, "SASBOT").getString("flow_id");
    operator.startSas(flowId, WAIT_MS);
    JsonObject sas = operator.waitSas(flowId, WAIT_MS);
    assertEquals(3, sas.getJsonArray("decimals").size(), sas.encode());
    assertEquals(7, sas.getJsonArray("emoji").size(), sas.encode());
    assertEquals(expectedLine(flowId, sas), awaitLog("SAS " + flowId + ":"));
    operator.sendText(roomId, "!confirm " + decimals(sas));
    operator.confirmSas(flowId);
    JsonObject end = operator.waitVerificationEnd(flowId, WAIT_MS);
    assertEquals("done", end.getString("phase"), end.encode());
    awaitBotDone(flowId, operatorDevice);
    JsonObject status = operator.deviceVerificationStatus(botId, "SASBOT");
    assertTrue(status.getBoolean("verified"), "the operator sees the bot verified: " + status);
    awaitSignedByOwner(human, operatorDevice);

    // 4. Keys on request: the verified device gets them, the unverified one is refused.
    operator.setRoomKeyRequests(true);
    operator.retryDecryption(roomId);
    JsonObject echo =
        operator.waitForEvent(
            roomId,
            new JsonObject()
                .put("sender", botId)
                .put("body", "echo: hello bot")
                .put("decryption", "decrypted"),
            WAIT_MS);
    assertNotNull(echo);

    // matrix-js-sdk asks only when it trusts one of its own devices: this one trusts the bot's
    // device (fingerprints compared), the bot does not trust it.
    unverified.setDeviceVerified(botId, "SASBOT", true);
    unverified.setRoomKeyRequests(true);
    unverified.retryDecryption(roomId);
    // matrix-js-sdk reports a message older than the device as "historical" whatever the
    // withheld code, so the refusal is checked where it arrives: the to-device event.
    JsonArray withheld = unverified.waitForToDevice("m.room_key.withheld", WAIT_MS);
    JsonObject refusal = withheld.getJsonObject(0);
    assertEquals(botId, refusal.getString("sender"), refusal.encode());
    JsonObject content = refusal.getJsonObject("content");
    assertEquals("m.unverified", content.getString("code"), refusal.encode());
    assertEquals("SASBOT", content.getString("from_device"), refusal.encode());
    assertEquals(roomId, content.getString("room_id"), refusal.encode());
    assertTrue(
        unverified.events(roomId).stream()
            .map(o -> (JsonObject) o)
            .filter(e -> botId.equals(e.getString("sender")))
            .noneMatch(
                e ->
                    "decrypted".equals(e.getString("decryption"))
                        && "echo: hello bot".equals(e.getJsonObject("content").getString("body"))),
        "the unverified device still cannot read the bot's message");

    // 5. The other direction to the end: the bot starts, the operator confirms.
    Verification second = startFromBot(unverifiedDevice);
    unverified.waitVerificationRequest(WAIT_MS);
    unverified.acceptVerification(second.flowId());
    JsonObject secondSas = unverified.waitSas(second.flowId(), WAIT_MS);
    assertEquals(expectedLine(second.flowId(), secondSas), awaitLog("SAS " + second.flowId()));
    unverified.sendText(roomId, "!confirm " + decimals(secondSas));
    unverified.confirmSas(second.flowId());
    JsonObject secondEnd = unverified.waitVerificationEnd(second.flowId(), WAIT_MS);
    assertEquals("done", secondEnd.getString("phase"), secondEnd.encode());
    awaitBotDone(second.flowId(), unverifiedDevice);
    assertTrue(unverified.deviceVerificationStatus(botId, "SASBOT").getBoolean("verified"));
    awaitSignedByOwner(human, unverifiedDevice);
  }

  /** The bot starts a SAS with its own {@code device}, once it knows the device. */
  private Verification startFromBot(String device) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (true) {
      try {
        return await(bot.e2ee().startVerification(botId, device));
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof IllegalArgumentException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500); // the bot has not seen the new device's keys yet
      }
    }
  }

  /** Waits until the bot's plugin reports the flow with {@code device} done. */
  private void awaitBotDone(String flowId, String device) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    Verification v = null;
    while (System.nanoTime() < deadline) {
      v =
          await(bot.e2ee().verifications()).stream()
              .filter(x -> x.flowId().equals(flowId))
              .findFirst()
              .orElse(null);
      if (v != null && v.state() == io.github.mxe2ee.sas.SasState.DONE) {
        assertEquals(device, v.otherDeviceId());
        return;
      }
      Thread.sleep(200);
    }
    fail("the bot never finished " + flowId + ": " + v);
  }

  private void awaitSignedByOwner(JsClientPeer observer, String device) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    JsonObject s = null;
    while (System.nanoTime() < deadline) {
      s = observer.deviceVerificationStatus(botId, device);
      if (s != null && s.getBoolean("signed_by_owner")) {
        return;
      }
      Thread.sleep(500);
    }
    fail("the bot never cross-signed " + device + ": " + s);
  }

  /** Waits until {@code client} has downloaded {@code userId}'s device {@code deviceId}. */
  private static void waitUntilKnown(JsClientPeer client, String userId, String deviceId)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (System.currentTimeMillis() < deadline) {
      io.vertx.core.json.JsonArray devices = client.userDevices(userId);
      for (int i = 0; i < devices.size(); i++) {
        if (deviceId.equals(devices.getJsonObject(i).getString("device_id"))) {
          return;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError(client + " never learned device " + deviceId + " of " + userId);
  }
}
