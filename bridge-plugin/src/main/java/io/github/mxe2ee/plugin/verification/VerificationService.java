package io.github.mxe2ee.plugin.verification;

import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.sas.CancelCode;
import io.github.mxe2ee.sas.SasEmoji;
import io.github.mxe2ee.sas.SasState;
import io.github.mxe2ee.sas.SasVerification;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Applies the verification policy to the machine's SAS flows and publishes them as {@link
 * Verification} values (docs/VERIFICATION.md, "Through the plugin"). After each machine call that
 * may move a flow (a sync, a send round, a user action, a periodic tick) the plugin calls {@link
 * #settle()}: on the machine's worker it accepts requests the {@link VerificationOptions} allow,
 * cancels the others with {@code m.user}, cancels comparisons older than the comparison timeout
 * with {@code m.timeout}, sends what that queued, and hands every flow whose state changed to the
 * handler, on the caller's context.
 *
 * <p>Machine calls run through the plugin's worker ({@link Worker}), one at a time; the fields
 * below are only touched there. Used by the plugin's implementation; not a stable API.
 */
public final class VerificationService implements Verification.Actions {
  private static final System.Logger LOG = System.getLogger(VerificationService.class.getName());

  /** How the plugin runs a call on its single machine worker (fails after close). */
  @FunctionalInterface
  public interface Worker {
    /** Runs {@code call} on the worker; {@code what} names it in a failure. */
    <T> Future<T> run(String what, Callable<T> call);
  }

  private final Worker worker;
  private final OlmMachine machine;
  private final Supplier<Future<Void>> drain;
  private final VerificationOptions options;
  private final String ownUserId;
  private final java.util.function.LongSupplier nanoTime;
  private volatile Handler<Verification> handler;
  private volatile int live;

  /** Last published state per flow key; worker only. */
  private final Map<String, SasState> published = new HashMap<>();

  /** Flows the policy already decided; worker only. */
  private final Set<String> decided = new HashSet<>();

  /** When each flow started showing its strings (System.nanoTime); worker only. */
  private final Map<String, Long> comparingSince = new HashMap<>();

  /**
   * @param drain sends what the machine queued (the plugin's request pump)
   */
  public VerificationService(
      Worker worker,
      OlmMachine machine,
      Supplier<Future<Void>> drain,
      VerificationOptions options,
      String ownUserId) {
    this(worker, machine, drain, options, ownUserId, System::nanoTime);
  }

  /** As above, with the monotonic clock (nanoseconds) injected: for tests. */
  VerificationService(
      Worker worker,
      OlmMachine machine,
      Supplier<Future<Void>> drain,
      VerificationOptions options,
      String ownUserId,
      java.util.function.LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.worker = worker;
    this.machine = machine;
    this.drain = drain;
    this.options = new VerificationOptions(options);
    this.ownUserId = ownUserId;
  }

  /** Sets the handler that receives each flow whose state changed; null removes it. */
  public void setHandler(Handler<Verification> handler) {
    this.handler = handler;
  }

  /** Whether a flow is live (not ended): the plugin's periodic tick only works then. */
  public boolean hasLiveFlows() {
    return live > 0;
  }

  /**
   * Applies the policy and timeouts, sends what that queued, and publishes state changes.
   *
   * @return completes when done; fails only if the plugin is closed
   */
  public Future<Void> settle() {
    return worker
        .run("verifications", this::pollOnWorker)
        .compose(
            poll -> {
              publish(poll.changed());
              if (!poll.acted()) {
                return Future.<Void>succeededFuture();
              }
              return drain
                  .get()
                  .compose(v -> worker.run("verifications", this::pollOnWorker))
                  .map(
                      again -> {
                        publish(again.changed());
                        return null;
                      });
            });
  }

  /** Every flow the machine knows (live and recently ended), as values. */
  public Future<List<Verification>> list() {
    return worker.run(
        "verifications()",
        () -> {
          List<Verification> out = new ArrayList<>();
          for (SasVerification f : machine.verifications().all()) {
            out.add(snapshot(f));
          }
          return out;
        });
  }

  /**
   * Requests a verification of {@code userId}'s {@code deviceId}: the device's keys are queried
   * first if the machine does not know it yet.
   *
   * @return the new flow, in {@link SasState#REQUESTED}; fails with {@link
   *     IllegalArgumentException} if the server does not know the device
   */
  public Future<Verification> start(String userId, String deviceId) {
    return worker
        .run("startVerification()", () -> machine.device(userId, deviceId).isPresent())
        .compose(
            known -> {
              if (known) {
                return Future.<Void>succeededFuture();
              }
              return worker
                  .run(
                      "startVerification()",
                      () -> {
                        machine.updateTrackedUsers(List.of(userId));
                        return null;
                      })
                  .compose(v -> drain.get());
            })
        .compose(
            v ->
                worker.run(
                    "startVerification()",
                    () -> {
                      SasVerification f = machine.startVerification(userId, deviceId);
                      decided.add(key(f));
                      LOG.log(
                          System.Logger.Level.INFO,
                          "verification {0}: requested with {1}/{2}",
                          f.flowId(),
                          userId,
                          deviceId);
                      return snapshot(f);
                    }))
        .compose(s -> drain.get().compose(v -> settle()).map(s));
  }

  @Override
  public Future<Void> confirm(Verification v) {
    return act(v, "confirm()", SasVerification::confirm);
  }

  @Override
  public Future<Void> mismatch(Verification v) {
    return act(v, "mismatch()", SasVerification::mismatch);
  }

  @Override
  public Future<Void> cancel(Verification v) {
    return act(v, "cancel()", f -> f.cancel(CancelCode.USER));
  }

  private Future<Void> act(
      Verification v, String what, java.util.function.Consumer<SasVerification> action) {
    return worker
        .run(
            what,
            () -> {
              SasVerification f =
                  machine
                      .verifications()
                      .get(v.otherUserId(), v.flowId())
                      .orElseThrow(
                          () -> new IllegalStateException(what + ": no flow " + v.flowId()));
              action.accept(f);
              LOG.log(
                  System.Logger.Level.INFO,
                  "verification {0}: {1} -> {2}",
                  f.flowId(),
                  what,
                  f.state());
              return null;
            })
        .compose(x -> drain.get())
        .compose(x -> settle());
  }

  private record Poll(List<Verification> changed, boolean acted) {}

  /** On the worker: the policy, the comparison timeout, and what changed since last time. */
  private Poll pollOnWorker() {
    boolean acted = false;
    List<Verification> changed = new ArrayList<>();
    Set<String> present = new HashSet<>();
    int liveNow = 0;
    long now = nanoTime.getAsLong();
    for (SasVerification f : machine.verifications().all()) {
      String k = key(f);
      present.add(k);
      if ((f.state() == SasState.REQUEST_RECEIVED || f.state() == SasState.START_RECEIVED)
          && decided.add(k)) {
        acted = true;
        if (options.allows(ownUserId, f.otherUserId())) {
          LOG.log(
              System.Logger.Level.INFO,
              "verification {0}: request from {1}/{2} accepted by the policy",
              f.flowId(),
              f.otherUserId(),
              f.otherDeviceId());
          f.accept();
        } else {
          LOG.log(
              System.Logger.Level.INFO,
              "verification {0}: request from {1}/{2} refused by the policy (m.user)",
              f.flowId(),
              f.otherUserId(),
              f.otherDeviceId());
          f.cancel(CancelCode.USER);
        }
      }
      if (f.state() == SasState.KEYS_EXCHANGED) {
        Long since = comparingSince.putIfAbsent(k, now);
        if (since != null && now - since > options.getComparisonTimeoutMs() * 1_000_000L) {
          LOG.log(
              System.Logger.Level.INFO,
              "verification {0}: not confirmed within {1} ms, cancelled (m.timeout)",
              f.flowId(),
              options.getComparisonTimeoutMs());
          f.cancel(CancelCode.TIMEOUT);
          acted = true;
        }
      } else {
        comparingSince.remove(k);
      }
      if (!f.state().isFinal()) {
        liveNow++;
      }
      if (published.put(k, f.state()) != f.state()) {
        changed.add(snapshot(f));
      }
    }
    published.keySet().retainAll(present);
    decided.retainAll(present);
    comparingSince.keySet().retainAll(present);
    live = liveNow;
    return new Poll(changed, acted);
  }

  private void publish(List<Verification> changed) {
    Handler<Verification> h = handler;
    for (Verification v : changed) {
      if (v.state().isFinal()) {
        LOG.log(
            System.Logger.Level.INFO,
            "verification {0} with {1}/{2}: {3}{4}",
            v.flowId(),
            v.otherUserId(),
            v.otherDeviceId(),
            v.state(),
            v.cancelCode().map(c -> " " + c).orElse(""));
      }
      if (h != null) {
        try {
          h.handle(v);
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "verification handler failed on {0}: {1}",
              v,
              e.toString());
        }
      }
    }
  }

  private Verification snapshot(SasVerification f) {
    List<Verification.Emoji> emoji = new ArrayList<>();
    Optional<List<SasEmoji>> e = f.emoji();
    e.ifPresent(
        list -> list.forEach(x -> emoji.add(new Verification.Emoji(x.symbol(), x.description()))));
    List<Integer> decimals = new ArrayList<>();
    f.decimals()
        .ifPresent(
            d -> {
              for (int n : d) {
                decimals.add(n);
              }
            });
    return new Verification(
        f.flowId(),
        f.otherUserId(),
        f.otherDeviceId(),
        f.state(),
        f.weRequested(),
        emoji,
        decimals,
        f.cancelInfo().map(c -> c.code()).orElse(null),
        this);
  }

  private static String key(SasVerification f) {
    return f.otherUserId() + "\n" + f.flowId();
  }
}
