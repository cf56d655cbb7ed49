package io.github.mxe2ee.machine;

/**
 * Why a room event could not be decrypted (ARCHITECTURE.md: failures are classified values). The
 * first three are usually temporary: the key may still arrive (late {@code m.room_key}, a key
 * request, a bundle).
 */
public enum DecryptionFailure {
  /** No inbound group session with this id for this room. */
  MISSING_SESSION,
  /** The session is known but starts after this message's index. */
  UNKNOWN_INDEX,
  /** The sender told us it will not share the key ({@code m.room_key.withheld}); see the code. */
  WITHHELD,
  /** This session index was already used by another event: a replay attack. */
  REPLAY,
  /** The event or its ciphertext is malformed, or a MAC or signature did not verify. */
  MALFORMED,
  /** The session does not belong to the event's sender, or the plaintext names another room. */
  UNTRUSTED
}
