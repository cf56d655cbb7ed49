package io.github.mxe2ee.plugin.bot;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One sync response as the bot sees it: the body with room events decrypted (as {@link
 * io.github.mxe2ee.plugin.MatrixE2ee#onSync} returns it, without the E2EE sections, which the
 * plugin consumed) and its events listed per room.
 *
 * @param body the decrypted body; do not modify it
 * @param nextBatch the response's {@code next_batch}
 * @param initial true if the response answers a sync without {@code since} (history, which bots
 *     usually do not answer)
 * @param replayed true if this batch was saved by an earlier run that stopped before its handler
 *     finished: the handler may have done part of its work already
 * @param late events of earlier batches that were undecryptable (held) and decrypted now that their
 *     key arrived (docs/PLUGIN.md, "Late keys"): each with {@code room_id} and {@code mxe2ee.late:
 *     true}; answer them like timeline events. A late event is handed over again (after a restart)
 *     only if the process stopped before this batch's handler finished
 */
public record SyncBatch(
    JsonObject body, String nextBatch, boolean initial, boolean replayed, List<JsonObject> late) {

  /** Copies the late events (null: none). */
  public SyncBatch {
    late = late == null ? List.of() : List.copyOf(late);
  }

  /** A batch without late events. */
  public SyncBatch(JsonObject body, String nextBatch, boolean initial, boolean replayed) {
    this(body, nextBatch, initial, replayed, List.of());
  }

  /** Which section of {@code rooms} an event came from. */
  public enum Membership {
    /** {@code rooms.join}: timeline events (decrypted) and state events. */
    JOIN,
    /** {@code rooms.invite}: stripped {@code invite_state} events. */
    INVITE,
    /** {@code rooms.leave}: timeline and state events up to the departure. */
    LEAVE
  }

  /**
   * An event of a room.
   *
   * @param roomId the room
   * @param membership the section
   * @param state true for a {@code state}/{@code invite_state} event, false for a timeline event
   * @param event the event; decrypted ones carry an {@code mxe2ee} object
   */
  public record RoomEvent(String roomId, Membership membership, boolean state, JsonObject event) {}

  /** Every room event of the batch, room by room, state before timeline, in body order. */
  public List<RoomEvent> events() {
    List<RoomEvent> out = new ArrayList<>();
    JsonObject rooms = body.getValue("rooms") instanceof JsonObject r ? r : new JsonObject();
    add(out, rooms, "join", Membership.JOIN);
    add(out, rooms, "invite", Membership.INVITE);
    add(out, rooms, "leave", Membership.LEAVE);
    return out;
  }

  /** The ids of the rooms the bot is invited to in this batch. */
  public List<String> invitedRooms() {
    JsonObject rooms = body.getValue("rooms") instanceof JsonObject r ? r : new JsonObject();
    return rooms.getValue("invite") instanceof JsonObject invite
        ? new ArrayList<>(invite.fieldNames())
        : List.of();
  }

  private static void add(List<RoomEvent> out, JsonObject rooms, String key, Membership m) {
    if (!(rooms.getValue(key) instanceof JsonObject section)) {
      return;
    }
    for (Map.Entry<String, Object> room : section) {
      if (!(room.getValue() instanceof JsonObject r)) {
        continue;
      }
      String statePart = m == Membership.INVITE ? "invite_state" : "state";
      events(r, statePart).forEach(e -> out.add(new RoomEvent(room.getKey(), m, true, e)));
      if (m != Membership.INVITE) {
        events(r, "timeline").forEach(e -> out.add(new RoomEvent(room.getKey(), m, false, e)));
      }
    }
  }

  private static List<JsonObject> events(JsonObject room, String part) {
    List<JsonObject> out = new ArrayList<>();
    if (room.getValue(part) instanceof JsonObject holder
        && holder.getValue("events") instanceof JsonArray events) {
      for (Object o : events) {
        if (o instanceof JsonObject e) {
          out.add(e);
        }
      }
    }
    return out;
  }
}
