package io.github.mxe2ee.store;

/**
 * A (user id, device id) pair naming one remote device.
 *
 * @param userId Matrix user id, non-empty
 * @param deviceId device id, non-empty
 */
public record UserDevice(String userId, String deviceId) {
  /** Validates both parts. */
  public UserDevice {
    Require.nonEmpty(userId, "userId");
    Require.nonEmpty(deviceId, "deviceId");
  }
}
