package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.github.mxe2ee.store.AccountId;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The device side of one transaction: each addressed device's part in one machine step saved with
 * the transaction's token (ghosts bounded in parallel), the bot's step that decrypts the room
 * events and gives the late decryptions, and the ghost fallback for keys the bot lacks. Not API.
 */
final class DeviceSteps {
  private static final System.Logger LOG =
      System.getLogger(io.github.mxe2ee.plugin.appservice.AppserviceE2ee.class.getName());

  private final AsContext ctx;
  private final GhostPool pool;
  private final GhostFallback fallback;
  private final Limiter steps;

  DeviceSteps(AsContext ctx, GhostPool pool, GhostFallback fallback) {
    this.ctx = ctx;
    this.pool = pool;
    this.fallback = fallback;
    this.steps = new Limiter(ctx.options.getMaxGhostSetupsInFlight());
  }

  /**
   * One machine step per addressed device: ghosts (bounded in parallel) and the bot, whose step
   * also decrypts the room events. Completes when every step is saved.
   *
   * @return the transaction's events with encrypted ones decrypted, and the bot's late decryptions
   */
  Future<Stepped> feedDevices(String txnId, TransactionSplit split) {
    List<Future<Void>> all = new ArrayList<>();
    Set<String> addressed = new HashSet<>();
    for (Map.Entry<AccountId, TransactionSplit.DevicePart> d : split.devices.entrySet()) {
      AccountId a = d.getKey();
      if (a.userId().equals(ctx.botUserId)) {
        continue;
      }
      if (ctx.options.getDeviceModel() == DeviceModel.BOT_DEVICE) {
        continue; // ghosts have no devices of ours
      }
      addressed.add(a.userId());
      all.add(steps.run(() -> stepGhost(txnId, split, a, d.getValue())));
    }
    boolean listsChanged = !split.changed.isEmpty() || !split.left.isEmpty();
    List<Ghost> open = pool.open();
    for (Ghost g : open) {
      if (!addressed.contains(g.userId) && (listsChanged || touches(split, g))) {
        all.add(
            steps.run(
                () -> {
                  Ghost held = pool.acquireIfOpen(g.userId);
                  if (held == null) {
                    return Future.succeededFuture(); // closed since: refreshed when reopened
                  }
                  return step(held.engine, txnId, split, null, ghostRooms(split, held))
                      .<Void>mapEmpty()
                      .andThen(ar -> pool.release(held));
                }));
      }
    }
    TransactionSplit.DevicePart botPart =
        split.devices.get(AccountId.of(ctx.botUserId, ctx.botDeviceId));
    Future<Stepped> bot =
        step(ctx.botEngine, txnId, split, botPart, split.rooms(e -> true))
            .map(r -> new Stepped(merge(split, r), LateDelivery.takeLate(r)));
    all.add(bot.mapEmpty());
    return Future.all(all)
        .compose(v -> bot)
        .compose(
            stepped ->
                ctx.options.getDeviceModel() == DeviceModel.GHOST_DEVICES
                    ? fallback.withGhostFallback(stepped.events()).map(stepped)
                    : Future.succeededFuture(stepped));
  }

  /**
   * What the devices' steps of a transaction give: its events (decrypted where possible) and the
   * events of earlier transactions that the bot's device decrypted late, still held until they are
   * delivered.
   */
  record Stepped(JsonArray events, List<JsonObject> late) {}

  private static boolean touches(TransactionSplit split, Ghost g) {
    if (!g.hasRooms()) {
      return false;
    }
    for (int i = 0; i < split.events.size(); i++) {
      if (split.events.getJsonObject(i).getValue("room_id") instanceof String r && g.inRoom(r)) {
        return true;
      }
    }
    return false;
  }

  /** The state changes of the rooms a ghost sent to (membership, encryption, visibility). */
  private static JsonObject ghostRooms(TransactionSplit split, Ghost g) {
    JsonObject rooms =
        split.rooms(
            e ->
                e.getValue("state_key") instanceof String
                    && g.inRoom(String.valueOf(e.getValue("room_id")))
                    && STATE_FOLLOWED.contains(String.valueOf(e.getValue("type"))));
    return rooms.isEmpty() ? null : rooms;
  }

