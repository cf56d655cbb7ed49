package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.appservice.LateDecryptionHandler;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Late decryptions of the bot's device handed to the bridge's {@link LateDecryptionHandler} and
 * released from the store only once delivered (docs/BRIDGES.md, "Late decryptions"). Not API.
 */
final class LateDelivery {
  private final AsContext ctx;
  private final Supplier<LateDecryptionHandler> handler;

  LateDelivery(AsContext ctx, Supplier<LateDecryptionHandler> handler) {
    this.ctx = ctx;
    this.handler = handler;
  }

  /** The late events of a bot step's result (removed from it), without the split's index. */
  static List<JsonObject> takeLate(JsonObject result) {
    List<JsonObject> late = new ArrayList<>();
    if (result.remove(MatrixE2eeImpl.LATE_FIELD) instanceof JsonArray events) {
      for (Object o : events) {
        if (o instanceof JsonObject event) {
          if (event.getValue("unsigned") instanceof JsonObject u) {
            u.remove(TransactionSplit.INDEX);
            if (u.isEmpty()) {
              event.remove("unsigned");
            }
          }
          late.add(event);
        }
      }
    }
    return late;
  }

  /**
   * Hands late decryptions to the handler, one at a time in order, then releases them from the
   * bot's store; a failure leaves them held (offered again by the next step). Without a handler,
   * those of a transaction are released undelivered (nobody asked for them), those of an inbox read
   * are left for the next transaction (a handler may be set by then).
   */
  Future<Void> deliverLate(List<JsonObject> late, boolean inTransaction) {
    if (late.isEmpty()) {
      return Future.succeededFuture();
    }
    LateDecryptionHandler h = handler.get();
    if (h == null && !inTransaction) {
      return Future.succeededFuture();
    }
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (JsonObject event : late) {
      if (event.getValue("event_id") instanceof String id) {
        ids.add(id);
      }
      if (h != null) {
        chain =
            chain.compose(
                v -> {
                  try {
                    Future<Void> f = h.handle(event.copy());
                    return f == null ? Future.succeededFuture() : f;
                  } catch (RuntimeException e) {
                    return Future.failedFuture(e);
                  }
                });
      }
    }
    return chain.compose(v -> ctx.botEngine.completeLate(ids));
  }
}
