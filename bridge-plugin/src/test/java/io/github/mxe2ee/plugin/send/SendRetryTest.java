package io.github.mxe2ee.plugin.send;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.http.RetryPolicy;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver.Fault;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sends through the plugin against {@link ScriptedHomeserver}, a hand-written server for faults the
 * real Synapse does not produce on demand (a rate limit, a 502/503/504, a dropped connection, no
 * answer). Before issue 12 item 4 every one of these failed the send at the first fault, and ten
 * concurrent sends fetched the member list ten times.
 */
class SendRetryTest {
  private static final String ROOM = "!room:localhost";
  private static final RetryPolicy FAST = new RetryPolicy(4, 20, 200, 10_000, 0.5);

  private Vertx vertx;
  private ScriptedHomeserver hs;
  private HomeserverClient client;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    hs.stateStatus(path -> 200); // every room is encrypted
    client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    dir = Files.createTempDirectory("mxe2ee-send");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private MatrixE2ee started(RetryPolicy policy) throws Exception {
    MatrixE2ee e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve("bot.db").toString())
                .setPickleKeyBase64("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
                .setRetryPolicy(policy));
    await(e2ee.start());
    return e2ee;
  }

  private static JsonObject text(String body) {
    return new JsonObject().put("msgtype", "m.text").put("body", body);
  }

  private List<ScriptedHomeserver.Seen> puts() {
    return hs.sends();
  }

  /** Every try of one send went to the same transaction id with the same ciphertext. */
  private void assertSameTransaction(List<ScriptedHomeserver.Seen> tries, int expected) {
    assertEquals(expected, tries.size(), "tries: " + tries);
    for (ScriptedHomeserver.Seen t : tries) {
      assertEquals(tries.get(0).path(), t.path(), "the same transaction id on every try");
      assertEquals(tries.get(0).body(), t.body(), "the same ciphertext on every try");
    }
    assertTrue(tries.get(0).path().contains("/send/m.room.encrypted/"), tries.get(0).path());
  }

  @Test
  void rateLimited_withRetryAfterMs_isSentAgainAfterThatDelay() throws Exception {
    MatrixE2ee e2ee = started(FAST);
    hs.fault("/send/", Fault.rateLimited(400));
    long t0 = System.nanoTime();
    String id = await(e2ee.send(ROOM, "m.room.message", text("hi")));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(id.startsWith("$"), id);
    assertSameTransaction(puts(), 2);
    assertTrue(ms >= 400, "waited the server's retry_after_ms, not the 20 ms backoff: " + ms);
  }

  @Test
  void rateLimited_withRetryAfterHeader_isSentAgainAfterThatDelay() throws Exception {
    MatrixE2ee e2ee = started(FAST);
    hs.fault("/send/", Fault.rateLimitedHeader("1"));
    long t0 = System.nanoTime();
    await(e2ee.send(ROOM, "m.room.message", text("hi")));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertSameTransaction(puts(), 2);
    assertTrue(ms >= 1000, "waited the Retry-After header's second: " + ms);
  }

  @Test
  void transientFailures_areRetriedWithTheSameCiphertext() throws Exception {
    client.setRequestTimeoutMs(500);
    MatrixE2ee e2ee = started(new RetryPolicy(6, 20, 200, 20_000, 0.5));
    hs.fault("/send/", Fault.status(502), Fault.status(503), Fault.closed(), Fault.noAnswer());
    hs.fault("/send/", Fault.status(504));
    await(e2ee.send(ROOM, "m.room.message", text("hi")));
    assertSameTransaction(puts(), 6);
  }

  @Test
  void permanentClientError_isNotRetried() throws Exception {
    MatrixE2ee e2ee = started(FAST);
    hs.fault("/send/", Fault.status(403));
    Throwable t = failure(e2ee.send(ROOM, "m.room.message", text("hi")));
    assertEquals(403, assertInstanceOf(HomeserverException.class, t).statusCode());
    assertEquals(1, puts().size(), "a 403 is final");
  }

  @Test
  void transientFailures_stopAfterMaxAttempts() throws Exception {
    MatrixE2ee e2ee = started(FAST);
    for (int i = 0; i < 10; i++) {
      hs.fault("/send/", Fault.status(503));
    }
    Throwable t = failure(e2ee.send(ROOM, "m.room.message", text("hi")));
    assertEquals(503, assertInstanceOf(HomeserverException.class, t).statusCode());
    assertEquals(FAST.maxAttempts(), puts().size(), "bounded tries");
  }

  @Test
  void rateLimit_longerThanTheBudget_failsAtOnce() throws Exception {
    MatrixE2ee e2ee = started(new RetryPolicy(4, 20, 200, 1000, 0.5));
    hs.fault("/send/", Fault.rateLimited(60_000));
    long t0 = System.nanoTime();
    Throwable t = failure(e2ee.send(ROOM, "m.room.message", text("hi")));
    assertEquals(429, assertInstanceOf(HomeserverException.class, t).statusCode());
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 5000, "did not wait a minute");
  }

  @Test
  void retryByCaller_withTheSameTxnId_sendsTheSameCiphertext() throws Exception {
    MatrixE2ee e2ee = started(RetryPolicy.NONE);
    hs.fault("/send/", Fault.status(503));
    failure(e2ee.send(ROOM, "m.room.message", text("hi"), "txn-42"));
    await(e2ee.send(ROOM, "m.room.message", text("hi"), "txn-42"));
    assertSameTransaction(puts(), 2);
    await(e2ee.send(ROOM, "m.room.message", text("hi"), "txn-43"));
    assertTrue(
        !puts().get(2).body().equals(puts().get(0).body()), "a new txn id, a new ciphertext");
  }

  @Test
  void concurrentSends_shareOneMembersFetch_andKeepTheirOrder() throws Exception {
    MatrixE2ee e2ee = started(FAST);
    hs.fault("/send/", Fault.status(503)); // the first PUT is retried; the others wait for it
    List<Future<String>> all = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      all.add(e2ee.send(ROOM, "m.room.message", text("m" + i), "order-" + i));
    }
    await(Future.all(all));
    long membersFetches = hs.seen().stream().filter(s -> s.path().endsWith("/members")).count();
    long stateFetches =
        hs.seen().stream().filter(s -> s.path().contains("/state/m.room.encryption")).count();
    assertEquals(1, membersFetches, "one members fetch for ten sends");
    assertEquals(1, stateFetches, "one encryption-state fetch for ten sends");
    List<String> order = new ArrayList<>();
    for (ScriptedHomeserver.Seen s : puts()) {
      String txn = s.path().substring(s.path().lastIndexOf('/') + 1);
      if (order.isEmpty() || !order.get(order.size() - 1).equals(txn)) {
        order.add(txn);
      }
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      expected.add("order-" + i);
    }
    assertEquals(expected, order, "PUTs in call order, each after the previous was answered");
  }

  @Test
  void pumpRequests_areRetriedOnRateLimit() throws Exception {
    // The first request of a fresh device is the /keys/query of its own user.
    hs.fault("/keys/query", Fault.rateLimited(50), Fault.status(502));
    started(FAST); // start() drains the pump: it fails if the query failed for good
    List<String> paths = hs.seen().stream().map(ScriptedHomeserver.Seen::path).toList();
    long queries = paths.stream().filter(p -> p.endsWith("/keys/query")).count();
    assertTrue(queries >= 3, "the query was tried again after the 429 and the 502: " + paths);
  }

  private static Throwable failure(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }
}
