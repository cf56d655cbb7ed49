package io.github.mxe2ee.olm;

import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A deterministic "random" source for known-answer tests: it hands out exactly the bytes fed to it,
 * in order, and fails if asked for more, so a test also proves how many bytes were consumed.
 */
final class FeedRandom extends SecureRandom {
  private static final long serialVersionUID = 1L;
  private final Deque<Byte> bytes = new ArrayDeque<>();

  FeedRandom feed(byte[] data) {
    for (byte b : data) {
      bytes.addLast(b);
    }
    return this;
  }

  FeedRandom feedHex(String hex) {
    return feed(TestVectors.hex(hex));
  }

  int remaining() {
    return bytes.size();
  }

  @Override
  public void nextBytes(byte[] out) {
    if (bytes.size() < out.length) {
      throw new IllegalStateException(
          "FeedRandom exhausted: asked for " + out.length + ", have " + bytes.size());
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = bytes.removeFirst();
    }
  }
}
