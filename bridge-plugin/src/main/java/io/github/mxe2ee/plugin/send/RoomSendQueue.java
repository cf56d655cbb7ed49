package io.github.mxe2ee.plugin.send;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs the jobs (sends, encrypts) of one room one at a time, in the order they were submitted; jobs
 * of different rooms run independently. So concurrent sends to one room share its key-sharing round
 * (the first job shares the room key, the next ones find it shared) and reach the homeserver in
 * call order, each {@code PUT} answered before the next starts.
 *
 * <p>Bound: at most {@link #MAX_QUEUED_PER_ROOM} jobs wait per room; more fail at once with {@link
 * SendQueueFullException}. Thread-safe; a job's future may complete on any thread.
 */
public final class RoomSendQueue {
  /**
   * Jobs waiting per room: 1,000. At one {@code PUT} per round trip (a few ms on a local
   * homeserver, up to a rate limit's wait on a busy one) this is seconds to minutes of backlog; a
   * caller faster than that is told at once instead of growing the queue without end.
   */
  public static final int MAX_QUEUED_PER_ROOM = 1000;

  private final Map<String, ArrayDeque<Runnable>> waiting = new HashMap<>();

  /**
   * Runs {@code job} after the room's earlier jobs have completed (successfully or not).
   *
   * @return the job's result; a {@link SendQueueFullException} if the room's queue is full
   */
  public <T> Future<T> submit(String roomId, Supplier<Future<T>> job) {
    Promise<T> result = Promise.promise();
    Runnable run =
        () -> {
          Future<T> f;
          try {
            f = job.get();
          } catch (RuntimeException e) {
            f = Future.failedFuture(e);
          }
          f.onComplete(
              ar -> {
                next(roomId);
                result.handle(ar);
              });
        };
    boolean runNow;
    synchronized (this) {
      ArrayDeque<Runnable> q = waiting.get(roomId);
      if (q == null) {
        waiting.put(roomId, new ArrayDeque<>());
        runNow = true;
      } else if (q.size() >= MAX_QUEUED_PER_ROOM) {
        return Future.failedFuture(new SendQueueFullException(roomId));
      } else {
        q.add(run);
        runNow = false;
      }
    }
    if (runNow) {
      run.run();
    }
    return result.future();
  }

  /** Jobs of the room waiting behind the running one. */
  public synchronized int waiting(String roomId) {
    ArrayDeque<Runnable> q = waiting.get(roomId);
    return q == null ? 0 : q.size();
  }

  private void next(String roomId) {
    Runnable r;
    synchronized (this) {
      ArrayDeque<Runnable> q = waiting.get(roomId);
      r = q == null ? null : q.poll();
      if (r == null) {
        waiting.remove(roomId);
      }
    }
    if (r != null) {
      r.run();
    }
  }
}
