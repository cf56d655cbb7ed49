package io.github.mxe2ee.crypto;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.Vectors;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link KeyRepresentation} against rust-sdk's and mautrix's keys, and malformed input. */
class KeyRepresentationTest {
  private static final JsonNode VECTORS = Vectors.load("recovery_key_and_secret_storage.json");

  @Test
  void encodesAndDecodesEveryVectorKey() {
    int checked = 0;
    for (JsonNode c : VECTORS.get("recovery_keys")) {
      String keyHex = c.has("key_hex") ? c.get("key_hex").asText() : null;
      if (keyHex == null && c.has("derived")) {
        keyHex = c.get("derived").path("key_hex").asText(null);
      }
      String text =
          c.has("encoded") ? c.get("encoded").asText() : c.path("recovery_key").asText(null);
      if (text == null) {
        text = c.path("derived").path("recovery_key").asText(null);
      }
      if (keyHex == null || text == null) {
        continue;
      }
      assertArrayEquals(hex(keyHex), KeyRepresentation.decode(text), c.get("name").asText());
      assertEquals(text, KeyRepresentation.encode(hex(keyHex)), c.get("name").asText());
      for (JsonNode also : c.path("also_accepts")) {
        assertArrayEquals(hex(keyHex), KeyRepresentation.decode(also.asText()));
      }
      for (JsonNode bad : c.path("must_reject")) {
        assertThrows(
            DecodeException.class, () -> KeyRepresentation.decode(bad.get("input").asText()));
      }
      checked++;
    }
    assertEquals(5, checked, "every recovery key vector with a key");
  }

  @Test
  void roundTripsRandomKeysIncludingLeadingZeros() {
    Random random = new Random(58);
    for (int i = 0; i < 2_000; i++) {
      byte[] key = new byte[32];
      random.nextBytes(key);
      if (i % 10 == 0) {
        key[0] = 0;
        key[1] = 0;
      }
      String text = KeyRepresentation.encode(key);
      assertArrayEquals(key, KeyRepresentation.decode(text));
      assertArrayEquals(key, KeyRepresentation.decode(text.replace(" ", "\n  ")));
    }
  }

  @Test
  void rejectsMalformedText() {
    String good = KeyRepresentation.encode(new byte[32]);
    String[] bad = {
      "",
      "1111",
      good.substring(0, good.length() - 1), // truncated
      good + "2", // too long a number
      good.replace(good.charAt(5), '0'), // 0 is not in the alphabet
      good.substring(0, 5) + "l" + good.substring(6), // nor is l
      good.substring(0, 5) + "é" + good.substring(6),
      KeyRepresentation.encode(new byte[32]).replaceFirst("^Es", "Et"), // header or parity
      "x".repeat(300),
    };
    for (String text : bad) {
      DecodeException e = assertThrows(DecodeException.class, () -> KeyRepresentation.decode(text));
      assertFalse(!text.isEmpty() && e.getMessage().contains(text), "echoes the secret text");
    }
  }

  @Test
  void everyMutationOfAValidKeyIsRejectedOrDecodesToThirtyTwoBytes() {
    Random random = new Random(7);
    String alphabet = Base58.ALPHABET + " 0OIl+/=\u0000é";
    for (int i = 0; i < 5_000; i++) {
      byte[] key = new byte[32];
      random.nextBytes(key);
      char[] text = KeyRepresentation.encode(key).toCharArray();
      text[random.nextInt(text.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
      try {
        assertEquals(32, KeyRepresentation.decode(new String(text)).length);
      } catch (DecodeException expected) {
        // the only other outcome allowed
      }
    }
  }

  @Test
  void encodeRejectsWrongLengths() {
    assertThrows(IllegalArgumentException.class, () -> KeyRepresentation.encode(new byte[31]));
  }
}
