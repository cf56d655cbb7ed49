package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.UnencryptedRoomException;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/**
 * Sending as the bot or a ghost ({@link io.github.mxe2ee.plugin.appservice.AppserviceE2ee#send}):
 * with the ghost's own device and MSC4326 masquerading, or, in {@link DeviceModel#BOT_DEVICE},
 * encrypted by the bot's device and sent with {@code ?user_id=}. Not API.
 */
final class GhostSender {
  private static final String CS = "/_matrix/client/v3";

  private final AsContext ctx;
  private final GhostPool pool;

  GhostSender(AsContext ctx, GhostPool pool) {
    this.ctx = ctx;
    this.pool = pool;
  }

  /** Sends (arguments already checked) with the device that speaks for {@code asUser}. */
  Future<String> send(String roomId, String type, JsonObject content, String asUser, String txnId) {
    if (asUser.equals(ctx.botUserId)) {
      return ctx.botEngine.send(roomId, type, content, txnId);
    }
    if (ctx.options.getDeviceModel() == DeviceModel.BOT_DEVICE) {
      return sendWithBotDevice(roomId, type, content, asUser, txnId);
    }
    return pool.acquire(asUser)
        .compose(
            g -> {
              g.sentTo(roomId);
              return g.engine.send(roomId, type, content, txnId).andThen(ar -> pool.release(g));
            });
  }

  /**
   * {@link DeviceModel#BOT_DEVICE}: the bot's device encrypts (sharing the room key as for its own
   * messages), the ghost sends with {@code ?user_id=} masquerading.
   */
  private Future<String> sendWithBotDevice(
      String roomId, String type, JsonObject content, String asUser, String txnId) {
    return pool.registerOnce(asUser)
        .compose(v -> ctx.botEngine.isRoomEncrypted(roomId))
        .compose(
            encrypted -> {
              if (encrypted) {
                return ctx.botEngine
                    .encrypt(roomId, type, content)
                    .map(c -> new Object[] {"m.room.encrypted", c});
              }
              if (ctx.options.getEngine().isRefuseUnencrypted()) {
                return Future.failedFuture(new UnencryptedRoomException(roomId));
              }
              return Future.succeededFuture(new Object[] {type, content});
            })
        .compose(
            typed ->
                ctx.http.call(
                    HttpMethod.PUT,
                    CS
                        + "/rooms/"
                        + AsHttp.seg(roomId)
                        + "/send/"
                        + AsHttp.seg((String) typed[0])
                        + "/"
                        + AsHttp.seg(txnId),
                    asUser,
                    (JsonObject) typed[1]))
        .map(
            r -> {
              if (!(r.getValue("event_id") instanceof String id)) {
                throw new HomeserverException("/send", 200, null, "no event_id in the answer");
              }
              return id;
            });
  }
}
