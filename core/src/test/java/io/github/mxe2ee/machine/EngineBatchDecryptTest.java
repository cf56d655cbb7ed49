package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link OlmMachine#decryptRoomEvents} gives, event by event, what {@link
 * OlmMachine#decryptRoomEvent} gives: successes, a tampered event, an unknown session, a replay and
 * a malformed event in one batch.
 */
class EngineBatchDecryptTest extends EngineFixture {

  private static String describe(DecryptionResult r) {
    if (r instanceof DecryptionResult.Decrypted d) {
      return "ok " + d.type() + " " + d.content() + " " + d.messageIndex() + " " + d.trust();
    }
    DecryptionResult.UnableToDecrypt u = (DecryptionResult.UnableToDecrypt) r;
    return "fail " + u.reason() + " " + u.withheldCode();
  }

  @Test
  void batchResultsEqualOneAtATimeResults() {
    share(alice);
    List<ObjectNode> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      events.add(send(alice, "message " + i));
    }
    ObjectNode tampered = events.get(5).deepCopy();
    String ct = tampered.path("content").path("ciphertext").asText();
    ((ObjectNode) tampered.get("content"))
        .put(
            "ciphertext",
            ct.substring(0, 20) + (ct.charAt(20) == 'A' ? 'B' : 'A') + ct.substring(21));
    events.add(tampered);
    ObjectNode unknown = events.get(3).deepCopy();
    ((ObjectNode) unknown.get("content")).put("session_id", "unknownsessionid");
    events.add(unknown);
    ObjectNode replay = events.get(7).deepCopy();
    replay.put("event_id", "$replayed");
    events.add(replay);
    ObjectNode malformed = events.get(1).deepCopy();
    ((ObjectNode) malformed.get("content")).put("ciphertext", "!!!");
    events.add(malformed);
    bob.sync(router);

    // One at a time first (decrypting the same events again is allowed), then as a batch.
    List<String> expected = new ArrayList<>();
    for (ObjectNode e : events) {
      expected.add(describe(bob.machine().decryptRoomEvent(ROOM, e)));
    }
    List<DecryptionResult> batch = bob.machine().decryptRoomEvents(ROOM, events);
    assertEquals(events.size(), batch.size());
    List<String> actual = batch.stream().map(EngineBatchDecryptTest::describe).toList();
    assertEquals(expected, actual);
    assertEquals("ok", actual.get(0).substring(0, 2));
    assertEquals("fail MALFORMED null", actual.get(20));
    assertEquals("fail MISSING_SESSION null", actual.get(21));
    assertEquals("fail REPLAY null", actual.get(22));
    assertEquals("fail MALFORMED null", actual.get(23));
  }
}
