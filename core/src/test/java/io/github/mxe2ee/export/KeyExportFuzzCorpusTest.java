package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.crypto.CryptoException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Replays the committed corpus of mutated key export files ({@code
 * export/key_export_fuzz_corpus.json}, made once by {@link KeyExportFuzzCorpus}): a mutated file
 * either still holds the original body and imports the original session, or fails with {@link
 * KeyExportDecodeException} or {@link CryptoException}; a validly encrypted file with a mutated
 * payload yields a parse result or a {@link KeyExportDecodeException.Reason#PAYLOAD} error. Nothing
 * else may escape. All failures are collected with their case id.
 */
class KeyExportFuzzCorpusTest {
  private static final JsonNode CORPUS = load();

  private static JsonNode load() {
    try (InputStream in =
        KeyExportFuzzCorpusTest.class.getResourceAsStream("/export/key_export_fuzz_corpus.json")) {
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException("missing export/key_export_fuzz_corpus.json", e);
    }
  }

  private static char[] passphrase() {
    return CORPUS.get("passphrase").asText().toCharArray();
  }

  private static String baseSessionId() {
    return CORPUS.get("base").get("session_ids").get(0).asText();
  }

  @Test
  void base_importsItsSession() {
    RoomKeyParseResult result =
        KeyExportFile.importRoomKeys(CORPUS.get("base").get("armored").asText(), passphrase());
    assertEquals(1, result.keys().size());
    assertEquals(baseSessionId(), result.keys().get(0).sessionId());
  }

  @Test
  void mutatedFiles_onlyTypedErrors() {
    assertEquals(160, CORPUS.get("cases").size(), "corpus is only ever added to");
    List<String> failures = new ArrayList<>();
    Set<KeyExportDecodeException.Reason> reasons =
        EnumSet.noneOf(KeyExportDecodeException.Reason.class);
    int macFailures = 0;
    for (JsonNode c : CORPUS.get("cases")) {
      String id = c.get("id").asText() + " (" + c.get("mutation").asText() + ")";
      boolean expectOk = c.get("expect").asText().equals("ok");
      try {
        RoomKeyParseResult result =
            KeyExportFile.importRoomKeys(c.get("armored").asText(), passphrase());
        if (!expectOk) {
          failures.add(id + ": a mutated file imported");
        } else if (result.keys().size() != 1
            || !result.keys().get(0).sessionId().equals(baseSessionId())) {
          failures.add(id + ": imported something else");
        }
      } catch (KeyExportDecodeException e) {
        reasons.add(e.reason());
        if (expectOk) {
          failures.add(id + ": " + e);
        }
      } catch (CryptoException e) {
        macFailures++;
        if (expectOk) {
          failures.add(id + ": " + e);
        }
      } catch (RuntimeException e) {
        failures.add(id + ": untyped " + e);
      }
    }
    assertEquals(List.of(), failures);
    assertTrue(macFailures > 0, "corpus reaches the MAC check");
    assertEquals(
        EnumSet.complementOf(EnumSet.of(KeyExportDecodeException.Reason.PAYLOAD)),
        reasons,
        "corpus reaches every file-level check");
  }

  @Test
  void mutatedPayloads_onlyResultsOrPayloadErrors() {
    assertEquals(80, CORPUS.get("payload_cases").size(), "corpus is only ever added to");
    List<String> failures = new ArrayList<>();
    int payloadErrors = 0;
    int rejectedEntries = 0;
    for (JsonNode c : CORPUS.get("payload_cases")) {
      String id = c.get("id").asText() + " (" + c.get("mutation").asText() + ")";
      try {
        RoomKeyParseResult result =
            KeyExportFile.importRoomKeys(c.get("armored").asText(), passphrase());
        rejectedEntries += result.rejected().size();
        for (ExportedRoomKey key : result.keys()) {
          if (!key.sessionId().equals(baseSessionId())) {
            failures.add(id + ": imported an unknown session");
          }
        }
      } catch (KeyExportDecodeException e) {
        payloadErrors++;
        if (e.reason() != KeyExportDecodeException.Reason.PAYLOAD) {
          failures.add(id + ": " + e);
        }
      } catch (RuntimeException e) {
        failures.add(id + ": untyped " + e);
      }
    }
    assertEquals(List.of(), failures);
    assertTrue(payloadErrors > 0 && rejectedEntries > 0, "corpus reaches both paths");
  }
}
