package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.appservice.AppserviceTestSupport.Human;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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
 * Late decryptions are part of the durable handling of the transaction that brought their key: a
 * Matrix user's message arrives in one transaction (held: its room key is not there) and its room
 * key in the next (Synapse's real transactions, split as Synapse often splits them); the bridge
 * "dies" after the key's step but before its own write of the late-decrypted message; after a
 * restart on the same store the message is delivered, that transaction is acknowledged only after
 * the late handler's future completed, and nothing is offered again afterwards.
 */
class AppserviceLateDecryptionTest {
  private Vertx vertx;
  private AppserviceTestSupport t;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    t = new AppserviceTestSupport(vertx);
    dir = Files.createTempDirectory("mxe2ee-as-late");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  private static long count(List<JsonObject> events, String text) {
    return events.stream()
        .filter(e -> "m.room.message".equals(e.getString("type")))
        .filter(e -> text.equals(e.getJsonObject("content", new JsonObject()).getString("body")))
        .count();
  }

  private static void settle(Future<?> f) throws Exception {
    f.toCompletionStage().toCompletableFuture().handle((v, e) -> null).get(90, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void lateDecryption_killedBeforeTheBridgesWrite_isDeliveredAfterTheRestart() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    Path store = dir.resolve("bridge.db");
    byte[] key = AppserviceTestSupport.randomKey();
    TransactionRecorder recorder = new TransactionRecorder(t).listen();
    Human human = t.human("as_late_" + s, dir);

    // First life: records what its transaction handler gets; its late handler is where the
    // process dies (the write never happens).
    List<JsonObject> seenByA = new CopyOnWriteArrayList<>();
    List<JsonObject> lateToA = new CopyOnWriteArrayList<>();
    AppserviceE2ee a = AppserviceE2ee.create(vertx, t.options(store, key));
    a.transactionHandler(
        (txnId, txn) -> {
          txn.getJsonArray("events").forEach(o -> seenByA.add((JsonObject) o));
          return Future.succeededFuture();
        });
    a.lateDecryptionHandler(
        e -> {
          lateToA.add(e);
          return Future.failedFuture(new IllegalStateException("killed before the write"));
        });
    await(a.start());
    await(a.ping());
    String roomId = t.encryptedRoom(human, a.botUserId());
    t.joinAs(roomId, null);
    t.sync(human);
    String text = "late but kept " + s;
    String eventId =
        await(
            human
                .e2ee()
                .send(
                    roomId,
                    "m.room.message",
                    new JsonObject().put("msgtype", "m.text").put("body", text)));
    recorder.awaitPushed(a.botDeviceId(), eventId);
    JsonObject events = new JsonObject().put("events", recorder.events());
    JsonObject keys =
        new JsonObject()
            .put("events", new JsonArray())
            .put("de.sorunome.msc2409.to_device", recorder.toDevice());

    // The event first, without its key: handed over held.
    await(a.onTransaction("events-" + s, events));
    JsonObject held =
        seenByA.stream()
            .filter(e -> eventId.equals(e.getString("event_id")))
            .findFirst()
            .orElseThrow();
    assertEquals("m.room.encrypted", held.getString("type"));
    assertTrue(held.getJsonObject("mxe2ee").getBoolean("held"), held.encode());

    // Then the key: the message is decrypted late, but the bridge dies before writing it.
    Future<JsonObject> keyTxn = a.onTransaction("keys-" + s, keys);
    settle(keyTxn);
    assertEquals(1, count(lateToA, text), "decrypted late in the first life");
    boolean acknowledged = keyTxn.succeeded();
    await(a.close());

    // Second life on the same store. Synapse resends the unacknowledged transaction (an
    // acknowledged one it never sends again: then only the next one comes).
    List<JsonObject> delivered = new CopyOnWriteArrayList<>();
    Promise<Void> write = Promise.promise();
    AppserviceE2ee b = AppserviceE2ee.create(vertx, t.options(store, key));
    b.transactionHandler(
        (txnId, txn) -> {
          txn.getJsonArray("events").forEach(o -> delivered.add((JsonObject) o));
          return Future.succeededFuture();
        });
    b.lateDecryptionHandler(
        e -> {
          delivered.add(e);
          return write.future();
        });
    await(b.start());
    Future<JsonObject> again =
        acknowledged
            ? b.onTransaction("next-" + s, new JsonObject().put("events", new JsonArray()))
            : b.onTransaction("keys-" + s, keys);
    for (int i = 0; i < 200 && count(delivered, text) == 0 && !again.isComplete(); i++) {
      Thread.sleep(50);
    }
    assertEquals(1, count(delivered, text), "the late message survived the crash: " + delivered);
    assertFalse(acknowledged, "the transaction that brought the key was acknowledged unwritten");
    JsonObject late =
        delivered.stream()
            .filter(e -> eventId.equals(e.getString("event_id")))
            .findFirst()
            .orElseThrow();
    assertTrue(late.getJsonObject("mxe2ee").getBoolean("encrypted"));
    assertTrue(late.getJsonObject("mxe2ee").getBoolean("late"));
    assertEquals(roomId, late.getString("room_id"));
    assertEquals(human.userId(), late.getString("sender"));
    Thread.sleep(300);
    assertFalse(again.isComplete(), "not acknowledged before the late handler's write completed");
    write.complete();
    await(again);

    // Written: released, never offered again (neither by this process nor after a restart).
    await(b.onTransaction("after-" + s, new JsonObject().put("events", new JsonArray())));
    assertEquals(1, count(delivered, text));
    await(b.close());
    List<JsonObject> toC = new CopyOnWriteArrayList<>();
    AppserviceE2ee c = AppserviceE2ee.create(vertx, t.options(store, key));
    c.lateDecryptionHandler(
        e -> {
          toC.add(e);
          return Future.succeededFuture();
        });
    await(c.start());
    await(c.onTransaction("third-" + s, new JsonObject().put("events", new JsonArray())));
    assertEquals(0, count(toC, text), "released once written: " + toC);
    await(c.close());
    recorder.close();
    await(human.e2ee().close());
  }
}
