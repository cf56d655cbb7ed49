package io.github.mxe2ee.device;

/**
 * How much this device trusts another device, from strongest to weakest refusal (spec: {@code
 * end_to_end_encryption.md}, "Cross-signing": a device is trusted when its owner's self-signing key
 * signed it and the owner's master key is verified by our user-signing key).
 */
public enum DeviceTrust {
  /** Blacklisted locally: never trusted, whatever its signatures. */
  BLACKLISTED,
  /** Verified locally, by fingerprint or interactive verification. */
  VERIFIED_LOCALLY,
  /** Signed by its owner's self-signing key, and the owner's identity is verified. */
  CROSS_SIGNED_VERIFIED,
  /** Signed by its owner's self-signing key, but the owner's identity is not verified. */
  CROSS_SIGNED,
  /** Neither verified nor cross-signed. */
  UNVERIFIED,
  /**
   * Only in a {@link io.github.mxe2ee.machine.DecryptionResult}: the room key of the event came
   * from a key file, a server-side backup or a forwarded key, not from the sender's device over
   * Olm, so nothing proves which device encrypted it. The claimed device's own trust is not
   * reported, whatever it is. Never verified, never cross-signed.
   */
  UNAUTHENTICATED;

  /** True for the states that count as verified: locally, or cross-signed by a verified owner. */
  public boolean isVerified() {
    return this == VERIFIED_LOCALLY || this == CROSS_SIGNED_VERIFIED;
  }

  /** True if the owner cross-signed the device, whether or not the owner is verified. */
  public boolean isCrossSigned() {
    return this == CROSS_SIGNED_VERIFIED || this == CROSS_SIGNED;
  }

  /**
   * Computes the trust of {@code device}.
   *
   * @param local the local decision about it
   * @param owner the owner's validated identity, or null if the owner has none
   * @param ownerVerified whether the owner's identity is verified: for our own user, that we hold
   *     or verified our master key; for others, that our user-signing key signed their master key
   *     (see {@link UserIdentity#hasSigned(UserIdentity)}) or that it was verified locally
   */
  public static DeviceTrust of(
      DeviceKeys device, LocalTrust local, UserIdentity owner, boolean ownerVerified) {
    if (local == LocalTrust.BLACKLISTED) {
      return BLACKLISTED;
    }
    if (local == LocalTrust.VERIFIED) {
      return VERIFIED_LOCALLY;
    }
    if (owner != null && owner.hasSigned(device)) {
      return ownerVerified ? CROSS_SIGNED_VERIFIED : CROSS_SIGNED;
    }
    return UNVERIFIED;
  }
}
