package io.github.mxe2ee.pickle;

import io.github.mxe2ee.crypto.DecodeException;
import java.util.Arrays;

/**
 * Reads the plaintext of a pickle written in libolm's layout (see {@link PickleWriter}). Every read
 * checks bounds and throws {@link DecodeException} on truncation, never an index error. Not
 * thread-safe.
 */
public final class PickleReader {
  private final byte[] data;
  private int pos;

  /** Reads from {@code data} (not copied; do not change it while reading). */
  public PickleReader(byte[] data) {
    this.data = data;
  }

  /** Reads a big-endian u32 as a non-negative long. */
  public long readU32() {
    need(4, "u32");
    long v =
        ((long) (data[pos] & 0xff) << 24)
            | ((data[pos + 1] & 0xff) << 16)
            | ((data[pos + 2] & 0xff) << 8)
            | (data[pos + 3] & 0xff);
    pos += 4;
    return v;
  }

  /**
   * Reads a u32 that must lie in {@code [0, max]}, as a count or a length.
   *
   * @throws DecodeException if it is larger than {@code max}
   */
  public int readCount(String what, int max) {
    long v = readU32();
    if (v > max) {
      throw new DecodeException("pickle: " + what + " of " + v + " exceeds the limit of " + max);
    }
    return (int) v;
  }

  /** Reads one byte as 0..255. */
  public int readU8() {
    need(1, "u8");
    return data[pos++] & 0xff;
  }

  /** Reads one byte as a boolean: 0 is false, anything else true (as libolm reads it). */
  public boolean readBool() {
    return readU8() != 0;
  }

  /** Reads exactly {@code n} raw bytes. */
  public byte[] readBytes(int n) {
    need(n, n + " bytes");
    byte[] out = Arrays.copyOfRange(data, pos, pos + n);
    pos += n;
    return out;
  }

  /** Reads a u32 length (at most what remains), then that many bytes. */
  public byte[] readVarBytes() {
    return readBytes(readCount("length", remaining()));
  }

  /** Bytes not yet read. */
  public int remaining() {
    return data.length - pos;
  }

  /**
   * Checks that everything was read.
   *
   * @throws DecodeException if bytes remain
   */
  public void requireEnd() {
    if (remaining() != 0) {
      throw new DecodeException("pickle: " + remaining() + " unexpected trailing bytes");
    }
  }

  private void need(int n, String what) {
    if (n < 0 || remaining() < n) {
      throw new DecodeException(
          "pickle: truncated reading " + what + " at offset " + pos + " of " + data.length);
    }
  }
}
