package io.github.mxe2ee.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.bot.SyncBatch;
import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 items 2 and 4 on the plugin's API edges, against {@link ScriptedHomeserver} (a
 * hand-written server for faults the real Synapse cannot produce: a sync body with malformed
 * shapes, a crash between saving a batch and finishing its handler). Each test failed before the
 * fix: {@code send()} before {@code start()} was a NullPointerException and after {@code close()} a
 * RejectedExecutionException; {@code send()} into an unencrypted room sent {@code
 * m.room.encrypted}; {@code close()} left the store's {@code -wal} when closed twice or not at all;
 * a malformed {@code rooms} threw ClassCastException after the token was saved; there was no loop
 * that resumed from the stored token.
 */
class MatrixE2eeEdgesTest {
  private static final String ROOM = "!room:localhost";
  private Vertx vertx;
  private ScriptedHomeserver hs;
  private HomeserverClient client;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    dir = Files.createTempDirectory("mxe2ee-edges");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private MatrixE2ee plugin(E2eeOptions options) {
    return MatrixE2ee.create(
        vertx,
        client,
        options
            .setStorePath(dir.resolve("bot.db").toString())
            .setPickleKeyBase64("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
  }

  private static Throwable failure(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void callsBeforeStartAndAfterClose_failWithIllegalStateException() throws Exception {
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    JsonObject content = new JsonObject().put("body", "x");
    for (Future<?> f :
        List.of(
            e2ee.send(ROOM, "m.room.message", content),
            e2ee.encrypt(ROOM, "m.room.message", content),
            e2ee.onSync(new JsonObject().put("next_batch", "s")),
            e2ee.syncToken())) {
      Throwable t = failure(f);
      assertInstanceOf(IllegalStateException.class, t);
      assertTrue(t.getMessage().contains("before start()"), t.getMessage());
    }
    await(e2ee.start());
    await(e2ee.close());
    for (Future<?> f :
        List.of(
            e2ee.send(ROOM, "m.room.message", content),
            e2ee.onSync(new JsonObject().put("next_batch", "s")),
            e2ee.start())) {
      Throwable t = failure(f);
      assertInstanceOf(IllegalStateException.class, t);
      assertTrue(t.getMessage().contains("after close()"), t.getMessage());
    }
  }

  @Test
  void close_isIdempotent_andReleasesTheStore() throws Exception {
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    await(e2ee.start());
    await(e2ee.onSync(new JsonObject().put("next_batch", "s1")));
    await(e2ee.close());
    await(e2ee.close());
    assertFalse(Files.exists(dir.resolve("bot.db-wal")), "no -wal left");
    assertFalse(Files.exists(dir.resolve("bot.db-shm")), "no -shm left");
    MatrixE2ee again = plugin(new E2eeOptions());
    await(again.start());
    assertEquals(Optional.of("s1"), await(again.syncToken()), "the token survived");
    await(again.close());
  }

  @Test
  void sendIntoUnencryptedRoom_sendsPlain() throws Exception {
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    await(e2ee.start());
    await(e2ee.send(ROOM, "m.room.message", new JsonObject().put("body", "hi"), "txn1"));
    List<ScriptedHomeserver.Seen> sends = hs.sends();
    assertEquals(1, sends.size());
    assertTrue(sends.get(0).path().contains("/send/m.room.message/txn1"), sends.get(0).path());
    assertEquals("hi", new JsonObject(sends.get(0).body()).getString("body"));
    await(e2ee.close());
  }

  @Test
  void sendIntoUnencryptedRoom_withRefuseUnencrypted_failsAndSendsNothing() throws Exception {
    MatrixE2ee e2ee = plugin(new E2eeOptions().setRefuseUnencrypted(true));
    await(e2ee.start());
    Throwable t = failure(e2ee.send(ROOM, "m.room.message", new JsonObject().put("body", "hi")));
    assertInstanceOf(UnencryptedRoomException.class, t);
    assertTrue(t.getMessage().contains(ROOM));
    assertEquals(0, hs.sends().size());
    await(e2ee.close());
  }

  @Test
  void sendIntoRoomTheServerSaysIsEncrypted_sendsEncrypted() throws Exception {
    hs.stateStatus(path -> 200);
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    await(e2ee.start());
    await(e2ee.send(ROOM, "m.room.message", new JsonObject().put("body", "secret"), "t2"));
    List<ScriptedHomeserver.Seen> sends = hs.sends();
    assertEquals(1, sends.size());
    assertTrue(sends.get(0).path().contains("/send/m.room.encrypted/t2"), sends.get(0).path());
    assertFalse(sends.get(0).body().contains("secret"));
    await(e2ee.close());
  }

  @Test
  void malformedShapes_areSkippedAndCounted_theRestIsProcessed() throws Exception {
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    await(e2ee.start());
    JsonObject body =
        new JsonObject()
            .put("next_batch", "s9")
            .put(
                "rooms",
                new JsonObject()
                    .put(
                        "join",
                        new JsonObject()
                            .put("!bad:localhost", "a string")
                            .put(
                                ROOM,
                                new JsonObject()
                                    .put("state", new JsonObject().put("events", "nope"))
                                    .put(
                                        "timeline",
                                        new JsonObject()
                                            .put(
                                                "events",
                                                new JsonArray()
                                                    .add(5)
                                                    .add(
                                                        new JsonObject()
                                                            .put("type", "m.room.message")
                                                            .put("event_id", "$ok")))))))
            .put("to_device", new JsonObject().put("events", new JsonArray().add("x")));
    JsonObject out = await(e2ee.onSync(body));
    JsonObject join = out.getJsonObject("rooms").getJsonObject("join");
    assertFalse(join.containsKey("!bad:localhost"));
    assertEquals(
        1, join.getJsonObject(ROOM).getJsonObject("timeline").getJsonArray("events").size());
    assertEquals(Optional.of("s9"), await(e2ee.syncToken()));
    await(e2ee.close());
  }

  private static byte[] syncBody(String next, String eventId) {
    JsonObject room =
        new JsonObject()
            .put(
                "timeline",
                new JsonObject()
                    .put(
                        "events",
                        new JsonArray()
                            .add(
                                new JsonObject()
                                    .put("type", "m.room.message")
                                    .put("event_id", eventId)
                                    .put("sender", "@a:localhost")
                                    .put("content", new JsonObject().put("body", "x")))));
    return new JsonObject()
        .put("next_batch", next)
        .put("rooms", new JsonObject().put("join", new JsonObject().put(ROOM, room)))
        .encode()
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The restart case: a handler that never finishes stands for a process killed after the batch was
   * saved and before its work was done. The next run hands that batch over again (replayed), then
   * resumes from the saved token; a batch that completed is never handed over again.
   */
  @Test
  void syncLoop_crashBeforeTheHandlerFinished_replaysTheBatch_thenResumesFromTheToken()
      throws Exception {
    hs.queueSync(syncBody("s1", "$first"));
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    await(e2ee.start());
    List<String> seen1 = new CopyOnWriteArrayList<>();
    io.vertx.core.Promise<Void> never = io.vertx.core.Promise.promise();
    SyncLoop loop1 =
        SyncLoop.create(
                vertx,
                client,
                e2ee,
                new SyncLoopOptions().setTimeoutMs(0),
                batch -> {
                  batch.events().forEach(e -> seen1.add(e.event().getString("event_id")));
                  return never.future(); // "killed" while handling
                })
            .start();
    for (int i = 0; i < 100 && seen1.isEmpty(); i++) {
      Thread.sleep(50);
    }
    assertEquals(List.of("$first"), seen1);
    loop1.stop();
    await(e2ee.close()); // the worker finishes what was committed; the handler never did
    never.tryComplete();

    hs.queueSync(syncBody("s2", "$second"));
    MatrixE2ee e2ee2 = plugin(new E2eeOptions());
    await(e2ee2.start());
    List<SyncBatch> batches = new CopyOnWriteArrayList<>();
    SyncLoop loop2 =
        SyncLoop.create(
                vertx,
                client,
                e2ee2,
                new SyncLoopOptions().setTimeoutMs(0),
                batch -> {
                  batches.add(batch);
                  return Future.succeededFuture();
                })
            .start();
    for (int i = 0; i < 100 && batches.size() < 2; i++) {
      Thread.sleep(50);
    }
    await(loop2.stop());
    assertTrue(batches.get(0).replayed(), "the unfinished batch comes first, replayed");
    assertEquals("$first", batches.get(0).events().get(0).event().getString("event_id"));
    assertFalse(batches.get(1).replayed());
    assertEquals("$second", batches.get(1).events().get(0).event().getString("event_id"));
    List<String> sinces =
        hs.seen().stream()
            .filter(s -> s.path().endsWith("/sync"))
            .map(ScriptedHomeserver.Seen::query)
            .toList();
    assertTrue(sinces.get(0).contains("filter="), "the loop sends its filter");
    assertFalse(sinces.get(0).contains("since="), "the first sync is initial");
    assertTrue(sinces.get(1).contains("since=s1"), "the second run resumes from s1: " + sinces);
    long firstAgain =
        batches.stream()
            .flatMap(b -> b.events().stream())
            .filter(e -> "$first".equals(e.event().getString("event_id")))
            .count();
    assertEquals(1, firstAgain, "the replayed batch is handed over once, then never again");
    await(e2ee2.close());
  }
}
