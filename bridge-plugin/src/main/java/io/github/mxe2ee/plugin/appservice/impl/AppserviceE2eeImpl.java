package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.github.mxe2ee.plugin.appservice.LateDecryptionHandler;
import io.github.mxe2ee.plugin.appservice.TransactionHandler;
import io.github.mxe2ee.plugin.http.Retrier;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/** The implementation of {@link AppserviceE2ee}; not API. */
public final class AppserviceE2eeImpl implements AppserviceE2ee {
  private static final System.Logger LOG = System.getLogger(AppserviceE2ee.class.getName());

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
  private volatile State state = State.NEW;
  private final AsContext ctx;
  private final InboxReader inbox;
  private final GhostPool pool;
  private final GhostFallback fallback;
  private final LateDelivery lateDelivery;
  private final DeviceSteps devices;
  private final GhostSender sender;

  /** Transactions run one at a time, in arrival order. Guarded by {@code this}. */
  private Future<?> txnChain = Future.succeededFuture();

  private volatile TransactionHandler handler;
  private volatile Function<String, Future<Boolean>> userQuery;
  private volatile Function<String, Future<Boolean>> roomQuery;
  private volatile LateDecryptionHandler lateHandler;
  private final List<HttpServer> servers = new ArrayList<>();
  private long catchUpTimer = -1;
  private Future<Void> closing;

