package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * One to-device event after the machine processed it, as {@link OlmMachine#receiveSyncChanges}
 * reports it. Secret material (room keys) is removed from {@link #content()}.
 *
 * @param kind what happened to it
 * @param type the event type (the decrypted type for Olm events)
 * @param sender the sending user
 * @param senderDeviceId the sending device if known, else null
 * @param senderCurve25519 the Olm sender key for decrypted events, else null
 * @param content the content without secrets (a copy)
 * @param failure for {@link Kind#UNABLE_TO_DECRYPT} and {@link Kind#INVALID}: why; else null
 */
public record ReceivedToDevice(
    Kind kind,
    String type,
    String sender,
    String senderDeviceId,
    String senderCurve25519,
    ObjectNode content,
    String failure) {

  /** What the machine did with an event. */
  public enum Kind {
    /** An Olm-encrypted event that decrypted and passed every check. */
    DECRYPTED,
    /** A plaintext event (key requests, withheld notices, verification, ...). */
    PLAINTEXT,
    /** An Olm-encrypted event no session could decrypt. */
    UNABLE_TO_DECRYPT,
    /** Malformed, or failed the spec's payload checks: discarded. */
    INVALID
  }

  /** Compact canonical constructor: copies the content. */
  public ReceivedToDevice {
    Objects.requireNonNull(kind, "kind");
    content = content == null ? Context.object() : content.deepCopy();
  }

  /** A copy of the content. */
  @Override
  public ObjectNode content() {
    return content.deepCopy();
  }

  /** Kind, type and sender only: content is never printed. */
  @Override
  public String toString() {
    return "ReceivedToDevice[" + kind + " " + type + " from " + sender + "/" + senderDeviceId + "]";
  }
}
