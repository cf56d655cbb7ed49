package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.appservice.AppserviceTestSupport.Human;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
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
 * Bridge mode against the real dev Synapse (issue 15): the appservice endpoint receives Synapse's
 * transactions, a ghost sends encrypted from its own cross-signed device, a Matrix user's reply
 * reaches the bridge decrypted, forged and malformed transactions are refused, a resent transaction
 * is delivered once, and a restarted bridge reuses its ghost's device and identity.
 */
class AppserviceBridgeModeTest {
  private Vertx vertx;
  private AppserviceTestSupport t;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    t = new AppserviceTestSupport(vertx);
    dir = Files.createTempDirectory("mxe2ee-as");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  /** Every event the bridge's handler received, decrypted. */
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();

  private AppserviceE2ee bridge(Path store, byte[] key) throws Exception {
    AppserviceE2ee as = AppserviceE2ee.create(vertx, t.options(store, key));
    as.transactionHandler(
        (txnId, txn) -> {
          for (Object o : txn.getJsonArray("events")) {
            received.add((JsonObject) o);
          }
          return Future.succeededFuture();
        });
    as.lateDecryptionHandler(
        e -> {
          received.add(e);
          return Future.succeededFuture();
        });
    await(as.start());
    await(as.listen("127.0.0.1", t.appservicePort()));
    return as;
  }

  private JsonObject awaitReceived(String text) throws Exception {
    for (int i = 0; i < 480; i++) {
      for (JsonObject e : received) {
        if ("m.room.message".equals(e.getString("type"))
            && text.equals(e.getJsonObject("content", new JsonObject()).getString("body"))) {
          return e;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError("the bridge never received '" + text + "': " + received);
  }

  private long countReceived(String text) {
    return received.stream()
        .filter(e -> text.equals(e.getJsonObject("content", new JsonObject()).getString("body")))
        .count();
  }

  private HttpResponse<Buffer> put(String txnId, String token, Buffer body) throws Exception {
    var req =
        t.web.putAbs(
            "http://127.0.0.1:" + t.appservicePort() + "/_matrix/app/v1/transactions/" + txnId);
    if (token != null) {
      req.bearerTokenAuthentication(token);
    }
    return await(req.sendBuffer(body));
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void ghostTalksEncryptedWithItsOwnCrossSignedDevice() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    Path store = dir.resolve("bridge.db");
    byte[] key = AppserviceTestSupport.randomKey();
    Human human = t.human("as_human_" + s, dir);
    AppserviceE2ee as = bridge(store, key);
    String ghostId = "@bridge_g" + s + ":" + t.hs.serverName();

    GhostDevice ghost = await(as.ensureGhost(ghostId));
    assertNotNull(ghost.masterKey());
    String roomId = t.encryptedRoom(human, as.botUserId(), ghostId);
    t.joinAs(roomId, null);
    t.joinAs(roomId, ghostId);
    t.sync(human);

    // The ghost speaks: encrypted by its own device, which its own identity signed.
    String eventId =
        await(
            as.send(
                roomId,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", "hello from the ghost"),
                ghostId));
    assertNotNull(eventId);
    JsonObject got = t.receive(human, roomId, "hello from the ghost");
    assertEquals(ghostId, got.getString("sender"));
    JsonObject info = got.getJsonObject("mxe2ee");
    assertTrue(info.getBoolean("encrypted"), info.encode());
    assertTrue(info.getBoolean("authenticated"), info.encode());
    assertEquals(ghost.deviceId(), info.getString("sender_device"), info.encode());
    assertEquals("CROSS_SIGNED", info.getString("trust"), info.encode());

    // The human answers: Synapse pushes the transaction, the bot's device decrypts it.
    await(
        human
            .e2ee()
            .send(
                roomId,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", "hello bridge")));
    JsonObject reply = awaitReceived("hello bridge");
    assertEquals(human.userId(), reply.getString("sender"));
    assertTrue(reply.getJsonObject("mxe2ee").getBoolean("encrypted"));

    // Forged and malformed transactions change nothing.
    JsonObject probe =
        new JsonObject()
            .put(
                "events",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("type", "m.room.message")
                            .put("room_id", roomId)
                            .put("sender", human.userId())
                            .put("event_id", "$forged" + s)
                            .put("content", new JsonObject().put("body", "forged " + s))));
    assertEquals(401, put("forged-" + s, null, probe.toBuffer()).statusCode());
    HttpResponse<Buffer> wrong = put("forged-" + s, "not-the-hs-token", probe.toBuffer());
    assertEquals(403, wrong.statusCode());
    assertEquals("M_FORBIDDEN", wrong.bodyAsJsonObject().getString("errcode"));
    assertEquals(400, put("bad1-" + s, t.hsToken(), Buffer.buffer("[1,2]")).statusCode());
    assertEquals(400, put("bad2-" + s, t.hsToken(), Buffer.buffer("{\"events\":5}")).statusCode());
    assertEquals(400, put("bad3-" + s, t.hsToken(), Buffer.buffer("{\"events\":")).statusCode());
    assertEquals(0, countReceived("forged " + s));

    // A transaction sent again is handed over once.
    JsonObject dup = probe.copy();
    dup.getJsonArray("events").getJsonObject(0).getJsonObject("content").put("body", "dup " + s);
    assertEquals(200, put("dup-" + s, t.hsToken(), dup.toBuffer()).statusCode());
    assertEquals(200, put("dup-" + s, t.hsToken(), dup.toBuffer()).statusCode());
    assertEquals(1, countReceived("dup " + s));

    // Restart on the same store: same ghost device and identity; the conversation goes on. What
    // the human says while the bridge is down arrives once it is back (Synapse resends the held
    // transaction; its Megolm session was shared with the bot device before, and that key is in
    // the store).
    String botId = as.botUserId();
    await(as.close());
    await(
        human
            .e2ee()
            .send(
                roomId,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", "while you were down")));
    // A new room while the bridge is down: a new Megolm session, whose room key Synapse does not
    // push to the bot device once it holds the bridge for down (it resends held transactions with
    // their events only). The ghost's device, also in the room, reads it from its inbox.
    String room2 = t.encryptedRoom(human, botId, ghostId);
    t.joinAs(room2, null);
    t.joinAs(room2, ghostId);
    await(
        human
            .e2ee()
            .send(
                room2,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", "new room while down")));
    Thread.sleep(1500); // Synapse tries to push, fails, holds the bridge for down
    AppserviceE2ee again = bridge(store, key);
    awaitReceived("while you were down");
    JsonObject fromRoom2 = awaitReceived("new room while down");
    assertTrue(fromRoom2.getJsonObject("mxe2ee").getBoolean("encrypted"), fromRoom2.encode());
    GhostDevice same = await(again.ensureGhost(ghostId));
    assertEquals(ghost.deviceId(), same.deviceId());
    assertEquals(ghost.masterKey(), same.masterKey());
    assertEquals(ghost.ed25519(), same.ed25519());
    assertEquals(200, put("dup-" + s, t.hsToken(), dup.toBuffer()).statusCode());
    assertEquals(1, countReceived("dup " + s), "remembered across the restart");
    await(
        again.send(
            roomId,
            "m.room.message",
            new JsonObject().put("msgtype", "m.text").put("body", "ghost after restart"),
            ghostId));
    JsonObject after = t.receive(human, roomId, "ghost after restart");
    assertEquals(ghost.deviceId(), after.getJsonObject("mxe2ee").getString("sender_device"));
    await(
        human
            .e2ee()
            .send(
                roomId,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", "still there?")));
    awaitReceived("still there?");
    await(again.close());
    await(human.e2ee().close());
  }
}
