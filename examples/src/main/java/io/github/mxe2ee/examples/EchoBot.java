package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.bot.SyncBatch;
import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.github.mxe2ee.plugin.media.Attachments;
import io.github.mxe2ee.plugin.media.FileMessage;
import io.github.mxe2ee.plugin.media.SentFile;
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
 * room with an encrypted {@code m.notice} "echo: ..." and every encrypted file ({@code m.image},
 * {@code m.file}, {@code m.video}, {@code m.audio}) with the same bytes sent back as a new
 * encrypted file (messages from the initial sync are history and are not answered). A message whose
 * room key arrived late is answered when the plugin re-emits it ({@link SyncBatch#late()}), with
 * the same transaction id. It logs event ids, never content. Its keys live in a SQLite store under
 * {@link #DEFAULT_STORE_DIR}, with the pickle key in a 0600 key file beside it.
 *
 * <p>Run it with {@code bash scripts/demo.sh}, which starts the dev homeserver and passes {@code
 * --homeserver}; settings are resolved by {@link EchoBotConfig}. Ctrl-C (SIGINT) stops the loop,
 * closes the plugin (releasing its store) and then Vert.x, through a shutdown hook.
 *
 * <p>Restarts: the bot runs on the plugin's {@link SyncLoop}, which resumes from the sync token
 * saved with the crypto state and hands over again a batch whose echoes may not all have been sent;
 * echoes carry a transaction id derived from the answered event ({@link #echoTxnId}), so a bot
 * stopped at any moment (even {@code kill -9}) and restarted answers each message exactly once (see
 * {@link SyncLoop} for the precise guarantee). A failed echo or join is logged and skipped.
 *
 * <p>Verification: the bot accepts SAS verifications from its own user (the plugin's default
 * policy), logs {@code SAS <flow id>: <decimals> <emoji names>} when one shows its strings, and
 * confirms it when a device of its own user sends {@code !confirm <the decimals>} in an encrypted
 * room ({@link SasConfirmer}; README, "Verify the bot").
 *
 * <p>Threading: {@link #start()} and {@link #stop()} may be called from any thread; the loop runs
 * on the Vert.x event loop of the Web Client. Errors: a failed login fails {@link #start()}; a
 * failed {@code /sync} is logged and retried after {@link #RETRY_DELAY_MS}, doubling up to a
 * minute, with jitter.
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
  private volatile MatrixE2ee e2ee;
  private volatile SyncLoop loop;
  private volatile Path workDir = Path.of(DEFAULT_STORE_DIR);
  private final AtomicLong echoCount = new AtomicLong();
  private volatile SasConfirmer sas;
  private volatile TopicCommand topics;
  private volatile InviteCommand inviteCommand;
  private volatile HistoryCommand historyCommand;

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

  /**
   * Logs in, then starts the sync loop; completes once logged in. The device id is the configured
   * one, else the one saved by an earlier run ({@link #deviceIdFile}), else the server's new one,
   * which is then saved: a restart must come back as the same device, with the same store (a new
   * device per restart would be a new identity for every peer to verify). Fails if the server holds
   * other keys for that device than the store (see {@code MatrixE2ee#start()}).
   */
  public Future<Void> start() {
    Path idFile = deviceIdFile(config.user());
    return vertx
        .executeBlocking(() -> config.deviceId() != null ? config.deviceId() : readDeviceId(idFile))
        .compose(deviceId -> hs.login(config.user(), config.password(), deviceId))
        .compose(
            session ->
                vertx.executeBlocking(() -> saveDeviceId(idFile, session.deviceId())).map(session))
        .compose(
            session -> {
              LOG.log(System.Logger.Level.INFO, "logged in as {0}", session);
              Path dir = Path.of(DEFAULT_STORE_DIR, session.userId() + "_" + session.deviceId());
              workDir = dir;
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
                        sas = new SasConfirmer(session.userId());
                        topics = new TopicCommand(session.userId(), e2ee);
                        e2ee.verificationHandler(sas::onVerification);
                        inviteCommand = new InviteCommand(e2ee, session.userId());
                        historyCommand = new HistoryCommand(e2ee, session.userId());
                        return e2ee.start();
                      })
                  .map(
                      v -> {
                        LOG.log(
                            System.Logger.Level.INFO,
                            "end-to-end encryption ready, fingerprint {0}",
                            e2ee.fingerprint());
                        startLoop();
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

  /**
   * The file that keeps the device id the server gave {@code user} on first login, under {@link
   * #DEFAULT_STORE_DIR}.
   */
  public static Path deviceIdFile(String user) {
    return Path.of(DEFAULT_STORE_DIR, user.replaceAll("[^A-Za-z0-9._=-]", "_") + ".device-id");
  }

  private static String readDeviceId(Path file) throws java.io.IOException {
    if (!Files.exists(file)) {
      return null;
    }
    String id = Files.readString(file, StandardCharsets.UTF_8).strip();
    return id.isEmpty() ? null : id;
  }

  /** Saves the device id (0600, replacing the file atomically) unless the file already has it. */
  private static Void saveDeviceId(Path file, String deviceId) throws java.io.IOException {
    if (deviceId.equals(readDeviceId(file))) {
      return null;
    }
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(
          tmp,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    }
    Files.writeString(tmp, deviceId + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    LOG.log(System.Logger.Level.INFO, "device id {0} saved in {1}", deviceId, file);
    return null;
  }

  /** Completes after the first successful {@code /sync}. */
  public Future<Void> firstSync() {
    return firstSync.future();
  }

  /** The bot's plugin once {@link #start()} completed, else null. */
  public MatrixE2ee e2ee() {
    return e2ee;
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
    SyncLoop l = loop;
    if (l != null) {
      l.stop();
    }
  }

  /**
   * Stops the loop and closes the plugin (its store is released); idempotent.
   *
   * @return completes when the plugin is closed
   */
  public Future<Void> close() {
    stop();
    MatrixE2ee e = e2ee;
    return e == null ? Future.succeededFuture() : e.close();
  }

  /**
   * Runs the plugin's {@link SyncLoop}: it resumes from the sync token saved with the crypto state,
   * so a restarted bot continues where it stopped, and replays a batch whose echoes may not all
   * have been sent. Echoes are sent with a transaction id derived from the event answered ({@link
   * #echoTxnId}), so a replayed batch never produces a second echo.
   */
  private void startLoop() {
    if (stopped) {
      return;
    }
    loop =
        SyncLoop.create(
                vertx,
                hs,
                e2ee,
                new SyncLoopOptions()
                    .setTimeoutMs(SYNC_TIMEOUT_MS)
                    .setInitialBackoffMs(RETRY_DELAY_MS),
                this::onBatch)
            .start();
  }

  private Future<Void> onBatch(SyncBatch batch) {
    JsonObject body = batch.body();
    long n = syncCount.incrementAndGet();
    logEvents(body, n);
    firstSync.tryComplete();
    return joinInvites(body)
        .compose(v -> batch.initial() ? Future.succeededFuture() : sas.onBatch(body))
        .compose(v -> batch.initial() ? Future.succeededFuture() : topics.onBatch(body))
        .compose(
            v ->
                batch.initial()
                    ? Future.succeededFuture()
                    : inviteCommand.onBatch(body, batch.late()))
        .compose(
            v ->
                batch.initial()
                    ? Future.succeededFuture()
                    : historyCommand.onBatch(body, batch.late()))
        .compose(v -> batch.initial() ? Future.succeededFuture() : echo(body))
        .compose(v -> batch.initial() ? Future.succeededFuture() : echoLate(batch.late()));
  }

  /**
   * The transaction id of the echo of {@code eventId}: the same for every run of the bot, so the
   * homeserver keeps one echo per event however often it is sent.
   */
  static String echoTxnId(String eventId) {
    try {
      byte[] h =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(eventId.getBytes(StandardCharsets.UTF_8));
      return "echo-" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(h);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  private Future<Void> joinInvites(JsonObject body) {
    JsonObject invites = body.getJsonObject("rooms", new JsonObject()).getJsonObject("invite");
    if (invites == null) {
      return Future.succeededFuture();
    }
    // A failed join is logged and not retried by this batch; the invite stays and comes again
    // after a restart from an initial sync.
    java.util.List<Future<JsonObject>> joins = new java.util.ArrayList<>();
    for (String roomId : invites.fieldNames()) {
      LOG.log(System.Logger.Level.INFO, "joining {0}", roomId);
      joins.add(
          hs.request(
                  "POST", "/_matrix/client/v3/rooms/" + encode(roomId) + "/join", new JsonObject())
              .onFailure(
                  err ->
                      LOG.log(
                          System.Logger.Level.WARNING,
                          "joining {0} failed: {1}",
                          roomId,
                          err.toString())));
    }
    return Future.join(joins).mapEmpty();
  }

  private Future<Void> echo(JsonObject body) {
    JsonObject join = body.getJsonObject("rooms", new JsonObject()).getJsonObject("join");
    if (join == null) {
      return Future.succeededFuture();
    }
    Future<Void> chain = Future.succeededFuture();
    for (String roomId : join.fieldNames()) {
      if (!(join.getValue(roomId) instanceof JsonObject room)
          || !(room.getValue("timeline") instanceof JsonObject timeline)
          || !(timeline.getValue("events") instanceof JsonArray events)) {
        continue;
      }
      for (Object o : events) {
        if (o instanceof JsonObject ev) {
          chain = chain.compose(v -> echoEvent(roomId, ev));
        }
      }
    }
    return chain;
  }

  /** The message types whose encrypted file the bot echoes as a file. */
  static final java.util.Set<String> FILE_MSGTYPES =
      java.util.Set.of("m.image", "m.file", "m.video", "m.audio");

  /**
   * Echoes a file message: downloads and decrypts the file ({@code content.file}, its hash checked
   * before the bytes are used) into a temporary file of the bot's store directory, then sends the
   * same bytes back as a new encrypted file (new key) with the same {@code msgtype}, name and MIME
   * type. The transaction id is {@link #echoTxnId}, so a replayed batch does not echo twice.
   */
  private Future<String> echoFile(
      String roomId, String eventId, JsonObject content, JsonObject file) {
    Path tmp = workDir.resolve("echo-" + java.util.UUID.randomUUID() + ".bin");
    String name = content.getValue("body") instanceof String b ? b : "file";
    String mime =
        content.getValue("info") instanceof JsonObject info
                && info.getValue("mimetype") instanceof String m
            ? m
            : FileMessage.DEFAULT_MIME_TYPE;
    FileMessage message =
        new FileMessage(name)
            .setMimeType(mime)
            .setMsgtype((String) content.getValue("msgtype"))
            .setTxnId(echoTxnId(eventId));
    Attachments attachments = e2ee.attachments();
    return attachments
        .downloadFile(file, tmp)
        .compose(size -> attachments.sendFile(roomId, tmp, message))
        .map(SentFile::eventId)
        .eventually(() -> vertx.fileSystem().delete(tmp.toString()).otherwiseEmpty());
  }

  /**
   * Answers the events re-emitted because their room key arrived late (docs/PLUGIN.md, "Late keys")
   * like timeline events: same transaction id, so each message is echoed once.
   */
  private Future<Void> echoLate(java.util.List<JsonObject> late) {
    Future<Void> chain = Future.succeededFuture();
    for (JsonObject ev : late) {
      if (ev.getValue("room_id") instanceof String roomId) {
        chain = chain.compose(v -> echoEvent(roomId, ev));
      }
    }
    return chain;
  }

  /**
   * True for a message one of the bot's commands answers ({@code !topic}, {@code !invite}, {@code
   * !history}): the command's own reply is the answer, so it is not echoed as well.
   */
  static boolean isCommand(String text) {
    return CommandMessages.arguments(text, InviteCommand.COMMAND) != null
        || CommandMessages.arguments(text, HistoryCommand.COMMAND) != null
        || TopicCommand.isCommand(text);
  }

  /**
   * Echoes one decrypted message not sent by the bot: a text as an {@code m.notice}, a file message
   * ({@link #FILE_MSGTYPES}) as the same bytes in a new encrypted file; anything else is skipped.
   */
  private Future<Void> echoEvent(String roomId, JsonObject ev) {
    String me = hs.session().userId();
    // Fields are type-checked, never cast: any sender chooses their event's JSON.
    if (!"m.room.message".equals(ev.getValue("type"))
        || me.equals(ev.getValue("sender"))
        || !(ev.getValue("mxe2ee") instanceof JsonObject info)
        || !Boolean.TRUE.equals(info.getValue("encrypted"))
        // History re-emitted when its key arrived late (e.g. from the backup after a store loss)
        // is not answered, like the initial sync it came in.
        || Boolean.TRUE.equals(info.getValue("history"))
        || !(ev.getValue("content") instanceof JsonObject content)
        || !(content.getValue("body") instanceof String text)
        || !(ev.getValue("event_id") instanceof String eventId)
        || isCommand(text)) {
      return Future.succeededFuture();
    }
    boolean late = Boolean.TRUE.equals(info.getValue("late"));
    Future<String> sent;
    if (FILE_MSGTYPES.contains(content.getValue("msgtype"))
        && content.getValue("file") instanceof JsonObject file) {
      sent = echoFile(roomId, eventId, content, file);
    } else {
      JsonObject reply = new JsonObject().put("msgtype", "m.notice").put("body", "echo: " + text);
      sent = e2ee.send(roomId, "m.room.message", reply, echoTxnId(eventId));
    }
    return sent.<Void>map(
            id -> {
              echoCount.incrementAndGet();
              LOG.log(
                  System.Logger.Level.INFO,
                  "echoed {0} in {1} as {2}{3}",
                  eventId,
                  roomId,
                  id,
                  late ? " (late key)" : "");
              return null;
            })
        .recover(
            err -> {
              // One failed echo never blocks the others or the stream.
              LOG.log(
                  System.Logger.Level.WARNING,
                  "echo of {0} in {1} failed: {2}",
                  eventId,
                  roomId,
                  err.toString());
              return Future.succeededFuture();
            });
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
                String.valueOf(ev.getValue("event_id")),
                String.valueOf(ev.getValue("type")));
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
   * Entry point. See {@link EchoBotConfig} for arguments. Exits 0 on Ctrl-C, 1 when login or
   * encryption start fails (the log says why), 2 on bad settings.
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
                  try {
                    // The plugin first, so its store is checkpointed and closed before Vert.x goes.
                    bot.close()
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                  } catch (Exception e) {
                    System.err.println("echo-bot: the plugin did not close cleanly: " + e);
                  }
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
      LOG.log(System.Logger.Level.ERROR, "start failed: {0}", e.getCause().toString());
      System.exit(1);
    }
  }
}
