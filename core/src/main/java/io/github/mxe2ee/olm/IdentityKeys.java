package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import java.util.Objects;

/**
 * An account's public identity keys, as published in {@code device_keys}: the Curve25519 key used
 * for Olm and the Ed25519 key used for signing ({@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}).
 *
 * @param curve25519 the Curve25519 identity key, non-null
 * @param ed25519 the Ed25519 fingerprint key, non-null
 */
public record IdentityKeys(Curve25519PublicKey curve25519, Ed25519PublicKey ed25519) {
  /** Validates that neither key is null. */
  public IdentityKeys {
    Objects.requireNonNull(curve25519, "curve25519");
    Objects.requireNonNull(ed25519, "ed25519");
  }
}
