package io.github.mxe2ee.plugin.appservice;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * The bridge's receiver of appservice transactions, decrypted ({@link
 * AppserviceE2ee#transactionHandler}).
 */
@FunctionalInterface
public interface TransactionHandler {

  /**
   * Handles one transaction. Called before the homeserver is answered: the transaction is
   * acknowledged only when the returned future succeeds, so the bridge can finish its own durable
   * work first; a failed future (or an exception) makes the endpoint answer 500, and the homeserver
   * sends the transaction again later.
   *
   * <p>Delivery is at most once per transaction id for transactions that completed (the id is
   * remembered durably before the answer) and at least once otherwise: a process killed after this
   * handler ran but before the id was saved sees the transaction again after a restart. Event ids
   * are stable, so a bridge that must never act twice deduplicates by {@code event_id}.
   *
   * @param txnId the homeserver's transaction id
   * @param transaction a copy of the body: {@code events} in order with encrypted events replaced
   *     by their decrypted form (as {@link io.github.mxe2ee.plugin.MatrixE2ee#onSync} does, with an
   *     {@code mxe2ee} object), {@code ephemeral} as received; the to-device, device-list and
   *     key-count sections are removed (they were consumed by the devices they address)
   * @return completes when the bridge is done with the transaction
   */
  Future<Void> handle(String txnId, JsonObject transaction);
}