  /** Use {@link AppserviceE2ee#create}. */
  public AppserviceE2eeImpl(Vertx vertx, AppserviceOptions options) {
    options.validate();
    this.vertx = vertx;
    this.options = options;
    this.web = WebClient.create(vertx);
    Retrier retrier = new Retrier(vertx, options.getEngine().getRetryPolicy());
    this.http = new AsHttp(web, options.getHomeserverUrl(), options.getAsToken(), retrier);
    this.ctx = new AsContext(vertx, options, web, http, () -> state == State.CLOSED);
    this.inbox = new InboxReader(ctx, r -> deliverLateOutsideTransaction(LateDelivery.takeLate(r)));
    this.pool = new GhostPool(ctx, inbox);
    this.fallback = new GhostFallback(ctx, pool, inbox);
    this.lateDelivery = new LateDelivery(ctx, () -> lateHandler);
    this.devices = new DeviceSteps(ctx, pool, fallback);
    this.sender = new GhostSender(ctx, pool);
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
    ctx.stateWorker = vertx.createSharedWorkerExecutor("mxe2ee-as-" + UUID.randomUUID(), 1);
    return http.whoami()
        .compose(
            me -> {
              ctx.botUserId = me;
              return ctx.stateWorker.executeBlocking(
                  () -> {
                    ctx.registry =
                        AppserviceState.open(
                            options.getEngine(), me, options.getRememberedTransactions());
                    Optional<String> known = ctx.registry.botDevice();
                    String dev = options.getBotDeviceId();
                    if (dev == null) {
                      dev = known.orElseGet(GhostPool::newDeviceId);
                    }
                    if (!dev.equals(known.orElse(null))) {
                      ctx.registry.putBotDevice(dev);
                    }
                    return dev;
                  },
                  true);
            })
        .compose(
            dev -> {
              ctx.botDeviceId = dev;
              return botClient(dev);
            })
        .compose(
            client -> {
              ctx.botHttp = client;
              ctx.botEngine =
                  new MatrixE2eeImpl(vertx, client, new E2eeOptions(options.getEngine()));
              return ctx.botEngine.start();
            })
        .compose(
            v -> {
              if (options.getEngine().getRecoveryKeyFile() != null) {
                return Future.<Void>succeededFuture(); // the identity bootstrap did it
              }
              return ctx.botEngine
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
        .compose(v -> inbox.catchUpBot())
        .onComplete(
            ar -> {
              boolean failed;
              synchronized (this) {
                if (state == State.STARTING) {
                  state = ar.succeeded() ? State.STARTED : State.CLOSED;
                }
                failed = state != State.STARTED;
                if (!failed) {
                  catchUpTimer =
                      vertx.setPeriodic(InboxReader.CATCH_UP_PERIOD_MS, id -> inbox.catchUpBot());
                }
              }
              if (failed) {
                releaseAll();
              } else {
                LOG.log(
                    System.Logger.Level.INFO,
                    "appservice started: bot {0}, device {1}, model {2}",
                    ctx.botUserId,
                    ctx.botDeviceId,
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
    return http.putDevice(ctx.botUserId, dev, "mxe2ee bridge bot")
        .map(
            v -> {
              c.masquerade(options.getAsToken(), ctx.botUserId, dev);
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
                return http.login(ctx.botUserId, dev).compose(c::loginWithAccessToken).map(s -> c);
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
                            inbox.catchUpBot();
                            vertx.setTimer(
                                InboxReader.RECOVERY_CATCH_UP_DELAY_MS, t -> inbox.catchUpBot());
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
  public AppserviceE2ee lateDecryptionHandler(LateDecryptionHandler handler) {
    this.lateHandler = handler;
    return this;
  }

  /** Late decryptions found outside a transaction: delivered in the transactions' order. */
  private void deliverLateOutsideTransaction(List<JsonObject> late) {
    if (late.isEmpty()) {
      return;
    }
    synchronized (this) {
      txnChain =
          txnChain.transform(
              x ->
                  state == State.CLOSED
                      ? Future.succeededFuture()
                      : lateDelivery
                          .deliverLate(late, false)
                          .recover(
                              e -> {
                                LOG.log(
                                    System.Logger.Level.WARNING,
                                    "late decryptions not delivered yet (offered again with the"
                                        + " next transaction): {0}",
                                    e.toString());
                                return Future.succeededFuture();
                              }));
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
    MatrixE2eeImpl b = ctx.botEngine;
    if (b == null || state == State.NEW) {
      throw new IllegalStateException("bot() before start()");
    }
    return b;
  }

  @Override
  public String botUserId() {
    return state == State.STARTED ? ctx.botUserId : null;
  }

  @Override
  public String botDeviceId() {
    return state == State.STARTED ? ctx.botDeviceId : null;
  }

  @Override
  public int openGhosts() {
    return pool.size();
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
    List<Future<Void>> closes = pool.closeAll();
    MatrixE2eeImpl b = ctx.botEngine;
    if (b != null) {
      closes.add(b.close());
    }
    return Future.join(closes)
        .transform(
            v -> {
              WorkerExecutor w = ctx.stateWorker;
              if (w == null) {
                return Future.<Void>succeededFuture();
              }
              return w.executeBlocking(
                      () -> {
                        if (ctx.registry != null) {
                          ctx.registry.close();
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
    if (userId.equals(ctx.botUserId) || options.getDeviceModel() == DeviceModel.BOT_DEVICE) {
      Future<Void> reg =
          userId.equals(ctx.botUserId) ? Future.succeededFuture() : pool.registerOnce(userId);
      return reg.map(
          v -> new GhostDevice(userId, ctx.botDeviceId, ctx.botEngine.fingerprint(), null));
    }
    return pool.acquire(userId)
        .map(
            g -> {
              GhostDevice d =
                  new GhostDevice(g.userId, g.deviceId, g.engine.fingerprint(), g.masterKey);
              pool.release(g);
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

  // ------------------------------------------------------------------ history

  @Override
  public Future<io.github.mxe2ee.plugin.history.InviteResult> invite(String roomId, String userId) {
    IllegalStateException e = notUsable("invite()");
    if (e != null) {
      return Future.failedFuture(e);
    }
    return ctx.botEngine.invite(roomId, userId);
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
    return sender.send(roomId, type, content, asUser, txnId);
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
    return ctx.stateWorker
        .executeBlocking(() -> ctx.registry.txnCompleted(txnId), true)
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
              return devices
                  .feedDevices(txnId, split)
                  .compose(
                      stepped -> {
                        JsonArray events = stepped.events();
                        JsonObject out = body.copy();
                        for (String f : E2EE_SECTIONS) {
                          out.remove(f);
                        }
                        out.put("events", events);
                        if (out.getValue("ephemeral") instanceof JsonArray ephemeral) {
                          io.github.mxe2ee.plugin.state.EncryptedStates.stripForgedMarks(ephemeral);
                        }
                        if (heldAny(events)) {
                          vertx.setTimer(
                              InboxReader.HELD_CATCH_UP_DELAY_MS, t -> inbox.catchUpBot());
                        }
                        return lateDelivery
                            .deliverLate(stepped.late(), true)
                            .compose(v -> handOver(txnId, out))
                            .compose(
                                v ->
                                    ctx.stateWorker.executeBlocking(
                                        () -> {
                                          ctx.registry.completeTxn(txnId);
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
}
