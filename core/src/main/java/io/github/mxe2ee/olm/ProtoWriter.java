package io.github.mxe2ee.olm;

import java.io.ByteArrayOutputStream;

/** Writes the protobuf-style payload of Olm messages (see {@link ProtoReader}). Not thread-safe. */
final class ProtoWriter {
  private final ByteArrayOutputStream out;

  ProtoWriter() {
    this(128);
  }

  /** A writer whose buffer holds {@code expectedSize} bytes without growing. */
  ProtoWriter(int expectedSize) {
    out = new ByteArrayOutputStream(expectedSize);
  }

  ProtoWriter writeByte(int b) {
    out.write(b);
    return this;
  }

  ProtoWriter writeVarint(long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
    return this;
  }

  ProtoWriter writeVarintField(int tag, long value) {
    return writeVarint(tag).writeVarint(value);
  }

  ProtoWriter writeBytesField(int tag, byte[] value) {
    writeVarint(tag).writeVarint(value.length);
    out.write(value, 0, value.length);
    return this;
  }

  ProtoWriter writeRaw(byte[] value) {
    out.write(value, 0, value.length);
    return this;
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }
}
