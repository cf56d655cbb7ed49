package io.github.mxe2ee.sas;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import java.util.Optional;

/**
 * The public keys a verification compares MACs against, as the caller currently knows them (from
 * {@code /keys/query}, validated). Looked up when a MAC arrives or is sent. Implementations must
 * not block for long (the machine's caches).
 */
public interface KeyDirectory {
  /** The Ed25519 key of a known device of {@code userId}, or empty if the device is unknown. */
  Optional<Ed25519PublicKey> deviceKey(String userId, String deviceId);

  /** The master cross-signing key of {@code userId}, or empty if none is known. */
  Optional<Ed25519PublicKey> masterKey(String userId);

  /**
   * Our own master key, to send a MAC for: only if we hold (or verified) it, since the other side
   * will trust what we vouch for. Empty if we have no cross-signing identity.
   */
  Optional<Ed25519PublicKey> ownMasterKey();
}
