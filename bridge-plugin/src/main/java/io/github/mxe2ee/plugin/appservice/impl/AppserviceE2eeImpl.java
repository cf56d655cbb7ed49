package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.UnencryptedRoomException;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.github.mxe2ee.plugin.appservice.TransactionHandler;
import io.github.mxe2ee.plugin.http.Retrier;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.github.mxe2ee.store.AccountId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** The implementation of {@link AppserviceE2ee}; not API. */
public final class AppserviceE2eeImpl implements AppserviceE2ee {
  private static final System.Logger LOG = System.getLogger(AppserviceE2ee.class.getName());
  private static final String CS = "/_matrix/client/v3";
  private static final SecureRandom RANDOM = new SecureRandom();

  private enum State {
    NEW,
    STARTING,
    STARTED,
    CLOSED
  }

  private final Vertx vertx;
  private final AppserviceOptions options;
  private final WebClient web;
  private final AsHttp http;
  private final Endpoint endpoint;
  private final Limiter setups;
  private final Limiter steps;
  private volatile State state = State.NEW;
  private WorkerExecutor stateWorker;
  private AppserviceState registry;
  private volatile String botUserId;
  private volatile String botDeviceId;
  private volatile MatrixE2eeImpl botEngine;

  /** Open ghosts, least recently used first. Guarded by {@code this}. */
  private final LinkedHashMap<String, Ghost> ghosts = new LinkedHashMap<>(16, 0.75f, true);

  /** Ghosts being opened or set up. Guarded by {@code this}. */
  private final Map<String, Opening> opening = new HashMap<>();

  /** Ghost engines being closed (their store lock is released when these complete). */
  private final Map<String, Future<Void>> closingGhosts = new ConcurrentHashMap<>();

  /** Users registered by this process ({@link DeviceModel#BOT_DEVICE}). */
  private final Set<String> registered = ConcurrentHashMap.newKeySet();

  /** Transactions run one at a time, in arrival order. Guarded by {@code this}. */
  private Future<?> txnChain = Future.succeededFuture();

  private volatile TransactionHandler handler;
  private volatile Function<String, Future<Boolean>> userQuery;
  private volatile Function<String, Future<Boolean>> roomQuery;
  private volatile io.vertx.core.Handler<JsonObject> lateHandler;
  private final List<HttpServer> servers = new ArrayList<>();
  private Future<Void> closing;

  /** Use {@link AppserviceE2ee#create}. */
  public AppserviceE2eeImpl(Vertx vertx, AppserviceOptions options) {
    options.validate();
    this.vertx = vertx;
    this.options = options;
    this.web = WebClient.create(vertx);
    Retrier retrier = new Retrier(vertx, options.getEngine().getRetryPolicy());
    this.http = new AsHttp(web, options.getHomeserverUrl(), options.getAsToken(), retrier);
    this.setups = new Limiter(options.getMaxGhostSetupsInFlight());
    this.steps = new Limiter(options.getMaxGhostSetupsInFlight());
    this.endpoint =
        new Endpoint(
            options.getHsToken(),
            options.getMaxTransactionBytes(),
            new Endpoint.Backend() {
              @Override
              public boolean ready() {
                return state == State.STARTED;
              }

              @Override
              public Future<Void> transaction(String txnId, JsonObject body) {
                return onTransaction(txnId, body).mapEmpty();
              }

              @Override
              public Future<Boolean> userExists(String userId) {
                Function<String, Future<Boolean>> q = userQuery;
                return q == null ? Future.succeededFuture(false) : q.apply(userId);
              }

              @Override
              public Future<Boolean> roomAliasExists(String alias) {
                Function<String, Future<Boolean>> q = roomQuery;
                return q == null ? Future.succeededFuture(false) : q.apply(alias);
              }
            });
  }

