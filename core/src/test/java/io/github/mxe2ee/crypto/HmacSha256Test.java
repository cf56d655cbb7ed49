package io.github.mxe2ee.crypto;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link HmacSha256} against RFC 4231 (short, medium and longer-than-a-block keys). */
class HmacSha256Test {
  private static byte[] repeat(int value, int count) {
    byte[] b = new byte[count];
    Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void rfc4231Cases() {
    // Case 1: 20-byte key.
    assertEquals(
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        hex(HmacSha256.mac(repeat(0x0b, 20), "Hi There".getBytes(StandardCharsets.US_ASCII))));
    // Case 4: 25-byte key, 50-byte message.
    byte[] key4 = new byte[25];
    for (int i = 0; i < 25; i++) {
      key4[i] = (byte) (i + 1);
    }
    assertEquals(
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        hex(HmacSha256.mac(key4, repeat(0xcd, 50))));
    // Case 6: 131-byte key, hashed first.
    assertEquals(
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        hex(
            HmacSha256.mac(
                repeat(0xaa, 131),
                "Test Using Larger Than Block-Size Key - Hash Key First"
                    .getBytes(StandardCharsets.US_ASCII))));
  }
}
