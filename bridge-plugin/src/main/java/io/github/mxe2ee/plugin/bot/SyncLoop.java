package io.github.mxe2ee.plugin.bot;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ready {@code /sync} loop for bots (Client-Server API, "Syncing"): resumes from the sync token
 * stored with the crypto state, decrypts each response through the plugin and hands it to a {@link
 * SyncHandler}, with a small default filter and backoff with jitter on errors.
 *
 * <h2>Guarantee</h2>
 *
 * Each cycle of the loop is:
 *
 * <ol>
 *   <li>read the stored token and pending batch; if a batch is pending (an earlier run stopped
 *       before its handler finished), decrypt it again and hand it to the handler with {@link
 *       SyncBatch#replayed()} set, then mark it done;
 *   <li>{@code GET /sync?since=token};
 *   <li>in ONE store transaction: the response's to-device messages, device-list changes and key
 *       counts, its {@code next_batch} as the new token, and its room part (still encrypted) as the
 *       pending batch;
 *   <li>decrypt the room part, retry the events held for a late key whose key arrived ({@link
 *       SyncBatch#late()}), and hand the batch to the handler; wait for it;
 *   <li>mark the pending batch done (a second transaction) and release its late events.
 * </ol>
 *
 * Hence, whenever the process stops (crash, {@code kill -9}, power loss):
 *
 * <ul>
 *   <li><b>crypto: at most once, and never lost.</b> A response's to-device messages (room keys,
 *       Olm messages, key requests) are applied exactly once if step 3 committed and not at all if
 *       it did not; then the same {@code since} is asked again and the server, which deletes
 *       to-device messages only once a later token is used, sends them again.
 *   <li><b>handler: at least once, and once per completed batch.</b> Every room event of a
 *       committed response reaches the handler: in step 4, or after a restart in step 1 (replayed).
 *       An event reaches the handler a second time only if the process stopped between step 3 and
 *       the end of step 5 for its batch; a batch marked done is never handed over again.
 *   <li><b>effects: exactly once with idempotent sends.</b> A handler that sends its replies with
 *       {@link MatrixE2ee#send(String, String, io.vertx.core.json.JsonObject, String)} and a
 *       transaction id derived from the event it answers (as the example echo bot does) produces
 *       each reply once: a replayed send reuses the id and the homeserver returns the first event
 *       (Synapse keeps transaction ids per device for 24 hours; a restart within that time, with
 *       the same device id, is covered).
 * </ul>
 *
 * A handler failure is logged and counted ({@link #handlerFailures()}) and the batch is still
 * marked done: one bad event or a refused reply never stops the stream. A failed sync, parse or
 * store step is retried from step 1 after a pause of {@code initialBackoffMs} doubling up to {@code
 * maxBackoffMs}, of which a {@code jitter} share is random. Timeline gaps: with the default filter
 * a room with more than {@value SyncLoopOptions#DEFAULT_TIMELINE_LIMIT} new events in one response
 * arrives {@code limited} (the server drops the older ones); the loop does not back-fill.
 *
 * <p>Threading: start and stop from any thread; the handler runs on the event loop of the Vert.x
 * context that called {@link #start()}. Requires the {@link MatrixE2ee} created by {@link
 * MatrixE2ee#create}, started, with its {@link HomeserverClient} logged in.
 */
public final class SyncLoop {
  private static final System.Logger LOG = System.getLogger(SyncLoop.class.getName());

  private final Vertx vertx;
  private final HomeserverClient client;
  private final MatrixE2eeImpl e2ee;
  private final SyncLoopOptions options;
  private final String filter;
  private final SyncHandler handler;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong handlerFailures = new AtomicLong();
  private final Promise<Void> stoppedPromise = Promise.promise();
  private volatile boolean running;
  private volatile boolean stopped;
  private int failures;

  private SyncLoop(
      Vertx vertx,
      HomeserverClient client,
      MatrixE2eeImpl e2ee,
      SyncLoopOptions options,
      SyncHandler handler) {
    this.vertx = vertx;
    this.client = client;
    this.e2ee = e2ee;
    this.options = options;
    JsonObject f = options.getFilter();
    this.filter = f == null ? null : f.encode();
    this.handler = handler;
  }

  /**
   * Creates a loop; nothing happens until {@link #start()}.
   *
   * @param e2ee the plugin, created by {@link MatrixE2ee#create} and started before {@link
   *     #start()}
   * @throws IllegalArgumentException if {@code e2ee} is another implementation
   */
  public static SyncLoop create(
      Vertx vertx,
      HomeserverClient client,
      MatrixE2ee e2ee,
      SyncLoopOptions options,
      SyncHandler handler) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(handler, "handler");
    if (!(e2ee instanceof MatrixE2eeImpl impl)) {
      throw new IllegalArgumentException("SyncLoop needs the MatrixE2ee of MatrixE2ee.create");
    }
    return new SyncLoop(vertx, client, impl, new SyncLoopOptions(options), handler);
  }

  /**
   * Starts the loop; idempotent.
   *
   * @throws IllegalStateException after {@link #stop()}
   */
  public synchronized SyncLoop start() {
    if (stopped) {
      throw new IllegalStateException("start() after stop()");
    }
    if (!running) {
      running = true;
      vertx.runOnContext(v -> cycle());
    }
    return this;
  }

  /**
   * Stops the loop after the step in flight (a long poll in flight is abandoned when its answer
   * comes); idempotent. What was committed stays committed; a batch whose handler did not finish is
   * handed over again by the next run.
   *
   * @return completes when no step of this loop runs any more
   */
  public Future<Void> stop() {
    stopped = true;
    if (!running) {
      stoppedPromise.tryComplete();
    }
    return stoppedPromise.future();
  }

  /** Batches handed to the handler so far (replayed ones included). */
  public long batches() {
    return batches.get();
  }

  /** Batches whose handler failed so far. */
  public long handlerFailures() {
    return handlerFailures.get();
  }

  private void cycle() {
    if (stopped) {
      running = false;
      stoppedPromise.tryComplete();
      return;
    }
    e2ee.resume()
        .compose(
            resume -> {
              Future<Void> replay = Future.succeededFuture();
              if (resume.pending() != null) {
                boolean initial = resume.pendingInitial();
                replay =
                    e2ee.replayBatch(resume.pending())
                        .compose(
                            body ->
                                handle(
                                    new SyncBatch(
                                        body, resume.token(), initial, true, takeLate(body))))
                        .compose(v -> e2ee.completeBatch());
              }
              return replay.map(resume.token());
            })
        .compose(
            since -> {
              if (stopped) {
                return Future.succeededFuture();
              }
              boolean initial = since == null;
              return client
                  .sync(since, initial ? 0 : options.getTimeoutMs(), filter)
                  .compose(
                      parsed -> {
                        if (stopped) {
                          return Future.succeededFuture();
                        }
                        String next = parsed.body().getString("next_batch");
                        return e2ee.receiveBatch(parsed, initial)
                            .compose(
                                body ->
                                    handle(
                                        new SyncBatch(body, next, initial, false, takeLate(body))))
                            .compose(v -> e2ee.completeBatch());
                      });
            })
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                failures = 0;
                cycle();
                return;
              }
              if (stopped) {
                cycle();
                return;
              }
              failures++;
              long base = options.backoffMs(failures);
              long delay =
                  Math.max(
                      1,
                      base
                          - (long)
                              (base
                                  * options.getJitter()
                                  * ThreadLocalRandom.current().nextDouble()));
              LOG.log(
                  System.Logger.Level.WARNING,
                  "sync failed, retrying: {2} ({0} in a row, next try in {1} ms)",
                  failures,
                  delay,
                  ar.cause().toString());
              vertx.setTimer(delay, t -> cycle());
            });
  }

  /** Removes the re-emitted late events from a body the plugin returned. */
  private static java.util.List<JsonObject> takeLate(JsonObject body) {
    java.util.List<JsonObject> out = new java.util.ArrayList<>();
    if (body.remove(MatrixE2eeImpl.LATE_FIELD) instanceof io.vertx.core.json.JsonArray late) {
      for (Object o : late) {
        if (o instanceof JsonObject e) {
          out.add(e);
        }
      }
    }
    return out;
  }

  /** Runs the handler; its failure is counted and logged, never propagated. */
  private Future<Void> handle(SyncBatch batch) {
    batches.incrementAndGet();
    Future<Void> done;
    try {
      done = handler.handle(batch);
      if (done == null) {
        done = Future.succeededFuture();
      }
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    return done.recover(
        err -> {
          handlerFailures.incrementAndGet();
          LOG.log(
              System.Logger.Level.WARNING,
              "sync handler failed for batch {0}: {1}",
              batch.nextBatch(),
              err.toString());
          return Future.succeededFuture();
        });
  }
}
