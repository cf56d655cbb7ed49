package io.github.mxe2ee.olm;

import java.util.Arrays;

/**
 * Reads the protobuf-style key/value payload shared by Olm normal and pre-key messages.
 *
 * <p>Each field is a varint tag ({@code field_number << 3 | wire_type}) followed by a varint (wire
 * type 0) or a varint length and that many bytes (wire type 2). Unknown fields of wire types 0, 1
 * (8 bytes), 2 and 5 (4 bytes) can be skipped; the group wire types 3 and 4 and the undefined 6 and
 * 7 are rejected. Every read is bounded by the end of the payload: nothing is read past it.
 *
 * <p>Not thread-safe; one instance per decode.
 */
final class ProtoReader {
  /** Wire type of a varint value. */
  static final int WIRE_VARINT = 0;

  /** Wire type of a fixed 8-byte value (only skipped). */
  static final int WIRE_FIXED64 = 1;

  /** Wire type of a length-delimited byte string. */
  static final int WIRE_LENGTH_DELIMITED = 2;

  /** Wire type of a fixed 4-byte value (only skipped). */
  static final int WIRE_FIXED32 = 5;

  /** A 64-bit value needs at most ten 7-bit groups; longer varints are malformed. */
  static final int MAX_VARINT_BYTES = 10;

  /** Tags are at most 32 bits in protobuf (field numbers up to 2^29 - 1). */
  static final long MAX_TAG = 0xFFFF_FFFFL;

  private final byte[] input;
  private final int end;
  private final String what;
  private int pos;

  ProtoReader(byte[] input, int start, int end, String what) {
    this.input = input;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  boolean hasMore() {
    return pos < end;
  }

  /** Reads a field tag. */
  long readTag() {
    long tag = readVarint();
    if (tag > MAX_TAG || (tag >>> 3) == 0) {
      throw new OlmDecodeException(what + ": invalid field tag " + tag);
    }
    return tag;
  }

  /** Reads an unsigned varint of at most 64 bits. */
  long readVarint() {
    long value = 0;
    for (int i = 0; i < MAX_VARINT_BYTES; i++) {
      if (pos >= end) {
        throw new OlmDecodeException(what + ": truncated varint at offset " + pos);
      }
      int b = input[pos++] & 0xFF;
      if (i == MAX_VARINT_BYTES - 1 && b > 1) {
        throw new OlmDecodeException(what + ": varint overflows 64 bits at offset " + (pos - 1));
      }
      value |= (long) (b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        return value;
      }
    }
    throw new OlmDecodeException(
        what + ": varint longer than " + MAX_VARINT_BYTES + " bytes at offset " + pos);
  }

  /** Reads a varint length followed by that many bytes. */
  byte[] readLengthDelimited() {
    long length = readVarint();
    int available = end - pos;
    if (length < 0 || length > available) {
      throw new OlmDecodeException(
          what
              + ": truncated field, length "
              + Long.toUnsignedString(length)
              + " but "
              + available
              + " bytes left");
    }
    byte[] value = Arrays.copyOfRange(input, pos, pos + (int) length);
    pos += (int) length;
    return value;
  }

  /** Skips the value of an unknown field with the given tag. */
  void skip(long tag) {
    int wireType = (int) (tag & 0x7);
    switch (wireType) {
      case WIRE_VARINT -> readVarint();
      case WIRE_LENGTH_DELIMITED -> readLengthDelimited();
      case WIRE_FIXED64 -> skipFixed(8);
      case WIRE_FIXED32 -> skipFixed(4);
      default ->
          throw new OlmDecodeException(
              what + ": unsupported wire type " + wireType + " in tag " + tag);
    }
  }

  private void skipFixed(int n) {
    if (end - pos < n) {
      throw new OlmDecodeException(
          what + ": truncated fixed field, need " + n + " bytes, " + (end - pos) + " left");
    }
    pos += n;
  }
}
