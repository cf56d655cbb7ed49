package io.github.mxe2ee.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The observer calls of the step in progress, held until the step's save succeeded (then delivered
 * in order) or failed (then dropped), so a {@link MachineObserver} never counts work the store does
 * not hold. Machine thread only; lives as long as the machine (survives reloads).
 */
final class StepEvents {
  private static final System.Logger LOG = System.getLogger(StepEvents.class.getName());

  private final List<Consumer<MachineObserver>> pending = new ArrayList<>();
  private volatile MachineObserver observer = MachineObserver.NONE;

  void setObserver(MachineObserver observer) {
    this.observer = observer == null ? MachineObserver.NONE : observer;
  }

  /** Queues one observer call for the end of the step. */
  void add(Consumer<MachineObserver> call) {
    if (observer != MachineObserver.NONE) {
      pending.add(call);
    }
  }

  /** Ends a step: its save timing always, its activity only if {@code succeeded}. */
  void endStep(long saveNanos, boolean succeeded, MachineStats stats) {
    MachineObserver o = observer;
    List<Consumer<MachineObserver>> calls = succeeded ? List.copyOf(pending) : List.of();
    pending.clear();
    if (o == MachineObserver.NONE) {
      return;
    }
    deliver(o, x -> x.stepSaved(saveNanos, succeeded, stats));
    for (Consumer<MachineObserver> call : calls) {
      deliver(o, call);
    }
  }

  private static void deliver(MachineObserver o, Consumer<MachineObserver> call) {
    try {
      call.accept(o);
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "machine observer failed, ignored: {0}",
          e.getClass().getName());
    }
  }
}
