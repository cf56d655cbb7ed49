package io.github.mxe2ee.sas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Hkdf;
import io.github.mxe2ee.crypto.HmacSha256;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Known answers of {@code vectors/sas_v1.json} and {@code vectors/sas-emoji.json}. */
class SasCryptoTest {
  private static final JsonNode V = Vectors.load("sas_v1.json");

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  private static byte[] shared() {
    JsonNode k = V.get("fixed_keys");
    Curve25519SecretKey alice =
        Curve25519SecretKey.fromBytes(Vectors.hex(k.get("alice_private_hex").asText()));
    Curve25519SecretKey bob =
        Curve25519SecretKey.fromBytes(Vectors.hex(k.get("bob_private_hex").asText()));
    assertEquals(
        k.get("alice_public_b64").asText(), alice.publicKey().toBase64(), "fixed_keys alice");
    assertEquals(k.get("bob_public_b64").asText(), bob.publicKey().toBase64(), "fixed_keys bob");
    byte[] ab = alice.diffieHellman(bob.publicKey());
    assertArrayEquals(ab, bob.diffieHellman(alice.publicKey()), "fixed_keys agreement");
    assertEquals(k.get("derived_shared_secret_hex").asText(), Vectors.hex(ab), "fixed_keys shared");
    return ab;
  }

  @Test
  void sasBytes_emojiAndDecimals_matchLibolm() {
    JsonNode d = V.get("derived_vectors_from_fixed_keys");
    byte[] bytes = SasCrypto.sasBytes(shared(), "SAS", 6);
    assertEquals(d.get("bytes_info_SAS_6").asText(), Vectors.hex(bytes), "bytes_info_SAS_6");
    assertArrayEquals(ints(d.get("emoji_indices")), SasCrypto.emojiIndices(bytes), "emoji SAS_6");
    assertArrayEquals(ints(d.get("decimals")), SasCrypto.decimals(bytes), "decimals SAS_6");
  }

  @Test
  void v2Example_infoBytesEmojiDecimalsAndMacs() {
    JsonNode e = V.get("derived_vectors_from_fixed_keys").get("v2_example");
    JsonNode k = V.get("fixed_keys");
    String info =
        SasCrypto.sasInfo(
            "@alice:example.org",
            "ALICEDEVICE",
            k.get("alice_public_b64").asText(),
            "@bob:example.org",
            "BOBDEVICE",
            k.get("bob_public_b64").asText(),
            "txn123");
    assertEquals(e.get("info").asText(), info, "v2_example info");
    byte[] bytes = SasCrypto.sasBytes(shared(), info, 6);
    assertEquals(e.get("bytes6_hex").asText(), Vectors.hex(bytes), "v2_example bytes");
    assertArrayEquals(ints(e.get("emoji_indices")), SasCrypto.emojiIndices(bytes), "v2 emoji");
    assertArrayEquals(ints(e.get("decimals")), SasCrypto.decimals(bytes), "v2 decimals");
    // The 5 decimal bytes are the prefix of the 6 (HKDF output is prefix-consistent).
    assertArrayEquals(
        SasCrypto.decimals(SasCrypto.sasBytes(shared(), info, 5)), SasCrypto.decimals(bytes));

    String macInfo =
        SasCrypto.macInfo(
            "@alice:example.org",
            "ALICEDEVICE",
            "@bob:example.org",
            "BOBDEVICE",
            "txn123",
            "ed25519:ALICEDEVICE");
    assertEquals(e.get("mac_key_info").asText(), macInfo, "v2 mac info");
    assertEquals(
        e.get("mac_b64").asText(),
        SasCrypto.mac(
            MacMethod.HKDF_HMAC_SHA256_V2, shared(), macInfo, e.get("mac_input").asText()),
        "v2 key mac");
    String idsInfo =
        SasCrypto.macInfo(
            "@alice:example.org",
            "ALICEDEVICE",
            "@bob:example.org",
            "BOBDEVICE",
            "txn123",
            "KEY_IDS");
    assertEquals(e.get("key_ids_info").asText(), idsInfo, "v2 key ids info");
    assertEquals(
        e.get("key_ids_mac_b64").asText(),
        SasCrypto.mac(
            MacMethod.HKDF_HMAC_SHA256_V2, shared(), idsInfo, e.get("key_ids_input").asText()),
        "v2 key ids mac");
  }

  @Test
  void mac_v2AndLegacyEncodings_matchLibolm() {
    JsonNode m = V.get("derived_vectors_from_fixed_keys").get("mac_info_MAC_input_'Hello world!'");
    byte[] key = Hkdf.sha256(null, shared(), "MAC".getBytes(StandardCharsets.UTF_8), 32);
    byte[] mac = HmacSha256.mac(key, "Hello world!".getBytes(StandardCharsets.UTF_8));
    assertEquals(m.get("hex").asText(), Vectors.hex(mac), "mac hex");
    assertEquals(
        m.get("b64_v2").asText(),
        SasCrypto.mac(MacMethod.HKDF_HMAC_SHA256_V2, shared(), "MAC", "Hello world!"),
        "b64_v2");
    assertEquals(
        m.get("b64_legacy_broken").asText(),
        SasCrypto.mac(MacMethod.HKDF_HMAC_SHA256, shared(), "MAC", "Hello world!"),
        "b64_legacy_broken");
  }

  @Test
  void legacyBase64_matchesMautrixVector() {
    JsonNode b = V.get("libolm_broken_base64_UPSTREAM_mautrix");
    assertEquals(
        b.get("expected").asText(),
        SasCrypto.legacyBase64(Vectors.hex(b.get("input_hex").asText())),
        "libolm_broken_base64");
  }

  @Test
  void emojiAndDecimals_edgeCases() {
    for (JsonNode c : V.get("emoji_decimal_edge_cases_UPSTREAM_vodozemac")) {
      byte[] bytes = Vectors.hex(c.get("bytes_hex").asText());
      String id = "edge " + c.get("bytes_hex").asText();
      assertArrayEquals(ints(c.get("emoji_indices")), SasCrypto.emojiIndices(bytes), id);
      assertArrayEquals(ints(c.get("decimals")), SasCrypto.decimals(bytes), id);
    }
  }

  @Test
  void commitment_matchesRustSdk() {
    JsonNode c = V.get("commitment_UPSTREAM_rust_sdk");
    assertEquals(
        c.get("expected_commitment_b64").asText(),
        SasCrypto.commitment(c.get("accept_key_b64").asText(), (ObjectNode) c.get("start_content")),
        "commitment_UPSTREAM_rust_sdk");
  }

  @Test
  void emojiTable_matchesSpecJson() {
    JsonNode table = Vectors.load("sas-emoji.json");
    assertEquals(SasEmoji.TABLE_SIZE, table.size());
    for (JsonNode e : table) {
      SasEmoji ours = SasEmoji.of(e.get("number").asInt());
      String id = "sas-emoji " + e.get("number").asInt();
      assertEquals(e.get("emoji").asText(), ours.symbol(), id);
      assertEquals(e.get("description").asText(), ours.description(), id);
    }
  }
}
