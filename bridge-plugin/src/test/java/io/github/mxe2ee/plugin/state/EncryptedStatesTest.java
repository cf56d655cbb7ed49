package io.github.mxe2ee.plugin.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.github.mxe2ee.store.memory.MemoryDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The plugin's encrypted room state with real machines (issue 16): Alice's machine encrypts state
 * (MSC4362), Bob's plugin table decrypts, checks and tracks it as the sync path and the transaction
 * path do. The renderer here gives the plugin's decrypted-event shape ({@code MatrixE2eeImpl}).
 */
class EncryptedStatesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String ROOM = "!room:localhost";
  private static final String ALICE = "@alice:localhost";

  private final List<OlmMachine> open = new ArrayList<>();
  private OlmMachine alice;
  private OlmMachine bob;
  private EncryptedStates states;
  private final List<JsonObject> held = new ArrayList<>();
  private int events;

  private OlmMachine machine(String user, String device, int key) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) key);
    OlmMachine m =
        OlmMachine.open(
            MachineConfig.of(user, device, k),
            MemoryCryptoStore.open(new MemoryDatabase(), AccountId.of(user, device)));
    open.add(m);
    return m;
  }

  static JsonObject render(JsonObject event, DecryptionResult result) {
    JsonObject out = event.copy();
    if (result instanceof DecryptionResult.Decrypted d) {
      out.put("type", d.type());
      out.put("content", new JsonObject(d.content().toString()));
      out.put("mxe2ee", new JsonObject().put("encrypted", true));
      EncryptedStates.markState(out, d, event);
    } else if (result instanceof DecryptionResult.UnableToDecrypt u) {
      out.put("mxe2ee", new JsonObject().put("decryption_failure", u.reason().name()));
    }
    return out;
  }

  private static ObjectNode node(JsonObject o) {
    try {
      return (ObjectNode) MAPPER.readTree(o.encode());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @BeforeEach
  void machines() {
    alice = machine(ALICE, "ALICEDEVICE", 1);
    bob = machine("@bob:localhost", "BOBDEVICE", 2);
    alice.onRoomEncryption(
        ROOM,
        MAPPER
            .createObjectNode()
            .put("algorithm", "m.megolm.v1.aes-sha2")
            .put("io.element.msc4362.encrypt_state_events", true));
    alice.shareRoomKey(ROOM, List.of());
    states =
        new EncryptedStates(
            bob,
            EncryptedStatesTest::node,
            new EncryptedStates.Hooks() {
              @Override
              public JsonObject render(JsonObject event, DecryptionResult result) {
                return EncryptedStatesTest.render(event, result);
              }

              @Override
              public boolean hold(String roomId, JsonObject event, DecryptionFailure reason) {
                held.add(event);
                return true;
              }
            });
  }

  @AfterEach
  void close() {
    open.forEach(OlmMachine::close);
  }

  private void bobGetsAlicesKeys() {
    bob.importRoomKeys(alice.exportRoomKeys(r -> true));
  }

  private JsonObject encryptedState(String type, String stateKey, JsonObject content) {
    ObjectNode c = alice.encryptStateEvent(ROOM, type, stateKey, node(content));
    return new JsonObject()
        .put("type", "m.room.encrypted")
        .put("state_key", type + ":" + stateKey)
        .put("sender", ALICE)
        .put("event_id", "$e" + (++events))
        .put("origin_server_ts", events)
        .put("content", new JsonObject(c.toString()));
  }

  private JsonObject plain(String type, String stateKey, JsonObject content) {
    return new JsonObject()
        .put("type", type)
        .put("state_key", stateKey)
        .put("sender", ALICE)
        .put("event_id", "$p" + (++events))
        .put("content", content);
  }

  private static JsonObject topic(String t) {
    return new JsonObject().put("topic", t);
  }

  private static JsonObject room(String section, JsonObject... evs) {
    return new JsonObject()
        .put(
            section,
            new JsonObject()
                .put("events", new JsonArray(new ArrayList<>(List.of((Object[]) evs)))));
  }

  /** What the sync path does with one room body. */
  private void sync(JsonObject body) {
    for (String s : List.of("state", "timeline", "state_after", "org.matrix.msc4222.state_after")) {
      JsonArray evs = EncryptedStates.events(body, s);
      if (evs != null) {
        EncryptedStates.stripForgedMarks(evs);
        states.decryptStateEvents(ROOM, evs);
      }
    }
    states.trackSyncRoom(ROOM, body, false);
  }

  @Test
  void encryptedTopicInTheStateSection_isDecryptedInPlaceAndTracked() {
    bobGetsAlicesKeys();
    JsonObject body = room("state", encryptedState("m.room.topic", "", topic("secret")));
    sync(body);
    JsonObject delivered = EncryptedStates.events(body, "state").getJsonObject(0);
    assertEquals("m.room.topic", delivered.getString("type"));
    assertEquals("", delivered.getString("state_key"), "the real state key is delivered");
    assertEquals("m.room.topic:", delivered.getJsonObject("mxe2ee").getString("packed_state_key"));
    RoomState s = states.snapshot(ROOM);
    assertEquals(Optional.of("secret"), s.topic());
    assertTrue(s.isEncrypted("m.room.topic", ""));
  }

  @Test
  void movedStateEvent_isNeverDeliveredAsState_andHidesThePlainEntryItClaims() {
    bobGetsAlicesKeys();
    JsonObject moved = encryptedState("m.room.topic", "", topic("old topic"));
    moved.put("state_key", "m.room.name:");
    JsonObject body =
        room("state", plain("m.room.name", "", new JsonObject().put("name", "plain name")), moved);
    sync(body);
    JsonObject delivered = EncryptedStates.events(body, "state").getJsonObject(1);
    assertEquals("m.room.encrypted", delivered.getString("type"));
    assertEquals(
        "STATE_KEY_MISMATCH", delivered.getJsonObject("mxe2ee").getString("decryption_failure"));
    RoomState s = states.snapshot(ROOM);
    assertEquals(Optional.empty(), s.name(), "an invalid encrypted entry wins over the plain one");
    assertEquals(Optional.empty(), s.topic(), "and it is not taken as a topic either");
  }

  @Test
  void encryptedVersionWins_andAForgedDecryptedMarkIsStripped() {
    bobGetsAlicesKeys();
    JsonObject forged = plain("m.room.topic", "", topic("server's topic"));
    forged.put(
        "mxe2ee", new JsonObject().put("encrypted", true).put("packed_state_key", "m.room.topic:"));
    JsonObject body = room("state", encryptedState("m.room.topic", "", topic("real")));
    body.put("timeline", new JsonObject().put("events", new JsonArray().add(forged)));
    sync(body);
    assertEquals(Optional.of("real"), states.snapshot(ROOM).topic());
    assertFalse(
        EncryptedStates.events(body, "timeline").getJsonObject(0).containsKey("mxe2ee"),
        "only the plugin writes mxe2ee");
  }

  @Test
  void stateAfter_isUsedInsteadOfStateAndTimeline() {
    bobGetsAlicesKeys();
    JsonObject body = room("state", plain("m.room.topic", "", topic("before")));
    body.put(
        "org.matrix.msc4222.state_after",
        new JsonObject()
            .put(
                "events", new JsonArray().add(encryptedState("m.room.topic", "", topic("after")))));
    sync(body);
    assertEquals(Optional.of("after"), states.snapshot(ROOM).topic());
  }

  @Test
  void lateKey_fillsTheUnreadableEntry_butNeverOverwritesANewerState() {
    JsonObject first = encryptedState("m.room.topic", "", topic("first"));
    JsonObject body = room("state", first);
    sync(body);
    assertEquals(1, held.size(), "held for a late key");
    assertEquals(Optional.empty(), states.snapshot(ROOM).topic(), "unreadable: unknown");
    bobGetsAlicesKeys();
    JsonObject late = render(first, bob.decryptRoomEvent(ROOM, node(first))).put("room_id", ROOM);
    states.trackLate(List.of(late));
    assertEquals(Optional.of("first"), states.snapshot(ROOM).topic());

    sync(room("timeline", encryptedState("m.room.topic", "", topic("second"))));
    states.trackLate(List.of(late));
    assertEquals(Optional.of("second"), states.snapshot(ROOM).topic(), "the older one stays out");
  }

  @Test
  void transactionPath_decryptsAndTracksInOneCall() {
    bobGetsAlicesKeys();
    JsonArray txn =
        new JsonArray()
            .add(
                encryptedState(
                    "com.example.bridge", "@bob:localhost", new JsonObject().put("portal", 7)))
            .add(encryptedState("m.room.name", "", new JsonObject().put("name", "portal")));
    assertEquals(0, states.processRoomEvents(ROOM, txn));
    RoomState s = states.snapshot(ROOM);
    assertEquals(Optional.of("portal"), s.name());
    assertEquals(
        7, s.content("com.example.bridge", "@bob:localhost").orElseThrow().getInteger("portal"));
  }

  @Test
  void fetchedFullState_keepsChangesSyncedDuringTheFetch() {
    bobGetsAlicesKeys();
    long mark = states.mark();
    sync(room("timeline", encryptedState("m.room.topic", "", topic("newer, from a sync"))));
    JsonArray fetched =
        new JsonArray()
            .add(encryptedState("m.room.topic", "", topic("older, from the fetch")))
            .add(plain("m.room.name", "", new JsonObject().put("name", "n")));
    states.decryptStateEvents(ROOM, fetched);
    assertFalse(states.isComplete(ROOM));
    states.completeFrom(ROOM, mark, fetched);
    assertTrue(states.isComplete(ROOM));
    RoomState s = states.snapshot(ROOM);
    assertEquals(Optional.of("newer, from a sync"), s.topic());
    assertEquals(Optional.of("n"), s.name());
  }

  @Test
  void entriesPerRoomAreBounded() {
    JsonArray many = new JsonArray();
    for (int i = 0; i <= EncryptedStates.MAX_ENTRIES_PER_ROOM; i++) {
      many.add(plain("com.example.s", "k" + i, new JsonObject()));
    }
    states.track(ROOM, many);
    assertEquals(EncryptedStates.MAX_ENTRIES_PER_ROOM, states.snapshot(ROOM).events().size());
    assertEquals(1, states.dropped());
  }
}
