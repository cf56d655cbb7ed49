package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.cli.Mxe2eeCli;
import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code mxe2ee} CLI on the echo bot's real store, against the dev Synapse (issue 13, item 5):
 * refused while the bot runs (the store lock), shows the bot's fingerprint and identity, refuses a
 * fingerprint that differs from the device's key, and signs an own device (a matrix-js-sdk client
 * logged in as the bot's user) whose fingerprint the operator typed, as Element groups it; the
 * client then sees its device signed by its owner (the bot's self-signing key).
 */
class Mxe2eeCliTest {
  private static final long WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 90;

  @TempDir Path keys;

  private final List<JsClientPeer> peers = new ArrayList<>();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final DevHomeserver hs = DevHomeserver.shared();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botLocal = "cli_bot_" + suffix;
  private final String botId = "@" + botLocal + ":localhost";
  private EchoBot bot;

  @AfterEach
  void tearDown() throws Exception {
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

  private record Run(int status, String out, String err) {}

  private Run cli(Map<String, String> env, String... command) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--user",
                botId,
                "--device-id",
                "CLIBOT",
                "--store-dir",
                Path.of(EchoBot.DEFAULT_STORE_DIR, botId + "_CLIBOT").toString(),
                "--homeserver",
                hs.baseUrl()));
    args.addAll(List.of(command));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Mxe2eeCli.run(
            args.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env);
    return new Run(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void cliSignsAnOwnDeviceByFingerprint_onlyWhileTheBotIsStopped() throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    WebClient web = WebClient.create(vertx);
    await(hs.register(web, botLocal, "bot-pass", false));
    bot =
        new EchoBot(
            vertx,
            web,
            new EchoBotConfig(
                hs.baseUrl(),
                botLocal,
                "bot-pass",
                "CLIBOT",
                keys.resolve("bot.recovery-key").toString()));
    await(bot.start());
    await(bot.firstSync());
    String botFingerprint = bot.e2ee().fingerprint();

    JsClientPeer operator = client("cli-operator", botLocal, "bot-pass");
    JsonObject info = operator.deviceInfo();
    String device = info.getString("device_id");
    awaitBotKnows(device);
    Map<String, String> env = Map.of("MXE2EE_PASSWORD", "bot-pass");

    Run locked = cli(env, "status");
    assertEquals(3, locked.status(), locked.err());
    assertTrue(locked.err().contains("is the bot running?"), locked.err());

    await(bot.close());
    bot = null;

    Run status = cli(env, "status");
    assertEquals(0, status.status(), status.err());
    assertTrue(
        status.out().contains(String.join(" ", botFingerprint.split("(?<=\\G.{4})"))),
        status.out());
    assertTrue(
        status.out().contains("cross-signing private keys held by this store"), status.out());
    assertTrue(status.out().contains(device + "  " + info.getString("fingerprint")), status.out());
    assertFalse(status.out().contains("bot-pass"), "no secret printed");

    String fingerprint = info.getString("fingerprint"); // grouped by 4, as Element shows it
    String wrong = (fingerprint.charAt(0) == 'A' ? "B" : "A") + fingerprint.substring(1);
    Run refused = cli(env, "verify-device", device, wrong);
    assertEquals(5, refused.status(), refused.err());

    Run signed = cli(env, "verify-device", device, fingerprint);
    assertEquals(0, signed.status(), signed.err() + signed.out());
    assertFalse((signed.out() + signed.err()).contains("bot-pass"), "no secret printed");
    Run after = cli(env, "status");
    assertTrue(
        after.out().contains(device + "  " + fingerprint + "  VERIFIED_LOCALLY"), after.out());

    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    JsonObject seen = null;
    while (System.nanoTime() < deadline) {
      seen = operator.deviceVerificationStatus(botId, device);
      if (seen != null && seen.getBoolean("signed_by_owner")) {
        return;
      }
      Thread.sleep(500);
    }
    fail("the client never saw " + device + " signed by the bot's identity: " + seen);
  }

  /** Waits until the running bot has fetched the keys of its user's new {@code device}. */
  private void awaitBotKnows(String device) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (true) {
      try {
        // Starting a verification needs the device's keys; the probe is cancelled at once.
        await(await(bot.e2ee().startVerification(botId, device)).cancel());
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof IllegalArgumentException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }
}
