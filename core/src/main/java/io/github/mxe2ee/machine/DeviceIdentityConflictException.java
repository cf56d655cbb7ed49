package io.github.mxe2ee.machine;

import io.github.mxe2ee.Mxe2eeException;

/**
 * The homeserver holds device keys for our (user, device id) other than the identity in our store
 * (docs/SECURITY.md, "Operator safety"): the store was lost or replaced and the bot logged in again
 * with its old device id, or another process with its own store uses the same device id. Uploading
 * our keys would replace the device's identity for every peer (spec: {@code
 * end_to_end_encryption.md}, "Uploading keys": clients must not change a device's identity keys),
 * so the {@link OlmMachine} uploads nothing and refuses every call that would send with this
 * identity. {@link #kind()} is {@code "identity_conflict"}.
 *
 * <p>The message names the device and both Ed25519 fingerprints (public keys) and says what to do:
 * log in with a new device id, or restore the store and pickle key that belong to this device.
 */
public final class DeviceIdentityConflictException extends Mxe2eeException {
  private static final long serialVersionUID = 1L;

  private final String userId;
  private final String deviceId;
  private final String serverEd25519;
  private final String storeEd25519;

  DeviceIdentityConflictException(
      String userId, String deviceId, String serverEd25519, String storeEd25519) {
    super(
        "identity_conflict",
        "the homeserver already holds other keys for device "
            + deviceId
            + " of "
            + userId
            + " (ed25519 "
            + serverEd25519
            + ") than this crypto store (ed25519 "
            + storeEd25519
            + "): the store was lost or replaced since this device id was first used, or another"
            + " process with its own store uses the same device id. Nothing was uploaded, since"
            + " that would replace the device's identity for everyone who talks to it. Either log"
            + " in with a new device id (peers will see a new device), or restore the store and its"
            + " pickle key that belong to device "
            + deviceId
            + ".");
    this.userId = userId;
    this.deviceId = deviceId;
    this.serverEd25519 = serverEd25519;
    this.storeEd25519 = storeEd25519;
  }

  /** Our user id. */
  public String userId() {
    return userId;
  }

  /** The device id in conflict. */
  public String deviceId() {
    return deviceId;
  }

  /** The Ed25519 key the server lists for the device (unpadded base64), or a placeholder. */
  public String serverEd25519() {
    return serverEd25519;
  }

  /** The Ed25519 key of the account in our store (unpadded base64). */
  public String storeEd25519() {
    return storeEd25519;
  }
}