  private static final Set<String> STATE_FOLLOWED =
      Set.of("m.room.member", "m.room.encryption", "m.room.history_visibility");

  private Future<Void> stepGhost(
      String txnId, TransactionSplit split, AccountId a, TransactionSplit.DevicePart part) {
    Ghost open = pool.acquireIfOpen(a.userId());
    Future<Ghost> ghost;
    if (open != null) {
      ghost = Future.succeededFuture(open);
    } else if (!TransactionSplit.urgent(part)) {
      return Future.succeededFuture(); // key counts of an idle ghost: seen when it reopens
    } else {
      ghost =
          ctx.stateWorker
              .executeBlocking(
                  () ->
                      a.deviceId().equals(ctx.registry.ghostDevice(a.userId()).orElse(null))
                          && ctx.registry.ghostMasterKey(a.userId()).isPresent(),
                  true)
              .compose(ours -> ours ? pool.acquire(a.userId()) : Future.succeededFuture(null));
    }
    return ghost.compose(
        g -> {
          if (g == null) {
            LOG.log(
                System.Logger.Level.DEBUG,
                "transaction {0}: device {1} is not one of ours; its part is skipped",
                txnId,
                a);
            return Future.succeededFuture();
          }
          if (!g.deviceId.equals(a.deviceId())) {
            pool.release(g);
            return Future.succeededFuture();
          }
          return step(g.engine, txnId, split, part, ghostRooms(split, g))
              .<Void>mapEmpty()
              .andThen(ar -> pool.release(g));
        });
  }

  /**
   * One device's machine step: its part of the transaction, saved with the transaction's token in
   * one store transaction; a device whose saved token already is this transaction's (a resent
   * transaction) gets only the rooms, so nothing is fed to it twice.
   */
  private Future<JsonObject> step(
      MatrixE2eeImpl engine,
      String txnId,
      TransactionSplit split,
      TransactionSplit.DevicePart part,
      JsonObject rooms) {
    boolean bot = engine == ctx.botEngine;
    return engine
        .syncToken()
        .compose(
            token -> {
              boolean fresh =
                  !token.map((TransactionSplit.TOKEN_PREFIX + txnId)::equals).orElse(false);
              JsonObject body = split.syncBody(txnId, part, fresh, rooms);
              if (bot) {
                // Always a step: it offers again the late decryptions not yet delivered (a
                // resent transaction whose first handling failed).
                return engine.onSyncKeepingLate(body);
              }
              if (!fresh && (rooms == null || rooms.isEmpty())) {
                return Future.succeededFuture(new JsonObject());
              }
              return engine.onSync(body);
            });
  }

  /**
   * The transaction's events with the decrypted ones of the bot's step put in their places. Every
   * other event (one without a room id, which no device step sees) loses an {@code mxe2ee} object
   * the homeserver put in it: only the plugin writes that mark, and a forged {@code encrypted:
   * true} would pass a plain event off as decrypted.
   */
  private static JsonArray merge(TransactionSplit split, JsonObject result) {
    JsonArray out = split.events.copy();
    io.github.mxe2ee.plugin.state.EncryptedStates.stripForgedMarks(out);
    JsonObject join =
        result.getValue("rooms") instanceof JsonObject r
                && r.getValue("join") instanceof JsonObject j
            ? j
            : new JsonObject();
    for (Map.Entry<String, Object> room : join) {
      if (!(room.getValue() instanceof JsonObject body)
          || !(body.getValue("timeline") instanceof JsonObject timeline)
          || !(timeline.getValue("events") instanceof JsonArray events)) {
        continue;
      }
      for (Object o : events) {
        if (o instanceof JsonObject e
            && e.getValue("unsigned") instanceof JsonObject unsigned
            && unsigned.getValue(TransactionSplit.INDEX) instanceof Number n) {
          int i = n.intValue();
          if (i < 0 || i >= out.size()) {
            continue;
          }
          unsigned.remove(TransactionSplit.INDEX);
          if (unsigned.isEmpty() && !split.events.getJsonObject(i).containsKey("unsigned")) {
            e.remove("unsigned");
          }
          out.set(i, e);
        }
      }
    }
    return out;
  }
}
