package io.github.mxe2ee.olm;

import java.util.Arrays;

/** Writes the protobuf-style payload of Olm messages (see {@link ProtoReader}). Not thread-safe. */
final class ProtoWriter {
  private byte[] buf;
  private int count;

  ProtoWriter() {
    this(128);
  }

  /**
   * A writer whose buffer holds {@code expectedSize} bytes without growing; if exactly that many
   * are written, {@link #toByteArray()} returns the buffer without a copy.
   */
  ProtoWriter(int expectedSize) {
    buf = new byte[expectedSize];
  }

  private void ensure(int more) {
    if (count + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
    }
  }

  ProtoWriter writeByte(int b) {
    ensure(1);
    buf[count++] = (byte) b;
    return this;
  }

  ProtoWriter writeVarint(long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      writeByte((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    return writeByte((int) v);
  }

  /** Bytes {@link #writeVarint} writes for {@code value}. */
  static int varintLength(long value) {
    int n = 1;
    for (long v = value; (v & ~0x7FL) != 0; v >>>= 7) {
      n++;
    }
    return n;
  }

  ProtoWriter writeVarintField(int tag, long value) {
    return writeVarint(tag).writeVarint(value);
  }

  ProtoWriter writeBytesField(int tag, byte[] value) {
    writeVarint(tag).writeVarint(value.length);
    return writeRaw(value);
  }

  ProtoWriter writeRaw(byte[] value) {
    ensure(value.length);
    System.arraycopy(value, 0, buf, count, value.length);
    count += value.length;
    return this;
  }

  /** Bytes written so far. */
  int size() {
    return count;
  }

  /** What was written: the buffer itself if it is exactly full, else a copy. */
  byte[] toByteArray() {
    return count == buf.length ? buf : Arrays.copyOf(buf, count);
  }

  /**
   * The buffer with {@code tail} bytes left after what was written, for the caller to fill (a MAC),
   * or a copy of that length if the buffer is not exactly that size.
   */
  byte[] toByteArrayWithRoom(int tail) {
    return count + tail == buf.length ? buf : Arrays.copyOf(buf, count + tail);
  }
}
