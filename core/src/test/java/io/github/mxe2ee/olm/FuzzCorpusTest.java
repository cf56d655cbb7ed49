package io.github.mxe2ee.olm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.DecodeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Replays the committed corpus of mutated libolm messages (src/test/resources/olm/fuzz-corpus.tsv)
 * against the account and sessions of the deterministic libolm run: every entry must fail with a
 * typed exception (a {@link DecodeException} or an {@link OlmDecryptionException}) and leave its
 * target byte-for-byte unchanged.
 */
class FuzzCorpusTest {
  private static final JsonNode OUT = TestVectors.libolmOutput();

  private record Entry(String target, int type, String mutation, String body) {}

  private static List<Entry> corpus() throws IOException {
    List<Entry> entries = new ArrayList<>();
    try (InputStream in = FuzzCorpusTest.class.getResourceAsStream("/olm/fuzz-corpus.tsv");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#") || line.isEmpty()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        entries.add(new Entry(f[0], Integer.parseInt(f[1]), f[2], f[3]));
      }
    }
    return entries;
  }

  private static String out(String key) {
    return OUT.get(key).asText();
  }

  @Test
  void everyMutatedMessageFailsTypedAndLeavesItsTargetUnchanged() throws IOException {
    LibolmSessionVectorTest.Run run = new LibolmSessionVectorTest.Run();
    Session alice = run.aliceOutbound();
    alice.encrypt(out("msg_a0.plaintext"));
    alice.encrypt(out("msg_a1.plaintext"));
    Account bobAccount = run.bob;
    byte[] accountBefore = AccountPickle.encode(bobAccount);
    // Bob's session comes from a copy of his account, so the account target stays pristine.
    Account bobCopy =
        Account.fromPickle(bobAccount.pickle(new byte[32]), new byte[32], run.bobRandom);
    Session bob =
        bobCopy.createInboundSession(PreKeyMessage.fromBase64(out("msg_a0.body"))).session();
    bob.decrypt(PreKeyMessage.fromBase64(out("msg_a1.body")));
    run.bobRandom.feedHex(out("msg_b0.encrypt_random"));
    assertEquals(out("msg_b0.body"), bob.encrypt(out("msg_b0.plaintext")).toBase64());
    Map<String, Session> sessions = Map.of("alice-session", alice, "bob-session", bob);
    byte[] aliceBefore = SessionPickle.encode(alice);
    byte[] bobBefore = SessionPickle.encode(bob);

    List<Entry> entries = corpus();
    assertTrue(entries.size() >= 300, "corpus has " + entries.size() + " entries");
    Map<String, Integer> outcomes = new TreeMap<>();
    for (Entry e : entries) {
      String id = e.mutation() + " " + e.body();
      try {
        AnyOlmMessage message = AnyOlmMessage.fromBase64(e.type(), e.body());
        if (e.target().equals("bob-account")) {
          if (!(message instanceof PreKeyMessage preKey)) {
            fail("decoded a pre-key message as a normal message: " + id);
            return;
          }
          bobAccount.createInboundSession(run.alice.curve25519Key(), preKey);
        } else {
          sessions.get(e.target()).decrypt(message);
        }
        fail("mutated message was accepted: " + id);
      } catch (OlmDecryptionException ex) {
        outcomes.merge("crypto:" + ex.reason(), 1, Integer::sum);
      } catch (DecodeException ex) {
        outcomes.merge("decode", 1, Integer::sum);
      }
      assertArrayEquals(accountBefore, AccountPickle.encode(bobAccount), id);
      assertArrayEquals(aliceBefore, SessionPickle.encode(alice), id);
      assertArrayEquals(bobBefore, SessionPickle.encode(bob), id);
    }
    assertTrue(outcomes.containsKey("decode"), outcomes.toString());
    assertTrue(outcomes.containsKey("crypto:BAD_MESSAGE_MAC"), outcomes.toString());

    // the untouched messages still work on the same targets
    assertEquals(out("msg_b0.plaintext"), alice.decrypt(OlmMessage.fromBase64(out("msg_b0.body"))));
  }
}
