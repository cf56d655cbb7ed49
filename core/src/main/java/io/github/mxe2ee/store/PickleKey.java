package io.github.mxe2ee.store;

/**
 * The 32-byte key that encrypts every pickle before it reaches a {@link CryptoStore} (the store
 * itself never sees it). Obtain one from a {@link PickleKeySource}.
 *
 * <p>A secret holder: {@link #toString()} is redacted, there is no {@code equals}/{@code hashCode}
 * (compare with {@code ConstantTime.equals} on exposed bytes if you must), and the bytes are only
 * reachable through the greppable {@link #exposeSecretBytes()}, which returns a copy. Immutable and
 * thread-safe.
 */
public final class PickleKey {
  /** Key length in bytes: a 256-bit key for the pickle cipher. */
  public static final int LENGTH = 32;

  private final byte[] key;

  private PickleKey(byte[] key) {
    this.key = key;
  }

  /**
   * Wraps a copy of {@code key}.
   *
   * @throws PickleKeyException if the key is not {@link #LENGTH} bytes or is all zero (the message
   *     gives the length, never the bytes)
   */
  public static PickleKey fromBytes(byte[] key) {
    if (key == null) {
      throw new NullPointerException("key must not be null");
    }
    if (key.length != LENGTH) {
      throw new PickleKeyException(
          "pickle key must be " + LENGTH + " bytes, got " + key.length + " bytes");
    }
    int any = 0;
    for (byte b : key) {
      any |= b;
    }
    if (any == 0) {
      // A zeroed buffer, an unset secret rendered as zeros, "AAAA...=" pasted from an example:
      // it encrypts nothing that anyone could not decrypt.
      throw new PickleKeyException(
          "pickle key is all zero bytes, which is no secret; use "
              + LENGTH
              + " random bytes (for example: head -c "
              + LENGTH
              + " /dev/urandom | base64)");
    }
    return new PickleKey(key.clone());
  }

  /** Returns a copy of the key bytes; only for handing to the pickle cipher. */
  public byte[] exposeSecretBytes() {
    return key.clone();
  }

  @Override
  public String toString() {
    return "PickleKey[redacted]";
  }
}
