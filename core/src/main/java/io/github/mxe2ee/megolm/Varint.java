package io.github.mxe2ee.megolm;

/**
 * The protobuf-style base-128 varint used in the Megolm message payload: seven value bits per byte,
 * least significant group first, high bit set on every byte but the last.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Message format". Values
 * here are unsigned 32-bit (indices, tags, lengths); anything wider is malformed.
 */
final class Varint {
  /** 32 bits need at most five 7-bit groups; a sixth byte can only mean a wider value. */
  static final int MAX_U32_BYTES = 5;

  /** A skipped unknown varint field may carry a 64-bit value: at most ten 7-bit groups. */
  static final int MAX_U64_BYTES = 10;

  private static final int WIRE_VARINT = 0;
  private static final int WIRE_LENGTH_DELIMITED = 2;

  private Varint() {}

  /** Encoded length of the unsigned 32-bit {@code value}. */
  static int length(int value) {
    int length = 1;
    while ((value & ~0x7f) != 0) {
      value >>>= 7;
      length++;
    }
    return length;
  }

  /** Writes unsigned {@code value} at {@code pos}; returns the position after it. */
  static int write(int value, byte[] out, int pos) {
    while ((value & ~0x7f) != 0) {
      out[pos++] = (byte) ((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out[pos++] = (byte) value;
    return pos;
  }

  /** Reads varints and fields from {@code bytes[pos..end)}, throwing typed decode errors. */
  static final class Reader {
    private final byte[] bytes;
    private final int end;
    private int pos;

    Reader(byte[] bytes, int pos, int end) {
      this.bytes = bytes;
      this.pos = pos;
      this.end = end;
    }

    boolean hasMore() {
      return pos < end;
    }

    /** Reads an unsigned 32-bit varint; {@code what} names it in the error message. */
    long readU32(String what) {
      long value = 0;
      for (int i = 0; i < MAX_U32_BYTES; i++) {
        if (pos >= end) {
          throw new MegolmDecodeException("Megolm message: bad varint (" + what + " truncated)");
        }
        int b = bytes[pos++] & 0xff;
        value |= (long) (b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
          if (value > 0xffffffffL) {
            throw new MegolmDecodeException(
                "Megolm message: bad varint (" + what + " exceeds 32 bits)");
          }
          return value;
        }
      }
      throw new MegolmDecodeException(
          "Megolm message: bad varint (" + what + " longer than " + MAX_U32_BYTES + " bytes)");
    }

    /** Reads a length prefix that must fit in the remaining bytes. */
    int readLength(String what) {
      long length = readU32(what + " length");
      if (length > end - pos) {
        throw new MegolmDecodeException(
            "Megolm message truncated: "
                + what
                + " declares "
                + length
                + " bytes, "
                + (end - pos)
                + " remain");
      }
      return (int) length;
    }

    /** Skips {@code length} bytes already checked by {@link #readLength}; returns their start. */
    int skip(int length, String what) {
      if (length > end - pos) {
        throw new MegolmDecodeException("Megolm message truncated in " + what);
      }
      int start = pos;
      pos += length;
      return start;
    }

    /** Skips the value of a field this decoder does not know, by its wire type. */
    void skipUnknownField(long tag) {
      int wireType = (int) (tag & 0x7);
      if (wireType == WIRE_VARINT) {
        skipVarint();
      } else if (wireType == WIRE_LENGTH_DELIMITED) {
        skip(readLength("unknown field"), "unknown field");
      } else {
        throw new MegolmDecodeException(
            "Megolm message: unsupported wire type "
                + wireType
                + " for unknown tag "
                + tag
                + " (expected 0 or 2)");
      }
    }

    private void skipVarint() {
      for (int i = 0; i < MAX_U64_BYTES; i++) {
        if (pos >= end) {
          throw new MegolmDecodeException("Megolm message: bad varint (unknown field truncated)");
        }
        if ((bytes[pos++] & 0x80) == 0) {
          return;
        }
      }
      throw new MegolmDecodeException(
          "Megolm message: bad varint (unknown field longer than " + MAX_U64_BYTES + " bytes)");
    }
  }
}
