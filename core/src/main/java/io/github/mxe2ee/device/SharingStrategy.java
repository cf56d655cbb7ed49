package io.github.mxe2ee.device;

/**
 * Which devices receive room keys (ARCHITECTURE.md, "Policies that are the product"; MSC4153
 * recommends {@link #CROSS_SIGNED_ONLY}). A device left out is told why with {@code
 * m.room_key.withheld}: {@link #withheldCode} gives the code.
 */
public enum SharingStrategy {
  /** Every device that is not blacklisted. */
  ALL_DEVICES,
  /** Devices cross-signed by their owner (verified or not) and devices verified locally. */
  CROSS_SIGNED_ONLY,
  /** Only verified devices: locally, or cross-signed by a verified owner. */
  VERIFIED_ONLY;

  /** True if a device with trust {@code trust} gets the room key. */
  public boolean allows(DeviceTrust trust) {
    return switch (this) {
      case ALL_DEVICES -> trust != DeviceTrust.BLACKLISTED;
      case CROSS_SIGNED_ONLY -> trust.isCrossSigned() || trust == DeviceTrust.VERIFIED_LOCALLY;
      case VERIFIED_ONLY -> trust.isVerified();
    };
  }

  /**
   * The {@code m.room_key.withheld} code for a device this strategy leaves out: {@code
   * m.blacklisted} for blacklisted devices, {@code m.unverified} otherwise; null if it is allowed.
   */
  public String withheldCode(DeviceTrust trust) {
    if (allows(trust)) {
      return null;
    }
    return trust == DeviceTrust.BLACKLISTED ? "m.blacklisted" : "m.unverified";
  }
}
