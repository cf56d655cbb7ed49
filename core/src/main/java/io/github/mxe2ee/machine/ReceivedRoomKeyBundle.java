package io.github.mxe2ee.machine;

import io.github.mxe2ee.attachment.EncryptedFile;
import java.util.Objects;

/**
 * An MSC4268 {@code m.room_key_bundle} announcement received over Olm and kept until it is imported
 * ({@link OlmMachine#importRoomKeyBundle}) or discarded: at most one per (room, sender), a newer
 * one from the same sender replaces the older. Survives restarts (it is in the store).
 *
 * @param roomId the room the bundle is for
 * @param sender the user who sent it (must be the user who invited us for the import to proceed)
 * @param senderDeviceId the sending device's id, from its {@code sender_device_keys}
 * @param senderKey the Curve25519 key of the Olm channel it came through
 * @param file where to download the encrypted bundle, and how to decrypt it; its {@link
 *     EncryptedFile#url()} is present
 * @param receivedAtMillis when it arrived, ms since the epoch
 */
public record ReceivedRoomKeyBundle(
    String roomId,
    String sender,
    String senderDeviceId,
    String senderKey,
    EncryptedFile file,
    long receivedAtMillis) {
  /**
   * Largest encrypted bundle accepted, in bytes: 16 MiB. A bundle entry takes about 700 bytes, so
   * this admits some 20,000 sessions (years of a busy room) while bounding what one inviter can
   * make us download, hold in memory and parse. Download with this limit.
   */
  public static final long MAX_BUNDLE_BYTES = 16L * 1024 * 1024;

  /** Requires every field. */
  public ReceivedRoomKeyBundle {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(senderDeviceId, "senderDeviceId");
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(file, "file");
  }

  /** Ids only: the file's key is never printed. */
  @Override
  public String toString() {
    return "ReceivedRoomKeyBundle["
        + roomId
        + " from "
        + sender
        + " device "
        + senderDeviceId
        + ", received "
        + receivedAtMillis
        + "]";
  }
}
