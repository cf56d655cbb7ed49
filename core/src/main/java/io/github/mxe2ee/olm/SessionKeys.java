package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Sha256;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Objects;

/**
 * The three public keys that identify an Olm session: Alice's identity key I_A, her base key E_A
 * and Bob's one-time (or fallback) key E_B.
 *
 * <p>Immutable and thread-safe; all components are non-null. The session id is computed as libolm
 * and vodozemac do: unpadded base64 of SHA-256(I_A || E_A || E_B).
 *
 * @param identityKey Alice's Curve25519 identity key I_A
 * @param baseKey Alice's base key E_A
 * @param oneTimeKey Bob's one-time or fallback key E_B
 */
public record SessionKeys(
    Curve25519PublicKey identityKey, Curve25519PublicKey baseKey, Curve25519PublicKey oneTimeKey) {

  /** Validates that no key is null. */
  public SessionKeys {
    Objects.requireNonNull(identityKey, "identityKey");
    Objects.requireNonNull(baseKey, "baseKey");
    Objects.requireNonNull(oneTimeKey, "oneTimeKey");
  }

  static SessionKeys of(
      Curve25519PublicKey identityKey,
      Curve25519PublicKey baseKey,
      Curve25519PublicKey oneTimeKey) {
    return new SessionKeys(identityKey, baseKey, oneTimeKey);
  }

  /** Unpadded base64 of SHA-256(I_A || E_A || E_B). */
  public String sessionId() {
    byte[] input = new byte[3 * OlmMessage.KEY_LENGTH];
    System.arraycopy(identityKey.toBytes(), 0, input, 0, 32);
    System.arraycopy(baseKey.toBytes(), 0, input, 32, 32);
    System.arraycopy(oneTimeKey.toBytes(), 0, input, 64, 32);
    return UnpaddedBase64.encode(Sha256.hash(input));
  }
}
