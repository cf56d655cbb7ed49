package io.github.mxe2ee.plugin.latekeys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.github.mxe2ee.store.memory.MemoryDatabase;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Late keys through real machines (issue 12, item 3): an event Bob cannot decrypt is held in his
 * store, survives a restart, and is re-emitted decrypted exactly once when the key arrives (here by
 * a key-file import of Alice's keys); the bounds of {@link HeldEvents} drop the oldest and count.
 */
class LateKeysTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String ROOM = "!room:localhost";
  private static final String OTHER_ROOM = "!other:localhost";
  private static final String BOB = "@bob:localhost";

  private final List<AutoCloseable> open = new ArrayList<>();
  private final MemoryDatabase bobDb = new MemoryDatabase();
  private OlmMachine alice;
  private int events;

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static byte[] pickleKey(int b) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) b);
    return k;
  }

  private OlmMachine machine(MemoryDatabase db, String user, String device, int key) {
    CryptoStore store = MemoryCryptoStore.open(db, AccountId.of(user, device));
    OlmMachine m = OlmMachine.open(MachineConfig.of(user, device, pickleKey(key)), store);
    open.add(m);
    return m;
  }

  private CryptoStore bobStore() {
    return MemoryCryptoStore.open(bobDb, AccountId.of(BOB, "BOBDEVICE"));
  }

  /** Alice's machine, with an outbound session for {@code room} (shared with nobody). */
  private OlmMachine alice(String room) {
    if (alice == null) {
      alice = machine(new MemoryDatabase(), "@alice:localhost", "ALICEDEVICE", 1);
    }
    ObjectNode encryption = MAPPER.createObjectNode().put("algorithm", "m.megolm.v1.aes-sha2");
    alice.onRoomEncryption(room, encryption);
    alice.shareRoomKey(room, List.of());
    return alice;
  }

  /** An encrypted room event from Alice, as a sync would deliver it. */
  private JsonObject encrypted(String room, String body) {
    ObjectNode content =
        alice(room)
            .encryptRoomEvent(
                room,
                "m.room.message",
                MAPPER.createObjectNode().put("msgtype", "m.text").put("body", body));
    return new JsonObject()
        .put("type", "m.room.encrypted")
        .put("sender", "@alice:localhost")
        .put("event_id", "$event" + (++events))
        .put("origin_server_ts", 1)
        .put("content", new JsonObject(content.toString()));
  }

  private static ObjectNode node(JsonObject event) {
    try {
      return (ObjectNode) MAPPER.readTree(event.encode());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject decorate(LateKeys.DecryptedEvent d) {
    return d.event()
        .copy()
        .put("type", d.result().type())
        .put("content", new JsonObject(d.result().content().toString()))
        .put("mxe2ee", new JsonObject().put("encrypted", true));
  }

  /** Bob receives {@code event}: decrypts, and holds it if it fails, as the plugin does. */
  private boolean receive(OlmMachine bob, LateKeys late, String room, JsonObject event) {
    DecryptionResult r = bob.decryptRoomEvent(room, node(event));
    if (r instanceof DecryptionResult.UnableToDecrypt u) {
      return late.onUndecryptable(room, event, u.reason());
    }
    late.onDecrypted(event);
    return false;
  }

  private List<ExportedRoomKey> aliceKeys() {
    return alice.exportRoomKeys(r -> true);
  }

  @Test
  void heldEvent_survivesARestart_andIsReEmittedOnceWhenItsKeyArrives() {
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), new LateKeyOptions());
    JsonObject event = encrypted(ROOM, "sent before the key");
    assertTrue(receive(bob, late, ROOM, event), "missing key: held");
    assertEquals(1, late.stats().undecryptableByCause().get("MISSING_SESSION"));
    assertTrue(late.retry(bob, LateKeysTest::decorate, true).isEmpty(), "no key yet");

    // The bot stops; the key arrives while it is down (here: a key file imported at start).
    bob.close();
    OlmMachine bob2 = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late2 = LateKeys.open(bobStore(), new LateKeyOptions());
    assertEquals(1, late2.stats().held(), "the held event is still in the store");
    bob2.importRoomKeys(aliceKeys());

    List<JsonObject> reEmitted = late2.retry(bob2, LateKeysTest::decorate, true);
    assertEquals(1, reEmitted.size());
    JsonObject e = reEmitted.get(0);
    assertEquals(event.getString("event_id"), e.getString("event_id"));
    assertEquals(ROOM, e.getString("room_id"));
    assertEquals("sent before the key", e.getJsonObject("content").getString("body"));
    assertEquals(true, e.getJsonObject("mxe2ee").getBoolean("late"));
    assertEquals(0, late2.stats().held());
    assertEquals(1, late2.stats().reEmitted());

    // The same key again (a forwarded copy, a second import), or another restart: nothing more.
    bob2.importRoomKeys(aliceKeys());
    assertTrue(late2.retry(bob2, LateKeysTest::decorate, true).isEmpty(), "at most once");
    assertTrue(
        LateKeys.open(bobStore(), new LateKeyOptions())
            .retry(bob2, LateKeysTest::decorate, true)
            .isEmpty(),
        "released in the store");
  }

  @Test
  void historyEvent_isReEmittedMarkedAsHistory_andOthersAreNot() {
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), new LateKeyOptions());
    JsonObject past = encrypted(ROOM, "said before the bot came");
    JsonObject now = encrypted(ROOM, "said to the bot");
    DecryptionResult r = bob.decryptRoomEvent(ROOM, node(past));
    assertTrue(
        late.onUndecryptable(ROOM, past, ((DecryptionResult.UnableToDecrypt) r).reason(), true));
    assertTrue(receive(bob, late, ROOM, now));
    bob.importRoomKeys(aliceKeys());
    List<JsonObject> reEmitted = late.retry(bob, LateKeysTest::decorate, true);
    assertEquals(2, reEmitted.size());
    for (JsonObject e : reEmitted) {
      boolean isPast = e.getString("event_id").equals(past.getString("event_id"));
      assertEquals(isPast, e.getJsonObject("mxe2ee").getBoolean("history", false), e.encode());
      assertTrue(!e.containsKey(LateKeys.HISTORY_MARK), "the stored mark is not shown");
    }
  }

  @Test
  void inFlightEvent_isHandedOverAgainAfterACrashBeforeComplete() {
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), new LateKeyOptions());
    late.retry(bob, LateKeysTest::decorate, false); // the start-up retry of a sync loop
    JsonObject event = encrypted(ROOM, "late");
    receive(bob, late, ROOM, event);
    bob.importRoomKeys(aliceKeys());
    assertEquals(1, late.retry(bob, LateKeysTest::decorate, false).size());
    // The process dies before the loop's batch completes: the restart hands it over again.
    LateKeys afterCrash = LateKeys.open(bobStore(), new LateKeyOptions());
    assertEquals(1, afterCrash.retry(bob, LateKeysTest::decorate, false).size());
    afterCrash.complete();
    assertEquals(0, afterCrash.stats().held());
    assertTrue(afterCrash.retry(bob, LateKeysTest::decorate, false).isEmpty());
  }

  @Test
  void completeByIds_releasesOnlyTheDeliveredEvents_othersAreOfferedAgain() {
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), new LateKeyOptions());
    late.retry(bob, LateKeysTest::decorate, false);
    JsonObject first = encrypted(ROOM, "first");
    JsonObject second = encrypted(ROOM, "second");
    receive(bob, late, ROOM, first);
    receive(bob, late, ROOM, second);
    bob.importRoomKeys(aliceKeys());
    assertEquals(2, late.retry(bob, LateKeysTest::decorate, false).size());
    // Only the first was delivered (a bridge's late handler wrote it); the second was not.
    late.complete(List.of(first.getString("event_id")));
    assertEquals(1, late.stats().held());
    List<JsonObject> again = late.retry(bob, LateKeysTest::decorate, false);
    assertEquals(1, again.size());
    assertEquals(second.getString("event_id"), again.get(0).getString("event_id"));
    // After a restart too, until it is completed.
    LateKeys afterCrash = LateKeys.open(bobStore(), new LateKeyOptions());
    List<JsonObject> offered = afterCrash.retry(bob, LateKeysTest::decorate, false);
    assertEquals(
        List.of(second.getString("event_id")),
        offered.stream().map(e -> e.getString("event_id")).toList());
    afterCrash.complete(List.of(second.getString("event_id")));
    assertEquals(0, afterCrash.stats().held());
    assertTrue(afterCrash.retry(bob, LateKeysTest::decorate, false).isEmpty());
  }

  @Test
  void eventDecryptedInAReplayedBatch_isReleased_notReEmitted() {
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), new LateKeyOptions());
    late.retry(bob, LateKeysTest::decorate, true);
    JsonObject event = encrypted(ROOM, "x");
    receive(bob, late, ROOM, event);
    bob.importRoomKeys(aliceKeys());
    assertFalse(receive(bob, late, ROOM, event), "the replayed batch decrypts it");
    assertEquals(0, late.stats().held());
    assertTrue(late.retry(bob, LateKeysTest::decorate, true).isEmpty());
  }

  @Test
  void permanentFailures_areCountedButNotHeld() {
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), new LateKeyOptions());
    JsonObject event = encrypted(ROOM, "x");
    assertFalse(late.onUndecryptable(ROOM, event, DecryptionFailure.MALFORMED));
    assertFalse(late.onUndecryptable(ROOM, event, DecryptionFailure.WITHHELD));
    LateKeyStats stats = late.stats();
    assertEquals(1, stats.undecryptableByCause().get("MALFORMED"));
    assertEquals(1, stats.undecryptableByCause().get("WITHHELD"));
    assertEquals(0, stats.undecryptableByCause().get("REPLAY"));
    assertEquals(0, stats.held());
  }

  @Test
  void floodOfHeldEvents_dropsTheOldestPerRoomAndOverall_andCounts() {
    LateKeyOptions bounds = new LateKeyOptions().setMaxHeldEvents(5).setMaxHeldEventsPerRoom(3);
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), bounds);
    List<JsonObject> inRoom = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      JsonObject e = encrypted(ROOM, "room " + i);
      inRoom.add(e);
      assertTrue(receive(bob, late, ROOM, e));
    }
    assertEquals(3, late.stats().held(), "per-room bound");
    assertEquals(1, late.stats().heldDropped());
    List<JsonObject> other = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      JsonObject e = encrypted(OTHER_ROOM, "other " + i);
      other.add(e);
      receive(bob, late, OTHER_ROOM, e);
    }
    assertEquals(5, late.stats().held(), "overall bound");
    assertEquals(2, late.stats().heldDropped());

    HeldEvents stored = HeldEvents.load(bobStore(), bounds);
    List<String> ids = stored.entries().stream().map(HeldEvents.Entry::eventId).toList();
    assertEquals(
        List.of(
            inRoom.get(2).getString("event_id"),
            inRoom.get(3).getString("event_id"),
            other.get(0).getString("event_id"),
            other.get(1).getString("event_id"),
            other.get(2).getString("event_id")),
        ids,
        "the oldest went first, and the store agrees after a reload");

    bob.importRoomKeys(aliceKeys());
    List<String> reEmitted =
        late.retry(bob, LateKeysTest::decorate, true).stream()
            .map(e -> e.getString("event_id"))
            .toList();
    assertEquals(ids, reEmitted, "every held event, in order; the dropped ones never");
  }

  @Test
  void byteBounds_dropTheOldest_andRefuseAnEventLargerThanTheBound() {
    JsonObject probe = encrypted(ROOM, "p");
    long size = probe.encode().length();
    LateKeyOptions bounds =
        new LateKeyOptions().setMaxHeldBytesPerRoom(size * 2 + size / 2).setMaxHeldBytes(size * 3);
    OlmMachine bob = machine(bobDb, BOB, "BOBDEVICE", 2);
    LateKeys late = LateKeys.open(bobStore(), bounds);
    for (int i = 0; i < 3; i++) {
      receive(bob, late, ROOM, encrypted(ROOM, "b" + i));
    }
    assertEquals(2, late.stats().held(), "two fit in the room's bytes");
    JsonObject huge = encrypted(OTHER_ROOM, "x".repeat((int) size * 3));
    assertFalse(receive(bob, late, OTHER_ROOM, huge), "larger than a bound alone: not held");
    assertEquals(2, late.stats().held());
    assertEquals(2, late.stats().heldDropped());
  }
}
