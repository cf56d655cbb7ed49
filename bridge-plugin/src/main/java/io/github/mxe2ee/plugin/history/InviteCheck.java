package io.github.mxe2ee.plugin.history;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Whether an invite is bound to be refused, checked before the room's history is shared: the bundle
 * (MSC4268) is uploaded and sent to the invitee's devices BEFORE the invite, so without this an
 * invite the server then refuses would still hand the room's history keys to a user the room never
 * admitted, and cost a media upload each time (any member can ask the echo bot to {@code !invite}).
 * Refused for sure (Client-Server API, "Room membership"; room version rules, "Authorization
 * rules"): inviting ourselves, a user who is already joined or banned, or inviting without the
 * {@code invite} power level. The server still decides the invite itself; this only keeps the
 * history back. Not API.
 */
final class InviteCheck {
  private InviteCheck() {}

  /**
   * Why the invite will be refused, or null if it may succeed (also when the room's state cannot be
   * read: the server then decides, and sharing goes ahead as before).
   */
  static Future<String> doomed(
      HomeserverClient client, String roomId, String ownUserId, String userId) {
    if (userId.equals(ownUserId)) {
      return Future.succeededFuture("the inviter itself");
    }
    String state = "/_matrix/client/v3/rooms/" + RoomHistory.encode(roomId) + "/state/";
    return optional(client, state + "m.room.member/" + RoomHistory.encode(userId))
        .compose(
            member -> {
              Object m = member == null ? null : member.getValue("membership");
              if ("join".equals(m)) {
                return Future.succeededFuture("already in the room");
              }
              if ("ban".equals(m)) {
                return Future.succeededFuture("banned from the room");
              }
              return optional(client, state + "m.room.power_levels/")
                  .compose(
                      levels ->
                          mayInvite(levels, ownUserId)
                              ? Future.succeededFuture((String) null)
                              : optional(client, state + "m.room.create/?format=event")
                                  .map(
                                      create ->
                                          isPrivilegedCreator(create, ownUserId)
                                              ? null
                                              : "no power to invite in this room"));
            })
        .otherwise((String) null);
  }

  /** The state event's content, or null when the room has none (404). */
  private static Future<JsonObject> optional(HomeserverClient client, String path) {
    return client
        .request("GET", path, null)
        .recover(
            err ->
                err instanceof HomeserverException h && h.statusCode() == 404
                    ? Future.succeededFuture(null)
                    : Future.failedFuture(err));
  }

  /**
   * Whether {@code user}'s power level reaches the {@code invite} level (defaults: {@code invite}
   * 0, {@code users_default} 0; no power levels event: anyone may invite).
   */
  static boolean mayInvite(JsonObject levels, String user) {
    if (levels == null) {
      return true;
    }
    long invite = level(levels.getValue("invite"), 0);
    long usersDefault = level(levels.getValue("users_default"), 0);
    long mine =
        levels.getValue("users") instanceof JsonObject users
            ? level(users.getValue(user), usersDefault)
            : usersDefault;
    return mine >= invite;
  }

  /**
   * Whether {@code user} is a creator of a room whose version ranks creators above every power
   * level (room version 12 and later, MSC4289): the create event's {@code sender} or one of its
   * {@code additional_creators}. In room versions 1 to 11 the power levels alone decide.
   */
  static boolean isPrivilegedCreator(JsonObject createEvent, String user) {
    if (createEvent == null || !(createEvent.getValue("content") instanceof JsonObject content)) {
      return false;
    }
    if (content.getValue("room_version") instanceof String v
        && v.matches("[0-9]{1,2}")
        && Integer.parseInt(v) <= 11) {
      return false;
    }
    return user.equals(createEvent.getValue("sender"))
        || (content.getValue("additional_creators") instanceof JsonArray more
            && more.contains(user));
  }

  private static long level(Object v, long otherwise) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof String s && s.matches("-?[0-9]{1,16}")) {
      return Long.parseLong(s); // older room versions allow levels as strings
    }
    return otherwise;
  }
}
