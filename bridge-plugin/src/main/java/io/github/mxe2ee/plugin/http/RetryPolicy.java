package io.github.mxe2ee.plugin.http;

import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * When and how long to wait before a failed homeserver request is sent again. Immutable and
 * thread-safe.
 *
 * <ul>
 *   <li>{@code 429} (Client-Server API, "Rate limiting", {@code M_LIMIT_EXCEEDED}): sent again
 *       after the server's {@code retry_after_ms} (body) or {@code Retry-After} (header); without
 *       either, after the backoff below.
 *   <li>Transient failures: connection refused or reset, a connection closed before the answer, a
 *       timeout, and {@code 502}/{@code 503}/{@code 504}: sent again after an exponential backoff
 *       ({@code initialBackoffMs * 2^(attempt-1)}, at most {@code maxBackoffMs}) of which a {@code
 *       jitter} share is random, so that many clients do not retry in step.
 *   <li>Everything else (other 4xx and 5xx, a malformed body): not retried.
 * </ul>
 *
 * A request is tried at most {@code maxAttempts} times and never waits past {@code maxTotalMs} from
 * its first try: a wait that would end later fails at once with the last error. Only idempotent
 * requests are retried: the caller fixes the transaction id of a {@code PUT} before the first try.
 *
 * @param maxAttempts tries in all, at least 1 (1 = no retry)
 * @param initialBackoffMs the first backoff, at least 1 ms
 * @param maxBackoffMs the largest backoff, at least {@code initialBackoffMs}
 * @param maxTotalMs the time from the first try after which no retry is started
 * @param jitter the random share of each backoff, in [0, 1]
 */
public record RetryPolicy(
    int maxAttempts, long initialBackoffMs, long maxBackoffMs, long maxTotalMs, double jitter) {

  /**
   * Default tries: 6, so that a homeserver restart (typically a few seconds of refused connections
   * and 502s behind a proxy) is ridden out with backoffs of 0.5, 1, 2, 4 and 8 s.
   */
  public static final int DEFAULT_MAX_ATTEMPTS = 6;

  /** Default first backoff: 500 ms. */
  public static final long DEFAULT_INITIAL_BACKOFF_MS = 500;

  /** Default largest backoff: 15 s. */
  public static final long DEFAULT_MAX_BACKOFF_MS = 15_000;

  /**
   * Default budget from the first try: 60 s, so that a send fails within about a minute and the
   * caller can report it (a bot's user is waiting), while a typical rate limit of a few seconds is
   * waited out.
   */
  public static final long DEFAULT_MAX_TOTAL_MS = 60_000;

  /** Default random share of a backoff: 0.5. */
  public static final double DEFAULT_JITTER = 0.5;

  /** The defaults above. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(
          DEFAULT_MAX_ATTEMPTS,
          DEFAULT_INITIAL_BACKOFF_MS,
          DEFAULT_MAX_BACKOFF_MS,
          DEFAULT_MAX_TOTAL_MS,
          DEFAULT_JITTER);

  /** No retry at all. */
  public static final RetryPolicy NONE = new RetryPolicy(1, 1, 1, 0, 0);

  /** Validates the fields; the message names the bad one. */
  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
    }
    if (initialBackoffMs < 1) {
      throw new IllegalArgumentException("initialBackoffMs must be >= 1, was " + initialBackoffMs);
    }
    if (maxBackoffMs < initialBackoffMs) {
      throw new IllegalArgumentException(
          "maxBackoffMs must be >= initialBackoffMs, was " + maxBackoffMs);
    }
    if (maxTotalMs < 0) {
      throw new IllegalArgumentException("maxTotalMs must be >= 0, was " + maxTotalMs);
    }
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter);
    }
  }

  /** What to do after a failed try. */
  public enum Verdict {
    /** The server said when: wait {@link HomeserverException#retryAfterMs()}. */
    SERVER_DELAY,
    /** Transient: wait the backoff. */
    BACKOFF,
    /** Not retried. */
    FAIL
  }

  /** Classifies a failure of one try (see the class comment). */
  public static Verdict classify(Throwable failure) {
    if (failure instanceof HomeserverException h) {
      int s = h.statusCode();
      if (s == 429) {
        return h.retryAfterMs() >= 0 ? Verdict.SERVER_DELAY : Verdict.BACKOFF;
      }
      return s == 502 || s == 503 || s == 504 ? Verdict.BACKOFF : Verdict.FAIL;
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof IOException // refused (ConnectException), reset (SocketException), EOF
          || t instanceof TimeoutException
          || t instanceof HttpClosedException) {
        return Verdict.BACKOFF;
      }
      if (t instanceof VertxException v
          && v.getMessage() != null
          && (v.getMessage().contains("timeout") || v.getMessage().contains("Connection"))) {
        return Verdict.BACKOFF;
      }
    }
    return Verdict.FAIL;
  }

  /**
   * The backoff before try {@code attempt + 1} after a transient failure of try {@code attempt}
   * (1-based).
   *
   * @param random a value in [0, 1) that picks the jittered share
   */
  public long backoffMs(int attempt, double random) {
    int shift = Math.min(attempt - 1, 30);
    long full = Math.min(maxBackoffMs, initialBackoffMs << shift);
    long fixed = Math.round(full * (1 - jitter));
    return fixed + Math.round((full - fixed) * random);
  }
}
