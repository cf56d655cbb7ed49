package io.github.mxe2ee.pickle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.DecodeException;
import org.junit.jupiter.api.Test;

class PickleReaderTest {
  @Test
  void roundTripsEveryFieldKind() {
    byte[] data =
        new PickleWriter()
            .writeU32(0x80000001L)
            .writeU8(200)
            .writeBool(true)
            .writeBytes(new byte[] {9, 8})
            .writeVarBytes(new byte[] {1, 2, 3})
            .toByteArray();
    PickleReader r = new PickleReader(data);
    assertEquals(0x80000001L, r.readU32());
    assertEquals(200, r.readU8());
    assertTrue(r.readBool());
    assertArrayEquals(new byte[] {9, 8}, r.readBytes(2));
    assertArrayEquals(new byte[] {1, 2, 3}, r.readVarBytes());
    r.requireEnd();
  }

  @Test
  void truncationAndOversizedLengthsAreDecodeExceptions() {
    assertThrows(DecodeException.class, () -> new PickleReader(new byte[3]).readU32());
    assertThrows(DecodeException.class, () -> new PickleReader(new byte[0]).readU8());
    assertThrows(DecodeException.class, () -> new PickleReader(new byte[4]).readBytes(5));
    byte[] hugeLength = new PickleWriter().writeU32(0xffffffffL).toByteArray();
    assertThrows(DecodeException.class, () -> new PickleReader(hugeLength).readVarBytes());
    byte[] count = new PickleWriter().writeU32(101).toByteArray();
    assertThrows(DecodeException.class, () -> new PickleReader(count).readCount("keys", 100));
    assertThrows(DecodeException.class, () -> new PickleReader(new byte[1]).requireEnd());
    assertThrows(DecodeException.class, () -> new PickleReader(new byte[4]).readBytes(-1));
  }
}
