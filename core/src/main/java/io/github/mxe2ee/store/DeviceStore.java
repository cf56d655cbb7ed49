package io.github.mxe2ee.store;

import java.util.List;
import java.util.Optional;

/** Reads known devices and cross-signing identities. */
public interface DeviceStore {
  /** Returns every stored device of the user (including ones flagged deleted), by device id. */
  List<DeviceRecord> devices(String userId);

  /** Returns one device, if stored. */
  Optional<DeviceRecord> device(String userId, String deviceId);

  /** Returns the user's cross-signing identity, if stored. */
  Optional<CrossSigningIdentityRecord> crossSigningIdentity(String userId);
}
