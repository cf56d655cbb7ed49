package io.github.mxe2ee.store;

import java.util.Optional;

/**
 * A small key-value map for miscellaneous machine state (for example the backup version or private
 * cross-signing keys, encrypted by the caller). Meant for small values: under {@link
 * #MAX_VALUE_HINT_BYTES}.
 */
public interface KeyValueStore {
  /** Values should stay below this size; larger data deserves its own table. */
  int MAX_VALUE_HINT_BYTES = 64 * 1024;

  /** Returns a copy of the value stored under {@code key}, if any. */
  Optional<byte[]> value(String key);
}
