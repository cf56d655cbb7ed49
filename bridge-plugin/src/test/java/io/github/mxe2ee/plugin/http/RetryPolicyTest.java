package io.github.mxe2ee.plugin.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.WebClient;
import java.net.ConnectException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What is retried, how long it waits, and that real transport failures count as transient. */
class RetryPolicyTest {

  @Test
  void classify_retriesRateLimitsAndGatewayErrors_only() {
    assertEquals(
        RetryPolicy.Verdict.SERVER_DELAY,
        RetryPolicy.classify(new HomeserverException("/x", 429, "M_LIMIT_EXCEEDED", "", 100)));
    assertEquals(
        RetryPolicy.Verdict.BACKOFF,
        RetryPolicy.classify(new HomeserverException("/x", 429, "M_LIMIT_EXCEEDED", "")));
    for (int s : new int[] {502, 503, 504}) {
      assertEquals(
          RetryPolicy.Verdict.BACKOFF,
          RetryPolicy.classify(new HomeserverException("/x", s, null, "")));
    }
    for (int s : new int[] {0, 400, 401, 403, 404, 413, 500}) {
      assertEquals(
          RetryPolicy.Verdict.FAIL,
          RetryPolicy.classify(new HomeserverException("/x", s, null, "")),
          "status " + s);
    }
    assertEquals(RetryPolicy.Verdict.FAIL, RetryPolicy.classify(new IllegalStateException()));
  }

  @Test
  void backoff_growsExponentially_isCapped_andJitteredWithinItsShare() {
    RetryPolicy p = new RetryPolicy(10, 100, 1000, 60_000, 0.5);
    assertEquals(50, p.backoffMs(1, 0.0));
    assertEquals(100, p.backoffMs(1, 0.999999));
    assertEquals(400, p.backoffMs(3, 0.999999));
    assertEquals(1000, p.backoffMs(9, 0.999999), "capped at maxBackoffMs");
    assertEquals(500, p.backoffMs(40, 0.0), "no overflow on a large attempt number");
    assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(0, 1, 1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, 10, 5, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, 1, 1, 0, 1.5));
  }

  @Test
  void connectionRefused_isRetriedWithBackoff_thenFails() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer s =
          await(
              vertx
                  .createHttpServer()
                  .requestHandler(
                      r ->
                          r.response()
                              .putHeader("content-type", "application/json")
                              .end(
                                  "{\"user_id\":\"@b:x\",\"device_id\":\"D\","
                                      + "\"access_token\":\"t\"}"))
                  .listen(0, "127.0.0.1"));
      HomeserverClient client =
          new HomeserverClient(WebClient.create(vertx), "http://127.0.0.1:" + s.actualPort());
      await(client.login("b", "pw", null));
      await(s.close()); // nothing listens there now: connection refused
      AtomicInteger tries = new AtomicInteger();
      Retrier retrier = new Retrier(vertx, new RetryPolicy(3, 50, 50, 10_000, 0));
      long t0 = System.nanoTime();
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () ->
                  await(
                      retrier.run(
                          "GET /x",
                          () -> {
                            tries.incrementAndGet();
                            return client.request("GET", "/x", null);
                          })));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(e.getCause() instanceof ConnectException, String.valueOf(e.getCause()));
      assertEquals(3, tries.get(), "tried maxAttempts times");
      assertTrue(ms >= 100, "two backoffs of 50 ms: " + ms);
    } finally {
      await(vertx.close());
    }
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
