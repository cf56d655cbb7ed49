package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * End to end through the real dev Synapse: two devices running the mxe2ee plugin ({@link
 * MatrixE2ee}) in an encrypted room. Alice sends an encrypted message, Bob's sync decrypts it, Bob
 * answers encrypted, Alice decrypts the answer. What travels through Synapse is only ever {@code
 * m.room.encrypted}.
 */
class EncryptedConversationTest {
  private static final long WAIT_S = 60;

  private Vertx vertx;
  private WebClient web;
  private DevHomeserver hs;
  private Path dir;

  private record Device(String userId, HomeserverClient client, MatrixE2ee e2ee, String[] since) {}

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    web = WebClient.create(vertx);
    hs = DevHomeserver.shared();
    dir = Files.createTempDirectory("mxe2ee-e2e");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
  }

  private Device device(String localpart) throws Exception {
    await(hs.register(web, localpart, "pw-" + localpart, false));
    HomeserverClient client = new HomeserverClient(web, hs.baseUrl());
    await(client.login(localpart, "pw-" + localpart, null));
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    MatrixE2ee e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve(localpart + ".db").toString())
                .setPickleKeyBase64(UnpaddedBase64.encode(key)));
    await(e2ee.start());
    return new Device(client.session().userId(), client, e2ee, new String[1]);
  }

  private JsonObject sync(Device d) throws Exception {
    JsonObject body = await(d.client().sync(d.since()[0], 0));
    d.since()[0] = body.getString("next_batch");
    return await(d.e2ee().onSync(body));
  }

  /** Syncs until a decrypted m.room.message with {@code body} shows up in {@code roomId}. */
  private JsonObject receive(Device d, String roomId, String body) throws Exception {
    for (int i = 0; i < 40; i++) {
      JsonObject sync = sync(d);
      JsonArray events =
          sync.getJsonObject("rooms", new JsonObject())
              .getJsonObject("join", new JsonObject())
              .getJsonObject(roomId, new JsonObject())
              .getJsonObject("timeline", new JsonObject())
              .getJsonArray("events", new JsonArray());
      for (int j = 0; j < events.size(); j++) {
        JsonObject e = events.getJsonObject(j);
        if ("m.room.message".equals(e.getString("type"))
            && body.equals(e.getJsonObject("content").getString("body"))) {
          return e;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError(d.userId() + " never decrypted '" + body + "' in " + roomId);
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void twoPluginDevicesTalkEncryptedThroughSynapse() throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    Device alice = device("e2e_alice_" + suffix);
    Device bob = device("e2e_bob_" + suffix);

    JsonObject create =
        new JsonObject()
            .put("preset", "private_chat")
            .put("invite", new JsonArray().add(bob.userId()))
            .put(
                "initial_state",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("type", "m.room.encryption")
                            .put("state_key", "")
                            .put(
                                "content",
                                new JsonObject().put("algorithm", "m.megolm.v1.aes-sha2"))));
    String roomId =
        await(alice.client().request("POST", "/_matrix/client/v3/createRoom", create))
            .getString("room_id");
    await(
        bob.client()
            .request(
                "POST",
                "/_matrix/client/v3/rooms/"
                    + URLEncoder.encode(roomId, StandardCharsets.UTF_8)
                    + "/join",
                new JsonObject()));
    sync(alice);
    sync(bob);

    String eventId =
        await(
            alice
                .e2ee()
                .send(
                    roomId,
                    "m.room.message",
                    new JsonObject().put("msgtype", "m.text").put("body", "hello bob")));
    assertNotNull(eventId);
    JsonObject got = receive(bob, roomId, "hello bob");
    assertEquals(alice.userId(), got.getString("sender"));
    JsonObject info = got.getJsonObject("mxe2ee");
    assertTrue(info.getBoolean("encrypted"));
    assertTrue(info.getBoolean("authenticated"), info.encode());

    await(
        bob.e2ee()
            .send(
                roomId,
                "m.room.message",
                new JsonObject().put("msgtype", "m.text").put("body", "hello alice")));
    JsonObject answer = receive(alice, roomId, "hello alice");
    assertEquals(bob.userId(), answer.getString("sender"));

    await(alice.e2ee().close());
    await(bob.e2ee().close());
  }
}
