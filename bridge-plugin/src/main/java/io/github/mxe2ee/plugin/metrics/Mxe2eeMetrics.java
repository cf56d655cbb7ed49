package io.github.mxe2ee.plugin.metrics;

import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.MachineObserver;
import io.github.mxe2ee.machine.MachineStats;
import io.github.mxe2ee.machine.TrustCounters;
import io.github.mxe2ee.plugin.http.RequestListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * The plugin's Micrometer meters (names and tags in {@code docs/METRICS.md}, all prefixed {@value
 * #PREFIX}): events decrypted, undecryptable events by cause, late keys recovered, room keys
 * shared, withheld notices by code, key requests answered and refused, one-time keys on the server,
 * homeserver request latency by endpoint, store save time, and the machine's bound and trust
 * counters.
 *
 * <p>One instance serves one {@link io.github.mxe2ee.plugin.MatrixE2ee}: the plugin feeds it (its
 * {@link #machineObserver()} is the machine's {@link MachineObserver}, its {@link
 * #requestListener()} the client's {@link RequestListener}) and {@link #bindTo} registers the
 * meters. Tags never carry room, user, device, session or event ids: every tag value comes from a
 * fixed set (causes, withheld codes, endpoint names, outcomes), so the number of time series is
 * bounded whatever remote parties send.
 *
 * <p>Thread-safe: the machine's worker, the event loop and a scraping thread may call it at once.
 * The bound counters are read from the snapshot the machine hands over after each step, never from
 * the machine itself (which is single-threaded).
 */
public final class Mxe2eeMetrics implements MeterBinder {
  /** Prefix of every meter name. */
  public static final String PREFIX = "mxe2ee.";

  /** Counter: room events decrypted. */
  public static final String EVENTS_DECRYPTED = PREFIX + "events.decrypted";

  /** Counter, tag {@code cause}: room events that could not be decrypted. */
  public static final String EVENTS_UNDECRYPTABLE = PREFIX + "events.undecryptable";

  /** Counter: events first undecryptable and decrypted once their key arrived later. */
  public static final String LATE_KEYS_RECOVERED = PREFIX + "late.keys.recovered";

  /** Counter: devices that received a room key (acknowledged by the homeserver). */
  public static final String ROOM_KEYS_SHARED = PREFIX + "room.keys.shared";

  /** Counter, tag {@code code}: {@code m.room_key.withheld} notices sent, by device. */
  public static final String WITHHELD_SENT = PREFIX + "withheld.sent";

  /** Counter: key requests of our own verified devices answered with the key. */
  public static final String KEY_REQUESTS_ANSWERED = PREFIX + "key.requests.answered";

  /** Counter, tag {@code code}: key requests refused with a withheld notice. */
  public static final String KEY_REQUESTS_REFUSED = PREFIX + "key.requests.refused";

  /** Gauge, tag {@code algorithm}: one-time keys the server holds, from the last sync. */
  public static final String ONE_TIME_KEYS = PREFIX + "one.time.keys";

  /** Timer, tags {@code endpoint}, {@code method}, {@code outcome}: homeserver requests. */
  public static final String REQUESTS = PREFIX + "requests";

  /** Timer, tag {@code outcome}: each machine step's atomic store save. */
  public static final String STORE_SAVE = PREFIX + "store.save";

  /** Function counters, tag {@code bound}: the machine's bound counters ({@link MachineStats}). */
  public static final String BOUNDS = PREFIX + "bounds";

  /** Function counter: devices whose keys contradicted the keys bound to their id (refused). */
  public static final String TRUST_REFUSED_DEVICE_KEYS = PREFIX + "trust.refused.device.keys";

  /** Function counter: cross-signing master keys that changed for a known user. */
  public static final String TRUST_IDENTITY_CHANGES = PREFIX + "trust.identity.changes";

  /** The one-time key algorithm reported as a gauge (the others a server lists are ignored). */
  static final Set<String> OTK_ALGORITHMS = Set.of("signed_curve25519");

  /** Causes of undecryptable events the plugin adds to {@link DecryptionFailure}'s values. */
  static final Set<String> PLUGIN_CAUSES = Set.of("PROCESSING_ERROR");

  private static final Map<String, ToLongFunction<MachineStats>> BOUND_FIELDS =
      Map.of(
          "key_request_replies_dropped", MachineStats::keyRequestRepliesDropped,
          "malformed_ids_dropped", MachineStats::malformedIdsDropped,
          "withheld_pruned", MachineStats::withheldPruned,
          "olm_payloads_rejected", MachineStats::olmPayloadsRejected,
          "olm_sessions_refused", MachineStats::olmSessionsRefused,
          "unwedges_refused", MachineStats::unwedgesRefused,
          "key_requests_not_queued", MachineStats::keyRequestsNotQueued,
          "devices_refused", MachineStats::devicesRefused,
          "duplicates_ignored", MachineStats::duplicatesIgnored,
          "events_failed", MachineStats::eventsFailed);

  private static final MachineStats ZERO = new MachineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  private volatile MeterRegistry registry;
  private volatile MachineStats stats = ZERO;
  private volatile TrustCounters trust;
  private final Map<String, AtomicLong> oneTimeKeys = new ConcurrentHashMap<>();

  /** Metrics not yet bound to a registry; {@link #bindTo} them before use. */
  public Mxe2eeMetrics() {}

  /**
   * Registers every meter on {@code registry}. Call once per instance; meters with tags that only
   * appear later (a new cause, code or endpoint) are registered when first counted.
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    this.registry = registry;
    Counter.builder(EVENTS_DECRYPTED)
        .description("Room events decrypted")
        .baseUnit("events")
        .register(registry);
    for (DecryptionFailure cause : DecryptionFailure.values()) {
      undecryptableCounter(cause.name());
    }
    Counter.builder(LATE_KEYS_RECOVERED)
        .description("Undecryptable events decrypted after their key arrived")
        .baseUnit("events")
        .register(registry);
    Counter.builder(ROOM_KEYS_SHARED)
        .description("Devices that received a room key")
        .baseUnit("devices")
        .register(registry);
    Counter.builder(KEY_REQUESTS_ANSWERED)
        .description("Key requests of own verified devices answered")
        .register(registry);
    for (String algorithm : OTK_ALGORITHMS) {
      AtomicLong value = oneTimeKeys.computeIfAbsent(algorithm, a -> new AtomicLong());
      Gauge.builder(ONE_TIME_KEYS, value, AtomicLong::get)
          .description("One-time keys the homeserver holds for this device (last sync)")
          .tag("algorithm", algorithm)
          .baseUnit("keys")
          .register(registry);
    }
    storeTimer(true);
    for (Map.Entry<String, ToLongFunction<MachineStats>> field : BOUND_FIELDS.entrySet()) {
      ToLongFunction<MachineStats> read = field.getValue();
      FunctionCounter.builder(BOUNDS, this, m -> read.applyAsLong(m.stats))
          .description("How often a machine bound (MachineLimits) applied")
          .tag("bound", field.getKey())
          .register(registry);
    }
    FunctionCounter.builder(
            TRUST_REFUSED_DEVICE_KEYS, this, m -> m.trust == null ? 0 : m.trust.refusedDeviceKeys())
        .description("Devices refused for keys other than those bound to their id")
        .register(registry);
    FunctionCounter.builder(
            TRUST_IDENTITY_CHANGES, this, m -> m.trust == null ? 0 : m.trust.identityChanges())
        .description("Cross-signing master keys that changed for a known user")
        .register(registry);
  }

  /** The registry the meters are on, or null before {@link #bindTo}. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The machine's trust counters, read by the trust function counters. */
  public void bindTrustCounters(TrustCounters counters) {
    this.trust = counters;
  }

  /** The observer to set on the machine ({@code OlmMachine.setObserver}). */
  public MachineObserver machineObserver() {
    return new Observer();
  }

  /** The listener to set on the homeserver client. */
  public RequestListener requestListener() {
    return this::requestCompleted;
  }

  /** Counts one decrypted room event. */
  public void eventDecrypted() {
    MeterRegistry r = registry;
    if (r != null) {
      r.counter(EVENTS_DECRYPTED).increment();
    }
  }

  /**
   * Counts one undecryptable room event.
   *
   * @param cause a {@link DecryptionFailure} name, or {@code PROCESSING_ERROR}; anything else is
   *     counted as {@code OTHER} (tags come from a fixed set)
   */
  public void undecryptable(String cause) {
    if (registry != null) {
      undecryptableCounter(cause).increment();
    }
  }

  /** Counts one event decrypted after its key arrived late (re-emitted). */
  public void lateKeyRecovered() {
    MeterRegistry r = registry;
    if (r != null) {
      r.counter(LATE_KEYS_RECOVERED).increment();
    }
  }

  /**
   * Records a sync's {@code device_one_time_keys_count}; algorithms other than {@code
   * signed_curve25519} and absent maps are ignored (the gauge keeps its last value).
   */
  public void oneTimeKeyCounts(Map<String, Integer> counts) {
    if (counts == null) {
      return;
    }
    for (String algorithm : OTK_ALGORITHMS) {
      Integer n = counts.get(algorithm);
      if (n != null) {
        oneTimeKeys.computeIfAbsent(algorithm, a -> new AtomicLong()).set(Math.max(0, n));
      }
    }
  }

  /** Times one homeserver request; see {@link RequestListener#completed}. */
  public void requestCompleted(String method, String path, int status, long nanos) {
    MeterRegistry r = registry;
    if (r == null) {
      return;
    }
    Timer.builder(REQUESTS)
        .description("Homeserver requests by endpoint (sync: the long poll included)")
        .tag("endpoint", Endpoints.of(path))
        .tag("method", Endpoints.method(method))
        .tag("outcome", Endpoints.outcome(status))
        .register(r)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter undecryptableCounter(String cause) {
    String tag = cause;
    if (!PLUGIN_CAUSES.contains(cause) && !isFailure(cause)) {
      tag = "OTHER";
    }
    return Counter.builder(EVENTS_UNDECRYPTABLE)
        .description("Room events that could not be decrypted, by cause")
        .baseUnit("events")
        .tag("cause", tag)
        .register(registry);
  }

  private static boolean isFailure(String cause) {
    for (DecryptionFailure f : DecryptionFailure.values()) {
      if (f.name().equals(cause)) {
        return true;
      }
    }
    return false;
  }

  private Timer storeTimer(boolean succeeded) {
    return Timer.builder(STORE_SAVE)
        .description("Atomic store save of one machine step")
        .tag("outcome", succeeded ? "success" : "failure")
        .register(registry);
  }

  /** Counts what the machine reports; tags are codes the machine itself chose. */
  private final class Observer implements MachineObserver {
    @Override
    public void stepSaved(long nanos, boolean succeeded, MachineStats snapshot) {
      stats = snapshot;
      if (registry != null) {
        storeTimer(succeeded).record(nanos, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public void roomKeysShared(String roomId, int devices) {
      MeterRegistry r = registry;
      if (r != null) {
        r.counter(ROOM_KEYS_SHARED).increment(devices);
      }
    }

    @Override
    public void withheldSent(String code, int devices) {
      MeterRegistry r = registry;
      if (r != null) {
        Counter.builder(WITHHELD_SENT)
            .description("m.room_key.withheld notices sent, by code")
            .tag("code", code)
            .register(r)
            .increment(devices);
      }
    }

    @Override
    public void keyRequestAnswered(String userId, String deviceId) {
      MeterRegistry r = registry;
      if (r != null) {
        r.counter(KEY_REQUESTS_ANSWERED).increment();
      }
    }

    @Override
    public void keyRequestRefused(String code) {
      MeterRegistry r = registry;
      if (r != null) {
        Counter.builder(KEY_REQUESTS_REFUSED)
            .description("Key requests refused, by withheld code")
            .tag("code", code)
            .register(r)
            .increment();
      }
    }
  }
}
