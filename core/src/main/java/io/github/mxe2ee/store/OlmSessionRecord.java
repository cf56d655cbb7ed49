package io.github.mxe2ee.store;

/**
 * One Olm session with a remote device, found by that device's Curve25519 identity key. See {@code
 * shared/spec/matrix-spec/content/olm-megolm/olm.md}. The machine saves a session only after a
 * message decrypted with it successfully (or after it created the session to encrypt).
 *
 * @param senderKey the remote Curve25519 identity key (unpadded base64), non-empty
 * @param sessionId the Olm session id, non-empty
 * @param pickle encrypted session pickle, non-null
 * @param createdAtMillis creation time, milliseconds since the epoch (from the injected clock)
 * @param lastDecryptedAtMillis time of the last successful decryption, ms since the epoch; the
 *     machine prefers the most recently used session when encrypting
 */
public record OlmSessionRecord(
    String senderKey,
    String sessionId,
    EncryptedPickle pickle,
    long createdAtMillis,
    long lastDecryptedAtMillis) {
  /** Validates non-null fields. */
  public OlmSessionRecord {
    Require.nonEmpty(senderKey, "senderKey");
    Require.nonEmpty(sessionId, "sessionId");
    Require.nonNull(pickle, "pickle");
  }
}
