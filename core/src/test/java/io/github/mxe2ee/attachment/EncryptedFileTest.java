package io.github.mxe2ee.attachment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Parsing, serialising and redaction of {@link EncryptedFile}, starting from the spec's example
 * image ({@code end_to_end_encryption.md}, "Extensions to m.room.message msgtypes").
 */
class EncryptedFileTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  static final String SPEC_KEY = "aWF6-32KGYaC3A_FEUCk1Bt0JA37zP0wrStgmdCaW-0";
  static final String SPEC_EXAMPLE =
      "{\"url\":\"mxc://example.org/FHyPlCeYUSFFxlgbQYZmoEoe\",\"v\":\"v2\",\"key\":{\"alg\":"
          + "\"A256CTR\",\"ext\":true,\"k\":\""
          + SPEC_KEY
          + "\",\"key_ops\":[\"encrypt\",\"decrypt\"],\"kty\":\"oct\"},"
          + "\"iv\":\"w+sE15fzSc0AAAAAAAAAAA\","
          + "\"hashes\":{\"sha256\":\"fdSLu/YkRx3Wyh3KQabP3rd6+SFiKg5lsJZQHtkSAYA\"}}";

  static ObjectNode specExample() {
    try {
      return (ObjectNode) MAPPER.readTree(SPEC_EXAMPLE);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void specExample_parsesAndSerialisesToTheSameTree() {
    EncryptedFile file = EncryptedFile.fromJson(specExample());
    assertEquals("mxc://example.org/FHyPlCeYUSFFxlgbQYZmoEoe", file.url().orElseThrow());
    assertEquals("v2", file.version());
    assertEquals(List.of("encrypt", "decrypt"), file.keyOps());
    assertEquals(16, file.iv().length);
    assertEquals(specExample(), file.toJson());
    assertEquals(file.toJson(), EncryptedFile.fromJson(file.toJson()).toJson());
  }

  @Test
  void paddedBase64_acceptedAndWrittenUnpadded() {
    ObjectNode json = specExample();
    json.put("iv", "w+sE15fzSc0AAAAAAAAAAA==");
    ((ObjectNode) json.get("hashes")).put("sha256", "fdSLu/YkRx3Wyh3KQabP3rd6+SFiKg5lsJZQHtkSAYA=");
    ((ObjectNode) json.get("key")).put("k", SPEC_KEY + "=");
    assertEquals(specExample(), EncryptedFile.fromJson(json).toJson());
  }

  @Test
  void legacyV1_acceptedAndKept_missingVersionRejected() {
    ObjectNode json = specExample();
    json.put("v", "v1");
    assertEquals("v1", EncryptedFile.fromJson(json).version());
    json.remove("v");
    assertRejected(json, "EncryptedFile.v");
  }

  @Test
  void lenientFields_decryptOnlyKeyOps_extFalse_noUrl_extraFields() {
    ObjectNode json = specExample();
    ((ObjectNode) json.get("key")).putArray("key_ops").add("decrypt");
    ((ObjectNode) json.get("key")).put("ext", false);
    json.remove("url");
    json.put("unknown", 1);
    ((ObjectNode) json.get("hashes")).put("sha512", "ignored");
    EncryptedFile file = EncryptedFile.fromJson(json);
    assertTrue(file.url().isEmpty());
    assertEquals(List.of("decrypt"), file.keyOps());
    ((ObjectNode) json.get("key")).remove("ext");
    EncryptedFile.fromJson(json);
  }

  @Test
  void malformedFields_eachRejectedWithTypedExceptionNamingTheField() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    reject("v", j -> j.put("v", "v3"));
    reject("v", j -> j.put("v", "V2"));
    reject("v", j -> j.put("v", 2));
    reject("url", j -> j.put("url", "https://evil.example/x"));
    reject("url", j -> j.put("url", 7));
    reject("url", j -> j.putNull("url"));
    reject("key", j -> j.remove("key"));
    reject("key", j -> j.put("key", "string"));
    reject("key.kty", j -> key(j).put("kty", "RSA"));
    reject("key.kty", j -> key(j).remove("kty"));
    reject("key.alg", j -> key(j).put("alg", "A128CTR"));
    reject("key.alg", j -> key(j).remove("alg"));
    reject("key.alg", j -> key(j).put("alg", "a256ctr"));
    reject("key.key_ops", j -> key(j).remove("key_ops"));
    reject("key.key_ops", j -> key(j).put("key_ops", "decrypt"));
    reject("key.key_ops", j -> key(j).putArray("key_ops").add("encrypt"));
    reject("key.key_ops", j -> key(j).putArray("key_ops"));
    reject("key.key_ops", j -> key(j).putArray("key_ops").add("decrypt").add(1));
    reject("key.ext", j -> key(j).put("ext", "true"));
    reject("key.k", j -> key(j).remove("k"));
    reject("key.k", j -> key(j).put("k", 5));
    reject("key.k", j -> key(j).put("k", SPEC_KEY.substring(0, 42)));
    reject("key.k", j -> key(j).put("k", SPEC_KEY + "AAAA"));
    reject("key.k", j -> key(j).put("k", SPEC_KEY.replace('-', '+')));
    reject("key.k", j -> key(j).put("k", SPEC_KEY.substring(0, 40) + "!!!"));
    reject("key.k", j -> key(j).put("k", SPEC_KEY.substring(0, 41)));
    reject("key.k", j -> key(j).put("k", ""));
    reject("iv", j -> j.remove("iv"));
    reject("iv", j -> j.put("iv", "w+sE15fzSc0AAAAAAAAA"));
    reject("iv", j -> j.put("iv", "w+sE15fzSc0AAAAAAAAAAAAA"));
    reject("iv", j -> j.put("iv", "w-sE15fzSc0AAAAAAAAAAA"));
    reject("iv", j -> j.put("iv", "w+sE15fzSc0AAAAAAAAAAA==="));
    reject("iv", j -> j.set("iv", f.arrayNode()));
    reject("hashes", j -> j.remove("hashes"));
    reject("hashes", j -> j.set("hashes", f.arrayNode()));
    reject("hashes.sha256", j -> hashes(j).remove("sha256"));
    reject("hashes.sha256", j -> hashes(j).put("sha256", "5/Gy1JftyyQ"));
    reject(
        "hashes.sha256",
        j -> hashes(j).put("sha256", "fdSLu_YkRx3Wyh3KQabP3rd6-SFiKg5lsJZQHtkSAYA"));
    reject("hashes.sha256", j -> hashes(j).putNull("sha256"));
  }

  @Test
  void nonObjects_rejected() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    JsonNode[] nodes = {null, f.nullNode(), f.missingNode(), f.arrayNode(), f.textNode("x")};
    for (JsonNode node : nodes) {
      assertThrows(EncryptedFileException.class, () -> EncryptedFile.fromJson(node));
    }
  }

  @Test
  void withUrl_setsUrl_validatesScheme_andLeavesOriginalUnchanged() {
    EncryptedFile file = AttachmentCipher.encrypt(new byte[4], new SecureRandom()).file();
    EncryptedFile located = file.withUrl("mxc://example.org/abc");
    assertEquals("mxc://example.org/abc", located.url().orElseThrow());
    assertEquals("mxc://example.org/abc", located.toJson().get("url").asText());
    assertTrue(file.url().isEmpty());
    assertArrayEquals(file.sha256(), located.sha256());
    assertThrows(EncryptedFileException.class, () -> file.withUrl("http://example.org/abc"));
    assertThrows(EncryptedFileException.class, () -> file.withUrl(null));
  }

  @Test
  void accessors_returnCopies() {
    EncryptedFile file = EncryptedFile.fromJson(specExample());
    file.iv()[0] ^= 1;
    file.sha256()[0] ^= 1;
    assertEquals(specExample(), file.toJson());
    assertThrows(UnsupportedOperationException.class, () -> file.keyOps().add("x"));
  }

  @Test
  void toStringAndErrorMessages_neverContainTheKey() {
    EncryptedFile file = EncryptedFile.fromJson(specExample());
    String text = file.toString();
    assertFalse(text.contains(SPEC_KEY), text);
    assertFalse(text.contains(SPEC_KEY.substring(0, 12)), text);
    assertTrue(text.contains("redacted"), text);
    assertFalse(file.withUrl("mxc://a/b").toString().contains(SPEC_KEY));

    ObjectNode badLength = specExample();
    key(badLength).put("k", SPEC_KEY + "AAAA");
    ObjectNode keyAsAlg = specExample();
    key(keyAsAlg).put("alg", SPEC_KEY);
    ObjectNode keyAsVersion = specExample();
    keyAsVersion.put("v", SPEC_KEY);
    for (ObjectNode json : List.of(badLength, keyAsAlg, keyAsVersion)) {
      String message =
          assertThrows(EncryptedFileException.class, () -> EncryptedFile.fromJson(json))
              .getMessage();
      assertFalse(message.contains(SPEC_KEY.substring(0, 12)), message);
    }
  }

  @Test
  void exception_isDecodeException_withItsOwnKind() {
    ObjectNode json = specExample();
    json.put("v", "v9");
    EncryptedFileException e = assertRejected(json, "EncryptedFile.v");
    assertTrue(e instanceof DecodeException);
    assertEquals("encrypted_file", e.kind());
    assertTrue(e.getMessage().contains("expected") && e.getMessage().contains("\"v9\""));
  }

  private static void reject(String field, Consumer<ObjectNode> mutation) {
    ObjectNode json = specExample();
    mutation.accept(json);
    assertRejected(json, "EncryptedFile." + field);
  }

  private static EncryptedFileException assertRejected(ObjectNode json, String field) {
    String before = json.toString();
    EncryptedFileException e =
        assertThrows(EncryptedFileException.class, () -> EncryptedFile.fromJson(json), before);
    assertTrue(e.getMessage().startsWith(field + ":"), field + " <- " + e.getMessage());
    assertEquals(before, json.toString(), "input must be left unchanged");
    return e;
  }

  private static ObjectNode key(ObjectNode json) {
    return (ObjectNode) json.get("key");
  }

  private static ObjectNode hashes(ObjectNode json) {
    return (ObjectNode) json.get("hashes");
  }
}
