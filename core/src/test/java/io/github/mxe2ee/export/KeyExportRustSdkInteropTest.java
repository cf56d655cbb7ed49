package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.MegolmMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Interop with matrix-rust-sdk (the crypto of Element Web, Desktop and X), recorded in {@code
 * export/rust_sdk_interop.json} by running {@code @matrix-org/matrix-sdk-crypto-wasm} 18.9.0
 * (matrix-sdk-crypto 0.19.1) once: a file mxe2ee wrote was decrypted and fully imported by
 * matrix-rust-sdk, and a file matrix-rust-sdk wrote is read here and its sessions decrypt messages
 * that mxe2ee's outbound sessions encrypted.
 */
class KeyExportRustSdkInteropTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNode FIXTURE = load();

  private static JsonNode load() {
    try (InputStream in =
        KeyExportRustSdkInteropTest.class.getResourceAsStream("/export/rust_sdk_interop.json")) {
      return MAPPER.readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException("missing export/rust_sdk_interop.json", e);
    }
  }

  private static char[] passphrase() {
    return FIXTURE.get("passphrase").asText().toCharArray();
  }

  @Test
  void fixture_namesItsSource() {
    JsonNode source = FIXTURE.get("sources").get(0);
    assertEquals("@matrix-org/matrix-sdk-crypto-wasm", source.get("package").asText());
    assertEquals("18.9.0", source.get("version").asText());
  }

  @Test
  void fileWrittenByRustSdk_importsSessionsThatDecryptOurMessages() {
    RoomKeyParseResult result =
        KeyExportFile.importRoomKeys(FIXTURE.get("rust_armored").asText(), passphrase());
    assertEquals(List.of(), result.rejected());
    assertEquals(2, result.keys().size());
    Map<String, InboundGroupSession> sessions = new HashMap<>();
    for (ExportedRoomKey key : result.keys()) {
      sessions.put(key.sessionId(), key.toInboundGroupSession());
    }
    assertEquals(false, result.keys().get(0).sharedHistory());
    assertEquals(true, result.keys().get(1).sharedHistory(), "read from m.shared_history");
    assertEquals(1, result.keys().get(1).firstKnownIndex());
    assertEquals(1, result.keys().get(1).forwardingCurve25519KeyChain().size());
    for (JsonNode m : FIXTURE.get("messages")) {
      InboundGroupSession session = sessions.get(m.get("session_id").asText());
      assertEquals(
          m.get("plaintext").asText(),
          session.decrypt(MegolmMessage.fromBase64(m.get("ciphertext").asText())).plaintextUtf8());
    }
  }

  @Test
  void fileWrittenByRustSdk_holdsThePayloadItWasGiven() throws IOException {
    byte[] plain = KeyExportFile.decrypt(FIXTURE.get("rust_armored").asText(), passphrase());
    JsonNode rust = MAPPER.readTree(plain);
    JsonNode ours = MAPPER.readTree(FIXTURE.get("payload_json").asText());
    assertEquals(withoutSpecSharedHistoryName(ours), rust);
  }

  @Test
  void fileWrittenByUs_wasReadAndImportedByRustSdk() throws IOException {
    String ours = FIXTURE.get("mxe2ee_armored").asText();
    byte[] plain = KeyExportFile.decrypt(ours, passphrase());
    assertEquals(
        FIXTURE.get("payload_json").asText(),
        new String(plain, StandardCharsets.UTF_8),
        "the recorded file holds the recorded payload");
    JsonNode rustSaw = MAPPER.readTree(FIXTURE.get("rust_decrypted_json").asText());
    assertEquals(withoutSpecSharedHistoryName(MAPPER.readTree(plain)), rustSaw);
    assertEquals(2, FIXTURE.get("rust_total_count").asInt());
    assertEquals(2, FIXTURE.get("rust_imported_count").asInt());
    RoomKeyParseResult result = KeyExportFile.importRoomKeys(ours, passphrase());
    for (int i = 0; i < 2; i++) {
      JsonNode imported = FIXTURE.get("rust_imported_sessions").get(i);
      ExportedRoomKey key = result.keys().get(i);
      assertEquals(imported.get("room_id").asText(), key.roomId());
      assertEquals(imported.get("session_id").asText(), key.sessionId());
    }
    assertTrue(ours.startsWith(KeyExportFile.BEGIN_LINE + "\n"));
  }

  /** matrix-rust-sdk 0.19 drops the spec's {@code shared_history} and keeps {@code m.*}. */
  private static JsonNode withoutSpecSharedHistoryName(JsonNode payload) {
    JsonNode copy = payload.deepCopy();
    copy.forEach(entry -> ((ObjectNode) entry).remove("shared_history"));
    return copy;
  }
}
