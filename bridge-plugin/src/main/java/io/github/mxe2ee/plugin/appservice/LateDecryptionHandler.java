package io.github.mxe2ee.plugin.appservice;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * The bridge's receiver of late decryptions ({@link AppserviceE2ee#lateDecryptionHandler}): room
 * events handed to the {@link TransactionHandler} undecryptable because their room key had not
 * arrived ({@code mxe2ee.held: true}), decrypted once it did.
 */
@FunctionalInterface
public interface LateDecryptionHandler {

  /**
   * Handles one event decrypted late. Part of the durable handling of the transaction that brought
   * its key: that transaction is acknowledged only after the returned future succeeds (for every
   * late event it released, in order), and until then the event stays held in the store: a failed
   * future (or an exception) makes the endpoint answer 500, and the event is offered again with the
   * resent transaction, also after a restart. So a bridge killed between the key's arrival and its
   * own write loses nothing; it may see an event twice (deduplicate by {@code event_id}).
   *
   * @param event the decrypted event as in a transaction (decrypted {@code type} and {@code
   *     content}, an {@code mxe2ee} object) plus its {@code room_id} and {@code mxe2ee.late: true}
   * @return completes when the bridge is done with the event (for example, it is on disk)
   */
  Future<Void> handle(JsonObject event);
}
