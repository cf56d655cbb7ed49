package io.github.mxe2ee.crypto;

import java.security.MessageDigest;

/** Comparisons whose running time does not depend on where inputs differ. Thread-safe. */
public final class ConstantTime {
  private ConstantTime() {}

  /**
   * Compares two byte arrays in time that depends only on their lengths. Null equals only null.
   *
   * @return true if both have the same length and content
   */
  public static boolean equals(byte[] a, byte[] b) {
    if (a == null || b == null) {
      return a == b;
    }
    return MessageDigest.isEqual(a, b);
  }
}
