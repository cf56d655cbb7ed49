package io.github.mxe2ee.store;

import io.github.mxe2ee.device.LocalTrust;

/**
 * A user's cross-signing identity (master, self-signing and user-signing public keys). See {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, section
 * "Cross-signing".
 *
 * @param userId owner, non-empty
 * @param keysJson JSON object with the keys as received ({@code master_key}, {@code
 *     self_signing_key}, optional {@code user_signing_key}), non-empty
 * @param trust local verification decision for the master key, non-null
 */
public record CrossSigningIdentityRecord(String userId, String keysJson, LocalTrust trust) {
  /** Validates non-null fields. */
  public CrossSigningIdentityRecord {
    Require.nonEmpty(userId, "userId");
    Require.nonEmpty(keysJson, "keysJson");
    Require.nonNull(trust, "trust");
  }
}
