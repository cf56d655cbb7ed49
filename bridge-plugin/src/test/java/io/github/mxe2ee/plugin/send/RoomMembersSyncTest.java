package io.github.mxe2ee.plugin.send;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The member list behind sends follows the syncs given to the plugin, and is fetched again when a
 * sync cannot be trusted to show every change: a gap ({@code limited}) or our own departure.
 * Against {@link ScriptedHomeserver} (a hand-written server, to count the {@code /members}
 * fetches).
 */
class RoomMembersSyncTest {
  private static final String ROOM = "!room:localhost";
  private Vertx vertx;
  private ScriptedHomeserver hs;
  private MatrixE2ee e2ee;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    hs.stateStatus(path -> 200);
    HomeserverClient client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(
                    Files.createTempDirectory("mxe2ee-members").resolve("b.db").toString())
                .setPickleKeyBase64("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
    await(e2ee.start());
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private long fetches() {
    return hs.seen().stream().filter(s -> s.path().endsWith("/members")).count();
  }

  private void send() throws Exception {
    await(e2ee.send(ROOM, "m.room.message", new JsonObject().put("body", "x")));
  }

  private static JsonObject sync(String user, String membership, boolean limited) {
    JsonObject member =
        new JsonObject()
            .put("type", "m.room.member")
            .put("state_key", user)
            .put("sender", user)
            .put("event_id", "$" + user + membership)
            .put("content", new JsonObject().put("membership", membership));
    JsonObject timeline =
        new JsonObject().put("events", new JsonArray().add(member)).put("limited", limited);
    return new JsonObject()
        .put("next_batch", "s" + System.nanoTime())
        .put(
            "rooms",
            new JsonObject()
                .put(
                    "join",
                    new JsonObject().put(ROOM, new JsonObject().put("timeline", timeline))));
  }

  @Test
  void membersFetchedOnce_thenFollowedFromSync_andRefetchedAfterAGapOrOurLeave() throws Exception {
    send();
    assertEquals(1, fetches());
    await(e2ee.onSync(sync("@carol:localhost", "join", false)));
    send();
    assertEquals(1, fetches(), "a sync's membership updates the known list");
    assertTrue(
        hs.seen().stream()
            .anyMatch(s -> s.path().endsWith("/keys/query") && s.body().contains("@carol")),
        "the new member's devices were queried");

    await(e2ee.onSync(sync("@dave:localhost", "join", true)));
    send();
    assertEquals(2, fetches(), "after a gap the list is fetched again");

    await(e2ee.onSync(sync("@bot:localhost", "leave", false)));
    send();
    assertEquals(3, fetches(), "after our own leave the list is fetched again");
  }
}
