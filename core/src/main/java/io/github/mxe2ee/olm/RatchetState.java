package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import java.util.List;
import java.util.Objects;

/**
 * An immutable snapshot of a session's double ratchet; {@link Session} replaces it as a whole,
 * which is how a failed decrypt leaves no trace.
 *
 * @param receivedMessage whether a message from the other side has been decrypted
 * @param rootKey the current root key R_i
 * @param senderChain our sending chain, or null until we send after a ratchet step
 * @param receiverChains newest first, at most {@link Session#MAX_RECEIVER_CHAINS}
 * @param skippedMessageKeys newest first, at most {@link Session#MAX_SKIPPED_MESSAGE_KEYS}
 */
record RatchetState(
    boolean receivedMessage,
    RootKey rootKey,
    SenderChain senderChain,
    List<ReceiverChain> receiverChains,
    List<SkippedMessageKey> skippedMessageKeys) {

  RatchetState {
    Objects.requireNonNull(rootKey, "rootKey");
    receiverChains = List.copyOf(receiverChains);
    skippedMessageKeys = List.copyOf(skippedMessageKeys);
    if (receiverChains.size() > Session.MAX_RECEIVER_CHAINS) {
      throw new IllegalArgumentException("too many receiver chains");
    }
    if (skippedMessageKeys.size() > Session.MAX_SKIPPED_MESSAGE_KEYS) {
      throw new IllegalArgumentException("too many skipped message keys");
    }
    if (senderChain == null && receiverChains.isEmpty()) {
      throw new IllegalArgumentException("a session needs a sender or a receiver chain");
    }
  }

  int findReceiverChain(Curve25519PublicKey ratchetKey) {
    for (int i = 0; i < receiverChains.size(); i++) {
      if (receiverChains.get(i).ratchetKey().equals(ratchetKey)) {
        return i;
      }
    }
    return -1;
  }

  int findSkippedKey(Curve25519PublicKey ratchetKey, long index) {
    for (int i = 0; i < skippedMessageKeys.size(); i++) {
      SkippedMessageKey key = skippedMessageKeys.get(i);
      if (key.messageKey().index() == index && key.ratchetKey().equals(ratchetKey)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    return "RatchetState{receivedMessage="
        + receivedMessage
        + ", receiverChains="
        + receiverChains.size()
        + ", skippedMessageKeys="
        + skippedMessageKeys.size()
        + "}";
  }
}
