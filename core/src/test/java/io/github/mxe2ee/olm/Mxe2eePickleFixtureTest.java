package io.github.mxe2ee.olm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * Committed mxe2ee pickles (src/test/resources/olm/mxe2ee_olm_pickles_v1.json) must stay readable.
 */
class Mxe2eePickleFixtureTest {
  private static final JsonNode OUT = TestVectors.libolmOutput();

  private static JsonNode fixtures() throws IOException {
    try (InputStream in =
        Mxe2eePickleFixtureTest.class.getResourceAsStream("/olm/mxe2ee_olm_pickles_v1.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  private static String out(String key) {
    return OUT.get(key).asText();
  }

  @Test
  void accountFixtures_restoreTheVectorAccounts() throws Exception {
    JsonNode f = fixtures();
    byte[] key = TestVectors.hex(f.get("pickle_key_hex").asText());
    Account alice = Account.fromPickle(f.get("alice_account").get("pickle").asText(), key);
    JsonNode aliceKeys = new ObjectMapper().readTree(out("alice.identity_keys_json"));
    assertEquals(aliceKeys.get("curve25519").asText(), alice.curve25519Key().toBase64());
    assertEquals(aliceKeys.get("ed25519").asText(), alice.ed25519Key().toBase64());
    assertEquals(out("alice.sign('Hello, World')"), alice.sign("Hello, World").toBase64());

    Account bob = Account.fromPickle(f.get("bob_account").get("pickle").asText(), key);
    JsonNode otks = new ObjectMapper().readTree(out("bob.one_time_keys_json")).get("curve25519");
    assertEquals(1, bob.oneTimeKeys().size());
    assertEquals(otks.get("AAAAAg").asText(), bob.oneTimeKeys().get("AAAAAg").toBase64());
    assertEquals(out("alice_uses.bob_fallback_key"), bob.fallbackKey().get("AAAAAw").toBase64());
    assertEquals(3, bob.nextKeyId());

    Account fromLibolm =
        Account.fromPickle(f.get("bob_account_from_libolm").get("pickle").asText(), key);
    assertTrue(fromLibolm.signingKey().isExpanded());
    assertEquals(bob.curve25519Key(), fromLibolm.curve25519Key());
    assertEquals(bob.sign("same key").toBase64(), fromLibolm.sign("same key").toBase64());
    assertEquals(2, fromLibolm.oneTimeKeys().size());
    assertEquals(otks.get("AAAAAQ").asText(), fromLibolm.oneTimeKeys().get("AAAAAQ").toBase64());
  }

  @Test
  void sessionFixtures_holdTheSameStateAsLibolmsEndPickles() throws Exception {
    JsonNode f = fixtures();
    byte[] key = TestVectors.hex(f.get("pickle_key_hex").asText());
    byte[] libolmKey = TestVectors.ascii(out("pickle_key_ascii"));
    for (String who : new String[] {"alice", "bob"}) {
      Session ours = Session.fromPickle(f.get(who + "_session").get("pickle").asText(), key);
      Session libolm = Session.fromLibolmPickle(out(who + ".session_pickle_end"), libolmKey);
      assertArrayEquals(SessionPickle.encode(libolm), SessionPickle.encode(ours), who);
      assertEquals(out(who + ".session_id"), ours.sessionId(), who);
    }
    Session alice = Session.fromPickle(f.get("alice_session").get("pickle").asText(), key);
    Session bob = Session.fromPickle(f.get("bob_session").get("pickle").asText(), key);
    assertEquals("still talking", bob.decrypt(alice.encrypt("still talking")));
  }
}
