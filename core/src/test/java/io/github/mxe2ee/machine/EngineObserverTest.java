package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.github.mxe2ee.store.memory.MemoryDatabase;
import io.github.mxe2ee.testing.JavaMachine;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The {@link MachineObserver} hook (metrics without a metrics library in core): what it reports,
 * and that activity of a step whose save failed is never reported.
 */
class EngineObserverTest extends EngineFixture {

  /** Records every call, as the plugin's metrics binder would count them. */
  static final class Recorder implements MachineObserver {
    final List<Long> saves = new ArrayList<>();
    final List<Boolean> saveResults = new ArrayList<>();
    final Map<String, Integer> shared = new TreeMap<>();
    final Map<String, Integer> withheld = new TreeMap<>();
    final List<String> answered = new ArrayList<>();
    final List<String> refused = new ArrayList<>();
    MachineStats lastStats;

    @Override
    public void stepSaved(long nanos, boolean succeeded, MachineStats stats) {
      saves.add(nanos);
      saveResults.add(succeeded);
      lastStats = stats;
    }

    @Override
    public void roomKeysShared(String roomId, int devices) {
      shared.merge(roomId, devices, Integer::sum);
    }

    @Override
    public void withheldSent(String code, int devices) {
      withheld.merge(code, devices, Integer::sum);
    }

    @Override
    public void keyRequestAnswered(String userId, String deviceId) {
      answered.add(userId + "/" + deviceId);
    }

    @Override
    public void keyRequestRefused(String code) {
      refused.add(code);
    }
  }

  @Test
  void observer_seesRoomKeysSharedAndStoreSaveTimes() {
    Recorder rec = new Recorder();
    alice.machine().setObserver(rec);
    share(alice);
    assertEquals(Map.of(ROOM, 1), rec.shared, "one device (Bob's) got the room key");
    assertTrue(rec.withheld.isEmpty(), "nothing withheld");
    assertTrue(rec.saves.size() >= 2, "every step reports its save");
    assertTrue(rec.saves.stream().allMatch(n -> n > 0), "save times are measured");
    assertTrue(rec.saveResults.stream().allMatch(b -> b), "all saves succeeded");
    assertEquals(alice.machine().stats(), rec.lastStats, "the stats snapshot of the last step");

    // A second share of the same session reaches nobody new: nothing more is counted.
    share(alice);
    assertEquals(Map.of(ROOM, 1), rec.shared);
  }

  @Test
  void observer_seesWithheldByCode() {
    Recorder rec = new Recorder();
    alice.setLocalTrust(BOB, "BOBDEVICE", "blacklisted");
    alice.machine().setObserver(rec);
    share(alice);
    assertEquals(Map.of("m.blacklisted", 1), rec.withheld);
    assertTrue(rec.shared.isEmpty(), "the blacklisted device got no key");
  }

  @Test
  void observer_seesKeyRequestsRefusedWithTheirCode() {
    JavaMachine bob2 = loggedIn(BOB, "BOBSECOND");
    bob.sync(router);
    bob.pump(router);
    Recorder rec = new Recorder();
    bob.machine().setObserver(rec);
    ObjectNode request = MAPPER.createObjectNode();
    request.put("action", "request");
    request.put("request_id", "r1");
    request.put("requesting_device_id", "BOBSECOND");
    ObjectNode what = request.putObject("body");
    what.put("algorithm", "m.megolm.v1.aes-sha2");
    what.put("room_id", ROOM);
    what.put("session_id", "some-session");
    ObjectNode toDevice = MAPPER.createObjectNode();
    toDevice.putObject("messages").putObject(BOB).set("BOBDEVICE", request);
    router.sendToDevice(BOB, "BOBSECOND", "m.room_key_request", "req-r1", toDevice);
    bob.sync(router);
    bob.pump(router);
    assertEquals(1, ofType(bob2.sync(router), "m.room_key.withheld").size());
    assertEquals(List.of("m.unverified"), rec.refused, "own unverified device refused");
    assertEquals(Map.of("m.unverified", 1), rec.withheld, "the refusal is a withheld notice");
    assertTrue(rec.answered.isEmpty());
  }

  @Test
  void observer_neverCountsActivityOfAStepWhoseSaveFailed() {
    // Fault injection: a store whose save can be made to fail; a real store cannot be made to fail
    // on demand. Everything else is delegated to a real in-memory store.
    AtomicBoolean failSaves = new AtomicBoolean();
    CryptoStore real = MemoryCryptoStore.open(new MemoryDatabase(), AccountId.of(ALICE, "ALICE2"));
    CryptoStore faulty =
        (CryptoStore)
            Proxy.newProxyInstance(
                CryptoStore.class.getClassLoader(),
                new Class<?>[] {CryptoStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("save") && failSaves.get()) {
                    throw new StoreException(StoreException.Reason.IO, "injected save failure");
                  }
                  try {
                    return method.invoke(real, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    router.registerDevice(ALICE, "ALICE2");
    OlmMachine m = OlmMachine.open(JavaMachine.config(ALICE, "ALICE2").withClock(clock), faulty);
    Recorder rec = new Recorder();
    m.setObserver(rec);
    m.updateTrackedUsers(List.of(ALICE, BOB));
    pump(m);
    m.getMissingSessions(List.of(BOB)).ifPresent(r -> route(m, r));
    List<OutgoingRequest> keys = m.shareRoomKey(ROOM, List.of(ALICE, BOB));
    List<ObjectNode> answers = new ArrayList<>();
    for (OutgoingRequest r : keys) {
      answers.add(router.route(ALICE, "ALICE2", r));
    }
    failSaves.set(true);
    assertThrows(
        StoreException.class,
        () -> m.markRequestAsSent(keys.get(0).requestId(), keys.get(0).type(), answers.get(0)));
    assertEquals(false, rec.saveResults.get(rec.saveResults.size() - 1), "failure reported");
    assertTrue(rec.shared.isEmpty(), "the acknowledgement was not saved: nothing counted");

    failSaves.set(false);
    for (OutgoingRequest r : m.shareRoomKey(ROOM, List.of(ALICE, BOB))) {
      route(m, r);
    }
    assertEquals(Map.of(ROOM, 1), rec.shared, "Bob's device, counted once, after the saved retry");
    m.close();
    real.close();
  }

  private void route(OlmMachine m, OutgoingRequest r) {
    m.markRequestAsSent(r.requestId(), r.type(), router.route(m.userId(), m.deviceId(), r));
  }

  private void pump(OlmMachine m) {
    for (int round = 0; round < 10; round++) {
      List<OutgoingRequest> requests = m.outgoingRequests();
      if (requests.isEmpty()) {
        return;
      }
      requests.forEach(r -> route(m, r));
    }
  }

  @Test
  void observer_thatThrowsNeverBreaksTheMachine() {
    alice
        .machine()
        .setObserver(
            new MachineObserver() {
              @Override
              public void roomKeysShared(String roomId, int devices) {
                throw new IllegalStateException("observer bug");
              }
            });
    share(alice);
    bob.sync(router);
    ObjectNode event = send(alice, "still works");
    assertEquals(
        "still works", bob.decryptRoomEvent(ROOM, event).path("content").path("body").asText());
  }
}
