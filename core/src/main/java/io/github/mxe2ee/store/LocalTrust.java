package io.github.mxe2ee.store;

/**
 * What the local operator decided about a device or identity, independent of cross-signing. The
 * numeric codes are stored in databases and never change.
 */
public enum LocalTrust {
  /** No local decision. */
  UNSET(0),
  /** Verified locally (for example by SAS or by configuration). */
  VERIFIED(1),
  /** Never share keys with it. */
  BLACKLISTED(2),
  /** Treat as trusted for sharing without verification. */
  IGNORED(3);

  private final int code;

  LocalTrust(int code) {
    this.code = code;
  }

  /** Returns the stable storage code. */
  public int code() {
    return code;
  }

  /**
   * Returns the value for a storage code.
   *
   * @throws StoreException with reason CORRUPT for an unknown code
   */
  public static LocalTrust fromCode(int code) {
    for (LocalTrust t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new StoreException(
        StoreException.Reason.CORRUPT, "unknown local trust code " + code + ", expected 0..3");
  }
}
