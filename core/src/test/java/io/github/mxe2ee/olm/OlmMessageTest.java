package io.github.mxe2ee.olm;

import static io.github.mxe2ee.olm.TestVectors.ascii;
import static io.github.mxe2ee.olm.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OlmMessageTest {
  private static final JsonNode VECTORS = TestVectors.load("olm_message_encoding.json");

  private static byte[] key(int fill) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) fill);
    return k;
  }

  private static byte[] valid() {
    return OlmMessage.of(
            Curve25519PublicKey.fromBytes(key(7)),
            300,
            ascii("0123456789abcdef"),
            ascii("macbytes"))
        .toBytes();
  }

  private static OlmDecodeException rejects(byte[] input) {
    return assertThrows(OlmDecodeException.class, () -> OlmMessage.decode(input));
  }

  @Test
  void parse_libolmNonCanonicalOrderVector() {
    JsonNode v = VECTORS.get("olm_normal").get(0);
    JsonNode expected = v.get("expected");
    OlmMessage.Fields fields = OlmMessage.parse(hex(v.get("bytes_hex").asText()));
    String id = v.get("name").asText();
    assertArrayEquals(ascii(expected.get("ratchet_key_ascii").asText()), fields.ratchetKey(), id);
    assertEquals(expected.get("chain_index").asLong(), fields.chainIndex(), id);
    assertArrayEquals(ascii(expected.get("ciphertext_ascii").asText()), fields.ciphertext(), id);
    assertArrayEquals(ascii(expected.get("mac_ascii").asText()), fields.mac(), id);
  }

  @Test
  void decode_libolmVectorWithTenByteRatchetKey_isRejectedByStrictDecoder() {
    byte[] input = hex(VECTORS.get("olm_normal").get(0).get("bytes_hex").asText());
    OlmDecodeException e = rejects(input);
    assertTrue(e.getMessage().contains("expected 32 bytes, got 10"), e.getMessage());
  }

  @Test
  void encode_libolmCanonicalOrderVector() {
    JsonNode v = VECTORS.get("olm_normal").get(1);
    JsonNode in = v.get("input");
    byte[] body =
        OlmMessage.encodeRawWithoutMac(
            ascii(in.get("ratchet_key_ascii").asText()),
            in.get("chain_index").asLong(),
            ascii(in.get("ciphertext_ascii").asText()));
    byte[] expected = hex(v.get("expected_bytes_hex").asText());
    byte[] withMac = Arrays.copyOf(body, body.length + 8);
    System.arraycopy(ascii("hmacsha2"), 0, withMac, body.length, 8);
    assertArrayEquals(expected, withMac, v.get("name").asText());
  }

  @Test
  void decode_vodozemacNormalMessageVector() {
    JsonNode v = VECTORS.get("vodozemac_parse").get(1);
    JsonNode derived = v.get("derived");
    OlmMessage m = (OlmMessage) AnyOlmMessage.fromBase64(1, v.get("body_b64").asText());
    String id = v.get("name").asText();
    assertEquals(OlmMessageType.NORMAL, m.type(), id);
    assertEquals(derived.get("ratchet_key_b64").asText(), m.ratchetKey().toBase64(), id);
    assertEquals(derived.get("chain_index").asLong(), m.chainIndex(), id);
    assertEquals(v.get("expected_ciphertext_hex").asText(), hex(m.ciphertext()), id);
    assertEquals(derived.get("mac_hex").asText(), hex(m.mac()), id);
    assertEquals(v.get("body_b64").asText(), m.toBase64(), id);
  }

  @Test
  void encode_decode_roundTrip() {
    byte[] bytes = valid();
    OlmMessage m = OlmMessage.decode(bytes);
    assertEquals(300, m.chainIndex());
    assertArrayEquals(key(7), m.ratchetKey().toBytes());
    assertArrayEquals(ascii("0123456789abcdef"), m.ciphertext());
    assertArrayEquals(ascii("macbytes"), m.mac());
    assertArrayEquals(bytes, m.toBytes());
    assertEquals(m, OlmMessage.fromBase64(m.toBase64()));
  }

  @Test
  void encode_writesChainIndexZero() {
    byte[] body =
        OlmMessage.encodeWithoutMac(Curve25519PublicKey.fromBytes(key(1)), 0, new byte[0]);
    assertEquals(0x10, body[1 + 2 + 32] & 0xFF);
    assertEquals(0x00, body[1 + 2 + 32 + 1]);
  }

  @Test
  void decode_rejectsEveryTruncation() {
    byte[] bytes = valid();
    for (int len = 0; len < bytes.length; len++) {
      rejects(Arrays.copyOf(bytes, len));
    }
  }

  @Test
  void decode_rejectsBadVersion() {
    for (int version : new int[] {0, 1, 2, 4, 0x83, 0xFF}) {
      byte[] bytes = valid();
      bytes[0] = (byte) version;
      OlmDecodeException e = rejects(bytes);
      assertTrue(e.getMessage().contains("expected version 3, got " + version), e.getMessage());
    }
  }

  private static byte[] message(byte[] payload) {
    byte[] out = new byte[1 + payload.length + 8];
    out[0] = 3;
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  private static byte[] fields(long index, int keyLength, int... extra) {
    ProtoWriter w = new ProtoWriter();
    w.writeBytesField(0x0A, new byte[keyLength]);
    w.writeVarintField(0x10, index);
    w.writeBytesField(0x22, new byte[16]);
    for (int b : extra) {
      w.writeByte(b);
    }
    return w.toByteArray();
  }

  @Test
  void decode_rejectsWrongRatchetKeyLengths() {
    for (int len : new int[] {0, 31, 33, 64}) {
      OlmDecodeException e = rejects(message(fields(1, len)));
      assertTrue(e.getMessage().contains("expected 32 bytes, got " + len), e.getMessage());
    }
  }

  @Test
  void decode_rejectsChainIndexAbove32Bits() {
    OlmMessage.decode(message(fields(0xFFFF_FFFFL, 32)));
    OlmDecodeException e = rejects(message(fields(0x1_0000_0000L, 32)));
    assertTrue(e.getMessage().contains("chain index out of range"), e.getMessage());
  }

  @Test
  void decode_rejectsBadVarints() {
    // an 11-byte varint
    byte[] tooLong = new byte[] {0x10, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x01};
    rejects(message(concat(fields(1, 32), tooLong)));
    // a 10-byte varint whose last byte overflows 64 bits
    byte[] overflow = new byte[] {0x08, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x02};
    OlmDecodeException e = rejects(message(concat(fields(1, 32), overflow)));
    assertTrue(e.getMessage().contains("overflows 64 bits"), e.getMessage());
    // a varint cut off by the end of the payload
    rejects(message(concat(fields(1, 32), new byte[] {0x08, (byte) 0x80})));
    // a length that points past the end
    rejects(message(concat(fields(1, 32), new byte[] {0x2A, 0x7F, 0x00})));
  }

  @Test
  void decode_rejectsMissingFields() {
    ProtoWriter noKey =
        new ProtoWriter().writeVarintField(0x10, 1).writeBytesField(0x22, new byte[16]);
    assertTrue(rejects(message(noKey.toByteArray())).getMessage().contains("ratchet key"));
    ProtoWriter noIndex =
        new ProtoWriter().writeBytesField(0x0A, new byte[32]).writeBytesField(0x22, new byte[16]);
    assertTrue(rejects(message(noIndex.toByteArray())).getMessage().contains("chain index"));
    ProtoWriter noText =
        new ProtoWriter().writeBytesField(0x0A, new byte[32]).writeVarintField(0x10, 1);
    assertTrue(rejects(message(noText.toByteArray())).getMessage().contains("ciphertext"));
    assertTrue(rejects(message(new byte[0])).getMessage().contains("missing"));
  }

  @Test
  void decode_rejectsRepeatedFields() {
    assertTrue(
        rejects(message(concat(fields(1, 32), new byte[] {0x10, 0x02})))
            .getMessage()
            .contains("repeated field chain index"));
    assertTrue(
        rejects(message(concat(fields(1, 32), new byte[] {0x22, 0x00})))
            .getMessage()
            .contains("repeated field ciphertext"));
  }

  @Test
  void decode_skipsUnknownFieldsOfEveryDefinedWireType() {
    byte[] unknown = {
      0x18,
      (byte) 0x96,
      0x01, // field 3, varint
      0x29,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 5, fixed64
      0x32,
      0x02,
      9,
      9, // field 6, length-delimited
      0x3D,
      1,
      2,
      3,
      4 // field 7, fixed32
    };
    OlmMessage m = OlmMessage.decode(message(concat(unknown, fields(9, 32))));
    assertEquals(9, m.chainIndex());
  }

  @Test
  void decode_rejectsGroupAndUndefinedWireTypes() {
    for (int tag : new int[] {0x1B, 0x1C, 0x1E, 0x1F}) {
      OlmDecodeException e = rejects(message(concat(fields(1, 32), new byte[] {(byte) tag, 0})));
      assertTrue(e.getMessage().contains("unsupported wire type"), e.getMessage());
    }
    rejects(message(concat(fields(1, 32), new byte[] {0x00, 0x00})));
  }

  @Test
  void fromBase64_rejectsBadBase64WithDecodeException() {
    assertThrows(DecodeException.class, () -> OlmMessage.fromBase64("not base64!"));
  }

  @Test
  void anyOlmMessage_rejectsUnknownType() {
    String body = OlmMessage.decode(valid()).toBase64();
    OlmDecodeException e =
        assertThrows(OlmDecodeException.class, () -> AnyOlmMessage.fromBase64(2, body));
    assertTrue(e.getMessage().contains("expected 0 or 1, got 2"), e.getMessage());
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void encodeAndMac_isTheBodyWithItsTruncatedMacForEveryLengthAndIndexSize() {
    Curve25519PublicKey ratchet = Curve25519PublicKey.fromBytes(key(3));
    byte[] macKey = key(9);
    for (int length : new int[] {0, 16, 112, 128, 1296, 20_000}) {
      for (long index : new long[] {0, 127, 128, 16_384, OlmMessage.MAX_CHAIN_INDEX}) {
        byte[] ciphertext = new byte[length];
        Arrays.fill(ciphertext, (byte) (length + index));
        byte[] body = OlmMessage.encodeWithoutMac(ratchet, index, ciphertext);
        byte[] expected = Arrays.copyOf(body, body.length + OlmMessage.MAC_LENGTH);
        System.arraycopy(
            io.github.mxe2ee.crypto.HmacSha256.mac(macKey, body),
            0,
            expected,
            body.length,
            OlmMessage.MAC_LENGTH);
        OlmMessage m = OlmMessage.encodeAndMac(ratchet, index, ciphertext.clone(), macKey);
        assertArrayEquals(expected, m.toBytes(), length + "/" + index);
        OlmMessage back = OlmMessage.decode(expected);
        assertEquals(index, back.chainIndex());
        assertArrayEquals(ciphertext, back.ciphertext());
        // The pre-key wrapper sizes its buffer from the inner message: same bytes either way.
        PreKeyMessage pre = PreKeyMessage.of(ratchet, ratchet, ratchet, m);
        assertEquals(m, PreKeyMessage.decode(pre.toBytes()).message());
      }
    }
  }
}
