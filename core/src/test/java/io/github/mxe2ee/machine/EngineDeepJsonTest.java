package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.json.JsonLimits;
import io.github.mxe2ee.olm.Session;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 item 3 in the engine: JSON from a remote party (to-device events, Olm and Megolm
 * plaintexts, homeserver responses) nested or sized beyond {@link JsonLimits} is dropped or refused
 * at the entry, without recursion, and never stops the rest of the step. Before the fix, {@link
 * SyncChanges}' constructor deep-copied recursively ({@code StackOverflowError} on a deep event),
 * and plaintexts were parsed with Jackson's defaults (no explicit bounds at all).
 */
class EngineDeepJsonTest extends EngineFixture {
  private static final String EVE = "@eve:localhost";

  /** {@code {"a":{"a":...{}}}} nested {@code depth} levels, built without recursion. */
  static ObjectNode nested(int depth) {
    ObjectNode root = MAPPER.createObjectNode();
    ObjectNode at = root;
    for (int i = 1; i < depth; i++) {
      at = at.putObject("a");
    }
    return root;
  }

  private static ObjectNode toDevice(String type, ObjectNode content) {
    ObjectNode e = MAPPER.createObjectNode();
    e.put("type", type).put("sender", ALICE);
    e.set("content", content);
    return e;
  }

  @Test
  void syncChanges_toDeviceEventNested200kLevels_isDroppedNotStackOverflow() {
    ObjectNode deep = toDevice("m.custom", nested(200_000));
    ObjectNode fine = toDevice("m.custom", MAPPER.createObjectNode().put("x", 1));
    SyncChanges c = new SyncChanges(List.of(deep, fine), List.of(), List.of(), null, null, "t");
    assertEquals(1, c.toDeviceEvents().size());
    assertEquals(1, c.toDeviceEvents().get(0).path("content").path("x").asInt());

    ObjectNode sync = MAPPER.createObjectNode();
    sync.put("next_batch", "t2");
    sync.putObject("to_device").putArray("events").add(deep).add(fine);
    assertEquals(1, SyncChanges.fromSync(sync).toDeviceEvents().size());
    assertEquals(1, SyncChanges.droppedToDeviceEvents(sync));

    List<ReceivedToDevice> out = bob.machine().receiveSyncChanges(SyncChanges.fromSync(sync));
    assertEquals(1, out.size());
    assertEquals("t2", bob.machine().syncToken().orElseThrow());
  }

  @Test
  void syncChanges_stringOverLimit_isDropped() {
    ObjectNode big =
        toDevice(
            "m.custom",
            MAPPER.createObjectNode().put("s", "x".repeat(JsonLimits.MAX_STRING_CHARS + 1)));
    ObjectNode atLimit =
        toDevice(
            "m.custom",
            MAPPER.createObjectNode().put("s", "x".repeat(JsonLimits.MAX_STRING_CHARS)));
    SyncChanges c = new SyncChanges(List.of(big, atLimit), List.of(), List.of(), null, null, null);
    assertEquals(1, c.toDeviceEvents().size());
  }

  @Test
  void olmPlaintextNestedOverLimit_isRefused_andTheNextMessageStillDecrypts() {
    RawDevice eve = new RawDevice(router, EVE, "EVEDEVICE");
    alice.updateTrackedUsers(List.of(EVE));
    alice.pump(router);
    Curve25519PublicKey aliceCurve =
        Curve25519PublicKey.fromBase64(alice.identityKeys().path("curve25519").asText());
    Ed25519PublicKey aliceEd =
        Ed25519PublicKey.fromBase64(alice.identityKeys().path("ed25519").asText());
    Session s = eve.claimSession(router, ALICE, "ALICEDEVICE", aliceCurve);
    eve.send(
        router,
        s,
        ALICE,
        "ALICEDEVICE",
        aliceCurve,
        eve.payload("m.custom", nested(JsonLimits.MAX_DEPTH + 10), ALICE, aliceEd));
    eve.send(
        router,
        s,
        ALICE,
        "ALICEDEVICE",
        aliceCurve,
        eve.payload("m.custom", nested(JsonLimits.MAX_DEPTH - 5), ALICE, aliceEd));
    List<ObjectNode> got = alice.sync(router);
    assertEquals(2, got.size(), got.toString());
    assertNotEquals("decrypted", got.get(0).path("kind").asText(), got.get(0).toString());
    assertEquals("decrypted", got.get(1).path("kind").asText(), got.get(1).toString());
  }

