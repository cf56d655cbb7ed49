package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.appservice.AppserviceTestSupport.Human;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Crash safety of bridge mode (issue 15, "Acceptance"): the transactions Synapse pushes are
 * recorded, then given to a bridge whose handler fails after seeing the events (the process dies
 * between receipt and answer: its devices' steps are saved, the transaction is not completed); a
 * new bridge on the same store gets the same transaction again: the message is still decrypted (the
 * room key was kept, and the to-device part is not fed twice), and once that transaction is
 * completed a third copy delivers nothing.
 */
class AppserviceCrashSafetyTest {
  private Vertx vertx;
  private AppserviceTestSupport t;
  private Path dir;

  /** Transactions Synapse pushed, in arrival order. */
  private final List<JsonObject> pushed = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    t = new AppserviceTestSupport(vertx);
    dir = Files.createTempDirectory("mxe2ee-as-crash");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  /** Records every transaction with the right token and answers 200, like a bridge would. */
  private HttpServer recorder() throws Exception {
    return await(
        vertx
            .createHttpServer()
            .requestHandler(
                req ->
                    req.body()
                        .onSuccess(
                            b -> {
                              if (("Bearer " + t.hsToken()).equals(req.getHeader("Authorization"))
                                  && req.path().contains("/transactions/")) {
                                pushed.add(b.toJsonObject());
                              }
                              req.response().end("{}");
                            }))
            .listen(t.appservicePort(), "127.0.0.1"));
  }

  private static long count(List<JsonObject> events, String text) {
    return events.stream()
        .filter(e -> text.equals(e.getJsonObject("content", new JsonObject()).getString("body")))
        .count();
  }

  /** All recorded transactions as one, in order: what a resend after a long outage looks like. */
  private JsonObject merged() {
    JsonArray events = new JsonArray();
    JsonArray toDevice = new JsonArray();
    for (JsonObject txn : pushed) {
      events.addAll(txn.getJsonArray("events", new JsonArray()));
      toDevice.addAll(txn.getJsonArray("de.sorunome.msc2409.to_device", new JsonArray()));
      toDevice.addAll(txn.getJsonArray("to_device", new JsonArray()));
    }
    return new JsonObject().put("events", events).put("de.sorunome.msc2409.to_device", toDevice);
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void aTransactionResentAfterACrashLosesNoKeyAndIsDeliveredOnceCompleted() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    Path store = dir.resolve("bridge.db");
    byte[] key = AppserviceTestSupport.randomKey();
    HttpServer recorder = recorder();
    Human human = t.human("as_crash_" + s, dir);
    String ghostId = "@bridge_c" + s + ":" + t.hs.serverName();

    List<JsonObject> seenByA = new CopyOnWriteArrayList<>();
    AppserviceE2ee a = AppserviceE2ee.create(vertx, t.options(store, key));
    a.transactionHandler(
        (txnId, txn) -> {
          txn.getJsonArray("events").forEach(o -> seenByA.add((JsonObject) o));
          return Future.failedFuture(new IllegalStateException("killed before the answer"));
        });
    await(a.start());
    await(a.ping()); // Synapse retries what it held back while nobody listened, at once
    GhostDevice ghost = await(a.ensureGhost(ghostId));
    String roomId = t.encryptedRoom(human, a.botUserId(), ghostId);
    t.joinAs(roomId, null);
    t.joinAs(roomId, ghostId);
    t.sync(human);
    String probe = "crash probe " + s;
    await(
        human
            .e2ee()
            .send(
                roomId,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", probe)));
    String botDevice = a.botDeviceId();
    // Wait until Synapse pushed both the encrypted event and the room key for the bot's device.
    for (int i = 0; i < 480 && !(hasEncryptedEvent(roomId) && hasToDeviceFor(botDevice)); i++) {
      Thread.sleep(250);
    }
    assertTrue(hasEncryptedEvent(roomId), "Synapse pushed the encrypted event");
    assertTrue(
        hasToDeviceFor(botDevice),
        () -> "Synapse pushed no room key to the bot's device " + botDevice + ": " + summary());
    JsonObject txn = merged();
    String txnId = "crash-" + s;

    // First life: the events reach the handler decrypted, then the process "dies".
    Future<JsonObject> first = a.onTransaction(txnId, txn);
    first
        .toCompletionStage()
        .toCompletableFuture()
        .handle((v, e) -> null)
        .get(90, TimeUnit.SECONDS);
    assertTrue(first.failed(), "not acknowledged");
    assertEquals(1, count(seenByA, probe), "decrypted in the first life: " + seenByA);
    await(a.close());

    // Second life on the same store: Synapse resends the same transaction.
    List<JsonObject> seenByB = new CopyOnWriteArrayList<>();
    AppserviceE2ee b = AppserviceE2ee.create(vertx, t.options(store, key));
    b.transactionHandler(
        (id, body) -> {
          body.getJsonArray("events").forEach(o -> seenByB.add((JsonObject) o));
          return Future.succeededFuture();
        });
    await(b.start());
    await(b.onTransaction(txnId, txn));
    assertEquals(1, count(seenByB, probe), "the room key survived the crash: " + seenByB);
    JsonObject decrypted =
        seenByB.stream()
            .filter(e -> probe.equals(e.getJsonObject("content").getString("body")))
            .findFirst()
            .orElseThrow();
    assertEquals(human.userId(), decrypted.getString("sender"));
    assertTrue(decrypted.getJsonObject("mxe2ee").getBoolean("encrypted"));
    // Completed now: a third copy is acknowledged without being handed over again.
    assertEquals(new JsonObject(), await(b.onTransaction(txnId, txn)));
    assertEquals(1, count(seenByB, probe));

    // The ghost's device survived too, and a send repeated with its transaction id after the
    // restart is the same event (no second ciphertext reaches the room).
    assertEquals(ghost.deviceId(), await(b.ensureGhost(ghostId)).deviceId());
    String text = "ghost once " + s;
    JsonObject content = new JsonObject().put("msgtype", "m.text").put("body", text);
    String e1 = await(b.send(roomId, "m.room.message", content, ghostId, "ghost-" + s));
    await(b.close());
    AppserviceE2ee c = AppserviceE2ee.create(vertx, t.options(store, key));
    await(c.start());
    String e2 = await(c.send(roomId, "m.room.message", content, ghostId, "ghost-" + s));
    assertEquals(e1, e2, "Synapse deduplicated the masquerading device's transaction id");
    t.receive(human, roomId, text);
    await(c.close());
    await(recorder.close());
    await(human.e2ee().close());
  }

  /** What was pushed, without contents. */
  private String summary() {
    StringBuilder b = new StringBuilder();
    for (JsonObject txn : pushed) {
      b.append("\n txn keys ").append(txn.fieldNames());
      for (String f : List.of("to_device", "de.sorunome.msc2409.to_device")) {
        for (Object o : txn.getJsonArray(f, new JsonArray())) {
          JsonObject e = (JsonObject) o;
          b.append("\n  ")
              .append(e.getString("type"))
              .append(" -> ")
              .append(e.getString("to_user_id"))
              .append("/")
              .append(e.getString("to_device_id"));
        }
      }
    }
    return b.toString();
  }

  private boolean hasEncryptedEvent(String roomId) {
    for (JsonObject txn : pushed) {
      for (Object o : txn.getJsonArray("events", new JsonArray())) {
        JsonObject e = (JsonObject) o;
        if (roomId.equals(e.getString("room_id"))
            && "m.room.encrypted".equals(e.getString("type"))) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean hasToDeviceFor(String deviceId) {
    for (JsonObject txn : pushed) {
      JsonArray all = new JsonArray();
      all.addAll(txn.getJsonArray("de.sorunome.msc2409.to_device", new JsonArray()));
      all.addAll(txn.getJsonArray("to_device", new JsonArray()));
      for (Object o : all) {
        JsonObject e = (JsonObject) o;
        if (deviceId != null
            && deviceId.equals(e.getString("to_device_id"))
            && "m.room.encrypted".equals(e.getString("type"))) {
          return true;
        }
      }
    }
    return false;
  }
}
