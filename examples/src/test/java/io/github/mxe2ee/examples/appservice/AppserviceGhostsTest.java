package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.appservice.AppserviceTestSupport.Human;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ghost devices at a bounded scale and the single-bot-device model, against the dev Synapse: many
 * ghosts set up at once with few open at a time, an idle ghost closed and reopened from the store
 * with the same device and identity, still sending; and in {@link DeviceModel#BOT_DEVICE} the bot's
 * device encrypting for a ghost.
 */
class AppserviceGhostsTest {
  private Vertx vertx;
  private AppserviceTestSupport t;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    t = new AppserviceTestSupport(vertx);
    dir = Files.createTempDirectory("mxe2ee-as-ghosts");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void manyGhostsWithFewOpenAndAnIdleOneReopenedFromTheStore() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    AppserviceE2ee as =
        AppserviceE2ee.create(
            vertx,
            t.options(dir.resolve("bridge.db"), AppserviceTestSupport.randomKey())
                .setMaxOpenGhosts(2)
                .setMaxGhostSetupsInFlight(2));
    await(as.start());
    List<Future<GhostDevice>> all = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      all.add(as.ensureGhost("@bridge_m" + i + "_" + s + ":" + t.hs.serverName()));
    }
    await(Future.all(all));
    assertTrue(as.openGhosts() <= 2, "open ghosts: " + as.openGhosts());
    HashSet<String> devices = new HashSet<>();
    HashSet<String> masters = new HashSet<>();
    for (Future<GhostDevice> f : all) {
      devices.add(f.result().deviceId());
      masters.add(f.result().masterKey());
    }
    assertEquals(6, devices.size(), "a device per ghost");
    assertEquals(6, masters.size(), "an identity per ghost");

    // The first ghost was closed to make room; it comes back from the store, unchanged.
    GhostDevice first = all.get(0).result();
    Human human = t.human("as_many_" + s, dir);
    String roomId = t.encryptedRoom(human, as.botUserId(), first.userId());
    t.joinAs(roomId, null);
    t.joinAs(roomId, first.userId());
    t.sync(human);
    GhostDevice back = await(as.ensureGhost(first.userId()));
    assertEquals(first, back);
    await(
        as.send(
            roomId,
            "m.room.message",
            new JsonObject().put("msgtype", "m.text").put("body", "reopened ghost " + s),
            first.userId()));
    JsonObject got = t.receive(human, roomId, "reopened ghost " + s);
    assertEquals(first.deviceId(), got.getJsonObject("mxe2ee").getString("sender_device"));
    assertEquals("CROSS_SIGNED", got.getJsonObject("mxe2ee").getString("trust"));
    assertTrue(as.openGhosts() <= 2);
    await(as.close());
    await(human.e2ee().close());
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void botDeviceModelEncryptsForGhostsWithTheBotsDevice() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    AppserviceE2ee as =
        AppserviceE2ee.create(
            vertx,
            t.options(dir.resolve("bot-model.db"), AppserviceTestSupport.randomKey())
                .setDeviceModel(DeviceModel.BOT_DEVICE));
    await(as.start());
    String ghostId = "@bridge_b" + s + ":" + t.hs.serverName();
    GhostDevice ghost = await(as.ensureGhost(ghostId));
    assertEquals(as.botDeviceId(), ghost.deviceId());
    assertNull(ghost.masterKey());
    assertEquals(0, as.openGhosts());
    Human human = t.human("as_botmodel_" + s, dir);
    String roomId = t.encryptedRoom(human, as.botUserId(), ghostId);
    t.joinAs(roomId, null);
    t.joinAs(roomId, ghostId);
    t.sync(human);
    await(
        as.send(
            roomId,
            "m.room.message",
            new JsonObject().put("msgtype", "m.text").put("body", "via the bot " + s),
            ghostId));
    // An mxe2ee client refuses it: the Megolm session belongs to the bot's device, and the event's
    // sender is the ghost (a session is only accepted for its own sender). Element shows such
    // messages with a warning; MSC4153 clients hide them. That is why GHOST_DEVICES is the default.
    JsonObject got = null;
    for (int i = 0; i < 80 && got == null; i++) {
      got = t.firstFrom(human, roomId, ghostId);
      Thread.sleep(250);
    }
    assertTrue(got != null, "the ghost's event arrived");
    assertEquals("m.room.encrypted", got.getString("type"));
    assertEquals(as.botDeviceId(), got.getJsonObject("content").getString("device_id"));
    assertEquals(
        "UNTRUSTED", got.getJsonObject("mxe2ee").getString("decryption_failure"), got.encode());
    await(as.close());
    await(human.e2ee().close());
  }
}
