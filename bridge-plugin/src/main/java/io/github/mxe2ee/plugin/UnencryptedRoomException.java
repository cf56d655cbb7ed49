package io.github.mxe2ee.plugin;

import io.github.mxe2ee.Mxe2eeException;

/**
 * {@link MatrixE2ee#send} refused to send into a room that is not encrypted, because {@link
 * E2eeOptions#setRefuseUnencrypted} is set. The message names the room.
 */
public class UnencryptedRoomException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #kind()} of this exception. */
  public static final String KIND = "unencrypted_room";

  private final String roomId;

  /**
   * @param roomId the room that has no {@code m.room.encryption} state
   */
  public UnencryptedRoomException(String roomId) {
    super(
        KIND,
        "room "
            + roomId
            + " is not encrypted and refuseUnencrypted is set: nothing was sent (enable"
            + " encryption in the room, or unset E2eeOptions.setRefuseUnencrypted to send plain)");
    this.roomId = roomId;
  }

  /** The room. */
  public String roomId() {
    return roomId;
  }
}
