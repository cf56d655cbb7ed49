package io.github.mxe2ee.plugin.bot;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * Options of {@link SyncLoop}, in the Vert.x style: defaults named by {@code DEFAULT_*} constants,
 * a copy constructor and fluent setters. Not thread-safe; {@link SyncLoop#create} takes a copy.
 */
public class SyncLoopOptions {
  /** Long-poll duration of each {@code /sync} after the first: 30 s. */
  public static final long DEFAULT_TIMEOUT_MS = 30_000;

  /** First pause after a failed sync: 1 s. */
  public static final long DEFAULT_INITIAL_BACKOFF_MS = 1_000;

  /** Longest pause between failed syncs: 60 s (doubling from the initial one). */
  public static final long DEFAULT_MAX_BACKOFF_MS = 60_000;

  /**
   * Share of each pause drawn at random (0.5: between half and all of it), so that many bots
   * restarted together do not retry in step.
   */
  public static final double DEFAULT_JITTER = 0.5;

  /** Timeline events per room per response: 50. */
  public static final int DEFAULT_TIMELINE_LIMIT = 50;

  private long timeoutMs = DEFAULT_TIMEOUT_MS;
  private long initialBackoffMs = DEFAULT_INITIAL_BACKOFF_MS;
  private long maxBackoffMs = DEFAULT_MAX_BACKOFF_MS;
  private double jitter = DEFAULT_JITTER;
  private JsonObject filter = defaultFilter();

  /** Options with every default. */
  public SyncLoopOptions() {}

  /** A copy of {@code other}. */
  public SyncLoopOptions(SyncLoopOptions other) {
    this.timeoutMs = other.timeoutMs;
    this.initialBackoffMs = other.initialBackoffMs;
    this.maxBackoffMs = other.maxBackoffMs;
    this.jitter = other.jitter;
    this.filter = other.filter == null ? null : other.filter.copy();
  }

  /**
   * The default filter (Client-Server API, "Filtering"), which keeps responses small: no presence,
   * no global or room account data, no ephemeral events (typing, receipts), {@value
   * #DEFAULT_TIMELINE_LIMIT} timeline events per room, members lazy-loaded. To-device messages and
   * the E2EE sections are not filterable and always come.
   */
  public static JsonObject defaultFilter() {
    JsonObject none = new JsonObject().put("not_types", new JsonArray().add("*"));
    return new JsonObject()
        .put("presence", none.copy())
        .put("account_data", none.copy())
        .put(
            "room",
            new JsonObject()
                .put("account_data", none.copy())
                .put("ephemeral", none.copy())
                .put("timeline", new JsonObject().put("limit", DEFAULT_TIMELINE_LIMIT))
                .put("state", new JsonObject().put("lazy_load_members", true)));
  }

  /** Long-poll duration in ms. */
  public long getTimeoutMs() {
    return timeoutMs;
  }

  /** Sets the long-poll duration in ms (0 or more). */
  public SyncLoopOptions setTimeoutMs(long timeoutMs) {
    if (timeoutMs < 0) {
      throw new IllegalArgumentException("timeoutMs must be >= 0");
    }
    this.timeoutMs = timeoutMs;
    return this;
  }

  /** First pause after a failure, in ms. */
  public long getInitialBackoffMs() {
    return initialBackoffMs;
  }

  /** Sets the first pause after a failure, in ms (at least 1). */
  public SyncLoopOptions setInitialBackoffMs(long initialBackoffMs) {
    if (initialBackoffMs < 1) {
      throw new IllegalArgumentException("initialBackoffMs must be >= 1");
    }
    this.initialBackoffMs = initialBackoffMs;
    return this;
  }

  /** Longest pause between failures, in ms. */
  public long getMaxBackoffMs() {
    return maxBackoffMs;
  }

  /** Sets the longest pause between failures, in ms (at least 1). */
  public SyncLoopOptions setMaxBackoffMs(long maxBackoffMs) {
    if (maxBackoffMs < 1) {
      throw new IllegalArgumentException("maxBackoffMs must be >= 1");
    }
    this.maxBackoffMs = maxBackoffMs;
    return this;
  }

  /** Share of each pause drawn at random. */
  public double getJitter() {
    return jitter;
  }

  /** Sets the share of each pause drawn at random, in [0, 1]. */
  public SyncLoopOptions setJitter(double jitter) {
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new IllegalArgumentException("jitter must be in [0, 1]");
    }
    this.jitter = jitter;
    return this;
  }

  /** The inline filter sent with each sync, or null for none. */
  public JsonObject getFilter() {
    return filter == null ? null : filter.copy();
  }

  /** Sets the inline filter sent with each sync; null sends none (everything comes). */
  public SyncLoopOptions setFilter(JsonObject filter) {
    this.filter = filter == null ? null : filter.copy();
    return this;
  }

  /** The pause before retry number {@code failures} (1 = first), without jitter. */
  long backoffMs(int failures) {
    long d = initialBackoffMs;
    for (int i = 1; i < failures && d < maxBackoffMs; i++) {
      d *= 2;
    }
    return Math.min(d, maxBackoffMs);
  }

  @Override
  public String toString() {
    return "SyncLoopOptions[timeout="
        + timeoutMs
        + "ms, backoff="
        + initialBackoffMs
        + ".."
        + maxBackoffMs
        + "ms, jitter="
        + jitter
        + ", filter="
        + (filter == null ? "none" : "set")
        + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SyncLoopOptions x
        && x.timeoutMs == timeoutMs
        && x.initialBackoffMs == initialBackoffMs
        && x.maxBackoffMs == maxBackoffMs
        && x.jitter == jitter
        && Objects.equals(x.filter, filter);
  }

  @Override
  public int hashCode() {
    return Objects.hash(timeoutMs, initialBackoffMs, maxBackoffMs, jitter);
  }
}
