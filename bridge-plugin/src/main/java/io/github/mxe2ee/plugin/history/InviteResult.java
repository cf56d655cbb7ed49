package io.github.mxe2ee.plugin.history;

import java.util.List;
import java.util.Map;

/**
 * What {@link RoomHistory#invite} did: the invite was sent (a refused invite fails the call
 * instead), and whether the room's history was shared.
 *
 * @param roomId the room
 * @param userId the invitee
 * @param historyShared whether an {@code m.room_key_bundle} went to at least one of the invitee's
 *     devices
 * @param sharedSessions sessions whose keys the bundle holds (created while the room's history was
 *     visible to new members)
 * @param withheldSessions sessions the bundle lists as withheld with {@code m.history_not_shared}
 * @param devices the invitee's devices the bundle was sent to
 * @param skipped the invitee's other devices, each with why ({@code m.unverified}: not signed by
 *     its owner's cross-signing identity; {@code m.blacklisted}; {@code m.no_olm})
 * @param note why nothing was shared, or null when it was: {@code sharing off}, {@code nothing to
 *     share}, {@code no eligible device}, an invite bound to be refused ({@code the inviter
 *     itself}, {@code already in the room}, {@code banned from the room}, {@code no power to invite
 *     in this room}), or the failure of the upload or the send (the invite is sent anyway)
 */
public record InviteResult(
    String roomId,
    String userId,
    boolean historyShared,
    int sharedSessions,
    int withheldSessions,
    List<String> devices,
    Map<String, String> skipped,
    String note) {

  /** Copies the collections. */
  public InviteResult {
    devices = List.copyOf(devices);
    skipped = Map.copyOf(skipped);
  }

  /** An invite without history: {@code note} says why. */
  static InviteResult notShared(String roomId, String userId, String note) {
    return new InviteResult(roomId, userId, false, 0, 0, List.of(), Map.of(), note);
  }
}
