package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.InboundGroupSessionTest.generatedMessage;
import static io.github.mxe2ee.megolm.InboundGroupSessionTest.state;
import static io.github.mxe2ee.megolm.OutboundGroupSessionTest.GENERATED_PICKLE_KEY;
import static io.github.mxe2ee.megolm.OutboundGroupSessionTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replays a committed corpus of mutated Megolm messages: each must be rejected with a typed
 * exception, never decrypted and never allowed to change the session. All failures are collected,
 * each with its case id.
 */
class MegolmFuzzCorpusTest {
  private static final JsonNode CORPUS = load();

  private static JsonNode load() {
    return MegolmVectors.loadResource("/megolm/megolm_fuzz_corpus.json");
  }

  private static List<String> replay(InboundGroupSession session, String label) {
    String before = state(session);
    List<String> failures = new ArrayList<>();
    int decodeErrors = 0;
    int decryptErrors = 0;
    for (JsonNode c : CORPUS.get("cases")) {
      String id = label + " " + c.get("id").asText() + " (" + c.get("mutation").asText() + ")";
      try {
        MegolmMessage message = MegolmMessage.fromBase64(c.get("message_b64").asText());
        session.decrypt(message);
        failures.add(id + ": a mutated message decrypted");
      } catch (MegolmDecodeException e) {
        decodeErrors++;
      } catch (MegolmDecryptionException e) {
        decryptErrors++;
      } catch (RuntimeException e) {
        failures.add(id + ": untyped " + e);
      }
      if (!before.equals(state(session))) {
        failures.add(id + ": session state changed");
        before = state(session);
      }
    }
    assertTrue(decodeErrors > 0 && decryptErrors > 0, label + ": corpus exercises both paths");
    return failures;
  }

  @Test
  void corpus_onlyTypedErrorsAndUnchangedSessions() {
    assertEquals(300, CORPUS.get("cases").size(), "corpus is only ever added to");
    InboundGroupSession fromKey = InboundGroupSessionTest.fromKeyAtZero();
    fromKey.decrypt(generatedMessage(1));
    InboundGroupSession fromPickle =
        InboundGroupSession.fromLibolmPickle(text("megolm.inbound_pickle"), GENERATED_PICKLE_KEY);
    List<String> failures = new ArrayList<>(replay(fromKey, "session_key_index0"));
    failures.addAll(replay(fromPickle, "inbound_pickle"));
    assertEquals(List.of(), failures);
    for (int i = 0; i < 3; i++) {
      assertEquals(
          text("megolm.msg" + i + ".plaintext"),
          fromKey.decrypt(generatedMessage(i)).plaintextUtf8(),
          "still decrypts megolm.msg" + i);
    }
  }
}