  /** A transaction id the endpoint accepts: 1 to 255 printable ASCII characters, no space. */
  static boolean validTxnId(String txnId) {
    if (txnId == null || txnId.isEmpty() || txnId.length() > 255) {
      return false;
    }
    for (int i = 0; i < txnId.length(); i++) {
      char c = txnId.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static String newDeviceId() {
    StringBuilder b = new StringBuilder("MXE2EE");
    for (int i = 0; i < 10; i++) {
      b.append((char) ('A' + RANDOM.nextInt(26)));
    }
    return b.toString();
  }

  // ------------------------------------------------------------------ lifecycle

  @Override
  public Future<Void> start() {
    synchronized (this) {
      if (state != State.NEW) {
        return Future.failedFuture(
            new IllegalStateException(
                state == State.CLOSED ? "start() after close()" : "start() called twice"));
      }
      state = State.STARTING;
    }
    stateWorker = vertx.createSharedWorkerExecutor("mxe2ee-as-" + UUID.randomUUID(), 1);
    return http.whoami()
        .compose(
            me -> {
              botUserId = me;
              return stateWorker.executeBlocking(
                  () -> {
                    registry =
                        AppserviceState.open(
                            options.getEngine(), me, options.getRememberedTransactions());
                    Optional<String> known = registry.botDevice();
                    String dev = options.getBotDeviceId();
                    if (dev == null) {
                      dev = known.orElseGet(AppserviceE2eeImpl::newDeviceId);
                    }
                    if (!dev.equals(known.orElse(null))) {
                      registry.putBotDevice(dev);
                    }
                    return dev;
                  },
                  true);
            })
        .compose(
            dev -> {
              botDeviceId = dev;
              return botClient(dev);
            })
        .compose(
            client -> {
              botHttp = client;
              botEngine = new MatrixE2eeImpl(vertx, client, new E2eeOptions(options.getEngine()));
              botEngine.onLateDecryption(this::late);
              return botEngine.start();
            })
        .compose(
            v -> {
              if (options.getEngine().getRecoveryKeyFile() != null) {
                return Future.<Void>succeededFuture(); // the identity bootstrap did it
              }
              return botEngine
                  .ensureCrossSigning()
                  .<Void>mapEmpty()
                  .recover(
                      e -> {
                        LOG.log(
                            System.Logger.Level.WARNING,
                            "the bridge bot has no cross-signing identity: {0}",
                            e.getMessage());
                        return Future.succeededFuture();
                      });
            })
        .compose(v -> catchUpBot())
        .onComplete(
            ar -> {
              boolean failed;
              synchronized (this) {
                if (state == State.STARTING) {
                  state = ar.succeeded() ? State.STARTED : State.CLOSED;
                }
                failed = state != State.STARTED;
                if (!failed) {
                  catchUpTimer = vertx.setPeriodic(CATCH_UP_PERIOD_MS, id -> catchUpBot());
                }
              }
              if (failed) {
                releaseAll();
              } else {
                LOG.log(
                    System.Logger.Level.INFO,
                    "appservice started: bot {0}, device {1}, model {2}",
                    botUserId,
                    botDeviceId,
                    options.getDeviceModel());
              }
            });
  }

  /**
   * The bot's client: the bot's device created with MSC4190 and used with masquerading; where the
   * server does not offer MSC4190 (404 or {@code M_UNRECOGNIZED}), an appservice login.
   */
  private Future<HomeserverClient> botClient(String dev) {
    HomeserverClient c = new HomeserverClient(web, options.getHomeserverUrl());
    return http.putDevice(botUserId, dev, "mxe2ee bridge bot")
        .map(
            v -> {
              c.masquerade(options.getAsToken(), botUserId, dev);
              return c;
            })
        .recover(
            e -> {
              if (e instanceof HomeserverException h
                  && (h.statusCode() == 404
                      || h.statusCode() == 405
                      || "M_UNRECOGNIZED".equals(h.errcode()))) {
                LOG.log(
                    System.Logger.Level.INFO,
                    "the homeserver does not create devices for appservices (MSC4190): the bot logs"
                        + " in instead");
                return http.login(botUserId, dev).compose(c::loginWithAccessToken).map(s -> c);
              }
              return Future.failedFuture(e);
            });
  }

  @Override
  public Future<HttpServer> listen(String host, int port) {
    Router router = Router.router(vertx);
    mount(router);
    return vertx
        .createHttpServer()
        .requestHandler(router)
        .listen(port, host)
        .compose(
            server -> {
              boolean closed;
              synchronized (this) {
                closed = state == State.CLOSED;
                if (!closed) {
                  servers.add(server);
                }
              }
              if (closed) {
                return server
                    .close()
                    .<HttpServer>compose(
                        v ->
                            Future.failedFuture(
                                new IllegalStateException("listen() after close()")));
              }
              if (state == State.STARTED && options.getAppserviceId() != null) {
                ping()
                    .onComplete(
                        ar -> {
                          if (ar.succeeded()) {
                            LOG.log(
                                System.Logger.Level.INFO,
                                "the homeserver reaches the endpoint (ping {0} ms)",
                                ar.result());
                            // What Synapse dropped while it held us for down, and while it
                            // recovers now, is in the inbox.
                            catchUpBot();
                            vertx.setTimer(RECOVERY_CATCH_UP_DELAY_MS, t -> catchUpBot());
                          } else {
                            LOG.log(
                                System.Logger.Level.WARNING,
                                "the homeserver''s ping of the endpoint failed: {0}",
                                ar.cause().getMessage());
                          }
                        });
              }
              return Future.succeededFuture(server);
            });
  }

  @Override
  public Future<Long> ping() {
    String id = options.getAppserviceId();
    if (id == null) {
      return Future.failedFuture(
          new IllegalStateException("ping() needs the appservice id (the registration's id)"));
    }
    return http.call(
            HttpMethod.POST,
            "/_matrix/client/v1/appservice/" + AsHttp.seg(id) + "/ping",
            null,
            new JsonObject().put("transaction_id", "mxe2ee-ping-" + UUID.randomUUID()))
        .map(r -> r.getValue("duration_ms") instanceof Number n ? n.longValue() : -1L);
  }

  @Override
  public AppserviceE2ee lateDecryptionHandler(io.vertx.core.Handler<JsonObject> handler) {
    this.lateHandler = handler;
    return this;
  }

  /** Late decryptions of the bot's device: without the transaction index the split added. */
  private void late(JsonObject event) {
    if (event.getValue("unsigned") instanceof JsonObject u) {
      u.remove(TransactionSplit.INDEX);
    }
    io.vertx.core.Handler<JsonObject> h = lateHandler;
    if (h != null) {
      h.handle(event);
    }
  }

  @Override
  public Router mount(Router router) {
    return endpoint.mount(router);
  }

  @Override
  public AppserviceE2ee transactionHandler(TransactionHandler handler) {
    this.handler = handler;
    return this;
  }

  @Override
  public AppserviceE2ee userQueryHandler(Function<String, Future<Boolean>> handler) {
    this.userQuery = handler;
    return this;
  }

  @Override
  public AppserviceE2ee roomQueryHandler(Function<String, Future<Boolean>> handler) {
    this.roomQuery = handler;
    return this;
  }

  private IllegalStateException notUsable(String what) {
    return switch (state) {
      case NEW, STARTING -> new IllegalStateException(what + " before start() completed");
      case CLOSED -> new IllegalStateException(what + " after close()");
      case STARTED -> null;
    };
  }

  @Override
  public MatrixE2ee bot() {
    MatrixE2eeImpl b = botEngine;
    if (b == null || state == State.NEW) {
      throw new IllegalStateException("bot() before start()");
    }
    return b;
  }

  @Override
  public String botUserId() {
    return state == State.STARTED ? botUserId : null;
  }

  @Override
  public String botDeviceId() {
    return state == State.STARTED ? botDeviceId : null;
  }

  @Override
  public synchronized int openGhosts() {
    return ghosts.size();
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    State before = state;
    state = State.CLOSED;
    if (catchUpTimer >= 0) {
      vertx.cancelTimer(catchUpTimer);
    }
    if (before == State.NEW) {
      web.close();
      closing = Future.succeededFuture();
      return closing;
    }
    List<Future<Void>> stops = new ArrayList<>();
    for (HttpServer s : servers) {
      stops.add(s.close());
    }
    servers.clear();
    Future<?> pending = txnChain;
    closing =
        Future.join(stops)
            .transform(v -> pending.transform(x -> Future.succeededFuture()))
            .transform(v -> releaseAll());
    return closing;
  }

  /** Closes every engine, the state store and the worker; never fails. */
  private Future<Void> releaseAll() {
    List<Future<Void>> closes = new ArrayList<>();
    synchronized (this) {
      for (Ghost g : ghosts.values()) {
        closes.add(g.engine.close());
      }
      ghosts.clear();
    }
    closes.addAll(closingGhosts.values());
    MatrixE2eeImpl b = botEngine;
    if (b != null) {
      closes.add(b.close());
    }
    return Future.join(closes)
        .transform(
            v -> {
              WorkerExecutor w = stateWorker;
              if (w == null) {
                return Future.<Void>succeededFuture();
              }
              return w.executeBlocking(
                      () -> {
                        if (registry != null) {
                          registry.close();
                        }
                        return null;
                      },
                      true)
                  .transform(x -> w.close());
            })
        .transform(
            v -> {
              web.close();
              return Future.<Void>succeededFuture();
            });
  }

  // ------------------------------------------------------------------ ghosts

  @Override
  public Future<GhostDevice> ensureGhost(String userId) {
    IllegalStateException e = notUsable("ensureGhost()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    try {
      checkUserId(userId);
    } catch (IllegalArgumentException bad) {
      return Future.failedFuture(bad);
    }
    if (userId.equals(botUserId) || options.getDeviceModel() == DeviceModel.BOT_DEVICE) {
      Future<Void> reg = userId.equals(botUserId) ? Future.succeededFuture() : registerOnce(userId);
      return reg.map(v -> new GhostDevice(userId, botDeviceId, botEngine.fingerprint(), null));
    }
    return acquire(userId)
        .map(
            g -> {
              GhostDevice d =
                  new GhostDevice(g.userId, g.deviceId, g.engine.fingerprint(), g.masterKey);
              release(g);
              return d;
            });
  }

  private static void checkUserId(String userId) {
    Objects.requireNonNull(userId, "userId");
    int colon = userId.indexOf(':');
    if (!userId.startsWith("@") || colon < 2 || colon == userId.length() - 1) {
      throw new IllegalArgumentException("not a user id: " + userId);
    }
  }

  private Future<Void> registerOnce(String userId) {
    if (registered.contains(userId)) {
      return Future.succeededFuture();
    }
    return http.register(localpart(userId)).onSuccess(v -> registered.add(userId));
  }

  private static String localpart(String userId) {
    return userId.substring(1, userId.indexOf(':'));
  }

  /** The open ghost (opened or set up if needed), marked in use; {@link #release} it. */
  private Future<Ghost> acquire(String userId) {
    Opening o;
    synchronized (this) {
      Ghost g = ghosts.get(userId);
      if (g != null) {
        g.acquire();
        return Future.succeededFuture(g);
      }
      o = opening.get(userId);
      if (o == null) {
        Future<Void> closingOld = closingGhosts.getOrDefault(userId, Future.succeededFuture());
        Opening created =
            new Opening(
                setups.run(
                    () ->
                        closingOld.transform(
                            x ->
                                state == State.CLOSED
                                    ? Future.failedFuture(new IllegalStateException("closed"))
                                    : openGhost(userId))));
        opening.put(userId, created);
        created.future.onComplete(ar -> opened(userId, created, ar));
        o = created;
      }
      o.waiters++;
    }
    return o.future;
  }

  /** A ghost being opened, and how many callers wait for it (each gets it acquired). */
  private static final class Opening {
    final Future<Ghost> future;
    int waiters;

    Opening(Future<Ghost> future) {
      this.future = future;
    }
  }

  /**
   * The ghost is open: it joins the open ghosts already acquired once per waiting caller, so no
   * eviction can close it between its opening and its first use.
   */
  private void opened(String userId, Opening o, io.vertx.core.AsyncResult<Ghost> ar) {
    boolean closeNow = false;
    synchronized (this) {
      opening.remove(userId);
      if (ar.succeeded()) {
        if (state == State.CLOSED) {
          closeNow = true;
        } else {
          for (int i = 0; i < o.waiters; i++) {
            ar.result().acquire();
          }
          ghosts.put(userId, ar.result());
        }
      }
    }
    if (closeNow) {
      ar.result().engine.close();
    }
  }

  private void release(Ghost g) {
    g.release();
    evict();
  }

  /** Closes least recently used idle ghosts while more than the bound are open. */
  private void evict() {
    List<Ghost> victims = new ArrayList<>();
    synchronized (this) {
      int excess = ghosts.size() - options.getMaxOpenGhosts();
      var it = ghosts.values().iterator();
      while (excess > 0 && it.hasNext()) {
        Ghost g = it.next();
        if (g.idle()) {
          it.remove();
          victims.add(g);
          excess--;
        }
      }
    }
    for (Ghost g : victims) {
      Future<Void> closed = g.engine.close();
      closingGhosts.put(g.userId, closed);
      closed.onComplete(ar -> closingGhosts.remove(g.userId, closed));
    }
  }

  private record Known(String deviceId, String masterKey) {}

  /**
   * Opens a ghost that is set up (its machine from the store, device lists marked outdated since
   * changes may have been missed while it was closed), or sets it up: registration, device id
   * (remembered before the device is created), MSC4190 device, machine and key upload, identity.
   */
  private Future<Ghost> openGhost(String userId) {
    return stateWorker
        .executeBlocking(
            () ->
                new Known(
                    registry.ghostDevice(userId).orElse(null),
                    registry.ghostMasterKey(userId).orElse(null)),
            true)
        .compose(
            known -> {
              if (known.deviceId() != null && known.masterKey() != null) {
                HomeserverClient c = ghostClient(userId, known.deviceId());
                MatrixE2eeImpl e = ghostEngine(c);
                return e.start()
                    .compose(v -> e.refreshDeviceLists())
                    .compose(
                        v ->
                            catchUpInbox(e, c, 0)
                                .recover(x -> Future.succeededFuture())) // retried next time
                    .map(v -> new Ghost(userId, known.deviceId(), e, c, known.masterKey()))
                    .onFailure(x -> e.close());
              }
              return http.register(localpart(userId))
                  .compose(
                      v ->
                          known.deviceId() != null
                              ? Future.succeededFuture(known.deviceId())
                              : stateWorker.executeBlocking(
                                  () -> {
                                    String d = newDeviceId();
                                    registry.putGhostDevice(userId, d);
                                    return d;
                                  },
                                  true))
                  .compose(d -> http.putDevice(userId, d, "mxe2ee bridge").map(d))
                  .compose(
                      d -> {
                        HomeserverClient c = ghostClient(userId, d);
                        MatrixE2eeImpl e = ghostEngine(c);
                        return e.start()
                            .compose(v -> e.ensureCrossSigning())
                            .compose(
                                master ->
                                    stateWorker.executeBlocking(
                                        () -> {
                                          registry.markGhostReady(userId, master);
                                          return new Ghost(userId, d, e, c, master);
                                        },
                                        true))
                            .onFailure(x -> e.close());
                      })
                  .onSuccess(
                      g ->
                          LOG.log(
                              System.Logger.Level.INFO,
                              "ghost {0}: device {1} set up, cross-signed",
                              userId,
                              g.deviceId));
            });
  }

  private HomeserverClient ghostClient(String userId, String deviceId) {
    HomeserverClient c = new HomeserverClient(web, options.getHomeserverUrl());
    c.masquerade(options.getAsToken(), userId, deviceId);
    return c;
  }

  private MatrixE2eeImpl ghostEngine(HomeserverClient c) {
    E2eeOptions o =
        new E2eeOptions(options.getEngine())
            .setRecoveryKeyFile(null)
            .setAccountPassword(null)
            .setMeterRegistry(null);
    return new MatrixE2eeImpl(vertx, c, o);
  }

  // ------------------------------------------------------------------ inbox catch-up

  /**
   * A {@code /sync} filter that asks for nothing but the E2EE sections (to-device, device lists,
   * key counts): no rooms, presence or account data.
   */
  static final String INBOX_FILTER =
      "{\"room\":{\"rooms\":[]},\"presence\":{\"types\":[]},\"account_data\":{\"types\":[]}}";

  /** Most {@code /sync} rounds of one catch-up (each brings up to 100 to-device messages). */
  static final int MAX_CATCH_UP_ROUNDS = 20;

  /** After a ping, the inbox is read once more this much later, once Synapse has recovered. */
  static final long RECOVERY_CATCH_UP_DELAY_MS = 5_000;

  /** After a transaction with events held for a missing key, the inbox is read this much later. */
  static final long HELD_CATCH_UP_DELAY_MS = 1_000;

  /** How often the bot's inbox is read even if nothing suggests it (ms). */
  static final long CATCH_UP_PERIOD_MS = 60_000;

  /**
   * Reads the device's to-device inbox with a masquerading {@code /sync} (E2EE sections only) and
   * feeds it to the device's engine. Synapse pushes to-device messages, key counts and device lists
   * only in live transactions: while it holds the appservice for down (it was unreachable, for
   * example during a restart) it resends the held transactions with their room events alone, so the
   * room keys sent meanwhile would never arrive. They stay in the device's inbox until a {@code
   * /sync} with a later token acknowledges them; the token is saved (in the bridge's state) only
   * after the engine saved the step, so a crash in between reads them again (a room key imported
   * twice is the same key; a repeated Olm message fails as a replay and is dropped).
   */
  private Future<Void> catchUpInbox(MatrixE2eeImpl engine, HomeserverClient client, int round) {
    String userId = client.session().userId();
    String deviceId = client.session().deviceId();
    return stateWorker
        .executeBlocking(() -> registry.inboxSince(userId, deviceId).orElse(null), true)
        .compose(since -> client.sync(since, 0, INBOX_FILTER))
        .compose(
            result -> {
              JsonObject body = result.body();
              String next = body.getString("next_batch");
              body.remove("next_batch"); // the engine keeps its transaction token
              body.remove("rooms");
              int messages =
                  body.getValue("to_device") instanceof JsonObject td
                          && td.getValue("events") instanceof JsonArray events
                      ? events.size()
                      : 0;
              return engine
                  .onSync(body)
                  .compose(
                      v ->
                          stateWorker.executeBlocking(
                              () -> {
                                registry.putInboxSince(userId, deviceId, next);
                                return messages;
                              },
                              true));
            })
        .compose(
            messages -> {
              if (messages > 0) {
                LOG.log(
                    System.Logger.Level.INFO,
                    "{0}/{1}: {2} to-device messages read from the inbox",
                    userId,
                    deviceId,
                    messages);
              }
              return messages > 0 && round + 1 < MAX_CATCH_UP_ROUNDS
                  ? catchUpInbox(engine, client, round + 1)
                  : Future.succeededFuture();
            });
  }

  private final java.util.concurrent.atomic.AtomicBoolean botCatchingUp =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicBoolean botCatchUpAgain =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile HomeserverClient botHttp;

  /** Set when the homeserver refuses the bot's {@code /sync}: its inbox is not read again. */
  private volatile boolean botInboxRefused;

  private long catchUpTimer = -1;

  /** Reads the bot's inbox now, or once more after the read that runs; failures are logged. */
  private Future<Void> catchUpBot() {
    if (state == State.CLOSED || botEngine == null || botHttp == null || botInboxRefused) {
      return Future.succeededFuture();
    }
    if (!botCatchingUp.compareAndSet(false, true)) {
      botCatchUpAgain.set(true);
      return Future.succeededFuture();
    }
    return catchUpInbox(botEngine, botHttp, 0)
        .recover(
            e -> {
              if (e instanceof HomeserverException h && h.statusCode() / 100 == 5) {
                // Synapse answers /sync of the appservice's own sender with a 500
                // (NotImplementedError: "We no longer support AS users using /sync directly").
                botInboxRefused = true;
                LOG.log(
                    System.Logger.Level.WARNING,
                    "the homeserver does not let the bridge bot read its to-device inbox ({0}):"
                        + " room keys sent to the bot device while the homeserver held the bridge"
                        + " for down cannot be recovered; ghost devices still can",
                    h.statusCode());
              } else {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "reading the to-device inbox of the bot device failed: {0}",
                    e.getMessage());
              }
              return Future.succeededFuture();
            })
        .compose(
            v -> {
              botCatchingUp.set(false);
              return botCatchUpAgain.getAndSet(false) ? catchUpBot() : Future.succeededFuture();
            });
  }

  // ------------------------------------------------------------------ history

  @Override
  public Future<io.github.mxe2ee.plugin.history.InviteResult> invite(String roomId, String userId) {
    IllegalStateException e = notUsable("invite()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    return botEngine.invite(roomId, userId);
  }

  // ------------------------------------------------------------------ send

  @Override
  public Future<String> send(String roomId, String type, JsonObject content, String asUser) {
    return send(roomId, type, content, asUser, "mxe2ee-" + UUID.randomUUID());
  }

  @Override
  public Future<String> send(
      String roomId, String type, JsonObject content, String asUser, String txnId) {
    IllegalStateException e = notUsable("send()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    try {
      checkUserId(asUser);
      Objects.requireNonNull(roomId, "roomId");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(content, "content");
      Objects.requireNonNull(txnId, "txnId");
    } catch (RuntimeException bad) {
      return Future.failedFuture(bad);
    }
    if (asUser.equals(botUserId)) {
      return botEngine.send(roomId, type, content, txnId);
    }
    if (options.getDeviceModel() == DeviceModel.BOT_DEVICE) {
      return sendWithBotDevice(roomId, type, content, asUser, txnId);
    }
    return acquire(asUser)
        .compose(
            g -> {
              g.sentTo(roomId);
              return g.engine.send(roomId, type, content, txnId).andThen(ar -> release(g));
            });
  }

  /**
   * {@link DeviceModel#BOT_DEVICE}: the bot's device encrypts (sharing the room key as for its own
   * messages), the ghost sends with {@code ?user_id=} masquerading.
   */
  private Future<String> sendWithBotDevice(
      String roomId, String type, JsonObject content, String asUser, String txnId) {
    return registerOnce(asUser)
        .compose(v -> botEngine.isRoomEncrypted(roomId))
        .compose(
            encrypted -> {
              if (encrypted) {
                return botEngine
                    .encrypt(roomId, type, content)
                    .map(c -> new Object[] {"m.room.encrypted", c});
              }
              if (options.getEngine().isRefuseUnencrypted()) {
                return Future.failedFuture(new UnencryptedRoomException(roomId));
              }
              return Future.succeededFuture(new Object[] {type, content});
            })
        .compose(
            typed ->
                http.call(
                    HttpMethod.PUT,
                    CS
                        + "/rooms/"
                        + AsHttp.seg(roomId)
                        + "/send/"
                        + AsHttp.seg((String) typed[0])
                        + "/"
                        + AsHttp.seg(txnId),
                    asUser,
                    (JsonObject) typed[1]))
        .map(
            r -> {
              if (!(r.getValue("event_id") instanceof String id)) {
                throw new HomeserverException("/send", 200, null, "no event_id in the answer");
              }
              return id;
            });
  }

  // ------------------------------------------------------------------ transactions

  @Override
  public Future<JsonObject> onTransaction(String txnId, JsonObject transaction) {
    if (!validTxnId(txnId)) {
      return Future.failedFuture(new IllegalArgumentException("bad transaction id"));
    }
    IllegalStateException e = notUsable("onTransaction()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    TransactionSplit split;
    try {
      split = TransactionSplit.of(Objects.requireNonNull(transaction, "transaction"));
    } catch (IllegalArgumentException bad) {
      return Future.failedFuture(bad);
    }
    synchronized (this) {
      Future<JsonObject> f =
          txnChain.transform(
              x -> {
                IllegalStateException closed = notUsable("onTransaction()");
                return closed != null
                    ? Future.failedFuture(closed)
                    : processTransaction(txnId, transaction, split);
              });
      txnChain = f;
      return f;
    }
  }

  private Future<JsonObject> processTransaction(
      String txnId, JsonObject body, TransactionSplit split) {
    return stateWorker
        .executeBlocking(() -> registry.txnCompleted(txnId), true)
        .compose(
            done -> {
              if (done) {
                LOG.log(
                    System.Logger.Level.DEBUG, "transaction {0} seen before: acknowledged", txnId);
                return Future.succeededFuture(new JsonObject());
              }
              LOG.log(
                  System.Logger.Level.DEBUG,
                  "transaction {0}: {1} events, {2} devices addressed, device lists {3}/{4}",
                  txnId,
                  split.events.size(),
                  split.devices.size(),
                  split.changed.size(),
                  split.left.size());
              return feedDevices(txnId, split)
                  .compose(
                      events -> {
                        JsonObject out = body.copy();
                        for (String f : E2EE_SECTIONS) {
                          out.remove(f);
                        }
                        out.put("events", events);
                        if (heldAny(events)) {
                          vertx.setTimer(HELD_CATCH_UP_DELAY_MS, t -> catchUpBot());
                        }
                        return handOver(txnId, out)
                            .compose(
                                v ->
                                    stateWorker.executeBlocking(
                                        () -> {
                                          registry.completeTxn(txnId);
                                          return out;
                                        },
                                        true));
                      });
            });
  }

  private static boolean heldAny(JsonArray events) {
    for (Object o : events) {
      if (o instanceof JsonObject e
          && e.getValue("mxe2ee") instanceof JsonObject m
          && Boolean.TRUE.equals(m.getValue("held"))) {
        return true;
      }
    }
    return false;
  }

  private static final List<String> E2EE_SECTIONS =
      List.of(
          "to_device",
          "de.sorunome.msc2409.to_device",
          "device_lists",
          "org.matrix.msc3202.device_lists",
          "device_one_time_keys_count",
          "org.matrix.msc3202.device_one_time_keys_count",
          "device_unused_fallback_key_types",
          "org.matrix.msc3202.device_unused_fallback_key_types");

  private Future<Void> handOver(String txnId, JsonObject out) {
    TransactionHandler h = handler;
    if (h == null) {
      return Future.succeededFuture();
    }
    try {
      Future<Void> f = h.handle(txnId, out.copy());
      return f == null ? Future.succeededFuture() : f;
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * One machine step per addressed device: ghosts (bounded in parallel) and the bot, whose step
   * also decrypts the room events. Completes when every step is saved.
   *
   * @return the transaction's events with encrypted ones decrypted
   */
  private Future<JsonArray> feedDevices(String txnId, TransactionSplit split) {
    List<Future<Void>> all = new ArrayList<>();
    Set<String> addressed = new HashSet<>();
    for (Map.Entry<AccountId, TransactionSplit.DevicePart> d : split.devices.entrySet()) {
      AccountId a = d.getKey();
      if (a.userId().equals(botUserId)) {
        continue;
      }
      if (options.getDeviceModel() == DeviceModel.BOT_DEVICE) {
        continue; // ghosts have no devices of ours
      }
      addressed.add(a.userId());
      all.add(steps.run(() -> stepGhost(txnId, split, a, d.getValue())));
    }
    boolean listsChanged = !split.changed.isEmpty() || !split.left.isEmpty();
    List<Ghost> open;
    synchronized (this) {
      open = new ArrayList<>(ghosts.values());
    }
    for (Ghost g : open) {
      if (!addressed.contains(g.userId) && (listsChanged || touches(split, g))) {
        all.add(
            steps.run(
                () -> {
                  Ghost held = acquireIfOpen(g.userId);
                  if (held == null) {
                    return Future.succeededFuture(); // closed since: refreshed when reopened
                  }
                  return step(held.engine, txnId, split, null, ghostRooms(split, held))
                      .<Void>mapEmpty()
                      .andThen(ar -> release(held));
                }));
      }
    }
    TransactionSplit.DevicePart botPart = split.devices.get(AccountId.of(botUserId, botDeviceId));
    Future<JsonArray> bot =
        step(botEngine, txnId, split, botPart, split.rooms(e -> true)).map(r -> merge(split, r));
    all.add(bot.mapEmpty());
    return Future.all(all)
        .compose(v -> bot)
        .compose(
            events ->
                options.getDeviceModel() == DeviceModel.GHOST_DEVICES
                    ? withGhostFallback(events)
                    : Future.succeededFuture(events));
  }

  /** Rooms per transaction whose missing keys are looked for on ghost devices. */
  static final int MAX_FALLBACK_ROOMS = 10;

  /** Ghost devices asked per room. */
  static final int MAX_FALLBACK_GHOSTS = 3;

  /**
   * Events the bot's device could not decrypt for a missing key are tried with the devices of our
   * ghosts joined to the room: senders share room keys with every device in the room, and a ghost's
   * device can read its to-device inbox (Synapse refuses that for the bot), so a key that the
   * homeserver did not push (it drops to-device messages while it holds the bridge for down) or has
   * not pushed yet is found there. Best effort: a failure leaves the event as it was.
   */
  private Future<JsonArray> withGhostFallback(JsonArray events) {
    Map<String, List<Integer>> missing = new LinkedHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      if (events.getValue(i) instanceof JsonObject e
          && e.getValue("mxe2ee") instanceof JsonObject m
          && ("MISSING_SESSION".equals(m.getValue("decryption_failure"))
              || "UNKNOWN_INDEX".equals(m.getValue("decryption_failure")))
          && e.getValue("room_id") instanceof String room
          && (missing.containsKey(room) || missing.size() < MAX_FALLBACK_ROOMS)) {
        missing.computeIfAbsent(room, r -> new ArrayList<>()).add(i);
      }
    }
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, List<Integer>> room : missing.entrySet()) {
      chain =
          chain.compose(
              v ->
                  fallbackRoom(events, room.getKey(), room.getValue())
                      .recover(
                          e -> {
                            LOG.log(
                                System.Logger.Level.DEBUG,
                                "room {0}: ghost fallback failed: {1}",
                                room.getKey(),
                                e.toString());
                            return Future.succeededFuture();
                          }));
    }
    return chain.map(events);
  }

  private Future<Void> fallbackRoom(JsonArray events, String roomId, List<Integer> positions) {
    return http.call(
            HttpMethod.GET, CS + "/rooms/" + AsHttp.seg(roomId) + "/joined_members", null, null)
        .compose(
            answer -> {
              List<String> members = new ArrayList<>();
              if (answer.getValue("joined") instanceof JsonObject joined) {
                members.addAll(joined.fieldNames());
              }
              members.remove(botUserId);
              return stateWorker.executeBlocking(
                  () -> {
                    List<String> ours = new ArrayList<>();
                    for (String m : members) {
                      if (ours.size() < MAX_FALLBACK_GHOSTS
                          && registry.ghostMasterKey(m).isPresent()) {
                        ours.add(m);
                      }
                    }
                    return ours;
                  },
                  true);
            })
        .compose(
            ghostIds -> {
              Future<Void> chain = Future.succeededFuture();
              for (String ghostId : ghostIds) {
                chain = chain.compose(v -> fallbackWith(ghostId, events, roomId, positions));
              }
              return chain;
            });
  }

  private Future<Void> fallbackWith(
      String ghostId, JsonArray events, String roomId, List<Integer> positions) {
    List<Integer> still = new ArrayList<>();
    JsonArray timeline = new JsonArray();
    for (int i : positions) {
      JsonObject e = events.getJsonObject(i);
      if (e.getValue("mxe2ee") instanceof JsonObject m
          && m.getValue("decryption_failure") != null) {
        still.add(i);
        JsonObject original = e.copy();
        original.remove("mxe2ee");
        timeline.add(original);
      }
    }
    if (still.isEmpty()) {
      return Future.succeededFuture();
    }
    return acquire(ghostId)
        .compose(
            g ->
                catchUpInbox(g.engine, g.client, 0)
                    .compose(
                        v ->
                            g.engine.onSync(
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
                                                            .put(
                                                                "timeline",
                                                                new JsonObject()
                                                                    .put("events", timeline)))))))
                    .andThen(ar -> release(g)))
        .map(
            result -> {
              JsonArray out =
                  result
                      .getJsonObject("rooms", new JsonObject())
                      .getJsonObject("join", new JsonObject())
                      .getJsonObject(roomId, new JsonObject())
                      .getJsonObject("timeline", new JsonObject())
                      .getJsonArray("events", new JsonArray());
              Map<String, Integer> byId = new HashMap<>();
              for (int i : still) {
                if (events.getJsonObject(i).getValue("event_id") instanceof String id) {
                  byId.put(id, i);
                }
              }
              for (Object o : out) {
                if (o instanceof JsonObject d
                    && d.getValue("event_id") instanceof String id
                    && byId.containsKey(id)
                    && d.getValue("mxe2ee") instanceof JsonObject m
                    && Boolean.TRUE.equals(m.getValue("encrypted"))) {
                  m.put("decrypted_by", ghostId);
                  events.set(byId.get(id), d);
                }
              }
              return null;
            });
  }

