package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.store.KeyRequestState;
import io.github.mxe2ee.testing.JavaMachine;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Key requests with the product's policy (issue 5, item 7), beyond the shared scenarios: replies
 * are rate-limited per device, and forwarded keys are accepted only from our own verified devices
 * and only for sessions we asked for.
 */
class EngineKeyRequestsTest extends EngineFixture {

  private void requestFrom(String user, String device, String requestId, String sessionId) {
    ObjectNode request = MAPPER.createObjectNode();
    request.put("action", "request");
    request.put("request_id", requestId);
    request.put("requesting_device_id", device);
    ObjectNode what = request.putObject("body");
    what.put("algorithm", "m.megolm.v1.aes-sha2");
    what.put("room_id", ROOM);
    what.put("session_id", sessionId);
    ObjectNode toDevice = MAPPER.createObjectNode();
    toDevice.putObject("messages").putObject(BOB).set("BOBDEVICE", request);
    router.sendToDevice(user, device, "m.room_key_request", "req-" + requestId, toDevice);
  }

  @Test
  void repliesToOneDeviceAreRateLimited() {
    JavaMachine bob2 = loggedIn(BOB, "BOBSECOND");
    bob.sync(router);
    bob.pump(router);
    int limit = KeyRequests.MAX_REPLIES_PER_DEVICE_PER_MINUTE;
    for (int i = 0; i < limit + 5; i++) {
      requestFrom(BOB, "BOBSECOND", "r" + i, "session" + i);
    }
    bob.sync(router);
    bob.pump(router);
    List<ObjectNode> refusals = ofType(bob2.sync(router), "m.room_key.withheld");
    assertEquals(limit, refusals.size(), "at most the limit per minute");
    assertEquals("m.unverified", refusals.get(0).path("content").path("code").asText());

    clock.advanceMillis(61_000);
    requestFrom(BOB, "BOBSECOND", "later", "sessionX");
    bob.sync(router);
    bob.pump(router);
    assertEquals(1, ofType(bob2.sync(router), "m.room_key.withheld").size(), "a minute later");
  }

