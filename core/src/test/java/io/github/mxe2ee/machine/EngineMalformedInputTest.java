package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bad input from the network never fails a machine step (the sync token is still saved, the other
 * events still processed) and never lets a stranger interfere with our sessions. Found by review:
 * each case used to throw out of {@code receiveSyncChanges} or {@code decryptRoomEvent}.
 */
class EngineMalformedInputTest extends EngineFixture {

  private static ObjectNode toDevice(String type, String sender, ObjectNode content) {
    ObjectNode e = MAPPER.createObjectNode();
    e.put("type", type);
    e.put("sender", sender);
    e.set("content", content);
    return e;
  }

  private static ObjectNode withheld(String roomId, String sessionId, String senderKey) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("algorithm", "m.megolm.v1.aes-sha2");
    c.put("room_id", roomId);
    c.put("session_id", sessionId);
    c.put("sender_key", senderKey);
    c.put("code", "m.unverified");
    return c;
  }

  private List<ReceivedToDevice> push(OlmMachine m, String token, ObjectNode... events) {
    return m.receiveSyncChanges(
        new SyncChanges(List.of(events), List.of(), List.of(), null, null, token));
  }

  @Test
  void malformedToDeviceEventsAreReportedAndTheTokenIsSaved() {
    OlmMachine m = bob.machine();
    ObjectNode bogusOlm = MAPPER.createObjectNode();
    bogusOlm.put("algorithm", "m.olm.v1.curve25519-aes-sha2");
    bogusOlm.put("sender_key", "not a key");
    bogusOlm
        .putObject("ciphertext")
        .putObject(m.identityKeys().curve25519().toBase64())
        .put("type", 0)
        .put("body", "AAAA");
    List<ReceivedToDevice> out =
        push(
            m,
            "token-1",
            toDevice("m.room_key.withheld", ALICE, withheld("", "", "")),
            toDevice("m.room.encrypted", ALICE, bogusOlm),
            toDevice("m.room_key_request", ALICE, MAPPER.createObjectNode().put("action", 5)),
            toDevice("m.custom", ALICE, MAPPER.createObjectNode().put("x", 1)));
    assertEquals(4, out.size());
    assertEquals(ReceivedToDevice.Kind.PLAINTEXT, out.get(0).kind());
    assertFalse(out.get(1).kind() == ReceivedToDevice.Kind.DECRYPTED);
    assertEquals(ReceivedToDevice.Kind.PLAINTEXT, out.get(3).kind());
    assertEquals("token-1", m.syncToken().orElseThrow());
  }

  @Test
  void roomEventsWithBlankIdsAreMalformedNotExceptions() {
    ObjectNode event = MAPPER.createObjectNode();
    event.put("type", "m.room.encrypted").put("sender", ALICE).put("event_id", "$e");
    event
        .putObject("content")
        .put("algorithm", "m.megolm.v1.aes-sha2")
        .put("session_id", "")
        .put("ciphertext", "");
    DecryptionResult r = bob.machine().decryptRoomEvent(ROOM, event);
    assertTrue(
        r instanceof DecryptionResult.UnableToDecrypt u
            && u.reason() == DecryptionFailure.MALFORMED,
        r.toString());
    ObjectNode wrongTypes = event.deepCopy();
    ((ObjectNode) wrongTypes.get("content")).putArray("session_id").add(1);
    ((ObjectNode) wrongTypes.get("content")).put("ciphertext", 7);
    assertTrue(
        bob.machine().decryptRoomEvent(ROOM, wrongTypes)
            instanceof DecryptionResult.UnableToDecrypt);
  }

  @Test
  void withheldFromAStrangerDoesNotMaskAMissingSession() {
    share(alice);
    ObjectNode event = send(alice, "secret");
    String sessionId = sessionId(event);
    String strangerKey = bob.machine().identityKeys().curve25519().toBase64();
    // A notice naming Alice's session, sent by a user whose device has no such key.
    push(
        bob.machine(),
        null,
        toDevice(
            "m.room_key.withheld", "@mallory:localhost", withheld(ROOM, sessionId, strangerKey)));
    ObjectNode fresh = MAPPER.createObjectNode();
    fresh.setAll(event);
    OlmMachine carol = loggedIn("@carol:localhost", "CAROL").machine();
    carol.receiveSyncChanges(
        new SyncChanges(
            List.of(
                toDevice(
                    "m.room_key.withheld",
                    "@mallory:localhost",
                    withheld(ROOM, sessionId, strangerKey))),
            List.of(),
            List.of(),
            null,
            null,
            null));
    DecryptionResult r = carol.decryptRoomEvent(ROOM, fresh);
    assertTrue(
        r instanceof DecryptionResult.UnableToDecrypt u
            && u.reason() == DecryptionFailure.MISSING_SESSION,
        r.toString());
  }

  @Test
  void decryptedResultsNeverPrintTheirContent() {
    share(alice);
    ObjectNode event = send(alice, "do not print me");
    bob.sync(router);
    DecryptionResult r = bob.machine().decryptRoomEvent(ROOM, event);
    assertTrue(r instanceof DecryptionResult.Decrypted, r.toString());
    assertFalse(r.toString().contains("do not print me"), r.toString());
  }
}
