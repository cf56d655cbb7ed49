package io.github.mxe2ee.machine;

import java.util.Objects;

/**
 * The outcome of {@link OlmMachine#importRoomKeyBundle}: a value, never an exception, for every
 * bundle a remote party can produce.
 */
public sealed interface RoomKeyBundleImport {

  /**
   * The bundle was accepted (every check passed) and its keys imported.
   *
   * @param roomId the room
   * @param inviter the user who vouched for the keys (recorded with each imported session and
   *     reported as {@link DecryptionResult.Decrypted#forwarder()})
   * @param total sessions listed in {@code room_keys}
   * @param imported sessions stored: new, or decrypting from an earlier index than the copy held
   * @param withheld {@code withheld} entries recorded as failure reasons (a later decryption
   *     failure of such a session reports its code, usually {@code m.history_not_shared})
   */
  record Imported(String roomId, String inviter, int total, int imported, int withheld)
      implements RoomKeyBundleImport {
    /** Requires the ids. */
    public Imported {
      Objects.requireNonNull(roomId, "roomId");
      Objects.requireNonNull(inviter, "inviter");
    }
  }

  /**
   * The bundle was refused; nothing was imported.
   *
   * @param reason the classification
   * @param message detail for logs: ids and sizes only, never key material
   */
  record Rejected(Reason reason, String message) implements RoomKeyBundleImport {
    /** Requires both fields. */
    public Rejected {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(message, "message");
    }
  }

  /** Why a bundle was refused. */
  enum Reason {
    /**
     * No {@code m.room_key_bundle} from this user for this room was received (a bundle from anyone
     * but the inviter is never used). Nothing is deleted.
     */
    NO_BUNDLE_FROM_INVITER,
    /**
     * The inviter's identity is unknown or the sending device is not signed by the inviter's
     * self-signing key (itself signed by the master key). The announcement is kept: query the
     * inviter's keys and try again.
     */
    INVITER_NOT_CROSS_SIGNED,
    /**
     * The downloaded ciphertext exceeds {@link ReceivedRoomKeyBundle#MAX_BUNDLE_BYTES}. Discarded.
     */
    TOO_LARGE,
    /** The ciphertext's SHA-256 differs from the announced hash. Discarded. */
    HASH_MISMATCH,
    /** Not a JSON object of the MSC4268 shape, or over the entry bound. Discarded. */
    MALFORMED,
    /** An entry names another room than the one the bundle was announced for. Discarded. */
    OTHER_ROOM
  }
}
