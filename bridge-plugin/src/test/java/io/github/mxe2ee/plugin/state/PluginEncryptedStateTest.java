package io.github.mxe2ee.plugin.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Encrypted state through the plugin's facade (issue 16) against {@link ScriptedHomeserver}: what
 * {@code sendStateEvent} puts on the wire, what {@code onSync} delivers, what {@code roomState}
 * reads, and that a homeserver cannot pass a plain event off as decrypted.
 */
class PluginEncryptedStateTest {
  private static final String ROOM = "!room:localhost";
  private static final String PLAIN_ROOM = "!plain:localhost";
  private Vertx vertx;
  private ScriptedHomeserver hs;
  private MatrixE2ee e2ee;
  private HomeserverClient client;
  private Path dir;

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    dir = Files.createTempDirectory("mxe2ee-state");
    e2ee = plugin();
    await(e2ee.start());
  }

  private MatrixE2ee plugin() {
    return MatrixE2ee.create(
        vertx,
        client,
        new E2eeOptions()
            .setStorePath(dir.resolve("bot.db").toString())
            .setPickleKeyBase64("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
  }

  @AfterEach
  void tearDown() throws Exception {
    await(e2ee.close());
    await(vertx.close());
  }

  private static JsonObject sync(String roomId, String section, JsonObject... events) {
    JsonArray list = new JsonArray();
    for (JsonObject e : events) {
      list.add(e);
    }
    return new JsonObject()
        .put("next_batch", "s" + System.nanoTime())
        .put(
            "rooms",
            new JsonObject()
                .put(
                    "join",
                    new JsonObject()
                        .put(
                            roomId,
                            new JsonObject().put(section, new JsonObject().put("events", list)))));
  }

  private static JsonObject stateEvent(String type, String stateKey, JsonObject content) {
    return new JsonObject()
        .put("type", type)
        .put("state_key", stateKey)
        .put("sender", "@alice:localhost")
        .put("event_id", "$" + type + System.nanoTime())
        .put("origin_server_ts", 1)
        .put("content", content);
  }

  private void encryptStateIn(String roomId) throws Exception {
    await(
        e2ee.onSync(
            sync(
                roomId,
                "state",
                stateEvent(
                    "m.room.encryption",
                    "",
                    new JsonObject()
                        .put("algorithm", "m.megolm.v1.aes-sha2")
                        .put("io.element.msc4362.encrypt_state_events", true)))));
  }

  private List<ScriptedHomeserver.Seen> statePuts() {
    return hs.seen().stream()
        .filter(s -> s.method().equals("PUT") && s.path().contains("/state/"))
        .toList();
  }

  @Test
  void forgedDecryptionMark_onAPlainEvent_isRemoved() throws Exception {
    JsonObject forged =
        stateEvent("m.room.message", "", new JsonObject().put("body", "!topic owned"))
            .put("mxe2ee", new JsonObject().put("encrypted", true).put("trust", "VERIFIED"));
    forged.remove("state_key");
    JsonObject out = await(e2ee.onSync(sync(ROOM, "timeline", forged)));
    JsonObject delivered =
        out.getJsonObject("rooms")
            .getJsonObject("join")
            .getJsonObject(ROOM)
            .getJsonObject("timeline")
            .getJsonArray("events")
            .getJsonObject(0);
    assertFalse(delivered.containsKey("mxe2ee"), "a plain event never carries the plugin's mark");
  }

  @Test
  void sendStateEvent_encryptsInAStateEncryptingRoom_andTheBotReadsItBack() throws Exception {
    encryptStateIn(ROOM);
    await(e2ee.sendStateEvent(ROOM, "m.room.topic", "", new JsonObject().put("topic", "secret")));
    List<ScriptedHomeserver.Seen> puts = statePuts();
    assertEquals(1, puts.size());
    ScriptedHomeserver.Seen put = puts.get(0);
    assertTrue(put.path().endsWith("/state/m.room.encrypted/m.room.topic%3A"), put.path());
    assertFalse(put.body().contains("secret"), "the topic never leaves in the clear");

    // The server serves it back in the next sync: the bot decrypts it with its own session.
    JsonObject echoed =
        stateEvent("m.room.encrypted", "m.room.topic:", new JsonObject(put.body()))
            .put("sender", "@bot:localhost");
    JsonObject out = await(e2ee.onSync(sync(ROOM, "timeline", echoed)));
    JsonObject delivered =
        out.getJsonObject("rooms")
            .getJsonObject("join")
            .getJsonObject(ROOM)
            .getJsonObject("timeline")
            .getJsonArray("events")
            .getJsonObject(0);
    assertEquals("m.room.topic", delivered.getString("type"));
    assertEquals("", delivered.getString("state_key"));
    RoomState state = await(e2ee.roomState(ROOM));
    assertEquals(Optional.of("secret"), state.topic());
    assertTrue(state.isEncrypted("m.room.topic", ""));

    // Moved under another state key by the server: refused, and the name stays unknown.
    JsonObject moved =
        stateEvent("m.room.encrypted", "m.room.name:", new JsonObject(put.body()))
            .put("sender", "@bot:localhost");
    JsonObject out2 = await(e2ee.onSync(sync(ROOM, "state", moved)));
    assertEquals(
        "STATE_KEY_MISMATCH",
        out2.getJsonObject("rooms")
            .getJsonObject("join")
            .getJsonObject(ROOM)
            .getJsonObject("state")
            .getJsonArray("events")
            .getJsonObject(0)
            .getJsonObject("mxe2ee")
            .getString("decryption_failure"));
    assertEquals(Optional.empty(), await(e2ee.roomState(ROOM)).name());
  }

  @Test
  void sendStateEvent_neverEncryptedTypesAndPlainRoomsGoPlain() throws Exception {
    encryptStateIn(ROOM);
    await(
        e2ee.sendStateEvent(
            ROOM, "m.room.power_levels", "", new JsonObject().put("users_default", 0)));
    await(e2ee.sendStateEvent(PLAIN_ROOM, "m.room.topic", "", new JsonObject().put("topic", "t")));
    List<ScriptedHomeserver.Seen> puts = statePuts();
    assertEquals(2, puts.size());
    assertTrue(puts.get(0).path().endsWith("/state/m.room.power_levels/"), puts.get(0).path());
    assertTrue(puts.get(1).path().endsWith("/state/m.room.topic/"), puts.get(1).path());
    assertTrue(puts.get(1).body().contains("\"t\""));
  }

  @Test
  void sendStateEvent_refusesWhatCannotBePackedInsteadOfSendingItPlain() throws Exception {
    encryptStateIn(ROOM);
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class,
            () ->
                await(
                    e2ee.sendStateEvent(ROOM, "com.example.s", "k".repeat(300), new JsonObject())));
    assertTrue(e.getCause() instanceof IllegalArgumentException, e.getCause().toString());
    assertTrue(statePuts().isEmpty());
  }

  @Test
  void createEncryptedRoom_withEncryptedState_keepsNameAndTopicOutOfTheCreation() throws Exception {
    String roomId =
        await(
            e2ee.createEncryptedRoom(
                new JsonObject()
                    .put("preset", "private_chat")
                    .put("name", "secret name")
                    .put("topic", "secret topic"),
                true));
    assertEquals("!created:localhost", roomId);
    ScriptedHomeserver.Seen create =
        hs.seen().stream().filter(s -> s.path().endsWith("/createRoom")).findFirst().orElseThrow();
    assertFalse(create.body().contains("secret"), "nothing in the clear: " + create.body());
    JsonObject encryption =
        new JsonObject(create.body()).getJsonArray("initial_state").getJsonObject(0);
    assertEquals("m.room.encryption", encryption.getString("type"));
    assertEquals(
        true,
        encryption.getJsonObject("content").getValue("io.element.msc4362.encrypt_state_events"));
    List<ScriptedHomeserver.Seen> puts = statePuts();
    assertEquals(2, puts.size());
    assertTrue(puts.get(0).path().endsWith("/state/m.room.encrypted/m.room.name%3A"));
    assertTrue(puts.get(1).path().endsWith("/state/m.room.encrypted/m.room.topic%3A"));
    assertTrue(puts.stream().noneMatch(p -> p.body().contains("secret")));
  }

  @Test
  void sendStateEvent_retriesSendOneCiphertext() throws Exception {
    encryptStateIn(ROOM);
    hs.fault("/state/m.room.encrypted", ScriptedHomeserver.Fault.status(503));
    await(e2ee.sendStateEvent(ROOM, "m.room.name", "", new JsonObject().put("name", "n")));
    List<ScriptedHomeserver.Seen> puts = statePuts();
    assertEquals(2, puts.size(), "a 503, then the retry");
    assertEquals(puts.get(0).body(), puts.get(1).body(), "the retry sends the same ciphertext");
  }

  @Test
  void afterARestart_roomStateIsRebuiltFromTheServerAndTheStoredKeys() throws Exception {
    encryptStateIn(ROOM);
    await(e2ee.sendStateEvent(ROOM, "m.room.topic", "", new JsonObject().put("topic", "kept")));
    String ciphertext = statePuts().get(0).body();
    await(e2ee.close());

    e2ee = plugin();
    await(e2ee.start());
    // The server's full state of the room, as the one-room sync answers it.
    JsonObject full =
        sync(
            ROOM,
            "state",
            stateEvent(
                "m.room.encryption",
                "",
                new JsonObject()
                    .put("algorithm", "m.megolm.v1.aes-sha2")
                    .put("io.element.msc4362.encrypt_state_events", true)),
            stateEvent("m.room.encrypted", "m.room.topic:", new JsonObject(ciphertext))
                .put("sender", "@bot:localhost"));
    hs.queueSync(full.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    RoomState state = await(e2ee.roomState(ROOM));
    assertEquals(Optional.of("kept"), state.topic(), "decrypted again with the stored room key");
    assertTrue(state.complete());
    assertTrue(
        hs.seen().stream()
            .anyMatch(
                r ->
                    r.path().endsWith("/sync")
                        && r.query() != null
                        && r.query().contains("full_state=true")),
        "fetched with full_state");
  }
}
