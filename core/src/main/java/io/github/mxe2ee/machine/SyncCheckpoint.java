package io.github.mxe2ee.machine;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where a sync loop resumes, saved in the same store transaction as the crypto changes of the sync
 * response it belongs to (see {@link OlmMachine#receiveSyncChanges(SyncChanges, SyncCheckpoint)}).
 *
 * <p>{@code nextBatch} is the response's {@code next_batch}: the {@code since} of the next request.
 * {@code pendingBatch} is an opaque copy, chosen by the caller, of the parts of the response that
 * still have to be handed to the application (for the Vert.x plugin's sync loop: the room events,
 * still encrypted); it stays stored until {@link OlmMachine#completeSyncBatch()} so that a restart
 * can hand them over again instead of losing them. Never plaintext: the store keeps it as given.
 *
 * <p>Immutable; the bytes are copied in and out. {@code toString} prints only the sizes.
 *
 * @param nextBatch the sync token, non-empty
 * @param pendingBatch the caller's pending work, or null for none
 */
public record SyncCheckpoint(String nextBatch, byte[] pendingBatch) {

  /** Copies the bytes; requires a non-empty token. */
  public SyncCheckpoint {
    Objects.requireNonNull(nextBatch, "nextBatch");
    if (nextBatch.isEmpty()) {
      throw new IllegalArgumentException("nextBatch is empty");
    }
    pendingBatch = pendingBatch == null ? null : pendingBatch.clone();
  }

  /** A copy of the pending work, or null. */
  @Override
  public byte[] pendingBatch() {
    return pendingBatch == null ? null : pendingBatch.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SyncCheckpoint c
        && c.nextBatch.equals(nextBatch)
        && Arrays.equals(c.pendingBatch, pendingBatch);
  }

  @Override
  public int hashCode() {
    return nextBatch.hashCode();
  }

  @Override
  public String toString() {
    return "SyncCheckpoint["
        + nextBatch
        + ", pending "
        + (pendingBatch == null ? "none" : pendingBatch.length + " bytes")
        + "]";
  }
}
