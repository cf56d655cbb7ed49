package io.github.mxe2ee.store;

import io.github.mxe2ee.device.LocalTrust;

/**
 * A device of some user as last seen in a {@code /keys/query} response. See {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}.
 *
 * @param userId owner, non-empty
 * @param deviceId device id, non-empty
 * @param keysJson the signed device keys object as received (JSON text), non-empty
 * @param trust local verification decision, non-null
 * @param deleted the device disappeared from the user's list (kept so that old messages still
 *     resolve their sender)
 */
public record DeviceRecord(
    String userId, String deviceId, String keysJson, LocalTrust trust, boolean deleted) {
  /** Validates non-null fields. */
  public DeviceRecord {
    Require.nonEmpty(userId, "userId");
    Require.nonEmpty(deviceId, "deviceId");
    Require.nonEmpty(keysJson, "keysJson");
    Require.nonNull(trust, "trust");
  }
}
