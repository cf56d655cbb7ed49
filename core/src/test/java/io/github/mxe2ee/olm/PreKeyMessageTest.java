package io.github.mxe2ee.olm;

import static io.github.mxe2ee.olm.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.DecodeException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PreKeyMessageTest {
  private static final JsonNode VECTORS = TestVectors.load("olm_message_encoding.json");
  private static final JsonNode PRE_KEY = VECTORS.get("vodozemac_parse").get(0);

  private static byte[] validBytes() {
    return PreKeyMessage.fromBase64(PRE_KEY.get("body_b64").asText()).toBytes();
  }

  private static OlmDecodeException rejects(byte[] input) {
    return assertThrows(OlmDecodeException.class, () -> PreKeyMessage.decode(input));
  }

  @Test
  void decode_vodozemacPreKeyVector() {
    String id = PRE_KEY.get("name").asText();
    JsonNode d = PRE_KEY.get("derived");
    PreKeyMessage m = (PreKeyMessage) AnyOlmMessage.fromBase64(0, PRE_KEY.get("body_b64").asText());
    assertEquals(OlmMessageType.PRE_KEY, m.type(), id);
    assertEquals(d.get("one_time_key_b64").asText(), m.oneTimeKey().toBase64(), id);
    assertEquals(d.get("base_key_b64").asText(), m.baseKey().toBase64(), id);
    assertEquals(d.get("identity_key_b64").asText(), m.identityKey().toBase64(), id);
    assertEquals(d.get("inner_message_b64").asText(), m.message().toBase64(), id);
    assertEquals(d.get("inner_ratchet_key_b64").asText(), m.message().ratchetKey().toBase64(), id);
    assertEquals(d.get("inner_chain_index").asLong(), m.message().chainIndex(), id);
    assertEquals(d.get("inner_mac_hex").asText(), hex(m.message().mac()), id);
    assertEquals(
        PRE_KEY.get("expected_inner_ciphertext_hex").asText(), hex(m.message().ciphertext()), id);
    assertEquals(d.get("session_id").asText(), m.sessionId(), id);
  }

  @Test
  void encode_reproducesVodozemacBytes() {
    PreKeyMessage m = PreKeyMessage.fromBase64(PRE_KEY.get("body_b64").asText());
    PreKeyMessage rebuilt =
        PreKeyMessage.of(m.oneTimeKey(), m.baseKey(), m.identityKey(), m.message());
    assertEquals(PRE_KEY.get("body_b64").asText(), rebuilt.toBase64());
    assertEquals(m, rebuilt);
  }

  @Test
  void decode_rejectsEveryTruncation() {
    byte[] bytes = validBytes();
    for (int len = 0; len < bytes.length; len++) {
      rejects(Arrays.copyOf(bytes, len));
    }
  }

  @Test
  void decode_rejectsBadVersion() {
    byte[] bytes = validBytes();
    bytes[0] = 2;
    assertTrue(rejects(bytes).getMessage().contains("expected version 3, got 2"));
  }

  @Test
  void decode_rejectsBadInnerMessage() {
    PreKeyMessage m = PreKeyMessage.fromBase64(PRE_KEY.get("body_b64").asText());
    byte[] inner = m.message().toBytes();
    inner[0] = 4;
    byte[] outer =
        build(m.oneTimeKey().toBytes(), m.baseKey().toBytes(), m.identityKey().toBytes(), inner);
    assertTrue(rejects(outer).getMessage().contains("Olm message: expected version 3, got 4"));
  }

  private static byte[] build(byte[] otk, byte[] base, byte[] identity, byte[] message) {
    ProtoWriter w = new ProtoWriter().writeByte(3);
    if (otk != null) {
      w.writeBytesField(0x0A, otk);
    }
    if (base != null) {
      w.writeBytesField(0x12, base);
    }
    if (identity != null) {
      w.writeBytesField(0x1A, identity);
    }
    if (message != null) {
      w.writeBytesField(0x22, message);
    }
    return w.toByteArray();
  }

  @Test
  void decode_rejectsMissingFieldsAndWrongKeyLengths() {
    PreKeyMessage m = PreKeyMessage.fromBase64(PRE_KEY.get("body_b64").asText());
    byte[] k = m.oneTimeKey().toBytes();
    byte[] inner = m.message().toBytes();
    assertTrue(rejects(build(null, k, k, inner)).getMessage().contains("one-time key"));
    assertTrue(rejects(build(k, null, k, inner)).getMessage().contains("base key"));
    assertTrue(rejects(build(k, k, null, inner)).getMessage().contains("identity key"));
    assertTrue(rejects(build(k, k, k, null)).getMessage().contains("message"));
    byte[] shortKey = Arrays.copyOf(k, 31);
    byte[] longKey = Arrays.copyOf(k, 33);
    assertTrue(rejects(build(shortKey, k, k, inner)).getMessage().contains("got 31"));
    assertTrue(rejects(build(k, longKey, k, inner)).getMessage().contains("got 33"));
    assertTrue(rejects(build(k, k, shortKey, inner)).getMessage().contains("got 31"));
  }

  @Test
  void decode_rejectsRepeatedField() {
    byte[] bytes = validBytes();
    byte[] extra = new ProtoWriter().writeBytesField(0x12, new byte[32]).toByteArray();
    assertTrue(
        rejects(OlmMessageTest.concat(bytes, extra)).getMessage().contains("repeated field base"));
  }

  @Test
  void decode_rejectsLibolmMalformedPreKeyMessages() {
    JsonNode cases = TestVectors.load("libolm_pickles.json").get("cases").get(2);
    for (JsonNode bad : cases.get("malformed_prekey_messages_raw_hex_expected_error")) {
      String id = bad.get("message_hex").asText();
      assertThrows(OlmDecodeException.class, () -> PreKeyMessage.decode(hex(id)), id);
    }
  }

  @Test
  void fromBase64_rejectsBadBase64() {
    assertThrows(DecodeException.class, () -> PreKeyMessage.fromBase64("@@@@"));
  }

  @Test
  void toString_doesNotExposeCiphertext() {
    PreKeyMessage m = PreKeyMessage.fromBase64(PRE_KEY.get("body_b64").asText());
    assertTrue(m.toString().contains(m.sessionId()));
    assertArrayEquals(validBytes(), m.toBytes());
  }
}
