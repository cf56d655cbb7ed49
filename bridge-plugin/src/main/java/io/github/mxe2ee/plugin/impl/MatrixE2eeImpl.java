package io.github.mxe2ee.plugin.impl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.machine.SyncCheckpoint;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.http.Retrier;
import io.github.mxe2ee.plugin.http.SyncBodyParser;
import io.github.mxe2ee.plugin.identity.IdentityBootstrap;
import io.github.mxe2ee.plugin.latekeys.LateKeyStats;
import io.github.mxe2ee.plugin.latekeys.LateKeys;
import io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics;
import io.github.mxe2ee.plugin.send.RoomMembers;
import io.github.mxe2ee.plugin.send.RoomSender;
import io.github.mxe2ee.plugin.verification.Verification;
import io.github.mxe2ee.plugin.verification.VerificationService;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.PickleKey;
import io.github.mxe2ee.store.PickleKeySource;
import io.github.mxe2ee.store.postgres.PostgresCryptoStore;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;

/** The implementation of {@link MatrixE2ee}; not API. */
public final class MatrixE2eeImpl implements MatrixE2ee {
  private static final System.Logger LOG = System.getLogger(MatrixE2ee.class.getName());

  /** The {@code mxe2ee.decryption_failure} of an event whose processing threw. */
  static final String PROCESSING_ERROR = "PROCESSING_ERROR";

  /**
   * The field of a body returned to the sync loop that carries the events re-emitted because their
   * key arrived late ({@link io.github.mxe2ee.plugin.bot.SyncLoop} moves them to {@link
   * io.github.mxe2ee.plugin.bot.SyncBatch#late()}).
   */
  public static final String LATE_FIELD = "mxe2ee_late";

  /** Marks a stored pending batch that came from an initial sync (no {@code since}). */
  static final String INITIAL_MARK = "mxe2ee_initial";

  private enum State {
    NEW,
    STARTING,
    STARTED,
    CLOSED
  }

  private final Vertx vertx;
  private final HomeserverClient client;
  private final E2eeOptions options;
  private final SyncBodyParser parser;
  private final Mxe2eeMetrics metrics;
  private volatile State state = State.NEW;
  private volatile boolean closedOnWorker;
  private Future<Void> closing;
  private WorkerExecutor worker;
  private CryptoStore store;
  private OlmMachine machine;
  private RequestPump pump;
  private io.github.mxe2ee.plugin.media.Attachments attachments;
  private VerificationService verifier;
  private volatile Handler<Verification> verificationHandler;
  private long verificationTimer = -1;
  private volatile RoomSender sender;
  private final RoomMembers members = new RoomMembers();
  private LateKeys lateKeys;
  private io.github.mxe2ee.plugin.state.EncryptedStates encryptedStates;
  private io.github.mxe2ee.plugin.state.RoomStateService roomStates;
  private volatile io.github.mxe2ee.plugin.history.RoomHistory history;
  private volatile io.github.mxe2ee.plugin.history.BundleReceiver bundles;
  private volatile Handler<JsonObject> lateHandler;

  /**
   * Whether the batch being processed (on the worker) is an initial sync: its events are history.
   */
  private boolean processingInitial;

