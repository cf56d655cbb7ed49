package io.github.mxe2ee.plugin.appservice.impl;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decrypts with our ghosts' devices the transaction events that the bot's device lacks the key of
 * ({@link #withGhostFallback}). Not API.
 */
final class GhostFallback {
  private static final System.Logger LOG =
      System.getLogger(
          io.github.mxe2ee.plugin.appservice.AppserviceE2ee.class
              .getName()); // the bridge's one logger
  private static final String CS = "/_matrix/client/v3";

  private final AsContext ctx;
  private final GhostPool pool;
  private final InboxReader inbox;

  GhostFallback(AsContext ctx, GhostPool pool, InboxReader inbox) {
    this.ctx = ctx;
    this.pool = pool;
    this.inbox = inbox;
  }

  /** Rooms per transaction whose missing keys are looked for on ghost devices. */
  static final int MAX_FALLBACK_ROOMS = 10;

  /** Ghost devices asked per room. */
  static final int MAX_FALLBACK_GHOSTS = 3;

  /**
   * Events the bot's device could not decrypt for a missing key are tried with the devices of our
   * ghosts joined to the room: senders share room keys with every device in the room, and a ghost's
   * device can read its to-device inbox (Synapse refuses that for the bot), so a key that the
   * homeserver did not push (it drops to-device messages while it holds the bridge for down) or has
   * not pushed yet is found there. Best effort: a failure leaves the event as it was.
   */
  Future<JsonArray> withGhostFallback(JsonArray events) {
    Map<String, List<Integer>> missing = new LinkedHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      if (events.getValue(i) instanceof JsonObject e
          && e.getValue("mxe2ee") instanceof JsonObject m
          && ("MISSING_SESSION".equals(m.getValue("decryption_failure"))
              || "UNKNOWN_INDEX".equals(m.getValue("decryption_failure")))
          && e.getValue("room_id") instanceof String room
          && (missing.containsKey(room) || missing.size() < MAX_FALLBACK_ROOMS)) {
        missing.computeIfAbsent(room, r -> new ArrayList<>()).add(i);
      }
    }
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, List<Integer>> room : missing.entrySet()) {
      chain =
          chain.compose(
              v ->
                  fallbackRoom(events, room.getKey(), room.getValue())
                      .recover(
                          e -> {
                            LOG.log(
                                System.Logger.Level.DEBUG,
                                "room {0}: ghost fallback failed: {1}",
                                room.getKey(),
                                e.toString());
                            return Future.succeededFuture();
                          }));
    }
    return chain.map(events);
  }

  private Future<Void> fallbackRoom(JsonArray events, String roomId, List<Integer> positions) {
    return ctx.http
        .call(HttpMethod.GET, CS + "/rooms/" + AsHttp.seg(roomId) + "/joined_members", null, null)
        .compose(
            answer -> {
              List<String> members = new ArrayList<>();
              if (answer.getValue("joined") instanceof JsonObject joined) {
                members.addAll(joined.fieldNames());
              }
              members.remove(ctx.botUserId);
              return ctx.stateWorker.executeBlocking(
                  () -> {
                    List<String> ours = new ArrayList<>();
                    for (String m : members) {
                      if (ours.size() < MAX_FALLBACK_GHOSTS
                          && ctx.registry.ghostMasterKey(m).isPresent()) {
                        ours.add(m);
                      }
                    }
                    return ours;
                  },
                  true);
            })
        .compose(
            ghostIds -> {
              Future<Void> chain = Future.succeededFuture();
              for (String ghostId : ghostIds) {
                chain = chain.compose(v -> fallbackWith(ghostId, events, roomId, positions));
              }
              return chain;
            });
  }

  private Future<Void> fallbackWith(
      String ghostId, JsonArray events, String roomId, List<Integer> positions) {
    List<Integer> still = new ArrayList<>();
    JsonArray timeline = new JsonArray();
    for (int i : positions) {
      JsonObject e = events.getJsonObject(i);
      if (e.getValue("mxe2ee") instanceof JsonObject m
          && m.getValue("decryption_failure") != null) {
        still.add(i);
        JsonObject original = e.copy();
        original.remove("mxe2ee");
        timeline.add(original);
      }
    }
    if (still.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.acquire(ghostId)
        .compose(
            g ->
                inbox
                    .catchUpInbox(g.engine, g.client, 0)
                    .compose(
                        v ->
                            g.engine.onSync(
                                new JsonObject()
                                    .put(
                                        "rooms",
                                        new JsonObject()
                                            .put(
                                                "join",
                                                new JsonObject()
                                                    .put(
                                                        roomId,
                                                        new JsonObject()
                                                            .put(
                                                                "timeline",
                                                                new JsonObject()
                                                                    .put("events", timeline)))))))
                    .andThen(ar -> pool.release(g)))
        .map(
            result -> {
              JsonArray out =
                  result
                      .getJsonObject("rooms", new JsonObject())
                      .getJsonObject("join", new JsonObject())
                      .getJsonObject(roomId, new JsonObject())
                      .getJsonObject("timeline", new JsonObject())
                      .getJsonArray("events", new JsonArray());
              Map<String, Integer> byId = new HashMap<>();
              for (int i : still) {
                if (events.getJsonObject(i).getValue("event_id") instanceof String id) {
                  byId.put(id, i);
                }
              }
              for (Object o : out) {
                if (o instanceof JsonObject d
                    && d.getValue("event_id") instanceof String id
                    && byId.containsKey(id)
                    && d.getValue("mxe2ee") instanceof JsonObject m
                    && Boolean.TRUE.equals(m.getValue("encrypted"))) {
                  m.put("decrypted_by", ghostId);
                  events.set(byId.get(id), d);
                }
              }
              return null;
            });
  }
}
