package io.github.mxe2ee.machine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts of key-binding events since the machine was opened (not persisted), for metrics and
 * alerts: each one means a homeserver (or a device owner) offered keys that contradict what this
 * machine had accepted, which an honest server does not do for an existing device. See
 * docs/SECURITY.md, "Device and identity keys are bound to their ids". Thread-safe: the machine
 * writes, any thread may read.
 */
public final class TrustCounters {
  private final AtomicLong refusedDeviceKeys = new AtomicLong();
  private final AtomicLong identityChanges = new AtomicLong();

  TrustCounters() {}

  /**
   * Devices listed by {@code /keys/query} with keys other than those bound to their id (a deleted
   * device re-listed with other keys, a known device with new keys, a new device reusing another
   * device's key): each was refused, not stored, not trusted.
   */
  public long refusedDeviceKeys() {
    return refusedDeviceKeys.get();
  }

  /**
   * Cross-signing master keys that changed for a user we knew an identity of: each dropped the
   * trust derived from the previous identity.
   */
  public long identityChanges() {
    return identityChanges.get();
  }

  void countRefusedDevice() {
    refusedDeviceKeys.incrementAndGet();
  }

  void countIdentityChange() {
    identityChanges.incrementAndGet();
  }

  @Override
  public String toString() {
    return "TrustCounters[refusedDeviceKeys="
        + refusedDeviceKeys.get()
        + ", identityChanges="
        + identityChanges.get()
        + "]";
  }
}
