package io.github.mxe2ee.sas;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A to-device message a verification wants sent: {@code content} of event {@code type} to one
 * device. The caller (the machine) wraps it in a {@code PUT /sendToDevice} request. Immutable: the
 * content is copied in and out. Carries no secret (only public keys, commitments and MACs).
 *
 * @param userId the recipient user
 * @param deviceId the recipient device
 * @param type the event type, {@code m.key.verification.*}
 * @param content the event content (a copy)
 */
public record VerificationMessage(String userId, String deviceId, String type, ObjectNode content) {
  /** Checks and copies. */
  public VerificationMessage {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(type, "type");
    content = content.deepCopy();
  }

  /** A copy of the content. */
  @Override
  public ObjectNode content() {
    return content.deepCopy();
  }
}