  @Test
  void megolmPlaintextNestedOverLimit_isUnableToDecrypt_notAnException() {
    share(alice);
    bob.sync(router);
    ObjectNode deep = nested(JsonLimits.MAX_DEPTH + 10);
    ObjectNode event =
        router.sendRoomEvent(
            ALICE,
            "ALICEDEVICE",
            ROOM,
            "m.room.encrypted",
            alice.encryptRoomEvent(ROOM, "m.room.message", deep));
    DecryptionResult r = bob.machine().decryptRoomEvent(ROOM, event);
    assertTrue(r instanceof DecryptionResult.UnableToDecrypt, r.toString());
    ObjectNode ok = send(alice, "after");
    assertTrue(bob.machine().decryptRoomEvent(ROOM, ok) instanceof DecryptionResult.Decrypted);
  }

  @Test
  void roomEventNested200kLevels_isMalformed_andTheBatchGoesOn() {
    share(alice);
    bob.sync(router);
    ObjectNode ok = send(alice, "fine");
    ObjectNode deep = ok.deepCopy();
    ((ObjectNode) deep.get("content")).set("x", nested(200_000));
    List<DecryptionResult> rs = bob.machine().decryptRoomEvents(ROOM, List.of(deep, ok));
    assertTrue(
        rs.get(0) instanceof DecryptionResult.UnableToDecrypt u
            && u.reason() == DecryptionFailure.MALFORMED,
        rs.get(0).toString());
    assertTrue(rs.get(1) instanceof DecryptionResult.Decrypted, rs.get(1).toString());
    assertTrue(
        bob.machine().decryptRoomEvent(ROOM, deep) instanceof DecryptionResult.UnableToDecrypt);
  }

  @Test
  void keysQueryResponseNested200kLevels_isAFailedRequest_notAStackOverflow() {
    OlmMachine m = alice.machine();
    m.receiveSyncChanges(new SyncChanges(List.of(), List.of(BOB), List.of(), null, null, null));
    OutgoingRequest query =
        m.outgoingRequests().stream()
            .filter(r -> r.type() == RequestType.KEYS_QUERY)
            .findFirst()
            .orElseThrow();
    ObjectNode honest = router.route(ALICE, "ALICEDEVICE", query);
    ObjectNode hostile = honest.deepCopy();
    ((ObjectNode) hostile.path("device_keys").path(BOB).path("BOBDEVICE"))
        .putObject("unsigned")
        .set("deep", nested(200_000));
    m.markRequestAsSent(query.requestId(), RequestType.KEYS_QUERY, hostile);
    // A failed query waits out its backoff (MachineLimits.retryBackoffBase) before it is resent.
    clock.advanceMillis(MachineLimits.DEFAULT.retryBackoffBase().plusSeconds(1).toMillis());
    assertTrue(
        m.outgoingRequests().stream().anyMatch(r -> r.type() == RequestType.KEYS_QUERY),
        "the query is asked again");
  }

  @Test
  void checkpoint_savesTokenAndPendingBatchWithTheStep_andCompleteRemovesIt() {
    OlmMachine m = bob.machine();
    byte[] pending = "{\"rooms\":{}}".getBytes(StandardCharsets.UTF_8);
    m.receiveSyncChanges(SyncChanges.empty(), new SyncCheckpoint("s1", pending));
    assertEquals("s1", m.syncToken().orElseThrow());
    assertArrayEquals(pending, m.pendingSyncBatch().orElseThrow());
    m.completeSyncBatch();
    assertFalse(m.pendingSyncBatch().isPresent());
    assertEquals("s1", m.syncToken().orElseThrow());

    m.receiveSyncChanges(SyncChanges.empty(), new SyncCheckpoint("s2", pending));
    m.receiveSyncChanges(SyncChanges.empty(), new SyncCheckpoint("s3", null));
    assertFalse(m.pendingSyncBatch().isPresent(), "a checkpoint without work clears the old one");
    bob.reopen();
    assertEquals("s3", bob.machine().syncToken().orElseThrow());
  }
}
