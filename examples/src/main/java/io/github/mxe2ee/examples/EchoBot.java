package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Example encrypted echo bot: logs in with a password, starts the mxe2ee plugin ({@link
 * MatrixE2ee}), joins the rooms it is invited to, and answers every text message in an encrypted
 * room with an encrypted {@code m.notice} "echo: ..." (messages from the initial sync are history
 * and are not answered). It logs event ids, never content. Its keys live in a SQLite store under
 * {@link #DEFAULT_STORE_DIR}, with the pickle key in a 0600 key file beside it.
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

  /** Where the bot keeps its crypto store and pickle key, relative to the working directory. */
  public static final String DEFAULT_STORE_DIR = ".run/echo-bot";

  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  private final Vertx vertx;
  private final EchoBotConfig config;
  private final HomeserverClient hs;
  private final AtomicLong syncCount = new AtomicLong();
  private final Promise<Void> firstSync = Promise.promise();
  private volatile boolean stopped;
  private volatile String since;
  private volatile MatrixE2ee e2ee;
  private final AtomicLong echoCount = new AtomicLong();

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
        .compose(
            session -> {
              LOG.log(System.Logger.Level.INFO, "logged in as {0}", session);
              Path dir = Path.of(DEFAULT_STORE_DIR, session.userId() + "_" + session.deviceId());
              return vertx
                  .executeBlocking(() -> Files.createDirectories(dir))
                  .compose(
                      d -> {
                        e2ee =
                            MatrixE2ee.create(
                                vertx,
                                hs,
                                new E2eeOptions()
                                    .setStorePath(dir.resolve("mxe2ee.db").toString())
                                    .setPickleKeyFile(dir.resolve("pickle.key").toString())
                                    .setRecoveryKeyFile(recoveryKeyFile(session.userId()))
                                    .setAccountPassword(config.password()));
                        return e2ee.start();
                      })
                  .map(
                      v -> {
                        LOG.log(
                            System.Logger.Level.INFO,
                            "end-to-end encryption ready, fingerprint {0}",
                            e2ee.fingerprint());
                        syncLoop();
                        return null;
                      });
            });
  }

  /**
   * The configured recovery key file, else {@code <store dir>/<user id>.recovery-key}: per user,
   * not per device, so that a new device or a lost store finds it (docs/IDENTITY.md).
   */
  private String recoveryKeyFile(String userId) {
    return config.recoveryKeyFile() != null
        ? config.recoveryKeyFile()
        : Path.of(DEFAULT_STORE_DIR, userId + ".recovery-key").toString();
  }

  /** Completes after the first successful {@code /sync}. */
  public Future<Void> firstSync() {
    return firstSync.future();
  }

  /** Number of echoes sent so far. */
  public long echoCount() {
    return echoCount.get();
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
    boolean initial = since == null;
    hs.sync(since, timeout)
        .compose(raw -> e2ee.onSync(raw).map(body -> new JsonObject[] {raw, body}))
        .compose(
            bodies -> {
              JsonObject body = bodies[1];
              since = body.getString("next_batch");
              long n = syncCount.incrementAndGet();
              logEvents(body, n);
              firstSync.tryComplete();
              return joinInvites(body)
                  .compose(v -> initial ? Future.succeededFuture() : echo(body));
            })
        .onSuccess(v -> syncLoop())
        .onFailure(
            err -> {
              if (stopped) {
                return;
              }
              LOG.log(System.Logger.Level.WARNING, "sync failed, retrying: {0}", err.toString());
              vertx.setTimer(RETRY_DELAY_MS, t -> syncLoop());
            });
  }

  private Future<Void> joinInvites(JsonObject body) {
    JsonObject invites = body.getJsonObject("rooms", new JsonObject()).getJsonObject("invite");
    if (invites == null) {
      return Future.succeededFuture();
    }
    java.util.List<Future<JsonObject>> joins = new java.util.ArrayList<>();
    for (String roomId : invites.fieldNames()) {
      LOG.log(System.Logger.Level.INFO, "joining {0}", roomId);
      joins.add(
          hs.request(
              "POST", "/_matrix/client/v3/rooms/" + encode(roomId) + "/join", new JsonObject()));
    }
    return Future.join(joins).mapEmpty();
  }

  private Future<Void> echo(JsonObject body) {
    JsonObject join = body.getJsonObject("rooms", new JsonObject()).getJsonObject("join");
    if (join == null) {
      return Future.succeededFuture();
    }
    String me = hs.session().userId();
    Future<Void> chain = Future.succeededFuture();
    for (String roomId : join.fieldNames()) {
      JsonArray events =
          join.getJsonObject(roomId)
              .getJsonObject("timeline", new JsonObject())
              .getJsonArray("events", new JsonArray());
      for (Object o : events) {
        if (!(o instanceof JsonObject ev)
            || !"m.room.message".equals(ev.getString("type"))
            || me.equals(ev.getString("sender"))
            || ev.getJsonObject("mxe2ee") == null
            || !Boolean.TRUE.equals(ev.getJsonObject("mxe2ee").getBoolean("encrypted"))) {
          continue;
        }
        Object text = ev.getJsonObject("content", new JsonObject()).getValue("body");
        if (!(text instanceof String)) {
          continue;
        }
        JsonObject reply = new JsonObject().put("msgtype", "m.notice").put("body", "echo: " + text);
        chain =
            chain.compose(
                v ->
                    e2ee.send(roomId, "m.room.message", reply)
                        .map(
                            id -> {
                              echoCount.incrementAndGet();
                              LOG.log(
                                  System.Logger.Level.INFO,
                                  "echoed {0} in {1} as {2}",
                                  ev.getString("event_id"),
                                  roomId,
                                  id);
                              return null;
                            }));
      }
    }
    return chain;
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
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
