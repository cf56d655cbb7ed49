package io.github.mxe2ee.plugin.latekeys;

import java.util.Map;

/**
 * A snapshot of the late-key counters since the plugin started (issue 12: "undecryptable events are
 * counted by cause"); for logs and the metrics of docs/METRICS.md. Immutable.
 *
 * @param undecryptableByCause room events delivered undecryptable, by cause: the names of {@link
 *     io.github.mxe2ee.machine.DecryptionFailure}, plus {@code PROCESSING_ERROR}; every cause is
 *     present, 0 when it never happened
 * @param held events held now, waiting for their key
 * @param heldDropped held events dropped to stay within the bounds of {@link LateKeyOptions}
 * @param reEmitted held events decrypted after their key arrived and re-emitted
 */
public record LateKeyStats(
    Map<String, Long> undecryptableByCause, long held, long heldDropped, long reEmitted) {

  /** Copies the map. */
  public LateKeyStats {
    undecryptableByCause = Map.copyOf(undecryptableByCause);
  }
}
