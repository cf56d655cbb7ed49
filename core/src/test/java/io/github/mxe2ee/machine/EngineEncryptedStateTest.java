package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Encrypted state events received (MSC4362, issue 16): the packed outer state key is checked
 * against the plaintext's type and state key, and never-encrypted types are refused. The events are
 * built by {@link RawStateSender} (genuine Megolm around any plaintext), as a hostile server or a
 * broken client would serve them.
 */
class EngineEncryptedStateTest extends EngineFixture {
  private RawStateSender raw;

  @BeforeEach
  void rawSender() {
    raw = new RawStateSender(alice.machine(), bob.machine(), ROOM);
  }

  static ObjectNode topic(String text) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("topic", text);
    return c;
  }

  private DecryptionFailure refusal(ObjectNode plaintext, String outerStateKey) {
    DecryptionResult r = bob.decrypt(ROOM, raw.event(plaintext, outerStateKey));
    return assertInstanceOf(DecryptionResult.UnableToDecrypt.class, r, "refused: " + r).reason();
  }

  private void assertMismatch(ObjectNode plaintext, String outerStateKey) {
    assertEquals(
        DecryptionFailure.STATE_KEY_MISMATCH,
        refusal(plaintext, outerStateKey),
        "outer state key " + outerStateKey + " with plaintext " + plaintext.path("state_key"));
  }

  @Test
  void stateEventMovedUnderAnotherStateKey_isRefused() {
    ObjectNode genuine = raw.payload("m.room.topic", "", topic("the real topic"));
    // The server serves Alice's topic as another state entry: the bot must not believe it.
    assertMismatch(genuine, "com.example.bridge:@bob:localhost");
  }

  @Test
  void matchingPackedStateKey_decryptsAsState() {
    ObjectNode bridge = MAPPER.createObjectNode().put("portal", "telegram:42");
    DecryptionResult.Decrypted d =
        assertInstanceOf(
            DecryptionResult.Decrypted.class,
            bob.decrypt(
                ROOM,
                raw.event(
                    raw.payload("com.example.bridge", "@bob:localhost", bridge),
                    "com.example.bridge:@bob:localhost")));
    assertEquals("com.example.bridge", d.type());
    assertEquals("@bob:localhost", d.stateKey(), "state keys may hold colons: split at the first");
    assertEquals(bridge, d.content());
  }

  @Test
  void otherType_isRefused() {
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "m.room.name:");
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "m.room.topi:");
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "M.ROOM.TOPIC:");
  }

  @Test
  void otherStateKey_isRefused() {
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "m.room.topic:x");
    assertMismatch(raw.payload("com.example.s", "@a:hs", topic("t")), "com.example.s:@b:hs");
    assertMismatch(raw.payload("com.example.s", "@a:hs", topic("t")), "com.example.s:@a:hs ");
  }

  @Test
  void missingOrExtraSeparator_isRefused() {
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "m.room.topic");
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "m.room.topic::");
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), ":m.room.topic");
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), ":m.room.topic:");
    assertMismatch(raw.payload("m.room.topic", ":", topic("t")), "m.room.topic:");
  }

  @Test
  void stateKeyOnOnlyOneSide_isRefused() {
    // The outer event is state, the plaintext a message: a message served as state.
    assertMismatch(raw.payload("m.room.topic", null, topic("t")), "m.room.topic:");
    assertMismatch(raw.payload("m.room.message", null, text("hi")), "m.room.message:");
    // The outer event is a timeline event, the plaintext claims state: state served as a message.
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), null);
  }

  @Test
  void emptyOrNonStringStateKeys_areRefused() {
    assertMismatch(raw.payload("m.room.topic", "", topic("t")), "");
    assertMismatch(raw.payload("", "", topic("t")), ":");
    ObjectNode numeric = raw.payload("m.room.topic", "", topic("t"));
    numeric.put("state_key", 0);
    assertMismatch(numeric, "m.room.topic:0");
    ObjectNode event = raw.event(raw.payload("m.room.topic", "", topic("t")), null);
    event.put("state_key", 7);
    assertEquals(
        DecryptionFailure.STATE_KEY_MISMATCH,
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, bob.decrypt(ROOM, event))
            .reason());
  }

  @Test
  void overLongPackedStateKey_isRefusedEvenWhenItMatches() {
    String type = "com.example.s";
    String fits = "k".repeat(EncryptedState.MAX_STATE_KEY_BYTES - type.length() - 1);
    bob.decrypt(ROOM, raw.event(raw.payload(type, fits, topic("t")), type + ":" + fits));
    assertInstanceOf(
        DecryptionResult.Decrypted.class,
        bob.decrypt(ROOM, raw.event(raw.payload(type, fits, topic("t")), type + ":" + fits)),
        "exactly 255 bytes is allowed");
    String over = fits + "k";
    assertMismatch(raw.payload(type, over, topic("t")), type + ":" + over);
    // Bytes, not chars: 'é' is two bytes in UTF-8.
    String multiByte = "é".repeat(fits.length() / 2 + 1);
    assertMismatch(raw.payload(type, multiByte, topic("t")), type + ":" + multiByte);
  }

  @Test
  void everyNeverEncryptedType_isRefusedOnReceipt() {
    for (String type : EncryptedState.NEVER_ENCRYPTED) {
      String stateKey = type.equals("m.room.member") ? BOB : "";
      ObjectNode content = MAPPER.createObjectNode().put("membership", "join");
      assertEquals(
          DecryptionFailure.NEVER_ENCRYPTED_STATE,
          refusal(raw.payload(type, stateKey, content), type + ":" + stateKey),
          type);
    }
  }

  @Test
  void refusedCopy_doesNotBurnTheIndexOfTheGenuineEvent() {
    ObjectNode genuine = raw.event(raw.payload("m.room.topic", "", topic("real")), "m.room.topic:");
    ObjectNode moved = genuine.deepCopy();
    moved.put("state_key", "m.room.name:");
    assertInstanceOf(DecryptionResult.UnableToDecrypt.class, bob.decrypt(ROOM, moved));
    DecryptionResult.Decrypted d =
        assertInstanceOf(DecryptionResult.Decrypted.class, bob.decrypt(ROOM, genuine));
    assertEquals("", d.stateKey());
  }

  @Test
  void batchDecryption_checksTheStateKeyToo() {
    ObjectNode ok = raw.event(raw.payload("m.room.topic", "", topic("a")), "m.room.topic:");
    ObjectNode bad = raw.event(raw.payload("m.room.topic", "", topic("b")), "m.room.name:");
    ObjectNode message = raw.event(raw.payload("m.room.message", null, text("c")), null);
    List<DecryptionResult> results =
        bob.machine().decryptRoomEvents(ROOM, List.of(ok, bad, message));
    assertEquals("", assertInstanceOf(DecryptionResult.Decrypted.class, results.get(0)).stateKey());
    assertEquals(
        DecryptionFailure.STATE_KEY_MISMATCH,
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, results.get(1)).reason());
    assertNull(assertInstanceOf(DecryptionResult.Decrypted.class, results.get(2)).stateKey());
  }

  // ------------------------------------------------------------------ sending

  private static ObjectNode stateEncryption() {
    return MAPPER
        .createObjectNode()
        .put("algorithm", "m.megolm.v1.aes-sha2")
        .put("io.element.msc4362.encrypt_state_events", true);
  }

  private ObjectNode encryptedTopic(String text) {
    alice.machine().onRoomEncryption(ROOM, stateEncryption());
    share(alice);
    bob.sync(router);
    ObjectNode content = alice.machine().encryptStateEvent(ROOM, "m.room.topic", "", topic(text));
    ObjectNode event =
        router.sendRoomEvent(ALICE, "ALICEDEVICE", ROOM, "m.room.encrypted", content);
    event.put("state_key", EncryptedState.pack("m.room.topic", ""));
    return event;
  }

  @Test
  void encryptStateEvent_roundTripsWithThePackedKey() {
    ObjectNode event = encryptedTopic("secret topic");
    DecryptionResult.Decrypted d =
        assertInstanceOf(DecryptionResult.Decrypted.class, bob.decrypt(ROOM, event));
    assertEquals("m.room.topic", d.type());
    assertEquals("", d.stateKey());
    assertEquals("secret topic", d.content().path("topic").asText());
    org.junit.jupiter.api.Assertions.assertTrue(d.authenticated());
  }

  @Test
  void encryptStateEvent_tamperedOuterKeyIsRefusedByTheReceiver() {
    ObjectNode event = encryptedTopic("secret topic");
    event.put("state_key", "m.room.name:");
    assertEquals(
        DecryptionFailure.STATE_KEY_MISMATCH,
        assertInstanceOf(DecryptionResult.UnableToDecrypt.class, bob.decrypt(ROOM, event))
            .reason());
  }

  @Test
  void encryptStateEvent_refusesARoomWithoutTheSetting() {
    alice
        .machine()
        .onRoomEncryption(ROOM, MAPPER.createObjectNode().put("algorithm", "m.megolm.v1.aes-sha2"));
    share(alice);
    IllegalStateException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () -> alice.machine().encryptStateEvent(ROOM, "m.room.topic", "", topic("t")));
    org.junit.jupiter.api.Assertions.assertTrue(
        e.getMessage().contains("io.element.msc4362.encrypt_state_events"), e.getMessage());
    org.junit.jupiter.api.Assertions.assertFalse(alice.machine().isStateEncrypted(ROOM));
  }

  @Test
  void encryptStateEvent_refusesEveryNeverEncryptedType() {
    alice.machine().onRoomEncryption(ROOM, stateEncryption());
    share(alice);
    for (String type : EncryptedState.NEVER_ENCRYPTED) {
      IllegalArgumentException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalArgumentException.class,
              () -> alice.machine().encryptStateEvent(ROOM, type, "", topic("t")),
              type);
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(type), e.getMessage());
    }
  }

  @Test
  void encryptStateEvent_refusesUnpackableTypesAndOverLongKeys() {
    alice.machine().onRoomEncryption(ROOM, stateEncryption());
    share(alice);
    OlmMachine m = alice.machine();
    for (String type : new String[] {"", "com.example:odd"}) {
      org.junit.jupiter.api.Assertions.assertThrows(
          IllegalArgumentException.class, () -> m.encryptStateEvent(ROOM, type, "", topic("t")));
    }
    String longKey = "k".repeat(EncryptedState.MAX_STATE_KEY_BYTES);
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> m.encryptStateEvent(ROOM, "com.example.s", longKey, topic("t")));
  }

  @Test
  void stateEncryptionSetting_isPersistedAcrossARestart() {
    alice.machine().onRoomEncryption(ROOM, stateEncryption());
    alice.reopen();
    org.junit.jupiter.api.Assertions.assertTrue(alice.machine().isStateEncrypted(ROOM));
    org.junit.jupiter.api.Assertions.assertTrue(alice.machine().isRoomEncrypted(ROOM));
    org.junit.jupiter.api.Assertions.assertFalse(bob.machine().isStateEncrypted(ROOM));
  }
}