  private static boolean touches(TransactionSplit split, Ghost g) {
    if (!g.hasRooms()) {
      return false;
    }
    for (int i = 0; i < split.events.size(); i++) {
      if (split.events.getJsonObject(i).getValue("room_id") instanceof String r && g.inRoom(r)) {
        return true;
      }
    }
    return false;
  }

  private synchronized Ghost acquireIfOpen(String userId) {
    Ghost g = ghosts.get(userId);
    if (g != null) {
      g.acquire();
    }
    return g;
  }

  /** The state changes of the rooms a ghost sent to (membership, encryption, visibility). */
  private static JsonObject ghostRooms(TransactionSplit split, Ghost g) {
    JsonObject rooms =
        split.rooms(
            e ->
                e.getValue("state_key") instanceof String
                    && g.inRoom(String.valueOf(e.getValue("room_id")))
                    && STATE_FOLLOWED.contains(String.valueOf(e.getValue("type"))));
    return rooms.isEmpty() ? null : rooms;
  }

  private static final Set<String> STATE_FOLLOWED =
      Set.of("m.room.member", "m.room.encryption", "m.room.history_visibility");

  private Future<Void> stepGhost(
      String txnId, TransactionSplit split, AccountId a, TransactionSplit.DevicePart part) {
    Ghost open = acquireIfOpen(a.userId());
    Future<Ghost> ghost;
    if (open != null) {
      ghost = Future.succeededFuture(open);
    } else if (!TransactionSplit.urgent(part)) {
      return Future.succeededFuture(); // key counts of an idle ghost: seen when it reopens
    } else {
      ghost =
          stateWorker
              .executeBlocking(
                  () ->
                      a.deviceId().equals(registry.ghostDevice(a.userId()).orElse(null))
                          && registry.ghostMasterKey(a.userId()).isPresent(),
                  true)
              .compose(ours -> ours ? acquire(a.userId()) : Future.succeededFuture(null));
    }
    return ghost.compose(
        g -> {
          if (g == null) {
            LOG.log(
                System.Logger.Level.DEBUG,
                "transaction {0}: device {1} is not one of ours; its part is skipped",
                txnId,
                a);
            return Future.succeededFuture();
          }
          if (!g.deviceId.equals(a.deviceId())) {
            release(g);
            return Future.succeededFuture();
          }
          return step(g.engine, txnId, split, part, ghostRooms(split, g))
              .<Void>mapEmpty()
              .andThen(ar -> release(g));
        });
  }

