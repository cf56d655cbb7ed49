package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.InboundGroupSessionTest.assertFails;
import static io.github.mxe2ee.megolm.OutboundGroupSessionTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.megolm.MegolmDecryptionException.Reason;
import org.junit.jupiter.api.Test;

/** Committed pickles of every mxe2ee Megolm pickle version still load and behave. */
class PickleFixtureTest {
  private static final JsonNode FIXTURES =
      MegolmVectors.loadResource("/megolm/mxe2ee_megolm_pickles_v1.json");
  private static final byte[] KEY = MegolmVectors.hex(FIXTURES.get("pickle_key_hex").asText());

  @Test
  void outboundFixtures_restoreAndEncryptIdentically() {
    int seen = 0;
    for (JsonNode fixture : FIXTURES.get("cases")) {
      if (!fixture.get("kind").asText().equals("group_outbound")) {
        continue;
      }
      String id = fixture.get("id").asText();
      JsonNode expected = fixture.get("expected");
      OutboundGroupSession session =
          OutboundGroupSession.fromPickle(fixture.get("pickle").asText(), KEY);
      assertEquals(expected.get("session_id").asText(), session.sessionId(), id);
      assertEquals(expected.get("message_index").asLong(), session.messageIndex(), id);
      assertEquals(
          expected.get("next_message_b64").asText(),
          session.encrypt(expected.get("next_plaintext").asText()).toBase64(),
          id);
      seen++;
    }
    assertEquals(2, seen);
  }

  @Test
  void inboundFixtures_restoreAndDecrypt() {
    int seen = 0;
    for (JsonNode fixture : FIXTURES.get("cases")) {
      if (!fixture.get("kind").asText().equals("group_inbound")) {
        continue;
      }
      String id = fixture.get("id").asText();
      JsonNode expected = fixture.get("expected");
      InboundGroupSession session =
          InboundGroupSession.fromPickle(fixture.get("pickle").asText(), KEY);
      assertEquals(expected.get("session_id").asText(), session.sessionId(), id);
      assertEquals(expected.get("first_known_index").asLong(), session.firstKnownIndex(), id);
      assertEquals(
          expected.get("latest_index").asLong(), session.latestRatchet().indexAsLong(), id);
      assertEquals(expected.get("verified").asBoolean(), session.isSigningKeyVerified(), id);
      for (JsonNode name : expected.get("rejects_unknown_index")) {
        assertFails(
            Reason.UNKNOWN_MESSAGE_INDEX,
            session,
            MegolmMessage.fromBase64(text(name.asText() + ".ciphertext")),
            id + " " + name.asText());
      }
      for (JsonNode name : expected.get("decrypts")) {
        assertEquals(
            text(name.asText() + ".plaintext"),
            session
                .decrypt(MegolmMessage.fromBase64(text(name.asText() + ".ciphertext")))
                .plaintextUtf8(),
            id + " " + name.asText());
      }
      seen++;
    }
    assertEquals(2, seen);
  }
}
