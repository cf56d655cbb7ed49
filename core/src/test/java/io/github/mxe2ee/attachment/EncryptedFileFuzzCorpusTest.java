package io.github.mxe2ee.attachment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.Vectors;
import io.github.mxe2ee.crypto.CryptoException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replays the committed corpus {@code attachment/encrypted_file_fuzz_corpus.json} (mutations of the
 * spec example and the two vector files; see its generator beside it). Each case must be accepted
 * or rejected as its {@code expect} says ({@code any}: either), rejection must be an {@link
 * EncryptedFileException} and nothing else, and an accepted file must round-trip through {@link
 * EncryptedFile#toJson()} and then either decrypt the vector ciphertext or fail with {@link
 * CryptoException}. Every failure is collected with its case id.
 */
class EncryptedFileFuzzCorpusTest {
  private static final byte[] CIPHERTEXT =
      Vectors.hex(
          Vectors.load("encrypted_attachments_v2.json")
              .get("cases")
              .get(0)
              .get("ciphertext_hex")
              .asText());

  @Test
  void corpus_onlyTypedOutcomes_andExpectedVerdicts() throws IOException {
    JsonNode corpus = load();
    List<String> failures = new ArrayList<>();
    int accepted = 0;
    int rejected = 0;
    for (JsonNode c : corpus.get("cases")) {
      String id = c.get("id").asText() + " (" + c.get("mutation").asText() + ")";
      String expect = c.get("expect").asText();
      String before = c.get("file").toString();
      EncryptedFile file;
      try {
        file = EncryptedFile.fromJson(c.get("file"));
      } catch (EncryptedFileException e) {
        rejected++;
        if (expect.equals("accept")) {
          failures.add(id + ": rejected: " + e.getMessage());
        }
        if (!e.getMessage().startsWith("EncryptedFile")) {
          failures.add(id + ": message does not name the field: " + e.getMessage());
        }
        continue;
      } catch (RuntimeException e) {
        failures.add(id + ": untyped " + e);
        continue;
      } finally {
        if (!before.equals(c.get("file").toString())) {
          failures.add(id + ": input was modified");
        }
      }
      accepted++;
      if (expect.equals("reject")) {
        failures.add(id + ": accepted");
      }
      try {
        String json = file.toJson().toString();
        if (!json.equals(EncryptedFile.fromJson(file.toJson()).toJson().toString())) {
          failures.add(id + ": toJson does not round-trip");
        }
        AttachmentCipher.decrypt(CIPHERTEXT, file);
      } catch (CryptoException e) {
        // a mutated hash or a hash of another vector: the expected typed refusal
      } catch (RuntimeException e) {
        failures.add(id + ": after parsing, untyped " + e);
      }
    }
    assertEquals(List.of(), failures);
    assertTrue(
        accepted >= 40 && rejected >= 300, accepted + " accepted, " + rejected + " rejected");
  }

  private static JsonNode load() throws IOException {
    try (InputStream in =
        EncryptedFileFuzzCorpusTest.class.getResourceAsStream(
            "/attachment/encrypted_file_fuzz_corpus.json")) {
      if (in == null) {
        throw new IllegalStateException("missing attachment/encrypted_file_fuzz_corpus.json");
      }
      return new ObjectMapper().readTree(in);
    }
  }
}
