package io.github.mxe2ee.megolm;

import java.nio.charset.StandardCharsets;

/**
 * The result of {@link InboundGroupSession#decrypt(MegolmMessage)}: the plaintext and the ratchet
 * index it was encrypted at (for replay detection, see the spec's "Message Replays").
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Message encryption".
 * Immutable; the plaintext is copied in and out and never appears in {@link #toString()}; no {@code
 * equals}/{@code hashCode} over the plaintext.
 *
 * @param plaintext the decrypted bytes (copied)
 * @param messageIndex the message index, 0..2^32-1
 */
public record DecryptedMessage(byte[] plaintext, long messageIndex) {
  /** Copies {@code plaintext}. */
  public DecryptedMessage {
    plaintext = plaintext.clone();
  }

  /** A copy of the plaintext bytes. */
  @Override
  public byte[] plaintext() {
    return plaintext.clone();
  }

  /** The plaintext decoded as UTF-8 (Matrix event JSON). */
  public String plaintextUtf8() {
    return new String(plaintext, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object other) {
    return this == other;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "DecryptedMessage[messageIndex="
        + messageIndex
        + ", plaintext=<"
        + plaintext.length
        + " bytes>]";
  }
}
