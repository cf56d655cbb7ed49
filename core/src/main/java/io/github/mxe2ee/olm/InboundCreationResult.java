package io.github.mxe2ee.olm;

import java.util.Objects;

/**
 * The outcome of {@link Account#createInboundSession}: the new session and the plaintext of the
 * pre-key message that created it.
 *
 * @param session the new session (it has received a message, so it sends normal messages)
 * @param plaintext the decrypted UTF-8 plaintext of the pre-key message
 */
public record InboundCreationResult(Session session, String plaintext) {
  /** Validates that neither component is null. */
  public InboundCreationResult {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(plaintext, "plaintext");
  }

  @Override
  public String toString() {
    return "InboundCreationResult{session=" + session + "}";
  }
}