  /**
   * One device's machine step: its part of the transaction, saved with the transaction's token in
   * one store transaction; a device whose saved token already is this transaction's (a resent
   * transaction) gets only the rooms, so nothing is fed to it twice.
   */
  private Future<JsonObject> step(
      MatrixE2eeImpl engine,
      String txnId,
      TransactionSplit split,
      TransactionSplit.DevicePart part,
      JsonObject rooms) {
    return engine
        .syncToken()
        .compose(
            token -> {
              boolean fresh =
                  !token.map((TransactionSplit.TOKEN_PREFIX + txnId)::equals).orElse(false);
              if (!fresh && (rooms == null || rooms.isEmpty())) {
                return Future.succeededFuture(new JsonObject());
              }
              return engine.onSync(split.syncBody(txnId, part, fresh, rooms));
            });
  }

  /** The transaction's events with the decrypted ones of the bot's step put in their places. */
  private static JsonArray merge(TransactionSplit split, JsonObject result) {
    JsonArray out = split.events.copy();
    JsonObject join =
        result.getValue("rooms") instanceof JsonObject r
                && r.getValue("join") instanceof JsonObject j
            ? j
            : new JsonObject();
    for (Map.Entry<String, Object> room : join) {
      if (!(room.getValue() instanceof JsonObject body)
          || !(body.getValue("timeline") instanceof JsonObject timeline)
          || !(timeline.getValue("events") instanceof JsonArray events)) {
        continue;
      }
      for (Object o : events) {
        if (o instanceof JsonObject e
            && e.getValue("unsigned") instanceof JsonObject unsigned
            && unsigned.getValue(TransactionSplit.INDEX) instanceof Number n) {
          int i = n.intValue();
          if (i < 0 || i >= out.size()) {
            continue;
          }
          unsigned.remove(TransactionSplit.INDEX);
          if (unsigned.isEmpty() && !split.events.getJsonObject(i).containsKey("unsigned")) {
            e.remove("unsigned");
          }
          out.set(i, e);
        }
      }
    }
    return out;
  }
}
