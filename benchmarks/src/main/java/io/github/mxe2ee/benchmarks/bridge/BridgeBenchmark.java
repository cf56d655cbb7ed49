package io.github.mxe2ee.benchmarks.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Issue 15, item 8: bridge mode's costs against the real dev Synapse (a program, not a test; {@code
 * scripts/bench-bridge.sh} runs it and docs/PERFORMANCE.md, "Bridge mode (issue 15)", records a
 * run):
 *
 * <ol>
 *   <li><b>decrypt</b>: encrypted events decrypted per second through {@link
 *       AppserviceE2ee#onTransaction}: one transaction of {@code rooms * perRoom} Megolm events
 *       (default 100 rooms * 10 = 1,000), decrypted by the bridge bot's device, timed end to end
 *       (parse, decrypt, hand-over, save), repeated with fresh transaction ids;
 *   <li><b>ghosts</b>: wall time to create and key {@code ghosts} ghost devices ({@link
 *       AppserviceE2ee#ensureGhost}: user registration, MSC4190 device, Olm account and key upload,
 *       cross-signing identity uploaded and self-signed), all asked at once (the plugin bounds the
 *       concurrency);
 *   <li><b>memory</b>: Java heap after full GCs before and after the ghosts, divided by the ghost
 *       machines then open ({@link AppserviceE2ee#openGhosts()}, bounded by the pool), and the
 *       store's bytes per ghost account.
 * </ol>
 *
 * <p>The events of (1) are encrypted by the bot's own device ({@code bot().encrypt}) in real,
 * encrypted rooms the bot created, so the bot holds their room keys, as it does for a portal's
 * members' keys once they arrived; no homeserver is involved in the measured call. The ghosts of
 * (2) are new users (the Synapse keeps them: run against a throw-away dev server).
 *
 * <p>Usage: {@code BridgeBenchmark HOMESERVER_URL REGISTRATION_FILE WORK_DIR [rooms perRoom repeats
 * ghosts]}. The appservice listens on the registration's {@code url}, so Synapse's own transactions
 * to it are consumed meanwhile.
 */
public final class BridgeBenchmark {
  private BridgeBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println(
          "usage: BridgeBenchmark HOMESERVER_URL REGISTRATION_FILE WORK_DIR [rooms perRoom repeats ghosts]");
      System.exit(2);
    }
    String hsUrl = args[0];
    Path registration = Path.of(args[1]);
    Path work = Path.of(args[2]);
    int rooms = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    int perRoom = args.length > 4 ? Integer.parseInt(args[4]) : 10;
    int repeats = args.length > 5 ? Integer.parseInt(args[5]) : 10;
    int ghosts = args.length > 6 ? Integer.parseInt(args[6]) : 1000;
    Files.createDirectories(work);
    JsonNode reg = new ObjectMapper(new YAMLFactory()).readTree(registration.toFile());
    URI url = URI.create(reg.path("url").asText());
    String asToken = reg.path("as_token").asText();

    Vertx vertx = Vertx.vertx();
    WebClient web = WebClient.create(vertx);
    Path db = work.resolve("bridge.db");
    AppserviceE2ee as =
        AppserviceE2ee.create(
            vertx,
            new AppserviceOptions()
                .readRegistration(registration)
                .setHomeserverUrl(hsUrl)
                .setEngine(
                    new E2eeOptions()
                        .setStorePath(db.toString())
                        .setPickleKeyFile(work.resolve("pickle.key").toString())));
    long heap0 = heapAfterGc();
    await(as.start());
    await(as.listen(url.getHost(), url.getPort()));
    String bot = as.botUserId();
    System.out.printf("appservice started: bot %s, store %s%n", bot, db);

    // ---- 1. decrypt through onTransaction
    List<String> roomIds = new ArrayList<>();
    for (int r = 0; r < rooms; r++) {
      JsonObject created =
          await(
                  web.postAbs(hsUrl + "/_matrix/client/v3/createRoom")
                      .bearerTokenAuthentication(asToken)
                      .sendJsonObject(
                          new JsonObject()
                              .put("preset", "private_chat")
                              .put(
                                  "initial_state",
                                  new JsonArray()
                                      .add(
                                          new JsonObject()
                                              .put("type", "m.room.encryption")
                                              .put("state_key", "")
                                              .put(
                                                  "content",
                                                  new JsonObject()
                                                      .put("algorithm", "m.megolm.v1.aes-sha2"))))))
              .bodyAsJsonObject();
      roomIds.add(created.getString("room_id"));
    }
    JsonArray events = new JsonArray();
    long t0 = System.nanoTime();
    for (int i = 0; i < perRoom; i++) {
      for (String roomId : roomIds) {
        JsonObject content =
            await(
                as.bot()
                    .encrypt(
                        roomId,
                        "m.room.message",
                        new JsonObject().put("msgtype", "m.text").put("body", "bench " + i)));
        events.add(
            new JsonObject()
                .put("type", "m.room.encrypted")
                .put("room_id", roomId)
                .put("sender", bot)
                .put("event_id", "$bench-" + roomId.hashCode() + "-" + i)
                .put("origin_server_ts", System.currentTimeMillis())
                .put("content", content));
      }
    }
    System.out.printf(
        "encrypted %d events in %d rooms in %.1f s (setup, not measured)%n",
        events.size(), rooms, (System.nanoTime() - t0) / 1e9);
    JsonObject txn = new JsonObject().put("events", events);
    System.out.printf("transaction body: %.1f kB%n", txn.encode().length() / 1e3);
    double[] rates = new double[repeats];
    for (int k = -2; k < repeats; k++) { // two warm-up rounds
      long s = System.nanoTime();
      JsonObject out = await(as.onTransaction("bench-" + System.nanoTime(), txn));
      double sec = (System.nanoTime() - s) / 1e9;
      int failed = 0;
      for (Object o : out.getJsonArray("events")) {
        JsonObject ev = (JsonObject) o;
        if (!"m.room.message".equals(ev.getString("type"))) {
          failed++;
        }
      }
      if (failed > 0) {
        throw new IllegalStateException(failed + " events not decrypted");
      }
      if (k >= 0) {
        rates[k] = events.size() / sec;
      }
      System.out.printf(
          "%s: %d events in %.3f s = %.0f events/s%n",
          k < 0 ? "warm-up" : "run " + (k + 1), events.size(), sec, events.size() / sec);
    }
    Arrays.sort(rates);
    System.out.printf(
        "RESULT decrypt: median %.0f events/s (min %.0f, max %.0f) over %d transactions of %d events"
            + " in %d rooms%n",
        rates[repeats / 2], rates[0], rates[repeats - 1], repeats, events.size(), rooms);

    // ---- 2. ghosts
    long heapBefore = heapAfterGc();
    long dbBefore = Files.size(db);
    String run = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
    String server = bot.substring(bot.indexOf(':') + 1);
    List<Future<GhostDevice>> made = new ArrayList<>();
    long g0 = System.nanoTime();
    for (int i = 0; i < ghosts; i++) {
      made.add(as.ensureGhost("@bridge_bench_" + run + "_" + i + ":" + server));
    }
    Future.all(made).toCompletionStage().toCompletableFuture().get(3600, TimeUnit.SECONDS);
    double gsec = (System.nanoTime() - g0) / 1e9;
    System.out.printf(
        "RESULT ghosts: %d ghost devices created and keyed (registered, MSC4190 device, keys"
            + " uploaded, cross-signing identity) in %.1f s = %.1f ghosts/s, %.0f ms each on"
            + " average at the plugin's concurrency%n",
        ghosts, gsec, ghosts / gsec, gsec * 1000 / ghosts);

    // ---- 3. memory
    long heapAfter = heapAfterGc();
    int open = as.openGhosts();
    long dbAfter = Files.size(db);
    System.out.printf(
        "RESULT memory: heap after GC %.1f MB before the ghosts, %.1f MB after (JVM alone %.1f"
            + " MB); %d ghost machines open: %.1f kB per open ghost account; store %.1f MB ->"
            + " %.1f MB: %.1f kB per ghost account on disk%n",
        heapBefore / 1e6,
        heapAfter / 1e6,
        heap0 / 1e6,
        open,
        open == 0 ? 0.0 : (heapAfter - heapBefore) / 1e3 / open,
        dbBefore / 1e6,
        dbAfter / 1e6,
        (dbAfter - dbBefore) / 1e3 / ghosts);
    await(as.close());
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(600, TimeUnit.SECONDS);
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
