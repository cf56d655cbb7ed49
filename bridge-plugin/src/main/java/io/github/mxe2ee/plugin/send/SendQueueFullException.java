package io.github.mxe2ee.plugin.send;

import io.github.mxe2ee.Mxe2eeException;

/**
 * A send was refused because {@link RoomSendQueue#MAX_QUEUED_PER_ROOM} sends to its room were
 * already waiting: the caller sends faster than the homeserver accepts. Nothing was encrypted or
 * sent for it; send again later.
 */
public final class SendQueueFullException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #kind()} of this exception. */
  public static final String KIND = "send_queue_full";

  /**
   * @param roomId the room
   */
  public SendQueueFullException(String roomId) {
    super(
        KIND,
        "room "
            + roomId
            + ": "
            + RoomSendQueue.MAX_QUEUED_PER_ROOM
            + " sends already waiting; send again later");
  }
}
