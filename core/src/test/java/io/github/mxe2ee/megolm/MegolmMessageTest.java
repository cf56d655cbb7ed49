package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.MegolmVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.DecodeException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MegolmMessageTest {
  private static final JsonNode ENCODING = MegolmVectors.load("olm_message_encoding.json");
  private static final JsonNode GROUP = MegolmVectors.load("megolm_group_session_libolm.json");

  /** version 3, index 5, ciphertext "abc", then 8 + 64 trailer bytes. */
  private static byte[] minimal(String payloadHex) {
    byte[] body = hex("03" + payloadHex);
    return Arrays.copyOf(body, body.length + 72);
  }

  @Test
  void encode_headerMatchesUpstreamVector() {
    JsonNode vector = ENCODING.get("megolm").get(0);
    JsonNode input = vector.get("input");
    byte[] out =
        MegolmMessage.unsealed(
            input.get("message_index").asInt(), new byte[input.get("ciphertext_length").asInt()]);
    String expected = vector.get("expected_prefix_hex").asText();
    assertEquals(
        expected, hex(Arrays.copyOf(out, expected.length() / 2)), vector.get("name").asText());
    assertEquals(6 + 10 + 72, out.length, vector.get("name").asText());
  }

  @Test
  void decodePayload_upstreamVectorWithItsShortSignature() {
    JsonNode vector = ENCODING.get("megolm").get(1);
    String id = vector.get("name").asText();
    byte[] bytes = hex(vector.get("bytes_hex").asText());
    // This upstream test used a 16-byte "signature"; the payload decoder is what it exercises.
    MegolmMessage.Payload payload = MegolmMessage.Payload.decode(bytes, bytes.length - 8 - 16);
    JsonNode expected = vector.get("expected");
    assertEquals(expected.get("version").asInt(), bytes[0], id);
    assertEquals(expected.get("message_index").asInt(), payload.messageIndex, id);
    assertEquals(
        expected.get("ciphertext_ascii").asText(),
        new String(
            bytes, payload.ciphertextOffset, payload.ciphertextLength, StandardCharsets.US_ASCII),
        id);
  }

  @Test
  void fromBase64_libolmMessageFieldsAndRoundTrip() {
    for (JsonNode vector : GROUP.get("cases")) {
      if (!vector.has("derived")) {
        continue;
      }
      String id = vector.get("name").asText();
      String b64 = vector.get("message_b64").asText();
      JsonNode fields = vector.get("derived").get("message_fields");
      MegolmMessage message = MegolmMessage.fromBase64(b64);
      assertEquals(fields.get("message_index").asLong(), message.messageIndex(), id);
      assertEquals(fields.get("ciphertext_hex").asText(), hex(message.ciphertext()), id);
      assertEquals(fields.get("mac_hex").asText(), hex(message.mac()), id);
      assertEquals(fields.get("signature_b64").asText(), message.signature().toBase64(), id);
      assertEquals(b64, message.toBase64(), id);
      assertEquals("MegolmMessage[version=3, index=0]", message.toString(), id);
    }
  }

  @Test
  void fromBytes_acceptsReorderedFieldsAndSkipsUnknownOnes() {
    // ciphertext first, then an unknown varint field (tag 0x18), an unknown bytes field (0x22),
    // then the index 300.
    MegolmMessage message =
        MegolmMessage.fromBytes(minimal("1203616263" + "189601" + "2202ffff" + "08ac02"));
    assertEquals(300, message.messageIndex());
    assertEquals("616263", hex(message.ciphertext()));
  }

  @Test
  void fromBytes_copiesItsInput() {
    byte[] bytes = minimal("08051203616263");
    MegolmMessage message = MegolmMessage.fromBytes(bytes);
    bytes[5] = 'X';
    assertEquals("616263", hex(message.ciphertext()));
    byte[] out = message.toBytes();
    out[5] = 'Y';
    assertEquals("616263", hex(message.ciphertext()));
  }

  @Test
  void fromBytes_maxIndex() {
    assertEquals(0xffffffffL, MegolmMessage.fromBytes(minimal("08ffffffff0f1200")).messageIndex());
  }

  @Test
  void unsealed_encodesLargeIndexAsVarint() {
    byte[] out = MegolmMessage.unsealed(0xffffffff, new byte[0]);
    assertEquals("0308ffffffff0f1200", hex(Arrays.copyOf(out, 9)));
  }

  private static void assertRejected(String why, byte[] bytes, String messagePart) {
    MegolmDecodeException e =
        assertThrows(MegolmDecodeException.class, () -> MegolmMessage.fromBytes(bytes), why);
    assertEquals("decode", e.kind(), why);
    assertTrue(e.getMessage().contains(messagePart), why + ": " + e.getMessage());
  }

  @Test
  void fromBytes_rejectsEmpty() {
    assertRejected("empty", new byte[0], "empty");
  }

  @Test
  void fromBytes_rejectsOtherVersions() {
    for (int version : new int[] {0, 1, 2, 4, 0x83, 0xff}) {
      byte[] bytes = minimal("08051203616263");
      bytes[0] = (byte) version;
      assertRejected("version " + version, bytes, "expected 3, got " + version);
    }
  }

  @Test
  void fromBytes_rejectsTruncated() {
    byte[] full = minimal("08051203616263");
    for (int length = 1; length < 73; length++) {
      assertRejected("length " + length, Arrays.copyOf(full, length), "truncated");
    }
    // Long enough overall, but the ciphertext claims more bytes than the payload holds.
    assertRejected("ciphertext overrun", minimal("08051204616263"), "declares 4 bytes, 3 remain");
  }

  @Test
  void fromBytes_rejectsBadVarints() {
    assertRejected("index over 32 bits", minimal("0880808080101200"), "exceeds 32 bits");
    assertRejected("index 6 bytes", minimal("088080808080001200"), "longer than 5 bytes");
    assertRejected("index truncated", minimal("120008ff"), "truncated");
    assertRejected("length over 32 bits", minimal("08001280808080700000"), "exceeds 32 bits");
    assertRejected(
        "unknown varint 11 bytes",
        minimal("08001200" + "18" + "ff".repeat(10) + "01"),
        "longer than 10 bytes");
  }

  @Test
  void fromBytes_rejectsMissingAndDuplicateFields() {
    assertRejected("no index", minimal("1203616263"), "lacks the message index");
    assertRejected("no ciphertext", minimal("0805"), "lacks the ciphertext");
    assertRejected("no payload", minimal(""), "lacks the message index");
    assertRejected("two indices", minimal("080508061200"), "duplicate message index");
    assertRejected("two ciphertexts", minimal("080512001200"), "duplicate ciphertext");
  }

  @Test
  void fromBytes_rejectsUnsupportedWireTypes() {
    assertRejected("fixed64", minimal("080512001900000000000000"), "wire type 1");
    assertRejected("fixed32", minimal("080512001d00000000"), "wire type 5");
    assertRejected("group", minimal("080512001b"), "wire type 3");
  }

  @Test
  void fromBase64_rejectsBadBase64() {
    for (String bad : new String[] {"A", "!!!!", "AwgA EhA", "Aw==Aw"}) {
      MegolmDecodeException e =
          assertThrows(MegolmDecodeException.class, () -> MegolmMessage.fromBase64(bad), bad);
      assertTrue(e.getCause() instanceof DecodeException, bad);
    }
  }

  @Test
  void accessors_returnCopies() {
    MegolmMessage message = MegolmMessage.fromBytes(minimal("08051203616263"));
    byte[] ciphertext = message.ciphertext();
    ciphertext[0] = 0;
    byte[] mac = message.mac();
    mac[0] = 1;
    assertArrayEquals(hex("616263"), message.ciphertext());
    assertFalse(message.mac()[0] == 1);
  }
}
