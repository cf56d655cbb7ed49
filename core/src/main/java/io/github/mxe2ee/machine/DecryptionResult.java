package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.device.DeviceTrust;
import java.util.Objects;

/**
 * The outcome of {@link OlmMachine#decryptRoomEvent}: a value, never an exception, for everything
 * that can happen to a well-formed call.
 */
public sealed interface DecryptionResult {

  /**
   * The event decrypted.
   *
   * @param type the decrypted event type
   * @param content the decrypted content (a copy)
   * @param senderDeviceId the device whose session encrypted it, or null if that device is unknown
   * @param senderCurve25519 the Curve25519 key of the Olm channel the room key came through
   * @param trust the sending device's trust now; {@link DeviceTrust#UNVERIFIED} if unknown; {@link
   *     DeviceTrust#UNAUTHENTICATED} if the room key came from a key file, a backup or a forwarded
   *     key (then nothing proves the device sent it, so its own trust is not reported)
   * @param authenticated true if the room key came directly from the sender's device over Olm (not
   *     forwarded, imported or from a backup), for this room, and that device's keys match
   * @param messageIndex the Megolm index of the message
   * @param forwarder the user who vouched for the room key when it came in an MSC4268 room key
   *     bundle (the inviter who shared the room's history), null otherwise; we have only that
   *     user's word that the key is the sender's, and a client must show it (MSC4268, "Actions as a
   *     receiving client")
   * @param forwarderDevice the device of {@code forwarder} that sent the bundle, or null
   */
  record Decrypted(
      String type,
      ObjectNode content,
      String senderDeviceId,
      String senderCurve25519,
      DeviceTrust trust,
      boolean authenticated,
      long messageIndex,
      String forwarder,
      String forwarderDevice)
      implements DecryptionResult {
    /** Compact canonical constructor: copies the content. */
    public Decrypted {
      Objects.requireNonNull(type, "type");
      content = content.deepCopy();
      Objects.requireNonNull(trust, "trust");
    }

    /** A result whose key did not come from a room key bundle (no forwarder). */
    public Decrypted(
        String type,
        ObjectNode content,
        String senderDeviceId,
        String senderCurve25519,
        DeviceTrust trust,
        boolean authenticated,
        long messageIndex) {
      this(
          type,
          content,
          senderDeviceId,
          senderCurve25519,
          trust,
          authenticated,
          messageIndex,
          null,
          null);
    }

    /** A copy of the content. */
    @Override
    public ObjectNode content() {
      return content.deepCopy();
    }

    /** Type and ids only: the decrypted content is never printed. */
    @Override
    public String toString() {
      return "Decrypted["
          + type
          + " from device "
          + senderDeviceId
          + ", index "
          + messageIndex
          + ", "
          + trust
          + (authenticated ? ", authenticated" : "")
          + (forwarder != null ? ", forwarded by " + forwarder : "")
          + "]";
    }
  }

  /**
   * The event could not be decrypted.
   *
   * @param reason the classification
   * @param withheldCode for {@link DecryptionFailure#WITHHELD}: the code ({@code m.unverified},
   *     ...); else null
   * @param message detail for logs (ids only, never key material)
   */
  record UnableToDecrypt(DecryptionFailure reason, String withheldCode, String message)
      implements DecryptionResult {
    /** Compact canonical constructor. */
    public UnableToDecrypt {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(message, "message");
    }
  }
}
