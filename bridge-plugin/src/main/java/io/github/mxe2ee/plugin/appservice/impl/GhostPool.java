package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Future;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ghosts' devices of one bridge: set up (registration, MSC4190 device, keys, cross-signing
 * identity) or reopened from the store on demand, at most {@code maxGhostSetupsInFlight} at once,
 * and at most {@code maxOpenGhosts} kept open (the least recently used idle one closed first).
 * Callers {@link #acquire} a ghost and {@link #release} it. Not API.
 */
final class GhostPool {
  private static final System.Logger LOG =
      System.getLogger(
          io.github.mxe2ee.plugin.appservice.AppserviceE2ee.class
              .getName()); // the bridge's one logger
  private static final SecureRandom RANDOM = new SecureRandom();

  private final AsContext ctx;
  private final InboxReader inbox;
  private final Limiter setups;

  GhostPool(AsContext ctx, InboxReader inbox) {
    this.ctx = ctx;
    this.inbox = inbox;
    this.setups = new Limiter(ctx.options.getMaxGhostSetupsInFlight());
  }

  /** Open ghosts, least recently used first. Guarded by {@code this}. */
  private final LinkedHashMap<String, Ghost> ghosts = new LinkedHashMap<>(16, 0.75f, true);

  /** Ghosts being opened or set up. Guarded by {@code this}. */
  private final Map<String, Opening> opening = new HashMap<>();

  /** Ghost engines being closed (their store lock is released when these complete). */
  private final Map<String, Future<Void>> closingGhosts = new ConcurrentHashMap<>();

  /** Users registered by this process ({@link DeviceModel#BOT_DEVICE}). */
  private final Set<String> registered = ConcurrentHashMap.newKeySet();

  static String newDeviceId() {
    StringBuilder b = new StringBuilder("MXE2EE");
    for (int i = 0; i < 10; i++) {
      b.append((char) ('A' + RANDOM.nextInt(26)));
    }
    return b.toString();
  }

  Future<Void> registerOnce(String userId) {
    if (registered.contains(userId)) {
      return Future.succeededFuture();
    }
    return ctx.http.register(localpart(userId)).onSuccess(v -> registered.add(userId));
  }

  private static String localpart(String userId) {
    return userId.substring(1, userId.indexOf(':'));
  }

  /** The open ghost (opened or set up if needed), marked in use; {@link #release} it. */
  Future<Ghost> acquire(String userId) {
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
                                ctx.closed()
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
        if (ctx.closed()) {
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

  void release(Ghost g) {
    g.release();
    evict();
  }

  /** Closes least recently used idle ghosts while more than the bound are open. */
  private void evict() {
    List<Ghost> victims = new ArrayList<>();
    synchronized (this) {
      int excess = ghosts.size() - ctx.options.getMaxOpenGhosts();
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
  Future<Ghost> openGhost(String userId) {
    return ctx.stateWorker
        .executeBlocking(
            () ->
                new Known(
                    ctx.registry.ghostDevice(userId).orElse(null),
                    ctx.registry.ghostMasterKey(userId).orElse(null)),
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
                            inbox
                                .catchUpInbox(e, c, 0)
                                .recover(x -> Future.succeededFuture())) // retried next time
                    .map(v -> new Ghost(userId, known.deviceId(), e, c, known.masterKey()))
                    .onFailure(x -> e.close());
              }
              return ctx.http
                  .register(localpart(userId))
                  .compose(
                      v ->
                          known.deviceId() != null
                              ? Future.succeededFuture(known.deviceId())
                              : ctx.stateWorker.executeBlocking(
                                  () -> {
                                    String d = newDeviceId();
                                    ctx.registry.putGhostDevice(userId, d);
                                    return d;
                                  },
                                  true))
                  .compose(d -> ctx.http.putDevice(userId, d, "mxe2ee bridge").map(d))
                  .compose(
                      d -> {
                        HomeserverClient c = ghostClient(userId, d);
                        MatrixE2eeImpl e = ghostEngine(c);
                        return e.start()
                            .compose(v -> e.ensureCrossSigning())
                            .compose(
                                master ->
                                    ctx.stateWorker.executeBlocking(
                                        () -> {
                                          ctx.registry.markGhostReady(userId, master);
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
    HomeserverClient c = new HomeserverClient(ctx.web, ctx.options.getHomeserverUrl());
    c.masquerade(ctx.options.getAsToken(), userId, deviceId);
    return c;
  }

  private MatrixE2eeImpl ghostEngine(HomeserverClient c) {
    E2eeOptions o =
        new E2eeOptions(ctx.options.getEngine())
            .setRecoveryKeyFile(null)
            .setAccountPassword(null)
            .setMeterRegistry(null);
    return new MatrixE2eeImpl(ctx.vertx, c, o);
  }

  synchronized Ghost acquireIfOpen(String userId) {
    Ghost g = ghosts.get(userId);
    if (g != null) {
      g.acquire();
    }
    return g;
  }

  /** How many ghosts are open. */
  synchronized int size() {
    return ghosts.size();
  }

  /** The open ghosts now. */
  synchronized List<Ghost> open() {
    return new ArrayList<>(ghosts.values());
  }

  /** Closes every ghost's engine (at close); completes when all are closed. */
  List<Future<Void>> closeAll() {
    List<Future<Void>> closes = new ArrayList<>();
    synchronized (this) {
      for (Ghost g : ghosts.values()) {
        closes.add(g.engine.close());
      }
      ghosts.clear();
    }
    closes.addAll(closingGhosts.values());
    return closes;
  }
}
