package io.github.mxe2ee.plugin.http;

import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Runs a homeserver request with a {@link RetryPolicy}: the request (a supplier that sends it once)
 * is sent again after each retryable failure until it succeeds, fails for good, or the policy's
 * tries or time budget are used up; then the future fails with the last failure. Waits are Vert.x
 * timers: nothing blocks. Thread-safe.
 *
 * <p>The supplier must make a repeated send harmless: the same transaction id, the same body (for a
 * room event, the same ciphertext: see {@link io.github.mxe2ee.plugin.MatrixE2ee#send}).
 */
public final class Retrier {
  private static final System.Logger LOG = System.getLogger(Retrier.class.getName());

  private final Vertx vertx;
  private final RetryPolicy policy;

  /**
   * @param vertx for the timers
   * @param policy when to retry
   */
  public Retrier(Vertx vertx, RetryPolicy policy) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /** The policy. */
  public RetryPolicy policy() {
    return policy;
  }

  /**
   * Sends {@code attempt} until it succeeds or the policy gives up.
   *
   * @param what names the request in logs (an endpoint or request type; never a secret)
   * @param attempt sends the request once; called again for each retry
   */
  public <T> Future<T> run(String what, Supplier<Future<T>> attempt) {
    Promise<T> result = Promise.promise();
    tryOnce(what, attempt, 1, System.nanoTime(), result);
    return result.future();
  }

  private <T> void tryOnce(
      String what, Supplier<Future<T>> attempt, int n, long startNanos, Promise<T> result) {
    Future<T> f;
    try {
      f = attempt.get();
    } catch (RuntimeException e) {
      result.fail(e);
      return;
    }
    f.onComplete(
        ar -> {
          if (ar.succeeded()) {
            result.complete(ar.result());
            return;
          }
          Throwable cause = ar.cause();
          RetryPolicy.Verdict verdict = RetryPolicy.classify(cause);
          if (verdict == RetryPolicy.Verdict.FAIL || n >= policy.maxAttempts()) {
            result.fail(cause);
            return;
          }
          long delay =
              verdict == RetryPolicy.Verdict.SERVER_DELAY
                  ? ((HomeserverException) cause).retryAfterMs()
                  : policy.backoffMs(n, ThreadLocalRandom.current().nextDouble());
          long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
          if (elapsedMs + delay > policy.maxTotalMs()) {
            LOG.log(
                System.Logger.Level.WARNING,
                "{0}: giving up after {1} tries ({2} ms); a wait of {3} ms would pass the budget",
                what,
                n,
                elapsedMs,
                delay);
            result.fail(cause);
            return;
          }
          LOG.log(
              System.Logger.Level.INFO,
              "{0}: try {1} failed ({2}), again in {3} ms",
              what,
              n,
              cause.getClass().getSimpleName()
                  + (cause instanceof HomeserverException h ? " " + h.statusCode() : ""),
              delay);
          if (delay <= 0) {
            tryOnce(what, attempt, n + 1, startNanos, result);
          } else {
            vertx.setTimer(delay, t -> tryOnce(what, attempt, n + 1, startNanos, result));
          }
        });
  }
}
