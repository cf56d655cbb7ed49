package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.testing.JavaMachine;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Room keys between two Java machines (issue 5, items 5 and 6): rotation rules, replay protection
 * and the binding of a session to its sender.
 */
class EngineRoomKeysTest extends EngineFixture {

  private ObjectNode encryption(long periodMs, long msgs) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("algorithm", "m.megolm.v1.aes-sha2");
    c.put("rotation_period_ms", periodMs);
    c.put("rotation_period_msgs", msgs);
    return c;
  }

  @Test
  void sessionRotatesAfterRotationPeriodMessages() {
    alice.machine().onRoomEncryption(ROOM, encryption(86_400_000L, 2));
    share(alice);
    String first = sessionId(send(alice, "1"));
    share(alice);
    assertEquals(first, sessionId(send(alice, "2")), "two messages allowed");
    share(alice);
    ObjectNode third = send(alice, "3");
    assertNotEquals(first, sessionId(third), "rotated after rotation_period_msgs");
    bob.sync(router);
    assertEquals("3", bob.decryptRoomEvent(ROOM, third).path("content").path("body").asText());
  }

  @Test
  void theOperatorsRotationPolicyCapsWhatTheRoomAsks() {
    router.registerDevice(ALICE, "ALICESTRICT");
    JavaMachine strict =
        JavaMachine.inMemory(
            JavaMachine.config(ALICE, "ALICESTRICT")
                .withClock(clock)
                .withRotation(
                    new RotationPolicy(
                        java.time.Duration.ofDays(1), 2, java.time.Duration.ofDays(1), 2)));
    machines.add(strict);
    strict.pump(router);
    strict.sync(router);
    strict.updateTrackedUsers(List.of(ALICE, BOB));
    strict.pump(router);
    strict.machine().onRoomEncryption(ROOM, encryption(604_800_000L, 100));
    share(strict);
    String first = sessionId(send(strict, "1"));
    share(strict);
    assertEquals(first, sessionId(send(strict, "2")));
    share(strict);
    assertNotEquals(first, sessionId(send(strict, "3")), "rotated at the policy's 2, not 100");
  }

  @Test
  void sessionRotatesAfterRotationPeriod() {
    alice.machine().onRoomEncryption(ROOM, encryption(60_000, 100));
    share(alice);
    String first = sessionId(send(alice, "1"));
    clock.advanceMillis(59_000);
    share(alice);
    assertEquals(first, sessionId(send(alice, "2")));
    clock.advanceMillis(2_000);
    share(alice);
    assertNotEquals(first, sessionId(send(alice, "3")), "rotated after rotation_period_ms");
  }

  @Test
  void sessionRotatesWhenAMemberLeaves() {
    share(alice);
    String first = sessionId(send(alice, "before"));
    router.leaveRoom(ROOM, BOB);
    alice.sync(router);
    share(alice);
    ObjectNode after = send(alice, "after Bob left");
    assertNotEquals(first, sessionId(after));
    bob.sync(router);
    assertEquals("missing_session", failure(bob, after));
  }

  @Test
  void sessionRotatesWhenADeviceIsRemoved() {
    JavaMachine bob2 = loggedIn(BOB, "BOBSECOND");
    alice.sync(router);
    alice.pump(router);
    share(alice);
    bob2.sync(router);
    String first = sessionId(send(alice, "before"));
    router.deleteDevice(BOB, "BOBSECOND");
    alice.sync(router);
    alice.pump(router);
    assertEquals(false, alice.device(BOB, "BOBSECOND").path("found").asBoolean());
    share(alice);
    ObjectNode after = send(alice, "after the device was removed");
    assertNotEquals(first, sessionId(after));
    bob.sync(router);
    assertEquals("after the device was removed", body(bob, after));
  }

  @Test
  void sessionRotatesWhenHistoryVisibilityChangesShareability() {
    alice.machine().onHistoryVisibility(ROOM, "shared");
    share(alice);
    String first = sessionId(send(alice, "shared history"));
    alice.machine().onHistoryVisibility(ROOM, "world_readable");
    share(alice);
    assertEquals(first, sessionId(send(alice, "still shareable")), "no change in shareability");
    alice.machine().onHistoryVisibility(ROOM, "joined");
    share(alice);
    assertNotEquals(first, sessionId(send(alice, "joined only")));
  }

  @Test
  void sameIndexWithAnotherEventIdIsAReplay_sameEventTwiceIsFine() {
    share(alice);
    bob.sync(router);
    ObjectNode event = send(alice, "once");
    assertEquals("once", body(bob, event));
    assertEquals("once", body(bob, event), "the same event again");
    ObjectNode replayed = event.deepCopy();
    replayed.put("event_id", "$replayed:localhost");
    assertEquals("replay", failure(bob, replayed));
    ObjectNode otherTime = event.deepCopy();
    otherTime.put("origin_server_ts", event.path("origin_server_ts").asLong() + 1);
    assertEquals("replay", failure(bob, otherTime));
    assertEquals("once", body(bob, event), "the original still decrypts");
  }

  @Test
  void sessionUsedByAnEventClaimingAnotherSenderIsUntrusted() {
    share(alice);
    bob.sync(router);
    ObjectNode event = send(alice, "from Alice");
    ObjectNode forged = event.deepCopy();
    forged.put("sender", "@mallory:localhost");
    forged.put("event_id", "$forged:localhost");
    assertEquals("untrusted", failure(bob, forged));
    // An impersonation of a user whose devices Bob knows, too.
    ObjectNode asBob = event.deepCopy();
    asBob.put("sender", BOB);
    asBob.put("event_id", "$asbob:localhost");
    assertEquals("untrusted", failure(bob, asBob));
    assertEquals("from Alice", body(bob, event));
  }

  @Test
  void decryptedEventCarriesSenderDeviceAndTrust() {
    share(alice);
    bob.sync(router);
    DecryptionResult r = bob.decrypt(ROOM, send(alice, "hi"));
    DecryptionResult.Decrypted d = assertInstanceOf(DecryptionResult.Decrypted.class, r);
    assertEquals("ALICEDEVICE", d.senderDeviceId());
    assertEquals(alice.identityKeys().path("curve25519").asText(), d.senderCurve25519());
    assertEquals(io.github.mxe2ee.device.DeviceTrust.UNVERIFIED, d.trust());
    assertEquals(true, d.authenticated());
    bob.setLocalTrust(ALICE, "ALICEDEVICE", "verified");
    DecryptionResult.Decrypted again =
        assertInstanceOf(DecryptionResult.Decrypted.class, bob.decrypt(ROOM, send(alice, "2")));
    assertEquals(io.github.mxe2ee.device.DeviceTrust.VERIFIED_LOCALLY, again.trust());
    assertEquals(1, again.messageIndex());
  }

  @Test
  void withheldNoticeIsReportedAsTheFailureReason() {
    alice.machine().setLocalTrust(BOB, "BOBDEVICE", io.github.mxe2ee.device.LocalTrust.BLACKLISTED);
    share(alice);
    List<ObjectNode> got = bob.sync(router);
    assertEquals(1, ofType(got, "m.room_key.withheld").size(), got.toString());
    DecryptionResult r = bob.decrypt(ROOM, send(alice, "not for Bob"));
    DecryptionResult.UnableToDecrypt u =
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, r);
    assertEquals(DecryptionFailure.WITHHELD, u.reason());
    assertEquals("m.blacklisted", u.withheldCode());
  }

  static String body(JavaMachine m, ObjectNode event) {
    return m.decryptRoomEvent(ROOM, event).path("content").path("body").asText();
  }

  static String failure(JavaMachine m, ObjectNode event) {
    try {
      m.decryptRoomEvent(ROOM, event);
    } catch (JavaMachine.Failure f) {
      return f.kind();
    }
    return "decrypted";
  }
}
