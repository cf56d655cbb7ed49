package io.github.mxe2ee.plugin.send;

import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A room's history visibility (Client-Server API, "Room History Visibility") for a device that may
 * never have seen the room's state in a sync: an appservice's devices (the bridge bot's, whose
 * rooms' state before its join never comes in a transaction, and the ghosts', which join portals
 * made by the bot) learn only the state events pushed after they joined. The engine's value is used
 * when it has one; otherwise the server is asked ({@code GET
 * /rooms/{roomId}/state/m.room.history_visibility/}; 404, no such event, means {@code shared}, the
 * spec's default) and the answer given to the engine ({@link OlmMachine#onHistoryVisibility}), so
 * it is asked once per room. The value decides whether new Megolm sessions are flagged {@code
 * shared_history} (MSC4268) and what a room's history may be repeated to.
 */
public final class RoomVisibility {
  private static final System.Logger LOG = System.getLogger(RoomVisibility.class.getName());

  private RoomVisibility() {}

  /**
   * The room's history visibility.
   *
   * @param get reads a client-server path (relative to the homeserver, with its query) and returns
   *     the JSON answer, failing with {@link HomeserverException} on an error status
   * @return the visibility, or null (never a failure) if the engine does not know it and the server
   *     cannot say: callers then treat the room as not sharing history
   */
  public static Future<String> resolve(
      RoomSender.Worker worker,
      OlmMachine machine,
      String roomId,
      Function<String, Future<JsonObject>> get) {
    return worker
        .call("historyVisibility()", () -> machine.historyVisibility(roomId).orElse(null))
        .compose(
            known -> {
              if (known != null) {
                return Future.succeededFuture(known);
              }
              String path =
                  "/_matrix/client/v3/rooms/"
                      + URLEncoder.encode(roomId, StandardCharsets.UTF_8).replace("+", "%20")
                      + "/state/m.room.history_visibility/";
              return get.apply(path)
                  .map(c -> c.getValue("history_visibility") instanceof String v ? v : "shared")
                  .recover(
                      err ->
                          err instanceof HomeserverException h && h.statusCode() == 404
                              ? Future.succeededFuture("shared")
                              : Future.failedFuture(err))
                  .compose(
                      fetched ->
                          worker.call(
                              "historyVisibility()",
                              () -> {
                                // A sync may have told the engine meanwhile: that one wins.
                                if (machine.historyVisibility(roomId).isEmpty()) {
                                  machine.onHistoryVisibility(roomId, fetched);
                                }
                                return machine.historyVisibility(roomId).orElse(fetched);
                              }))
                  .recover(
                      err -> {
                        LOG.log(
                            System.Logger.Level.DEBUG,
                            "room {0}: history visibility unknown: {1}",
                            roomId,
                            err.toString());
                        return Future.succeededFuture(null);
                      });
            });
  }
}
