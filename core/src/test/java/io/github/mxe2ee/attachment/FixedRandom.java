package io.github.mxe2ee.attachment;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A "random" source for known-answer tests that hands out exactly the bytes it was given, in order,
 * and fails when asked for more, so tests also prove how many bytes an operation drew.
 */
final class FixedRandom extends SecureRandom {
  private static final long serialVersionUID = 1L;
  private final byte[] bytes;
  private int position;

  FixedRandom(byte[]... parts) {
    int total = 0;
    for (byte[] part : parts) {
      total += part.length;
    }
    bytes = new byte[total];
    int off = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, bytes, off, part.length);
      off += part.length;
    }
  }

  int remaining() {
    return bytes.length - position;
  }

  @Override
  public void nextBytes(byte[] out) {
    if (remaining() < out.length) {
      throw new IllegalStateException(
          "FixedRandom exhausted: asked for " + out.length + ", have " + remaining());
    }
    System.arraycopy(bytes, position, out, 0, out.length);
    position += out.length;
  }

  /** The key and IV high half an encryption with this source will use. */
  static FixedRandom forKeyAndIv(byte[] key, byte[] iv) {
    return new FixedRandom(key, Arrays.copyOf(iv, 8));
  }
}
