package io.github.mxe2ee.machine;

import io.github.mxe2ee.attachment.AttachmentCipher;
import io.github.mxe2ee.attachment.EncryptedAttachment;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * An MSC4268 room key bundle built by {@link OlmMachine#buildRoomKeyBundle}: the UTF-8 JSON object
 * {@code {"room_keys": [...], "withheld": [...]}} holding every inbound Megolm session of one room
 * flagged {@code shared_history} (as {@code ExportedSessionData} without the forwarding chain) and,
 * for each other session of the room, a {@code withheld} entry with code {@code
 * m.history_not_shared}. No session is in both lists.
 *
 * <p>The JSON holds session keys in plaintext: encrypt it with {@link #encrypt} (an {@code
 * EncryptedFile} v2 attachment, spec "Sending encrypted attachments"), upload the ciphertext, and
 * pass the file description with its {@code mxc://} URL to {@link OlmMachine#shareRoomKeyBundle}.
 * {@link #toString()} shows counts only.
 */
public final class RoomKeyBundle {
  private final String roomId;
  private final byte[] json;
  private final int sharedSessions;
  private final int withheldSessions;

  RoomKeyBundle(String roomId, byte[] json, int sharedSessions, int withheldSessions) {
    this.roomId = Objects.requireNonNull(roomId, "roomId");
    this.json = json.clone();
    this.sharedSessions = sharedSessions;
    this.withheldSessions = withheldSessions;
  }

  /** The room the bundle is for. */
  public String roomId() {
    return roomId;
  }

  /** A copy of the bundle's plaintext JSON (UTF-8); holds session keys: never log it. */
  public byte[] json() {
    return json.clone();
  }

  /** Sessions in {@code room_keys}. */
  public int sharedSessions() {
    return sharedSessions;
  }

  /** Sessions in {@code withheld} (code {@code m.history_not_shared}). */
  public int withheldSessions() {
    return withheldSessions;
  }

  /** True if the bundle lists no session at all (nothing worth uploading). */
  public boolean isEmpty() {
    return sharedSessions == 0 && withheldSessions == 0;
  }

  /**
   * Encrypts the bundle as an attachment with a fresh key and IV.
   *
   * @return the ciphertext to upload and its {@code EncryptedFile} (v2, without URL)
   */
  public EncryptedAttachment encrypt(SecureRandom random) {
    byte[] copy = json.clone();
    try {
      return AttachmentCipher.encrypt(copy, random);
    } finally {
      Arrays.fill(copy, (byte) 0);
    }
  }

  /** Overwrites the plaintext held by this object; {@link #json()} is all zeros afterwards. */
  public void wipe() {
    Arrays.fill(json, (byte) 0);
  }

  /** Room id and counts only: never key material. */
  @Override
  public String toString() {
    return "RoomKeyBundle["
        + roomId
        + ", "
        + sharedSessions
        + " shared, "
        + withheldSessions
        + " withheld, "
        + json.length
        + " bytes]";
  }
}