  private final java.util.concurrent.atomic.AtomicBoolean keyRequestDrainScheduled =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Use {@link MatrixE2ee#create}. */
  public MatrixE2eeImpl(Vertx vertx, HomeserverClient client, E2eeOptions options) {
    this.vertx = vertx;
    this.client = client;
    this.options = options;
    this.parser = new SyncBodyParser(options.getMaxSyncBodyBytes());
    this.metrics = new Mxe2eeMetrics();
    metrics.bindTo(
        options.getMeterRegistry() != null
            ? options.getMeterRegistry()
            : new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    client.setRequestListener(metrics.requestListener());
  }

  @Override
  public Mxe2eeMetrics metrics() {
    return metrics;
  }

  @Override
  public Future<Void> start() {
    HomeserverClient.Session session = client.session();
    if (session == null) {
      return Future.failedFuture(new IllegalStateException("log the client in before start()"));
    }
    synchronized (this) {
      if (state != State.NEW) {
        return Future.failedFuture(
            new IllegalStateException(
                state == State.CLOSED ? "start() after close()" : "start() called twice"));
      }
      state = State.STARTING;
    }
    worker = vertx.createSharedWorkerExecutor("mxe2ee-" + UUID.randomUUID(), 1);
    return worker
        .executeBlocking(
            () -> {
              SecureRandom random = new SecureRandom();
              PickleKey key =
                  PickleKeySource.standard(
                          options.getPickleKeyBase64(),
                          System.getenv(),
                          Path.of(options.getPickleKeyFile()),
                          random)
                      .load();
              AccountId account = AccountId.of(session.userId(), session.deviceId());
              store =
                  options.getPostgresUrl() != null
                      ? PostgresCryptoStore.open(options.getPostgresUrl(), account)
                      : SqliteCryptoStore.open(Path.of(options.getStorePath()), account);
              MachineConfig config =
                  MachineConfig.of(session.userId(), session.deviceId(), key.exposeSecretBytes())
                      .withSharingStrategy(options.getSharingStrategy())
                      .withRotation(options.getRotation())
                      .withKeyRequestPolicy(options.getKeyRequestPolicy());
              machine = OlmMachine.open(config, store);
              machine.setObserver(metrics.machineObserver());
              metrics.bindTrustCounters(machine.trustCounters());
              lateKeys = LateKeys.open(store, options.getLateKeys());
              machine.setKeyRequestDelay(options.getLateKeys().getHoldMs());
              Retrier retrier = new Retrier(vertx, options.getRetryPolicy());
              pump =
                  new RequestPump(
                      worker,
                      client,
                      machine,
                      options.getMaxPumpRounds(),
                      retrier,
                      options.getAccountPassword());
              sender =
                  new RoomSender(
                      client,
                      retrier,
                      this::onWorker,
                      pump,
                      machine,
                      members,
                      options.isRefuseUnencrypted(),
                      Json::toNode);
              encryptedStates =
                  new io.github.mxe2ee.plugin.state.EncryptedStates(
                      machine, Json::toNode, new StateHooks());
              roomStates =
                  new io.github.mxe2ee.plugin.state.RoomStateService(
                      client,
                      retrier,
                      this::onWorker,
                      sender,
                      machine,
                      encryptedStates,
                      Json::toNode);
              verifier =
                  new VerificationService(
                      this::onWorker,
                      machine,
                      pump::drain,
                      options.getVerification(),
                      session.userId());
              verifier.setHandler(verificationHandler);
              bundles =
                  new io.github.mxe2ee.plugin.history.BundleReceiver(
                      client,
                      this::onWorker,
                      pump,
                      machine,
                      () -> attachments().mediaClient(),
                      options.getHistory(),
                      session.userId(),
                      System::currentTimeMillis);
              history =
                  new io.github.mxe2ee.plugin.history.RoomHistory(
                      client,
                      this::onWorker,
                      pump,
                      machine,
                      () -> attachments().mediaClient(),
                      options.getHistory(),
                      this::decryptFetched,
                      bundles::settled);
              return null;
            },
            true)
        .compose(v -> pump.drain())
        .transform(this::failOnIdentityConflict)
        .compose(v -> IdentityBootstrap.runIfConfigured(worker, pump::send, machine, options))
        .compose(v -> startKeyBackup())
        .onComplete(
            ar -> {
              synchronized (this) {
                if (state == State.STARTING) {
                  state = ar.succeeded() ? State.STARTED : State.CLOSED;
                }
                if (state == State.STARTED) {
                  verificationTimer =
                      vertx.setPeriodic(VERIFICATION_TICK_MS, id -> verificationTick());
                }
              }
              if (ar.failed()) {
                releaseAfterFailedStart();
              }
            });
  }

  /**
   * Key backup on by default (docs/KEY_BACKUP.md); the restore of a store that lacks the backup
   * runs in the background through the request pump, so start() does not wait for it.
   */
  private Future<Void> startKeyBackup() {
    return io.github.mxe2ee.plugin.backup.KeyBackupBootstrap.runIfConfigured(
            worker, pump::send, machine, options)
        .onSuccess(
            end -> {
              if (end instanceof io.github.mxe2ee.machine.BackupStep.Enabled) {
                pump.drain()
                    .onComplete(
                        ar ->
                            LOG.log(
                                System.Logger.Level.INFO,
                                "key backup restore: {0} room keys restored since start",
                                machine.roomKeysRestoredFromBackup()));
              }
            })
        .mapEmpty();
  }

  /**
   * After the first drain: if the server holds other keys for our device id (a lost or replaced
   * store reusing it), nothing was uploaded; start fails with the machine's {@link
   * io.github.mxe2ee.machine.DeviceIdentityConflictException}, which says what to do, and the store
   * is then closed (releasing its device lock) so the bot can exit or retry with another device id.
   */
  private Future<Void> failOnIdentityConflict(io.vertx.core.AsyncResult<Void> drained) {
    if (machine == null) {
      return drained.succeeded() ? Future.succeededFuture() : Future.failedFuture(drained.cause());
    }
    return worker
        .executeBlocking(() -> machine.identityConflict(), true)
        .compose(
            conflict -> {
              if (conflict.isPresent()) {
                return Future.<Void>failedFuture(conflict.get());
              }
              return drained.succeeded()
                  ? Future.<Void>succeededFuture()
                  : Future.<Void>failedFuture(drained.cause());
            });
  }

  private void releaseAfterFailedStart() {
    WorkerExecutor w = worker;
    w.executeBlocking(
            () -> {
              closedOnWorker = true;
              if (machine != null) {
                machine.close();
              }
              if (store != null) {
                store.close();
              }
              return null;
            },
            true)
        .onComplete(ar -> w.close());
  }

  /** Fails unless started and not closed; the message says which. */
  private IllegalStateException notUsable(String what) {
    return switch (state) {
      case NEW, STARTING -> new IllegalStateException(what + " before start() completed");
      case CLOSED -> new IllegalStateException(what + " after close()");
      case STARTED -> null;
    };
  }

  /**
   * Period of the verification tick: while a verification is live, flows that time out and
   * comparisons left unanswered are handled without waiting for the next sync.
   */
  static final long VERIFICATION_TICK_MS = 2_000;

  private void verificationTick() {
    if (state == State.STARTED && verifier.hasLiveFlows()) {
      pump.drain().compose(v -> verifier.settle());
    }
  }

  @Override
  public MatrixE2ee verificationHandler(Handler<Verification> handler) {
    this.verificationHandler = handler;
    VerificationService v = verifier;
    if (v != null) {
      v.setHandler(handler);
    }
    return this;
  }

  @Override
  public Future<List<Verification>> verifications() {
    IllegalStateException e = notUsable("verifications()");
    return e != null ? Future.failedFuture(e) : verifier.list();
  }

  @Override
  public Future<Verification> startVerification(String userId, String deviceId) {
    IllegalStateException e = notUsable("startVerification()");
    return e != null ? Future.failedFuture(e) : verifier.start(userId, deviceId);
  }

  private <T> Future<T> onWorker(String what, Callable<T> call) {
    IllegalStateException e = notUsable(what);
    if (e != null) {
      return Future.failedFuture(e);
    }
    try {
      return worker.executeBlocking(
          () -> {
            if (closedOnWorker) {
              throw new IllegalStateException(what + " after close()");
            }
            return call.call();
          },
          true);
    } catch (RejectedExecutionException | IllegalStateException r) {
      return Future.failedFuture(new IllegalStateException(what + " after close()"));
    }
  }

  // ------------------------------------------------------------------ sync

  @Override
  public Future<JsonObject> onSync(JsonObject sync) {
    return processSync(sync, Mode.ON_SYNC)
        .map(
            result -> {
              emitLate(result.remove(LATE_FIELD));
              bundles.onSync(result);
              return result;
            });
  }

  /**
   * For bridge mode (docs/BRIDGES.md, "Late decryptions"): as {@link #onSync}, but events decrypted
   * late (their key came in this body) are not given to the late-decryption handler; they are
   * returned in the result under {@value #LATE_FIELD} and stay held in the store (re-offered by
   * every later call, and after a restart) until {@link #completeLate} names them, so the caller
   * acknowledges what brought their key only once it has delivered them.
   */
  public Future<JsonObject> onSyncKeepingLate(JsonObject sync) {
    return processSync(sync, Mode.ON_SYNC_KEEPING_LATE)
        .map(
            result -> {
              countLate(result.getValue(LATE_FIELD));
              bundles.onSync(result);
              return result;
            });
  }

  /** The common part of {@link #onSync} and {@link #onSyncKeepingLate}: parse, process, send. */
  private Future<JsonObject> processSync(JsonObject sync, Mode mode) {
    IllegalStateException e = notUsable("onSync()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    byte[] raw;
    try {
      raw = Json.write(sync);
    } catch (RuntimeException ex) {
      return Future.failedFuture(ex);
    }
    return onWorker(
            "onSync()",
            () -> {
              SyncBodyParser.Result parsed = parser.parse(raw);
              logDropped(parsed);
              return process(parsed.body(), mode, false);
            })
        .compose(result -> pump.drain().compose(v -> verifier.settle()).map(result));
  }

  /**
   * The late events of {@link #onSyncKeepingLate} with these ids were delivered: released from the
   * store (never offered again).
   */
  public Future<Void> completeLate(java.util.Collection<String> eventIds) {
    List<String> ids = List.copyOf(eventIds);
    return onWorker(
        "completeLate()",
        () -> {
          lateKeys.complete(ids);
          return null;
        });
  }

  @Override
  public MatrixE2ee onLateDecryption(Handler<JsonObject> handler) {
    this.lateHandler = handler;
    return this;
  }

  @Override
  public LateKeyStats lateKeyStats() {
    LateKeys l = lateKeys;
    return l == null ? LateKeys.emptyStats() : l.stats();
  }

  /** Counts re-emitted events (the {@value #LATE_FIELD} array of a result) as recovered. */
  private void countLate(Object late) {
    if (late instanceof JsonArray events) {
      for (int i = 0; i < events.size(); i++) {
        metrics.lateKeyRecovered();
      }
    }
  }

  /** Hands re-emitted events to the bot's late-decryption handler; its failure is logged. */
  private JsonObject emitLate(Object late) {
    countLate(late);
    Handler<JsonObject> h = lateHandler;
    if (h != null && late instanceof JsonArray events) {
      for (Object o : events) {
        if (o instanceof JsonObject event) {
          try {
            h.handle(event.copy());
          } catch (RuntimeException e) {
            LOG.log(
                System.Logger.Level.WARNING,
                "late decryption handler failed for {0}: {1}",
                String.valueOf(event.getValue("event_id")),
                e.toString());
          }
        }
      }
    }
    return null;
  }

  /**
   * For the bot's sync loop: processes a fresh response and saves its {@code next_batch} and its
   * room part (still encrypted, as the pending batch) with its crypto changes in one transaction.
   *
   * @param initial whether the response answers a request without {@code since}
   * @return the body with room events decrypted
   */
  public Future<JsonObject> receiveBatch(SyncBodyParser.Result parsed, boolean initial) {
    return onWorker(
            "receiveBatch()",
            () -> {
              logDropped(parsed);
              return process(parsed.body(), Mode.LOOP, initial);
            })
        .compose(result -> pump.drain().compose(v -> verifier.settle()).map(result))
        .map(
            result -> {
              emitLate(result.getValue(LATE_FIELD));
              bundles.onSync(result);
              return result;
            });
  }

  /**
   * For the bot's sync loop: the stored sync token and the pending batch of the last response whose
   * handling did not finish, if any.
   */
  public Future<Resume> resume() {
    return onWorker(
        "resume()",
        () -> {
          Optional<String> token = machine.syncToken();
          Optional<JsonObject> pending =
              machine.pendingSyncBatch().map(b -> parser.parse(b).body());
          return new Resume(token.orElse(null), pending.orElse(null));
        });
  }

  /**
   * The resume point of the sync loop.
   *
   * @param token the stored {@code next_batch}, or null before the first sync
   * @param pending the stored pending batch (room part, encrypted), or null
   */
  public record Resume(String token, JsonObject pending) {
    /** Whether the pending batch came from an initial sync. */
    public boolean pendingInitial() {
      return pending != null && Boolean.TRUE.equals(pending.getValue(INITIAL_MARK));
    }
  }

  /** For the bot's sync loop: decrypts a stored pending batch again (after a restart). */
  public Future<JsonObject> replayBatch(JsonObject pending) {
    return onWorker("replayBatch()", () -> process(pending, Mode.REPLAY, false))
        .compose(result -> pump.drain().map(result))
        .map(
            result -> {
              emitLate(result.getValue(LATE_FIELD));
              return result;
            });
  }

  /** For the bot's sync loop: the pending batch's handling is done; it is removed. */
  public Future<Void> completeBatch() {
    return onWorker(
        "completeBatch()",
        () -> {
          machine.completeSyncBatch();
          lateKeys.complete();
          return null;
        });
  }

  @Override
  public Future<Optional<String>> syncToken() {
    return onWorker("syncToken()", () -> machine.syncToken());
  }

  private enum Mode {
    ON_SYNC,
    ON_SYNC_KEEPING_LATE,
    LOOP,
    REPLAY
  }

  /** Runs on the worker: checks shapes, feeds the E2EE parts, follows state, decrypts. */
  private JsonObject process(JsonObject body, Mode mode, boolean initial) {
    body.remove(INITIAL_MARK);
    processingInitial = initial;
    SyncView view = SyncView.of(body);
    if (mode != Mode.REPLAY) {
      SyncChanges meta = SyncChanges.fromSync(Json.toNode(view.e2eeMeta()));
      metrics.oneTimeKeyCounts(meta.oneTimeKeyCounts());
      List<ObjectNode> toDevice = new ArrayList<>();
      for (JsonObject event : view.toDevice) {
        try {
          toDevice.add(Json.toNode(event));
        } catch (IllegalArgumentException e) {
          view.malformed++;
        }
      }
      String nextBatch = body.getValue("next_batch") instanceof String s && !s.isEmpty() ? s : null;
      SyncChanges changes =
          new SyncChanges(
              toDevice,
              meta.changedUsers(),
              meta.leftUsers(),
              meta.oneTimeKeyCounts(),
              meta.unusedFallbackKeyTypes(),
              nextBatch);
      SyncCheckpoint checkpoint = null;
      if (mode == Mode.LOOP) {
        if (nextBatch == null) {
          throw new HomeserverException(
              "/_matrix/client/v3/sync", 0, null, "expected a non-empty string field 'next_batch'");
        }
        JsonObject pending = pendingPart(body);
        if (initial) {
          pending.put(INITIAL_MARK, true);
        }
        checkpoint = new SyncCheckpoint(nextBatch, Json.write(pending));
      }
      machine.receiveSyncChanges(changes, checkpoint);
    }
    List<JsonObject> late = retryHeld(mode);
    try {
      encryptedStates.trackLate(late);
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING, "late state not tracked: {0}", e.getClass().getSimpleName());
    }
    int failed = 0;
    for (SyncView.Room room : view.join) {
      failed += room(room, "state");
    }
    for (SyncView.Room room : view.leave) {
      failed += room(room, "state");
    }
    if (view.malformed > 0 || failed > 0) {
      LOG.log(
          System.Logger.Level.WARNING,
          "sync {0}: skipped {1} malformed parts, {2} events failed in processing",
          String.valueOf(body.getValue("next_batch")),
          view.malformed,
          failed);
    }
    if (!late.isEmpty()) {
      body.put(LATE_FIELD, new JsonArray(new ArrayList<>(late)));
    }
    return body;
  }

  /**
   * The machine holds a missing key's request back for the hold time ({@link
   * io.github.mxe2ee.plugin.latekeys.LateKeyOptions#getHoldMs()}); one timer then drains the
   * requests, so the request goes out even if no other call drains before.
   */
  private void scheduleKeyRequests() {
    if (keyRequestDrainScheduled.compareAndSet(false, true)) {
      vertx.setTimer(
          options.getLateKeys().getHoldMs() + 1,
          t -> {
            keyRequestDrainScheduled.set(false);
            if (state == State.STARTED) {
              pump.drain()
                  .onFailure(
                      err ->
                          LOG.log(
                              System.Logger.Level.WARNING,
                              "key requests after the hold time not sent: {0}",
                              err.toString()));
            }
          });
    }
  }

  /**
   * Retries held events whose key arrived (docs/PLUGIN.md, "Late keys"): for {@code onSync} they
   * are released at once (at most once); for the loop when its batch is done (at least once).
   */
  private List<JsonObject> retryHeld(Mode mode) {
    try {
      return lateKeys.retry(machine, d -> decrypted(d.event(), d.result()), mode == Mode.ON_SYNC);
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "late keys: held events not retried this time: {0}",
          e.getClass().getSimpleName());
      return List.of();
    }
  }

  /** What the application still has to see of a response: all but the E2EE sections. */
  private static JsonObject pendingPart(JsonObject body) {
    JsonObject pending = new JsonObject(new java.util.LinkedHashMap<>(body.getMap()));
    pending.remove("to_device");
    pending.remove("device_lists");
    pending.remove("device_one_time_keys_count");
    pending.remove("device_unused_fallback_key_types");
    return pending;
  }

  /**
   * Follows one room's state and decrypts its timeline. A failure of one event's processing (even a
   * store failure) marks that event and never stops the other events or rooms.
   *
   * @return how many events failed in processing
   */
  private int room(SyncView.Room room, String statePart) {
    String roomId = room.roomId();
    if (room.body().getValue("timeline") instanceof JsonObject t
        && Boolean.TRUE.equals(t.getValue("limited"))) {
      // A gap: with lazy-loaded members its membership changes may be missing; fetch again.
      members.forget(roomId);
    }
    int failed = decryptStateSections(roomId, room.body());
    failed += followState(roomId, SyncView.state(room.body(), statePart));
    JsonArray timeline = SyncView.timeline(room.body());
    failed += followState(roomId, timeline);
    failed += decryptTimeline(roomId, timeline);
    try {
      encryptedStates.trackSyncRoom(roomId, room.body(), processingInitial);
    } catch (RuntimeException e) {
      // The room's tracked state misses this batch; the events themselves are delivered.
      failed++;
      LOG.log(
          System.Logger.Level.WARNING,
          "room {0}: state not tracked: {1}",
          roomId,
          e.getClass().getSimpleName());
    }
    return failed;
  }

  /**
   * Encrypted state in the {@code state} and state-after sections (MSC4362, MSC4222): forged {@code
   * mxe2ee} marks stripped from every section, then decrypted and checked in place.
   */
  private int decryptStateSections(String roomId, JsonObject body) {
    int failed = 0;
    for (String section :
        List.of("state", "timeline", "state_after", "org.matrix.msc4222.state_after")) {
      JsonArray events = io.github.mxe2ee.plugin.state.EncryptedStates.events(body, section);
      if (events != null) {
        io.github.mxe2ee.plugin.state.EncryptedStates.stripForgedMarks(events);
        if (!section.equals("timeline")) {
          try {
            failed += encryptedStates.decryptStateEvents(roomId, events);
          } catch (RuntimeException e) {
            // Left encrypted, as received: never delivered as state.
            failed++;
            LOG.log(
                System.Logger.Level.WARNING,
                "room {0}: encrypted state in {1} not processed: {2}",
                roomId,
                section,
                e.getClass().getSimpleName());
          }
        }
      }
    }
    return failed;
  }

  /** Rendering and late-key holding for {@link io.github.mxe2ee.plugin.state.EncryptedStates}. */
  private final class StateHooks implements io.github.mxe2ee.plugin.state.EncryptedStates.Hooks {
    @Override
    public JsonObject render(JsonObject event, DecryptionResult result) {
      return decrypted(event, result);
    }

    @Override
    public boolean hold(
        String roomId, JsonObject event, io.github.mxe2ee.machine.DecryptionFailure reason) {
      boolean held = lateKeys.onUndecryptable(roomId, event, reason, processingInitial);
      if (held) {
        scheduleKeyRequests();
      }
      return held;
    }
  }

  private int followState(String roomId, JsonArray events) {
    int failed = 0;
    for (int i = 0; i < events.size(); i++) {
      if (!(events.getValue(i) instanceof JsonObject e)
          || !(e.getValue("state_key") instanceof String stateKey)
          || !(e.getValue("content") instanceof JsonObject content)) {
        continue;
      }
      try {
        switch (String.valueOf(e.getValue("type"))) {
          case "m.room.encryption" -> machine.onRoomEncryption(roomId, Json.toNode(content));
          case "m.room.history_visibility" ->
              machine.onHistoryVisibility(
                  roomId,
                  content.getValue("history_visibility") instanceof String v ? v : "shared");
          case "m.room.member" -> {
            Object membership = content.getValue("membership");
            members.onMember(roomId, stateKey, String.valueOf(membership));
            if ("leave".equals(membership) || "ban".equals(membership)) {
              machine.invalidateGroupSession(roomId);
              if (stateKey.equals(machine.userId())) {
                members.forget(roomId);
              }
            } else if ("join".equals(membership) || "invite".equals(membership)) {
              machine.updateTrackedUsers(List.of(stateKey));
            }
          }
          default -> {}
        }
      } catch (RuntimeException ex) {
        failed++;
        LOG.log(
            System.Logger.Level.WARNING,
            "room {0}: state event {1} not processed: {2}",
            roomId,
            String.valueOf(e.getValue("event_id")),
            ex.getClass().getSimpleName());
      }
    }
    return failed;
  }

  /**
   * Decrypts a room's encrypted timeline events in one batch (one Ed25519 batch per session); if
   * the batch step fails, one at a time, so that one event's failure is that event's alone.
   *
   * @return how many events failed in processing
   */
  private int decryptTimeline(String roomId, JsonArray timeline) {
    List<Integer> positions = new ArrayList<>();
    List<ObjectNode> events = new ArrayList<>();
    int failed = 0;
    for (int i = 0; i < timeline.size(); i++) {
      if (timeline.getValue(i) instanceof JsonObject event
          && "m.room.encrypted".equals(event.getValue("type"))) {
        try {
          events.add(Json.toNode(event));
          positions.add(i);
        } catch (IllegalArgumentException e) {
          timeline.set(i, failedEvent(event, "MALFORMED"));
          lateKeys.countUndecryptable("MALFORMED");
          failed++;
        }
      }
    }
    if (events.isEmpty()) {
      return failed;
    }
    List<DecryptionResult> results;
    try {
      results = machine.decryptRoomEvents(roomId, events);
    } catch (RuntimeException batchFailure) {
      results = new ArrayList<>();
      for (ObjectNode event : events) {
        try {
          results.add(machine.decryptRoomEvent(roomId, event));
        } catch (RuntimeException e) {
          results.add(null);
        }
      }
    }
    try {
      // A missing key may be in the key backup: looked up now, so this batch gets the plaintext.
      results = new ArrayList<>(results);
      io.github.mxe2ee.plugin.backup.BackupLookup.retry(machine, client, roomId, events, results);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "key backup lookup in {0} failed: {1}", roomId, e);
    }
    int ownJoin =
        io.github.mxe2ee.plugin.history.BundleReceiver.ownJoinIndex(timeline, machine.userId());
    for (int j = 0; j < positions.size(); j++) {
      int i = positions.get(j);
      JsonObject event = timeline.getJsonObject(i);
      DecryptionResult result = results.get(j);
      if (result == null) {
        failed++;
        LOG.log(
            System.Logger.Level.WARNING,
            "room {0}: event {1} not processed (store or engine failure)",
            roomId,
            String.valueOf(event.getValue("event_id")));
        timeline.set(i, failedEvent(event, PROCESSING_ERROR));
        lateKeys.countUndecryptable(LateKeys.PROCESSING_ERROR);
      } else {
        JsonObject out = decrypted(event, result);
        try {
          if (result instanceof DecryptionResult.UnableToDecrypt u) {
            // Events before our own join in this timeline are the room's past too (MSC4268: their
            // keys may come later in the inviter's bundle): re-emitted as history.
            boolean history = processingInitial || i < ownJoin;
            boolean held = lateKeys.onUndecryptable(roomId, event, u.reason(), history);
            out.getJsonObject("mxe2ee").put("held", held);
            if (held) {
              scheduleKeyRequests();
            }
          } else {
            lateKeys.onDecrypted(event);
          }
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "room {0}: event {1} not held for a late key: {2}",
              roomId,
              String.valueOf(event.getValue("event_id")),
              e.getClass().getSimpleName());
        }
        timeline.set(i, out);
        logResult(roomId, event, result);
      }
    }
    return failed;
  }

  private JsonObject failedEvent(JsonObject event, String reason) {
    metrics.undecryptable(reason);
    JsonObject out = new JsonObject(new java.util.LinkedHashMap<>(event.getMap()));
    out.put("mxe2ee", new JsonObject().put("decryption_failure", reason));
    return out;
  }

  private JsonObject decrypted(JsonObject event, DecryptionResult result) {
    return decrypted(event, result, true);
  }

  /**
   * @param count whether the result counts in the metrics (not for history read back on request,
   *     which would count the same events again at each read)
   */
  private JsonObject decrypted(JsonObject event, DecryptionResult result, boolean count) {
    JsonObject out = new JsonObject(new java.util.LinkedHashMap<>(event.getMap()));
    if (result instanceof DecryptionResult.Decrypted d) {
      if (count) {
        metrics.eventDecrypted();
      }
      if (d.senderDeviceId() == null && event.getValue("sender") instanceof String sender) {
        try {
          machine.updateTrackedUsers(List.of(sender));
        } catch (RuntimeException e) {
          // Tracking is retried by the next event of this sender; the event itself decrypted.
        }
      }
      out.put("type", d.type());
      out.put("content", Json.toVertx(d.content()));
      out.put(
          "mxe2ee",
          new JsonObject()
              .put("encrypted", true)
              .put("sender_device", d.senderDeviceId())
              .put("trust", d.trust().name())
              .put("authenticated", d.authenticated()));
      io.github.mxe2ee.plugin.state.EncryptedStates.markState(out, d, event);
      if (d.forwarder() != null) {
        // The key came in a room key bundle: we have only this user's word for it (MSC4268).
        out.getJsonObject("mxe2ee")
            .put("forwarder", d.forwarder())
            .put("forwarder_device", d.forwarderDevice());
      }
    } else if (result instanceof DecryptionResult.UnableToDecrypt u) {
      if (count) {
        metrics.undecryptable(u.reason().name());
      }
      JsonObject info = new JsonObject().put("decryption_failure", u.reason().name());
      if (u.withheldCode() != null) {
        info.put("withheld_code", u.withheldCode());
      }
      out.put("mxe2ee", info);
    }
    return out;
  }

  /**
   * One line per room event: ids only (room, event, Megolm session, sender, sender device), never
   * content or keys. Decrypted at FINE; undecryptable at INFO, with the cause, so an operator can
   * follow a missing key without turning on debug logs.
   */
  private static void logResult(String roomId, JsonObject event, DecryptionResult result) {
    JsonObject content = event.getValue("content") instanceof JsonObject c ? c : new JsonObject();
    String session = String.valueOf(content.getValue("session_id"));
    String eventId = String.valueOf(event.getValue("event_id"));
    if (result instanceof DecryptionResult.Decrypted d) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "room {0}: event {1} decrypted (session {2}, sender {3}, device {4}, trust {5})",
          roomId,
          eventId,
          session,
          String.valueOf(event.getValue("sender")),
          d.senderDeviceId(),
          d.trust());
    } else if (result instanceof DecryptionResult.UnableToDecrypt u) {
      LOG.log(
          System.Logger.Level.INFO,
          "room {0}: event {1} undecryptable: {2}{3} (session {4}, sender {5}, device {6})",
          roomId,
          eventId,
          u.reason(),
          u.withheldCode() == null ? "" : " " + u.withheldCode(),
          session,
          String.valueOf(event.getValue("sender")),
          String.valueOf(content.getValue("device_id")));
    }
  }

  private void logDropped(SyncBodyParser.Result parsed) {
    if (parsed.droppedEvents() > 0 || parsed.droppedValues() > 0) {
      LOG.log(
          System.Logger.Level.WARNING,
          "sync body: dropped {0} events and {1} other values over the JSON limits",
          parsed.droppedEvents(),
          parsed.droppedValues());
    }
  }

  // ------------------------------------------------------------------ bridge mode

  /**
   * Bridge mode (io.github.mxe2ee.plugin.appservice): makes sure this account has a cross-signing
   * identity of its own on the server that signs this device (spec {@code
   * end_to_end_encryption.md}, "Cross-signing": the master key signs the self-signing key, which
   * signs the device). Reads our own keys from the server first; if the server has no identity, or
   * not one that signs this device with a key we hold (a crash between creating the keys and
   * uploading them), creates new keys and uploads them (an appservice needs no user-interactive
   * auth for that, MSC4190). Idempotent.
   *
   * @return our master key, unpadded base64; fails if the server refused the upload
   */
  public Future<String> ensureCrossSigning() {
    String me = client.session().userId();
    return onWorker(
            "ensureCrossSigning()",
            () -> {
              machine.updateTrackedUsers(List.of(me));
              return null;
            })
        .compose(v -> pump.drain())
        .compose(
            v ->
                onWorker(
                    "ensureCrossSigning()",
                    () ->
                        ownIdentityPublished(me)
                            ? List.<io.github.mxe2ee.machine.OutgoingRequest>of()
                            : machine.bootstrapCrossSigning()))
        .compose(
            requests -> {
              // In order: the signature of the device needs the self-signing key uploaded first.
              Future<Void> chain = Future.succeededFuture();
              for (io.github.mxe2ee.machine.OutgoingRequest r : requests) {
                chain = chain.compose(v -> pump.send(r));
              }
              return requests.isEmpty() ? chain : chain.compose(v -> pump.drain());
            })
        .compose(
            v ->
                onWorker(
                    "ensureCrossSigning()",
                    () -> {
                      if (!ownIdentityPublished(me)) {
                        throw new IllegalStateException(
                            "the cross-signing identity of " + me + " is not on the server");
                      }
                      return machine.masterKey(me).orElseThrow().toBase64();
                    }));
  }

  /**
   * Bridge mode: marks the device list of every user this account tracks outdated, so the next
   * request round queries them again. For an account whose machine was closed while device-list
   * changes arrived for others (an idle ghost reopened from the store), which would otherwise share
   * room keys with a stale device list.
   */
  public Future<Void> refreshDeviceLists() {
    return onWorker(
        "refreshDeviceLists()",
        () -> {
          List<String> users =
              store.trackedUsers().stream()
                  .map(io.github.mxe2ee.store.TrackedUser::userId)
                  .toList();
          if (!users.isEmpty()) {
            machine.receiveSyncChanges(
                new SyncChanges(List.of(), users, List.of(), null, null, null));
          }
          return null;
        });
  }

  private boolean ownIdentityPublished(String me) {
    if (!machine.hasCrossSigningKeys() || machine.masterKey(me).isEmpty()) {
      return false;
    }
    return machine
        .device(me, machine.deviceId())
        .map(
            d ->
                d.trust() == io.github.mxe2ee.device.DeviceTrust.CROSS_SIGNED_VERIFIED
                    || d.trust() == io.github.mxe2ee.device.DeviceTrust.CROSS_SIGNED)
        .orElse(false);
  }

  // ------------------------------------------------------------------ send

  @Override
  public Future<JsonObject> encrypt(String roomId, String type, JsonObject content) {
    IllegalStateException e = notUsable("encrypt()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    return sender.encrypt(roomId, type, content);
  }

  @Override
  public Future<String> send(String roomId, String type, JsonObject content) {
    return send(roomId, type, content, "mxe2ee-" + UUID.randomUUID());
  }

  @Override
  public Future<String> send(String roomId, String type, JsonObject content, String txnId) {
    IllegalStateException e = notUsable("send()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    return sender.send(roomId, type, content, txnId);
  }

  @Override
  public Future<Boolean> isRoomEncrypted(String roomId) {
    IllegalStateException e = notUsable("isRoomEncrypted()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    return sender.isEncrypted(roomId);
  }

  @Override
  public Future<String> sendStateEvent(
      String roomId, String type, String stateKey, JsonObject content) {
    IllegalStateException e = notUsable("sendStateEvent()");
    return e != null
        ? Future.failedFuture(e)
        : roomStates.sendStateEvent(roomId, type, stateKey, content);
  }

  @Override
  public Future<io.github.mxe2ee.plugin.state.RoomState> roomState(String roomId) {
    IllegalStateException e = notUsable("roomState()");
    return e != null ? Future.failedFuture(e) : roomStates.roomState(roomId);
  }

  @Override
  public Future<String> createEncryptedRoom(JsonObject body, boolean encryptState) {
    IllegalStateException e = notUsable("createEncryptedRoom()");
    return e != null ? Future.failedFuture(e) : roomStates.createEncryptedRoom(body, encryptState);
  }

  @Override
  public synchronized io.github.mxe2ee.plugin.media.Attachments attachments() {
    if (attachments == null) {
      attachments =
          new io.github.mxe2ee.plugin.media.Attachments(vertx, client, this, options.getMedia());
    }
    return attachments;
  }

  @Override
  public io.github.mxe2ee.plugin.history.RoomHistory history() {
    IllegalStateException e = notUsable("history()");
    if (e != null) {
      throw e;
    }
    return history;
  }

  @Override
  public Future<io.github.mxe2ee.plugin.history.InviteResult> invite(String roomId, String userId) {
    IllegalStateException e = notUsable("invite()");
    return e != null ? Future.failedFuture(e) : history.invite(roomId, userId);
  }

  /**
   * Decrypts events fetched from the server ({@link io.github.mxe2ee.plugin.history.RoomHistory})
   * on the worker: not held for late keys, one event's failure its own.
   */
  private List<JsonObject> decryptFetched(String roomId, List<JsonObject> events) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject event : events) {
      try {
        out.add(decrypted(event, machine.decryptRoomEvent(roomId, Json.toNode(event)), false));
      } catch (RuntimeException e) {
        JsonObject failed = new JsonObject(new java.util.LinkedHashMap<>(event.getMap()));
        out.add(failed.put("mxe2ee", new JsonObject().put("decryption_failure", PROCESSING_ERROR)));
      }
    }
    return out;
  }

  @Override
  public String fingerprint() {
    return state == State.STARTED && machine != null
        ? machine.identityKeys().ed25519().toBase64()
        : null;
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    State before = state;
    state = State.CLOSED;
    if (attachments != null) {
      attachments.close();
    }
    if (verificationTimer >= 0) {
      vertx.cancelTimer(verificationTimer);
    }
    if (before == State.NEW) {
      closing = Future.succeededFuture();
      return closing;
    }
    WorkerExecutor w = worker;
    closing =
        w.executeBlocking(
                () -> {
                  if (!closedOnWorker) {
                    closedOnWorker = true;
                    try {
                      if (machine != null) {
                        machine.close();
                      }
                    } finally {
                      if (store != null) {
                        store.close();
                      }
                    }
                  }
                  return null;
                },
                true)
            .eventually(() -> w.close())
            .mapEmpty();
    return closing;
  }
}
