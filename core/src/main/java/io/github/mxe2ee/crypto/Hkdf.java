package io.github.mxe2ee.crypto;

/** HKDF with HMAC-SHA-256 (RFC 5869). Stateless and thread-safe. */
public final class Hkdf {
  /** RFC 5869 limit: at most 255 blocks of output. */
  public static final int MAX_LENGTH = 255 * HmacSha256.LENGTH;

  private Hkdf() {}

  /**
   * Extract-then-expand.
   *
   * @param salt the salt; null or empty means a string of zeros, as RFC 5869 says
   * @param ikm the input key material
   * @param info the context string (may be empty)
   * @param length output length, 0 to {@link #MAX_LENGTH}
   */
  public static byte[] sha256(byte[] salt, byte[] ikm, byte[] info, int length) {
    if (length < 0 || length > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "HKDF length: expected 0.." + MAX_LENGTH + " but was " + length);
    }
    byte[] prk =
        salt == null || salt.length == 0
            ? HmacSha256.macWithEmptyKey(ikm)
            : HmacSha256.mac(salt, ikm);
    byte[] out = new byte[length];
    byte[] block = new byte[0];
    byte[] input = new byte[HmacSha256.LENGTH + info.length + 1];
    // One key set-up for all expand blocks (the Mac keeps its key across doFinal).
    javax.crypto.Mac expand = HmacSha256.keyed(prk);
    int done = 0;
    for (int counter = 1; done < length; counter++) {
      System.arraycopy(block, 0, input, 0, block.length);
      System.arraycopy(info, 0, input, block.length, info.length);
      input[block.length + info.length] = (byte) counter;
      expand.update(input, 0, block.length + info.length + 1);
      block = expand.doFinal();
      int n = Math.min(block.length, length - done);
      System.arraycopy(block, 0, out, done, n);
      done += n;
    }
    return out;
  }
}
