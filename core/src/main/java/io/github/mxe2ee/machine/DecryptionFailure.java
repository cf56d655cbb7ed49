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
  UNTRUSTED,
  /**
   * An encrypted state event whose outer packed {@code state_key} does not match the type and state
   * key in its plaintext, or is malformed (no {@code type:state_key} packing, over 255 bytes, or a
   * state key on only one side): the homeserver filed it under another state entry (MSC4362,
   * "Reception and packed state key validation"). Never delivered as state; permanent.
   */
  STATE_KEY_MISMATCH,
  /**
   * An encrypted state event of a type that is never encrypted ({@link
   * EncryptedState#NEVER_ENCRYPTED}: create, member, power levels, join rules, encryption, ...):
   * the server acts on the plain one, so an encrypted copy must be ignored (MSC3414, MSC4362).
   * Permanent.
   */
  NEVER_ENCRYPTED_STATE
}
