package io.github.mxe2ee.plugin.latekeys;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.AvailableSessions;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.store.CryptoStore;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The plugin's late-key handling (docs/PLUGIN.md, "Late keys"): holds the events whose key is
 * missing ({@link HeldEvents}), retries them when {@link OlmMachine#takeAvailableSessions()} names
 * their session (or, once after each start, all of them) and returns them decrypted for
 * re-emission; counts undecryptable events by cause.
 *
 * <p>Re-emission: a held event is decrypted once its key arrives and handed back by {@link #retry}
 * with the same {@code mxe2ee} object as a decrypted sync event plus {@code late: true} and its
 * {@code room_id}. With {@code releaseNow} it is released from the store before it is handed back
 * (at most once, also across a crash); otherwise it stays stored, marked in flight, until {@link
 * #complete()} (at least once across a crash: a restart retries it; exactly once without one). An
 * event is never handed back twice by one run.
 *
 * <p>Not thread-safe, except {@link #stats()}: used on the plugin's single worker.
 */
public final class LateKeys {
  /** Field of a held event's stored JSON that marks it as history (see onUndecryptable). */
  static final String HISTORY_MARK = "mxe2ee_history";

  /** The causes for which the key may still arrive: such events are held. */
  static final Set<DecryptionFailure> TEMPORARY =
      EnumSet.of(DecryptionFailure.MISSING_SESSION, DecryptionFailure.UNKNOWN_INDEX);

  /** The cause of an event whose processing threw (a store or engine failure). */
  public static final String PROCESSING_ERROR = "PROCESSING_ERROR";

  private static final System.Logger LOG = System.getLogger(LateKeys.class.getName());

  private final HeldEvents held;
  private final Map<String, AtomicLong> byCause = new ConcurrentHashMap<>();
  private final AtomicLong reEmitted = new AtomicLong();
  private volatile int heldNow;
  private volatile long heldDropped;

  /** Handed back by {@link #retry} without release, waiting for {@link #complete()}. */
  private final Set<String> inFlight = new LinkedHashSet<>();

  private boolean retriedAll;

  private LateKeys(HeldEvents held) {
    this.held = held;
    for (DecryptionFailure f : DecryptionFailure.values()) {
      byCause.put(f.name(), new AtomicLong());
    }
    byCause.put(PROCESSING_ERROR, new AtomicLong());
    heldNow = held.size();
  }

  /** Loads the held events of {@code store}. Runs on the worker. */
  public static LateKeys open(CryptoStore store, LateKeyOptions options) {
    return new LateKeys(HeldEvents.load(store, options));
  }

  /**
   * Counts one event delivered undecryptable; {@code cause} is a failure name or {@value
   * #PROCESSING_ERROR}.
   */
  public void countUndecryptable(String cause) {
    byCause.computeIfAbsent(cause, c -> new AtomicLong()).incrementAndGet();
  }

  /**
   * A timeline event could not be decrypted: it is counted and, if its key may still arrive, held
   * (saved before this returns).
   *
   * @return true if held: it will be re-emitted when its key arrives (within the bounds)
   */
  public boolean onUndecryptable(String roomId, JsonObject event, DecryptionFailure cause) {
    return onUndecryptable(roomId, event, cause, false);
  }

  /**
   * As {@link #onUndecryptable(String, JsonObject, DecryptionFailure)}; {@code history} marks an
   * event of an initial sync (the room's past as the bot first saw it): when it is re-emitted, its
   * {@code mxe2ee} object carries {@code history: true}, so a bot that answers messages can tell
   * the past from what was said to it (a key for old history often arrives much later, from a key
   * backup after a store loss).
   */
  public boolean onUndecryptable(
      String roomId, JsonObject event, DecryptionFailure cause, boolean history) {
    countUndecryptable(cause.name());
    if (!TEMPORARY.contains(cause)) {
      return false;
    }
    try {
      return held.hold(roomId, history ? event.copy().put(HISTORY_MARK, true) : event);
    } finally {
      refreshGauges();
    }
  }

  /**
   * A timeline event decrypted (for example in a batch replayed after a restart, once its key had
   * arrived): if it was held, it is released, since the bot has it now.
   */
  public void onDecrypted(JsonObject event) {
    if (event.getValue("event_id") instanceof String id && held.contains(id)) {
      held.release(List.of(id));
      inFlight.remove(id);
      refreshGauges();
    }
  }

  /**
   * Retries the held events whose sessions became available (all of them on the first call after a
   * start, and those handed back before without {@link #complete()}).
   *
   * @param decorate turns an event and its successful result into the event the bot sees
   * @param releaseNow true to release them before returning (at most once); false to keep them
   *     until {@link #complete()} (at least once)
   * @return the re-emitted events, oldest first
   */
  public List<JsonObject> retry(
      OlmMachine machine, Function<DecryptedEvent, JsonObject> decorate, boolean releaseNow) {
    AvailableSessions available = machine.takeAvailableSessions();
    if (!retriedAll) {
      available = new AvailableSessions(Set.of(), true);
      retriedAll = true;
    }
    Map<String, HeldEvents.Entry> candidates = new LinkedHashMap<>();
    for (HeldEvents.Entry e : held.entries()) {
      if (inFlight.contains(e.eventId())) {
        candidates.put(e.eventId(), e);
      }
    }
    inFlight.clear();
    if (!available.isEmpty()) {
      for (HeldEvents.Entry e : held.candidates(available)) {
        candidates.put(e.eventId(), e);
      }
    }
    List<JsonObject> out = new ArrayList<>();
    List<String> done = new ArrayList<>();
    List<String> gone = new ArrayList<>();
    for (HeldEvents.Entry e : candidates.values()) {
      JsonObject event = held.event(e).orElse(null);
      if (event == null) {
        gone.add(e.eventId());
        continue;
      }
      DecryptionResult result;
      try {
        ObjectNode node = toNode(event);
        result = machine.decryptRoomEvent(e.roomId(), node);
      } catch (RuntimeException ex) {
        LOG.log(
            System.Logger.Level.WARNING,
            "late keys: held event {0} in {1} not retried: {2}",
            e.eventId(),
            e.roomId(),
            ex.getClass().getSimpleName());
        continue;
      }
      if (result instanceof DecryptionResult.Decrypted d) {
        boolean history = Boolean.TRUE.equals(event.remove(HISTORY_MARK));
        JsonObject late = decorate.apply(new DecryptedEvent(e.roomId(), event, d));
        late.put("room_id", e.roomId());
        late.getJsonObject("mxe2ee").put("late", true);
        if (history) {
          late.getJsonObject("mxe2ee").put("history", true);
        }
        out.add(late);
        done.add(e.eventId());
      } else if (result instanceof DecryptionResult.UnableToDecrypt u
          && !TEMPORARY.contains(u.reason())) {
        // The key arrived and still cannot open it (withheld, replayed, forged): not held longer.
        gone.add(e.eventId());
      }
    }
    if (releaseNow) {
      gone.addAll(done);
    } else {
      inFlight.addAll(done);
    }
    held.release(gone);
    reEmitted.addAndGet(done.size());
    refreshGauges();
    return out;
  }

  /** The events handed back by the last {@link #retry} without release were delivered: released. */
  public void complete() {
    if (!inFlight.isEmpty()) {
      held.release(new ArrayList<>(inFlight));
      inFlight.clear();
      refreshGauges();
    }
  }

  /**
   * Of the events handed back without release, those with these ids were delivered: released.
   * Others stay held and in flight (offered again by the next {@link #retry}).
   */
  public void complete(java.util.Collection<String> eventIds) {
    List<String> ids = new ArrayList<>(eventIds);
    if (!ids.isEmpty()) {
      held.release(ids);
      inFlight.removeAll(ids);
      refreshGauges();
    }
  }

  /** All counters at 0: the stats before {@link io.github.mxe2ee.plugin.MatrixE2ee#start()}. */
  public static LateKeyStats emptyStats() {
    Map<String, Long> causes = new LinkedHashMap<>();
    for (DecryptionFailure f : DecryptionFailure.values()) {
      causes.put(f.name(), 0L);
    }
    causes.put(PROCESSING_ERROR, 0L);
    return new LateKeyStats(causes, 0, 0, 0);
  }

  /** The counters now; safe from any thread. */
  public LateKeyStats stats() {
    Map<String, Long> causes = new LinkedHashMap<>();
    byCause.forEach((k, v) -> causes.put(k, v.get()));
    return new LateKeyStats(causes, heldNow, heldDropped, reEmitted.get());
  }

  private void refreshGauges() {
    heldNow = held.size();
    heldDropped = held.dropped();
  }

  private static ObjectNode toNode(JsonObject event) {
    try {
      return (ObjectNode)
          new com.fasterxml.jackson.databind.ObjectMapper().readTree(event.encode());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("held event is not JSON", e);
    }
  }

  /**
   * A held event that decrypted.
   *
   * @param roomId its room
   * @param event the event as held (encrypted)
   * @param result the machine's result
   */
  public record DecryptedEvent(
      String roomId, JsonObject event, DecryptionResult.Decrypted result) {}
}
