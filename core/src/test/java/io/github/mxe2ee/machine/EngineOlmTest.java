package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.testing.JavaMachine;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Olm to-device between machines (issue 5, item 4): payload checks, one-time key kept until a
 * successful decrypt, session choice by the most recent decrypt, unwedging at most once an hour.
 */
class EngineOlmTest extends EngineFixture {
  private static final String EVE = "@eve:localhost";

  private Curve25519PublicKey curve(JavaMachine m) {
    return Curve25519PublicKey.fromBase64(m.identityKeys().path("curve25519").asText());
  }

  private Ed25519PublicKey ed(JavaMachine m) {
    return Ed25519PublicKey.fromBase64(m.identityKeys().path("ed25519").asText());
  }

  private RawDevice eveKnownToAlice() {
    RawDevice eve = new RawDevice(router, EVE, "EVEDEVICE");
    alice.updateTrackedUsers(List.of(EVE));
    alice.pump(router);
    return eve;
  }

  /** Eve sends one dummy to Alice on a fresh session, with the payload changed by {@code edit}. */
  private ObjectNode eveSends(RawDevice eve, Consumer<ObjectNode> edit) {
    Session s = eve.claimSession(router, ALICE, "ALICEDEVICE", curve(alice));
    ObjectNode payload = eve.payload("m.dummy", MAPPER.createObjectNode(), ALICE, ed(alice));
    edit.accept(payload);
    eve.send(router, s, ALICE, "ALICEDEVICE", curve(alice), payload);
    List<ObjectNode> got = alice.sync(router);
    assertEquals(1, got.size(), got.toString());
    return got.get(0);
  }

  @Test
  void payloadWithAnotherSenderRecipientOrKeysIsRejected() {
    RawDevice eve = eveKnownToAlice();
    assertEquals("decrypted", eveSends(eve, p -> {}).path("kind").asText(), "control");
    assertEquals(
        "invalid", eveSends(eve, p -> p.put("sender", "@mallory:localhost")).path("kind").asText());
    assertEquals("invalid", eveSends(eve, p -> p.put("recipient", BOB)).path("kind").asText());
    assertEquals(
        "invalid",
        eveSends(
                eve, p -> ((ObjectNode) p.get("recipient_keys")).put("ed25519", ed(bob).toBase64()))
            .path("kind")
            .asText());
    String otherEd = new RawDevice(router, EVE, "EVEOTHER").keys.ed25519().toBase64();
    assertEquals(
        "invalid",
        eveSends(eve, p -> ((ObjectNode) p.get("keys")).put("ed25519", otherEd))
            .path("kind")
            .asText(),
        "an Ed25519 key that differs from the known device's");
  }

  @Test
  void sameRoomKeyTwiceInOneSyncIsImportedOnce() {
    RawDevice eve = eveKnownToAlice();
    var megolm =
        io.github.mxe2ee.megolm.OutboundGroupSession.create(new java.security.SecureRandom());
    ObjectNode key = MAPPER.createObjectNode();
    key.put("algorithm", "m.megolm.v1.aes-sha2");
    key.put("room_id", ROOM);
    key.put("session_id", megolm.sessionId());
    key.put("session_key", megolm.sessionKey().toBase64());
    Session s = eve.claimSession(router, ALICE, "ALICEDEVICE", curve(alice));
    for (int i = 0; i < 2; i++) {
      eve.send(
          router,
          s,
          ALICE,
          "ALICEDEVICE",
          curve(alice),
          eve.payload("m.room_key", key, ALICE, ed(alice)));
    }
    List<ObjectNode> got = alice.sync(router); // one step: the second finds the first unsaved
    assertEquals(2, ofType(got, "m.room_key").size(), got.toString());
    ObjectNode plain = MAPPER.createObjectNode();
    plain.put("type", "m.room.message");
    plain.set("content", text("from Eve"));
    plain.put("room_id", ROOM);
    ObjectNode content = MAPPER.createObjectNode();
    content.put("algorithm", "m.megolm.v1.aes-sha2");
    content.put("sender_key", eve.account.curve25519Key().toBase64());
    content.put("ciphertext", megolm.encrypt(plain.toString()).toBase64());
    content.put("session_id", megolm.sessionId());
    content.put("device_id", "EVEDEVICE");
    router.joinRoom(ROOM, EVE);
    ObjectNode event = router.sendRoomEvent(EVE, "EVEDEVICE", ROOM, "m.room.encrypted", content);
    assertEquals(
        "from Eve", alice.decryptRoomEvent(ROOM, event).path("content").path("body").asText());
  }

