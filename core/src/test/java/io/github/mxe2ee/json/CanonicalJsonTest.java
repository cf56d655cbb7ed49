package io.github.mxe2ee.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNode VECTORS = Vectors.load("canonical_json_and_signing.json");

  @Test
  void encode_matchesEverySpecExample() throws Exception {
    int i = 0;
    for (JsonNode v : VECTORS.get("canonical_json")) {
      JsonNode input = MAPPER.readTree(v.get("input").textValue());
      assertEquals(v.get("expected").textValue(), CanonicalJson.encode(input), "example " + i++);
    }
    assertEquals(10, i);
  }

  @Test
  void encode_escapesOnlyWhatJsonRequires() throws Exception {
    JsonNode node = MAPPER.readTree("{\"k\":\"a\\\"b\\\\c\\n\\u0001\\u00e9\\/\"}");
    assertEquals("{\"k\":\"a\\\"b\\\\c\\n\\u0001\u00e9/\"}", CanonicalJson.encode(node));
  }

  @Test
  void encode_sortsByCodePointNotUtf16() throws Exception {
    // U+FF21 sorts before U+1F600 by code point, after it in UTF-16 code units.
    JsonNode node = MAPPER.readTree("{\"\\ud83d\\ude00\":1,\"\\uff21\":2}");
    assertEquals("{\"\uff21\":2,\"\ud83d\ude00\":1}", CanonicalJson.encode(node));
  }

  @Test
  void encode_rejectsFractionsAndUnsafeIntegers() throws Exception {
    assertThrows(DecodeException.class, () -> CanonicalJson.encode(MAPPER.readTree("{\"a\":1.5}")));
    assertThrows(
        DecodeException.class,
        () -> CanonicalJson.encode(MAPPER.readTree("{\"a\":9007199254740992}")));
    assertEquals(
        "{\"a\":-9007199254740991}",
        CanonicalJson.encode(MAPPER.readTree("{\"a\":-9007199254740991}")));
  }

  @Test
  void sign_matchesSpecVectorsAndVerifies() throws Exception {
    JsonNode keyInfo = VECTORS.get("signing_key");
    Ed25519SecretKey key =
        Ed25519SecretKey.fromSeed(UnpaddedBase64.decode(keyInfo.get("seed_b64").textValue()));
    assertEquals(keyInfo.get("derived_public_key_b64").textValue(), key.publicKey().toBase64());
    String entity = keyInfo.get("entity").textValue();
    String keyId = keyInfo.get("key_id").textValue();
    int i = 0;
    for (JsonNode v : VECTORS.get("json_signing")) {
      ObjectNode obj = (ObjectNode) v.get("input").deepCopy();
      JsonSigning.sign(obj, entity, keyId, key);
      assertEquals(
          v.get("expected_signature").textValue(),
          obj.get("signatures").get(entity).get(keyId).textValue(),
          "signing vector " + i);
      obj.putObject("unsigned").put("age", 5);
      assertTrue(JsonSigning.verify(obj, entity, keyId, key.publicKey()), "vector " + i);
      obj.put("tampered", true);
      assertFalse(JsonSigning.verify(obj, entity, keyId, key.publicKey()), "vector " + i);
      i++;
    }
  }

  @Test
  void verify_isFalseForMissingOrMalformedSignatures() {
    Ed25519SecretKey key = Ed25519SecretKey.fromSeed(new byte[32]);
    ObjectNode obj = MAPPER.createObjectNode().put("a", 1);
    assertFalse(JsonSigning.verify(obj, "@u:x", "ed25519:D", key.publicKey()));
    obj.putObject("signatures").putObject("@u:x").put("ed25519:D", "!!!");
    assertFalse(JsonSigning.verify(obj, "@u:x", "ed25519:D", key.publicKey()));
    JsonSigning.sign(obj, "@u:x", "ed25519:D", key);
    assertTrue(JsonSigning.verify(obj, "@u:x", "ed25519:D", key.publicKey()));
    assertFalse(JsonSigning.verify(obj, "@u:x", "ed25519:E", key.publicKey()));
  }
}
