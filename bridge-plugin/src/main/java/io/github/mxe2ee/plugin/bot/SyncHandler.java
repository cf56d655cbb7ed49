package io.github.mxe2ee.plugin.bot;

import io.vertx.core.Future;

/**
 * The bot's work for one sync response, called by {@link SyncLoop} on the Vert.x event loop, one
 * batch at a time and in order. The loop waits for the returned future before it marks the batch
 * done; a failed future (or a thrown exception) is logged and counted and does not stop the loop,
 * so the handler decides itself what to retry. Handlers must be idempotent for a batch with {@link
 * SyncBatch#replayed()} set (see {@link SyncLoop} for the guarantee), for example by sending with
 * transaction ids derived from the event answered.
 */
@FunctionalInterface
public interface SyncHandler {
  /**
   * Handles one batch.
   *
   * @return completes when the batch's work is done
   */
  Future<Void> handle(SyncBatch batch);
}