  @Test
  void oneTimeKeyIsKeptWhenAPreKeyMessageFailsToDecrypt() {
    RawDevice eve = eveKnownToAlice();
    Session s = eve.claimSession(router, ALICE, "ALICEDEVICE", curve(alice));
    Session copy = Session.fromPickle(s.pickle(new byte[32]), new byte[32]);
    ObjectNode payload = eve.payload("m.dummy", MAPPER.createObjectNode(), ALICE, ed(alice));
    String body = copy.encrypt(payload.toString()).toBase64();
    int at = body.length() - 12;
    String tampered =
        body.substring(0, at) + (body.charAt(at) == 'A' ? 'B' : 'A') + body.substring(at + 1);
    eve.sendBody(router, ALICE, "ALICEDEVICE", curve(alice), 0, tampered);
    assertEquals("unable_to_decrypt", alice.sync(router).get(0).path("kind").asText());

    alice.reopen(); // whatever was saved is all there is
    eve.send(router, s, ALICE, "ALICEDEVICE", curve(alice), payload);
    List<ObjectNode> got = alice.sync(router);
    assertEquals("decrypted", got.get(0).path("kind").asText(), got.toString());
  }

  @Test
  void changedEd25519KeyOfAKnownDeviceIsRefused() {
    String before = alice.device(BOB, "BOBDEVICE").path("ed25519").asText();
    RawDevice impostor = new RawDevice(router, "@scratch:localhost", "X");
    ObjectNode fake = MAPPER.createObjectNode();
    fake.put("user_id", BOB).put("device_id", "BOBDEVICE");
    fake.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    fake.putObject("keys")
        .put("curve25519:BOBDEVICE", impostor.account.curve25519Key().toBase64())
        .put("ed25519:BOBDEVICE", impostor.account.ed25519Key().toBase64());
    String sig =
        impostor.account.sign(io.github.mxe2ee.json.JsonSigning.signedBytes(fake)).toBase64();
    fake.putObject("signatures").putObject(BOB).put("ed25519:BOBDEVICE", sig);

    OlmMachine m = alice.machine();
    m.receiveSyncChanges(new SyncChanges(List.of(), List.of(BOB), List.of(), null, null, null));
    OutgoingRequest query =
        m.outgoingRequests().stream()
            .filter(r -> r.type() == RequestType.KEYS_QUERY)
            .findFirst()
            .orElseThrow();
    ObjectNode response = MAPPER.createObjectNode();
    response.putObject("device_keys").putObject(BOB).set("BOBDEVICE", fake);
    response.putObject("failures");
    m.markRequestAsSent(query.requestId(), RequestType.KEYS_QUERY, response);
    assertEquals(before, alice.device(BOB, "BOBDEVICE").path("ed25519").asText());
  }

  @Test
  void changeDuringAnInFlightQuerySupersedesItsResult() {
    OlmMachine m = alice.machine();
    m.receiveSyncChanges(new SyncChanges(List.of(), List.of(BOB), List.of(), null, null, null));
    OutgoingRequest query =
        m.outgoingRequests().stream()
            .filter(r -> r.type() == RequestType.KEYS_QUERY)
            .findFirst()
            .orElseThrow();
    ObjectNode stale = router.route(ALICE, "ALICEDEVICE", query);
    assertTrue(
        m.outgoingRequests().stream()
            .filter(r -> r.type() == RequestType.KEYS_QUERY)
            .allMatch(r -> r.requestId().equals(query.requestId())),
        "one query per user in flight: only the unanswered one again");

    JavaMachine bob2 = machine(BOB, "BOBSECOND");
    bob2.pump(router); // Bob's new device: the server reports Bob changed
    alice.sync(router);
    m.markRequestAsSent(query.requestId(), RequestType.KEYS_QUERY, stale);
    List<OutgoingRequest> next = m.outgoingRequests();
    OutgoingRequest again =
        next.stream().filter(r -> r.type() == RequestType.KEYS_QUERY).findFirst().orElseThrow();
    assertTrue(!again.requestId().equals(query.requestId()), "a new query");
    assertEquals(false, alice.device(BOB, "BOBSECOND").path("found").asBoolean());
    assertTrue(again.body().path("device_keys").has(BOB), "Bob is queried again: " + next);
    alice.pump(router);
    assertTrue(alice.device(BOB, "BOBSECOND").path("found").asBoolean());
  }

