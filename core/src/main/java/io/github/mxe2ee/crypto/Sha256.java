package io.github.mxe2ee.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 through the JDK (intrinsified on most CPUs). Thread-safe: one digest per thread. */
public final class Sha256 {
  private static final ThreadLocal<MessageDigest> DIGEST =
      ThreadLocal.withInitial(() -> newDigest("SHA-256"));

  private Sha256() {}

  /** Returns the 32-byte SHA-256 of {@code data}. */
  public static byte[] hash(byte[] data) {
    MessageDigest digest = DIGEST.get();
    digest.reset();
    return digest.digest(data);
  }

  static MessageDigest newDigest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is missing from this JDK", e);
    }
  }
}