  @Test
  void forwardedKeyIsAcceptedOnlyFromAVerifiedOwnDeviceAndOnlyWhenRequested() {
    // Bob's other device, made from primitives, holds a Megolm session nobody shared with Bob.
    RawDevice other = new RawDevice(router, BOB, "BOBOTHER");
    bob.sync(router);
    bob.pump(router);
    OutboundGroupSession megolm = OutboundGroupSession.create(new SecureRandom());
    String sessionId = megolm.sessionId();
    String exported =
        InboundGroupSession.fromSessionKey(megolm.sessionKey())
            .exportAtFirstKnownIndex()
            .toBase64();
    ObjectNode plaintext = MAPPER.createObjectNode();
    plaintext.put("type", "m.room.message");
    plaintext.set("content", text("forwarded history"));
    plaintext.put("room_id", ROOM);
    ObjectNode content = MAPPER.createObjectNode();
    content.put("algorithm", "m.megolm.v1.aes-sha2");
    content.put("sender_key", other.account.curve25519Key().toBase64());
    content.put("ciphertext", megolm.encrypt(plaintext.toString()).toBase64());
    content.put("session_id", sessionId);
    content.put("device_id", "BOBOTHER");
    ObjectNode event = router.sendRoomEvent(BOB, "BOBOTHER", ROOM, "m.room.encrypted", content);

    ObjectNode forwarded = MAPPER.createObjectNode();
    forwarded.put("algorithm", "m.megolm.v1.aes-sha2");
    forwarded.put("room_id", ROOM);
    forwarded.put("session_id", sessionId);
    forwarded.put("session_key", exported);
    forwarded.put("sender_key", other.account.curve25519Key().toBase64());
    forwarded.put("sender_claimed_ed25519_key", other.account.ed25519Key().toBase64());
    forwarded.putArray("forwarding_curve25519_key_chain");
    forwarded.put("m.shared_history", true); // the name matrix-rust-sdk writes (issue 14)
    Curve25519PublicKey bobCurve =
        Curve25519PublicKey.fromBase64(bob.identityKeys().path("curve25519").asText());
    Ed25519PublicKey bobEd =
        Ed25519PublicKey.fromBase64(bob.identityKeys().path("ed25519").asText());
    Session olm = other.claimSession(router, BOB, "BOBDEVICE", bobCurve);
    Runnable forward =
        () -> {
          other.send(
              router,
              olm,
              BOB,
              "BOBDEVICE",
              bobCurve,
              other.payload("m.forwarded_room_key", forwarded, BOB, bobEd));
          List<ObjectNode> got = bob.sync(router);
          List<ObjectNode> keys = ofType(got, "m.forwarded_room_key");
          assertEquals(1, keys.size(), got.toString());
          assertEquals("decrypted", keys.get(0).path("kind").asText(), got.toString());
        };

    forward.run(); // unverified device, unrequested
    assertTrue(bob.store().inboundGroupSessions(ROOM, sessionId).stream().findFirst().isEmpty());
    bob.setLocalTrust(BOB, "BOBOTHER", "verified");
    forward.run(); // verified device, still unrequested
    assertTrue(
        bob.store().inboundGroupSessions(ROOM, sessionId).stream().findFirst().isEmpty(),
        "not requested");

    bob.setLocalTrust(BOB, "BOBOTHER", "unset");
    assertEquals("missing_session", EngineRoomKeysTest.failure(bob, event)); // records a request
    List<ObjectNode> sent = bob.pump(router);
    assertTrue(
        sent.stream().anyMatch(r -> "m.room_key_request".equals(r.path("event_type").asText())),
        sent.toString());
    forward.run(); // requested, but from an unverified device
    assertTrue(
        bob.store().inboundGroupSessions(ROOM, sessionId).stream().findFirst().isEmpty(),
        "not verified");

    bob.setLocalTrust(BOB, "BOBOTHER", "verified");
    forward.run();
    assertEquals("forwarded history", EngineRoomKeysTest.body(bob, event));
    List<ObjectNode> after = bob.pump(router);
    assertTrue(
        after.stream().anyMatch(r -> r.path("body").toString().contains("request_cancellation")),
        "the request is cancelled once the key arrived: " + after);
    DecryptionResult.Decrypted d = (DecryptionResult.Decrypted) bob.decrypt(ROOM, event);
    assertEquals(false, d.authenticated(), "a forwarded key is not proof of origin");
    assertTrue(
        bob.store().inboundGroupSessions(ROOM, sessionId).get(0).sharedHistory(),
        "the shared_history flag of a forwarded key is read under matrix-rust-sdk's name");
  }

  @Test
  void eventsNamingMadeUpSessionsCannotGrowTheKeyRequestsWithoutBound() {
    share(alice);
    ObjectNode real = send(alice, "hello");
    int made = KeyRequests.MAX_OPEN_KEY_REQUESTS + 50;
    for (int i = 0; i < made; i++) {
      ObjectNode bogus = real.deepCopy();
      ((ObjectNode) bogus.get("content")).put("session_id", "made-up-session-" + i);
      bogus.put("event_id", "$bogus" + i);
      assertEquals("missing_session", EngineRoomKeysTest.failure(bob, bogus));
    }
    int open =
        bob.store().outgoingKeyRequests(KeyRequestState.UNSENT).size()
            + bob.store().outgoingKeyRequests(KeyRequestState.SENT).size();
    assertEquals(KeyRequests.MAX_OPEN_KEY_REQUESTS, open);

    ObjectNode longId = real.deepCopy();
    ((ObjectNode) longId.get("content"))
        .put("session_id", "x".repeat(KeyRequests.MAX_ID_LENGTH + 1));
    EngineRoomKeysTest.failure(bob, longId);
    assertTrue(
        bob.store()
            .outgoingKeyRequestFor(ROOM, "x".repeat(KeyRequests.MAX_ID_LENGTH + 1))
            .isEmpty());
  }
}