  @Test
  void encryptionUsesTheSessionThatDecryptedMostRecently() {
    clock.setMillis(START + 100);
    bob.establishSessions(router, List.of(ALICE)); // B1, made by Bob
    share(bob); // over B1
    clock.setMillis(START + 200);
    share(alice); // Alice has no session yet: A1, made by Alice
    clock.setMillis(START + 300);
    alice.sync(router); // Alice decrypts on B1: B1 is newer for her than A1
    clock.setMillis(START + 400);
    bob.sync(router); // Bob decrypts on A1: A1 is his most recent
    clock.setMillis(START + 500);
    bob.machine().invalidateGroupSession(ROOM);
    share(bob); // over A1
    clock.setMillis(START + 600);
    alice.sync(router); // Alice decrypts on A1: now A1 is her most recent, though B1 is younger
    clock.setMillis(START + 700);
    alice.machine().invalidateGroupSession(ROOM);
    share(alice);
    bob.sync(router);

    String aliceKey = curve(alice).toBase64();
    List<OlmSessionRecord> bobs = bob.store().olmSessions(aliceKey);
    assertEquals(2, bobs.size());
    OlmSessionRecord decryptedLast =
        bobs.stream()
            .filter(r -> r.lastDecryptedAtMillis() == START + 700)
            .findFirst()
            .orElseThrow(() -> new AssertionError("Bob decrypted nothing at 700: " + bobs));
    assertEquals(START + 400, decryptedLast.createdAtMillis(), "Alice used A1, not B1");
  }

  @Test
  void wedgedSessionIsReplacedWithADummyAtMostOncePerHour() {
    share(alice);
    bob.sync(router); // Bob has an inbound session from Alice
    sendGarbageFromAlice();
    bob.sync(router);
    List<ObjectNode> sent = bob.pump(router);
    assertTrue(
        sent.stream().anyMatch(r -> "keys_claim".equals(r.path("type").asText())), sent.toString());
    List<ObjectNode> atAlice = alice.sync(router);
    assertEquals(1, ofType(atAlice, "m.dummy").size(), atAlice.toString());
    assertEquals("decrypted", ofType(atAlice, "m.dummy").get(0).path("kind").asText());

    clock.advanceMillis(59 * 60_000L);
    sendGarbageFromAlice();
    bob.sync(router);
    assertTrue(
        bob.pump(router).stream().noneMatch(r -> "keys_claim".equals(r.path("type").asText())),
        "not again within the hour");

    clock.advanceMillis(2 * 60_000L);
    sendGarbageFromAlice();
    bob.sync(router);
    assertTrue(
        bob.pump(router).stream().anyMatch(r -> "keys_claim".equals(r.path("type").asText())),
        "again after an hour");
    assertEquals(1, ofType(alice.sync(router), "m.dummy").size());
  }

  private void sendGarbageFromAlice() {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("algorithm", "m.olm.v1.curve25519-aes-sha2");
    content.put("sender_key", curve(alice).toBase64());
    ObjectNode c = content.putObject("ciphertext").putObject(curve(bob).toBase64());
    c.put("type", 1);
    c.put("body", "AwogAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQABogAAAAAAAAAAAAAAAAAAAAAAAA");
    ObjectNode messages = MAPPER.createObjectNode();
    messages.putObject("messages").putObject(BOB).set("BOBDEVICE", content);
    router.sendToDevice(
        ALICE, "ALICEDEVICE", "m.room.encrypted", "garbage-" + clock.millis(), messages);
  }

  static JsonNode first(JsonNode n) {
    return n.elements().next();
  }
}
