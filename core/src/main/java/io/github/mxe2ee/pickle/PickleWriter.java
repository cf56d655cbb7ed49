package io.github.mxe2ee.pickle;

import java.io.ByteArrayOutputStream;

/**
 * Builds the plaintext of a pickle in libolm's layout: big-endian unsigned 32-bit integers, single
 * bytes, booleans as one byte, and raw byte strings. Not thread-safe; one writer per pickle. The
 * buffer holds secrets: callers encrypt {@link #toByteArray()} at once and drop the writer.
 */
public final class PickleWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

  /** Writes {@code value} as four big-endian bytes (its low 32 bits). */
  public PickleWriter writeU32(long value) {
    out.write((int) (value >>> 24));
    out.write((int) (value >>> 16));
    out.write((int) (value >>> 8));
    out.write((int) value);
    return this;
  }

  /** Writes one byte. */
  public PickleWriter writeU8(int value) {
    out.write(value);
    return this;
  }

  /** Writes one byte, 1 for true and 0 for false. */
  public PickleWriter writeBool(boolean value) {
    out.write(value ? 1 : 0);
    return this;
  }

  /** Writes the bytes as they are, with no length. */
  public PickleWriter writeBytes(byte[] bytes) {
    out.write(bytes, 0, bytes.length);
    return this;
  }

  /** Writes a u32 length, then the bytes. */
  public PickleWriter writeVarBytes(byte[] bytes) {
    writeU32(bytes.length);
    return writeBytes(bytes);
  }

  /** The bytes written so far. */
  public byte[] toByteArray() {
    return out.toByteArray();
  }
}
