package io.github.mxe2ee.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.Vectors;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnpaddedBase64Test {
  @Test
  void encodeAndDecode_matchSpecVectors() {
    JsonNode vectors = Vectors.load("canonical_json_and_signing.json").get("base64_UPSTREAM");
    for (Iterator<Map.Entry<String, JsonNode>> it = vectors.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> v = it.next();
      byte[] plain = v.getKey().getBytes(StandardCharsets.UTF_8);
      assertEquals(v.getValue().textValue(), UnpaddedBase64.encode(plain), "vector " + v.getKey());
      assertArrayEquals(
          plain, UnpaddedBase64.decode(v.getValue().textValue()), "vector " + v.getKey());
    }
  }

  @Test
  void decode_acceptsPaddedInput() {
    assertArrayEquals("fo".getBytes(StandardCharsets.US_ASCII), UnpaddedBase64.decode("Zm8="));
  }

  @Test
  void urlSafe_usesDashAndUnderscore() {
    byte[] bytes = {(byte) 0xfb, (byte) 0xff};
    assertEquals("-_8", UnpaddedBase64.encodeUrlSafe(bytes));
    assertArrayEquals(bytes, UnpaddedBase64.decodeUrlSafe("-_8"));
    assertEquals("+/8", UnpaddedBase64.encode(bytes));
  }

  @Test
  void decode_rejectsMalformedInputWithDecodeException() {
    for (String bad : new String[] {"Z", "Zm9v!", "Zm 9v", "Zg==Zg", "*"}) {
      DecodeException e = assertThrows(DecodeException.class, () -> UnpaddedBase64.decode(bad));
      assertEquals("decode", e.kind(), bad);
    }
    assertThrows(DecodeException.class, () -> UnpaddedBase64.decode(null));
    assertThrows(DecodeException.class, () -> UnpaddedBase64.decodeUrlSafe("+/8"));
  }
}
