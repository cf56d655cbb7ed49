package io.github.mxe2ee.store;

import java.util.Optional;

/**
 * Reads the last {@code next_batch} token whose to-device messages were fully processed. It is
 * saved in the same {@link Changes} as the results of processing that batch.
 */
public interface SyncTokenStore {
  /** Returns the sync token, or empty before the first save of one. */
  Optional<String> syncToken();
}
