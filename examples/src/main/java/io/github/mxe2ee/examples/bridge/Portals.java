package io.github.mxe2ee.examples.bridge;

import io.vertx.core.Future;
import java.util.List;

/**
 * What the remote side can do with the bridge; {@link RemoteApi} serves it over HTTP. Inputs are
 * validated by the caller's shape checks and again here where only the bridge knows (user ids,
 * ghost names).
 *
 * <p>Failures: {@link IllegalArgumentException} for bad input (its message is safe to show the
 * caller), {@link UnknownPortalException} for a portal never opened, anything else for the
 * homeserver or the store failing.
 */
public interface Portals {

  /**
   * Creates the portal's encrypted room and invites {@code invite}, or, for a portal that exists,
   * invites those of {@code invite} not invited by an earlier call; concurrent calls for one name
   * create one room.
   *
   * @return the portal's room and what became of each invite
   */
  Future<Opened> open(String portal, List<String> invite);

  /**
   * Makes the ghost of remote user {@code from} say {@code text} in the portal room, encrypted with
   * the ghost's device.
   *
   * @return the event id
   */
  Future<String> say(String portal, String from, String text);

  /** What Matrix users said in the portal room, decrypted, oldest first. */
  Future<List<PortalStore.Message>> messages(String portal);

  /** The ghost user id of remote user {@code from} (validated, see {@link GhostNames}). */
  String ghostOf(String from);

  /**
   * The answer to {@link #open}.
   *
   * @param roomId the portal's Matrix room
   * @param created true when this call created the room
   * @param invited the users invited now or earlier (already invited or joined)
   * @param failed the users the homeserver refused to invite, each {@code {user_id, errcode,
   *     error}}
   */
  record Opened(
      String roomId,
      boolean created,
      List<String> invited,
      List<io.vertx.core.json.JsonObject> failed) {}

  /** Names a portal that was never opened. */
  final class UnknownPortalException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param portal the name asked for
     */
    public UnknownPortalException(String portal) {
      super("unknown portal '" + portal + "'");
    }
  }
}
