package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replays the committed corpus {@code bundle/room_key_bundle_fuzz_corpus.json} (mutations of a
 * bundle holding a real matrix-sdk-crypto-wasm session key; see its generator beside it) through
 * the bundle parser. Each case must be accepted or rejected with the reason its {@code expect} says
 * ({@code any}: either), a rejection must be a typed {@link RoomKeyBundles.BundleException} whose
 * message never echoes a session key, and nothing else may escape. Every failure is collected with
 * its case id.
 */
class RoomKeyBundleFuzzCorpusTest {
  @Test
  void corpus_onlyTypedOutcomes_andExpectedVerdicts() throws IOException {
    JsonNode corpus = load();
    String room = corpus.get("room_id").asText();
    List<String> failures = new ArrayList<>();
    int accepted = 0;
    int rejected = 0;
    for (JsonNode c : corpus.get("cases")) {
      String id = c.get("id").asText() + " (" + c.get("mutation").asText() + ")";
      String expect = c.get("expect").asText();
      String text = c.get("text").asText();
      try {
        RoomKeyBundles.ParsedBundle parsed =
            RoomKeyBundles.parse(text.getBytes(StandardCharsets.UTF_8), room);
        accepted++;
        if (!expect.equals("accept") && !expect.equals("any")) {
          failures.add(id + ": accepted, expected " + expect);
        }
        parsed.keys().forEach(k -> assertEquals(room, k.roomId()));
        parsed.withheld().forEach(w -> assertEquals(room, w.roomId()));
      } catch (RoomKeyBundles.BundleException e) {
        rejected++;
        if (!expect.equals("any") && !expect.equals(e.reason.name())) {
          failures.add(
              id + ": rejected " + e.reason + " (" + e.getMessage() + "), expected " + expect);
        }
        if (e.getMessage().contains("AQAAAA")) {
          failures.add(id + ": message echoes key material");
        }
      } catch (RuntimeException e) {
        failures.add(id + ": untyped " + e);
      }
    }
    assertEquals(List.of(), failures);
    assertTrue(
        accepted >= 10 && rejected >= 300, accepted + " accepted, " + rejected + " rejected");
  }

  private static JsonNode load() throws IOException {
    try (InputStream in =
        RoomKeyBundleFuzzCorpusTest.class.getResourceAsStream(
            "/bundle/room_key_bundle_fuzz_corpus.json")) {
      if (in == null) {
        throw new IllegalStateException("missing bundle/room_key_bundle_fuzz_corpus.json");
      }
      return new ObjectMapper().readTree(in);
    }
  }
}
