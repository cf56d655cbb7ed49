package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;

/**
 * Reads the to-device inbox of the bridge's devices with a masquerading {@code /sync} (E2EE
 * sections only): what Synapse did not push while it held the bridge for down (docs/BRIDGES.md,
 * "The plugin API"). The bot's late decryptions found so go to the bridge's late-decryption
 * delivery. Not API.
 */
final class InboxReader {
  private static final System.Logger LOG =
      System.getLogger(
          io.github.mxe2ee.plugin.appservice.AppserviceE2ee.class
              .getName()); // the bridge's one logger

  private final AsContext ctx;
  private final Consumer<JsonObject> lateSink;

  /**
   * @param lateSink takes a bot step's result whose late decryptions are to be delivered
   */
  InboxReader(AsContext ctx, Consumer<JsonObject> lateSink) {
    this.ctx = ctx;
    this.lateSink = lateSink;
  }

  /**
   * A {@code /sync} filter that asks for nothing but the E2EE sections (to-device, device lists,
   * key counts): no rooms, presence or account data.
   */
  static final String INBOX_FILTER =
      "{\"room\":{\"rooms\":[]},\"presence\":{\"types\":[]},\"account_data\":{\"types\":[]}}";

  /** Most {@code /sync} rounds of one catch-up (each brings up to 100 to-device messages). */
  static final int MAX_CATCH_UP_ROUNDS = 20;

  /** After a ping, the inbox is read once more this much later, once Synapse has recovered. */
  static final long RECOVERY_CATCH_UP_DELAY_MS = 5_000;

  /** After a transaction with events held for a missing key, the inbox is read this much later. */
  static final long HELD_CATCH_UP_DELAY_MS = 1_000;

  /** How often the bot's inbox is read even if nothing suggests it (ms). */
  static final long CATCH_UP_PERIOD_MS = 60_000;

  /**
   * Reads the device's to-device inbox with a masquerading {@code /sync} (E2EE sections only) and
   * feeds it to the device's engine. Synapse pushes to-device messages, key counts and device lists
   * only in live transactions: while it holds the appservice for down (it was unreachable, for
   * example during a restart) it resends the held transactions with their room events alone, so the
   * room keys sent meanwhile would never arrive. They stay in the device's inbox until a {@code
   * /sync} with a later token acknowledges them; the token is saved (in the bridge's state) only
   * after the engine saved the step, so a crash in between reads them again (a room key imported
   * twice is the same key; a repeated Olm message fails as a replay and is dropped).
   */
  Future<Void> catchUpInbox(MatrixE2eeImpl engine, HomeserverClient client, int round) {
    String userId = client.session().userId();
    String deviceId = client.session().deviceId();
    return ctx.stateWorker
        .executeBlocking(() -> ctx.registry.inboxSince(userId, deviceId).orElse(null), true)
        .compose(since -> client.sync(since, 0, INBOX_FILTER))
        .compose(
            result -> {
              JsonObject body = result.body();
              String next = body.getString("next_batch");
              body.remove("next_batch"); // the engine keeps its transaction token
              body.remove("rooms");
              int messages =
                  body.getValue("to_device") instanceof JsonObject td
                          && td.getValue("events") instanceof JsonArray events
                      ? events.size()
                      : 0;
              boolean bot = engine == ctx.botEngine;
              return (bot ? engine.onSyncKeepingLate(body) : engine.onSync(body))
                  .compose(
                      r -> {
                        if (bot) {
                          lateSink.accept(r);
                        }
                        return Future.succeededFuture();
                      })
                  .compose(
                      v ->
                          ctx.stateWorker.executeBlocking(
                              () -> {
                                ctx.registry.putInboxSince(userId, deviceId, next);
                                return messages;
                              },
                              true));
            })
        .compose(
            messages -> {
              if (messages > 0) {
                LOG.log(
                    System.Logger.Level.INFO,
                    "{0}/{1}: {2} to-device messages read from the inbox",
                    userId,
                    deviceId,
                    messages);
              }
              return messages > 0 && round + 1 < MAX_CATCH_UP_ROUNDS
                  ? catchUpInbox(engine, client, round + 1)
                  : Future.succeededFuture();
            });
  }

  private final java.util.concurrent.atomic.AtomicBoolean botCatchingUp =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicBoolean botCatchUpAgain =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Set when the homeserver refuses the bot's {@code /sync}: its inbox is not read again. */
  private volatile boolean botInboxRefused;

  /** Reads the bot's inbox now, or once more after the read that runs; failures are logged. */
  Future<Void> catchUpBot() {
    if (ctx.closed() || ctx.botEngine == null || ctx.botHttp == null || botInboxRefused) {
      return Future.succeededFuture();
    }
    if (!botCatchingUp.compareAndSet(false, true)) {
      botCatchUpAgain.set(true);
      return Future.succeededFuture();
    }
    return catchUpInbox(ctx.botEngine, ctx.botHttp, 0)
        .recover(
            e -> {
              if (e instanceof HomeserverException h && h.statusCode() / 100 == 5) {
                // Synapse answers /sync of the appservice's own sender with a 500
                // (NotImplementedError: "We no longer support AS users using /sync directly").
                botInboxRefused = true;
                LOG.log(
                    System.Logger.Level.WARNING,
                    "the homeserver does not let the bridge bot read its to-device inbox ({0}):"
                        + " room keys sent to the bot device while the homeserver held the bridge"
                        + " for down cannot be recovered; ghost devices still can",
                    h.statusCode());
              } else {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "reading the to-device inbox of the bot device failed: {0}",
                    e.getMessage());
              }
              return Future.succeededFuture();
            })
        .compose(
            v -> {
              botCatchingUp.set(false);
              return botCatchUpAgain.getAndSet(false) ? catchUpBot() : Future.succeededFuture();
            });
  }
}
