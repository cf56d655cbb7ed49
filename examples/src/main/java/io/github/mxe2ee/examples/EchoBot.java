package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Example bot skeleton: logs in with a password, then runs a {@code /sync} loop and logs the ids of
 * the events it receives (never their content). Encryption arrives with the plugin's E2EE facade.
 *
 * <p>Run it with {@code bash scripts/demo.sh}, which starts the dev homeserver and passes {@code
 * --homeserver}; settings are resolved by {@link EchoBotConfig}. Ctrl-C (SIGINT) stops the loop and
 * closes Vert.x through a shutdown hook.
 *
 * <p>Threading: {@link #start()} and {@link #stop()} may be called from any thread; the loop runs
 * on the Vert.x event loop of the Web Client. Errors: a failed login fails {@link #start()}; a
 * failed {@code /sync} is logged and retried after {@link #RETRY_DELAY_MS}.
 */
public final class EchoBot {

  /** Long-poll duration of each {@code /sync} after the first. */
  public static final long SYNC_TIMEOUT_MS = 30_000;

  /** Pause before retrying a failed {@code /sync}, so a down server is not hammered. */
  public static final long RETRY_DELAY_MS = 2_000;

  /** How long the shutdown hook waits for Vert.x to close. */
  public static final long CLOSE_TIMEOUT_MS = 10_000;

  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  private final Vertx vertx;
  private final EchoBotConfig config;
  private final HomeserverClient hs;
  private final AtomicLong syncCount = new AtomicLong();
  private final Promise<Void> firstSync = Promise.promise();
  private volatile boolean stopped;
  private volatile String since;

  /**
   * @param vertx the Vert.x instance to run on; not closed by {@link #stop()}
   * @param client Web Client used for every request
   * @param config settings
   */
  public EchoBot(Vertx vertx, WebClient client, EchoBotConfig config) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.config = Objects.requireNonNull(config, "config");
    this.hs = new HomeserverClient(client, config.homeserver());
  }

  /** Logs in, then starts the sync loop; completes once logged in. */
  public Future<Void> start() {
    return hs.login(config.user(), config.password(), config.deviceId())
        .map(
            session -> {
              LOG.log(System.Logger.Level.INFO, "logged in as {0}", session);
              syncLoop();
              return null;
            });
  }

  /** Completes after the first successful {@code /sync}. */
  public Future<Void> firstSync() {
    return firstSync.future();
  }

  /** Number of successful {@code /sync} responses so far. */
  public long syncCount() {
    return syncCount.get();
  }

  /** Stops the loop after the request in flight; idempotent. */
  public void stop() {
    stopped = true;
  }

  private void syncLoop() {
    if (stopped) {
      return;
    }
    long timeout = since == null ? 0 : SYNC_TIMEOUT_MS;
    hs.sync(since, timeout)
        .onSuccess(
            body -> {
              since = body.getString("next_batch");
              long n = syncCount.incrementAndGet();
              logEvents(body, n);
              firstSync.tryComplete();
              syncLoop();
            })
        .onFailure(
            err -> {
              if (stopped) {
                return;
              }
              LOG.log(System.Logger.Level.WARNING, "sync failed, retrying: {0}", err.toString());
              vertx.setTimer(RETRY_DELAY_MS, t -> syncLoop());
            });
  }

  private static void logEvents(JsonObject body, long n) {
    JsonObject join = body.getJsonObject("rooms", new JsonObject()).getJsonObject("join");
    int events = 0;
    if (join != null) {
      for (Map.Entry<String, Object> room : join) {
        if (!(room.getValue() instanceof JsonObject)) {
          continue;
        }
        JsonObject timeline = ((JsonObject) room.getValue()).getJsonObject("timeline");
        JsonArray list = timeline == null ? null : timeline.getJsonArray("events");
        if (list == null) {
          continue;
        }
        for (Object o : list) {
          if (o instanceof JsonObject) {
            JsonObject ev = (JsonObject) o;
            events++;
            LOG.log(
                System.Logger.Level.INFO,
                "room {0} event {1} type {2}",
                room.getKey(),
                ev.getString("event_id"),
                ev.getString("type"));
          }
        }
      }
    }
    JsonArray toDevice = body.getJsonObject("to_device", new JsonObject()).getJsonArray("events");
    LOG.log(
        System.Logger.Level.INFO,
        "sync #{0}: {1} timeline events, {2} to-device events",
        n,
        events,
        toDevice == null ? 0 : toDevice.size());
  }

  /**
   * Entry point. See {@link EchoBotConfig} for arguments. Exits 0 on Ctrl-C, 1 when login fails, 2
   * on bad settings.
   */
  public static void main(String[] args) throws Exception {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s: %5$s%6$s%n");
    }
    EchoBotConfig config;
    try {
      config = EchoBotConfig.resolve(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("echo-bot: " + e.getMessage());
      System.exit(2);
      return;
    }
    Vertx vertx = Vertx.vertx();
    WebClient client = WebClient.create(vertx);
    EchoBot bot = new EchoBot(vertx, client, config);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.log(System.Logger.Level.INFO, "stopping");
                  bot.stop();
                  try {
                    vertx
                        .close()
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                  } catch (Exception e) {
                    System.err.println("echo-bot: Vert.x did not close cleanly: " + e);
                  }
                },
                "echo-bot-shutdown"));
    LOG.log(System.Logger.Level.INFO, "starting with {0}", config);
    try {
      bot.start().toCompletionStage().toCompletableFuture().get();
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.log(System.Logger.Level.ERROR, "login failed: {0}", e.getCause().toString());
      System.exit(1);
    }
  }
}
