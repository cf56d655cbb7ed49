package io.github.mxe2ee.examples.appservice;

import static io.github.mxe2ee.examples.appservice.AppserviceTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.history.RoomMessages;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bridge receives room history (MSC4268; docs/HISTORY_SHARING.md, "Bridges"): a Matrix user on
 * matrix-js-sdk 43 (Rust crypto, cross-signed) with earlier encrypted messages in a {@code shared}
 * room invites the bridge bot; matrix-js-sdk sends its room key bundle to the bot's device, and the
 * invite and the {@code m.room_key_bundle} reach the bridge only through appservice transactions
 * (the bot cannot {@code /sync}). When the bot joins, its device imports the bundle and reads the
 * messages sent before it was there, each vouched for by the inviter.
 */
class AppserviceHistoryTest {
  private static final long WAIT_MS = 60_000;

  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final List<AutoCloseable> closing = new ArrayList<>();
  private AppserviceE2ee as;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    if (as != null) {
      await(as.close());
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void botInvitedByACrossSignedUser_importsTheBundleOnJoining() throws Exception {
    AppserviceTestSupport s = new AppserviceTestSupport(vertx);
    as =
        AppserviceE2ee.create(
            vertx, s.options(dir.resolve("bridge.db"), AppserviceTestSupport.randomKey()));
    await(as.start());
    await(as.listen("127.0.0.1", s.appservicePort()));
    String bot = as.botUserId();

    String local = "as_hist_alice_" + suffix;
    String alice = "@" + local + ":localhost";
    await(s.hs.register(s.web, local, local + "-pass", false));
    JsClientPeer a = JsClientPeer.start(local);
    closing.add(a);
    a.login(s.hs.baseUrl(), local, local + "-pass");
    a.startClient();
    JsonObject cs = a.bootstrapCrossSigning(local + "-pass");
    assertEquals(Boolean.TRUE, cs.getBoolean("own_identity_verified"), cs.encode());
    String roomId = a.createEncryptedRoom(List.of(), "shared");
    List<String> before = List.of("one " + suffix, "two " + suffix, "three " + suffix);
    for (String text : before) {
      a.sendText(roomId, text);
    }

    a.invite(roomId, bot); // matrix-js-sdk shares the room's history with the bot's device
    s.joinAs(roomId, null); // the bridge accepts the invite, as bridges do

    long deadline = System.currentTimeMillis() + WAIT_MS;
    RoomMessages read;
    List<String> got;
    do {
      Thread.sleep(500);
      read = await(as.bot().history().lastMessages(roomId, 10, null));
      got = new ArrayList<>();
      for (JsonObject m : read.messages()) {
        if (alice.equals(m.getString("sender"))
            && m.getValue("mxe2ee") instanceof JsonObject info
            && alice.equals(info.getValue("forwarder"))) {
          got.add(m.getJsonObject("content").getString("body"));
        }
      }
    } while (!got.equals(before) && System.currentTimeMillis() < deadline);
    assertEquals(
        before,
        got,
        "the bot read alice's earlier messages with the keys of her bundle: "
            + read.messages()
            + ", undecryptable "
            + read.failures());
    assertTrue(read.undecryptable() == 0, "nothing left undecryptable: " + read.failures());
  }
}
