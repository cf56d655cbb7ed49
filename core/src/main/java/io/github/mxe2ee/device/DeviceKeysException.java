package io.github.mxe2ee.device;

import io.github.mxe2ee.crypto.DecodeException;

/**
 * A device-keys or cross-signing-key object is malformed, or fails a check the spec requires
 * (signature, matching ids). Kind {@code "device_keys"}.
 */
public class DeviceKeysException extends DecodeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what was expected and what was found
   */
  public DeviceKeysException(String message) {
    super("device_keys", message);
  }
}
