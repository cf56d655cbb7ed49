package io.github.mxe2ee.machine;

import java.lang.System.Logger.Level;

/**
 * The mutable counters behind {@link MachineStats}, with the once-per-step warning: {@link
 * #endStep()} logs one line with what this step dropped, if anything. Machine thread only; lives as
 * long as the machine (survives reloads after a failed step).
 */
final class BoundCounters {
  private static final System.Logger LOG = System.getLogger("io.github.mxe2ee.machine.bounds");

  long keyRequestRepliesDropped;
  long malformedIdsDropped;
  long withheldPruned;
  long olmPayloadsRejected;
  long olmSessionsRefused;
  long unwedgesRefused;
  long keyRequestsNotQueued;
  long devicesRefused;
  long duplicatesIgnored;
  long eventsFailed;

  /** Room keys imported from the server-side backup (not a bound; read by the machine). */
  long roomKeysRestoredFromBackup;

  /** Secrets sent to our verified devices, and secret requests not answered. */
  long secretsShared;

  long secretRequestsRefused;

  private MachineStats atStepStart = snapshot();

  MachineStats snapshot() {
    return new MachineStats(
        keyRequestRepliesDropped,
        malformedIdsDropped,
        withheldPruned,
        olmPayloadsRejected,
        olmSessionsRefused,
        unwedgesRefused,
        keyRequestsNotQueued,
        devicesRefused,
        duplicatesIgnored,
        eventsFailed);
  }

  void beginStep() {
    atStepStart = snapshot();
  }

  /** Logs one WARNING with this step's non-zero counts; counts only, never ids or keys. */
  void endStep() {
    MachineStats now = snapshot();
    MachineStats before = atStepStart;
    StringBuilder line = new StringBuilder();
    append(
        line,
        "key request replies dropped",
        now.keyRequestRepliesDropped() - before.keyRequestRepliesDropped());
    append(
        line,
        "over-long or missing ids dropped",
        now.malformedIdsDropped() - before.malformedIdsDropped());
    append(line, "withheld records pruned", now.withheldPruned() - before.withheldPruned());
    append(line, "Olm payloads rejected", now.olmPayloadsRejected() - before.olmPayloadsRejected());
    append(
        line, "new Olm sessions refused", now.olmSessionsRefused() - before.olmSessionsRefused());
    append(line, "unwedges refused", now.unwedgesRefused() - before.unwedgesRefused());
    append(
        line,
        "key requests not queued",
        now.keyRequestsNotQueued() - before.keyRequestsNotQueued());
    append(line, "devices refused", now.devicesRefused() - before.devicesRefused());
    append(line, "duplicates ignored", now.duplicatesIgnored() - before.duplicatesIgnored());
    append(line, "events failed", now.eventsFailed() - before.eventsFailed());
    atStepStart = now;
    if (line.length() > 0) {
      LOG.log(Level.WARNING, "bounds applied in this step: {0}", line);
    }
  }

  private static void append(StringBuilder line, String what, long n) {
    if (n > 0) {
      if (line.length() > 0) {
        line.append(", ");
      }
      line.append(what).append(' ').append(n);
    }
  }
}
