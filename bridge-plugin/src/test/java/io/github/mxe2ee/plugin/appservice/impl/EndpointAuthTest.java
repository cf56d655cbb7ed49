package io.github.mxe2ee.plugin.appservice.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The endpoint's {@code hs_token} check, on a bridge that is not started (so nothing behind the
 * check can change anything): a missing, wrong, partial or mismatched token is refused before the
 * body is read; the right one passes to the routes.
 */
class EndpointAuthTest {
  private static final String TOKEN = "the-right-hs-token-0123456789";
  private Vertx vertx;
  private WebClient web;
  private AppserviceE2ee as;
  private int port;
  private final AtomicInteger userQueries = new AtomicInteger();

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    web = WebClient.create(vertx);
    as =
        AppserviceE2ee.create(
            vertx,
            new AppserviceOptions()
                .setHomeserverUrl("http://127.0.0.1:9")
                .setAsToken("as")
                .setHsToken(TOKEN)
                .setBotLocalpart("bot")
                .setMaxTransactionBytes(4096)
                .setEngine(
                    new E2eeOptions()
                        .setStorePath(
                            Files.createTempDirectory("as-ep").resolve("s.db").toString())));
    as.userQueryHandler(
        u -> {
          userQueries.incrementAndGet();
          return Future.succeededFuture(u.startsWith("@bridge_"));
        });
    port = await(as.listen("127.0.0.1", 0)).actualPort();
  }

  @AfterEach
  void tearDown() throws Exception {
    await(as.close());
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> call(HttpMethod m, String uri, String auth, String body)
      throws Exception {
    var req = web.request(m, port, "127.0.0.1", uri);
    if (auth != null) {
      req.putHeader("Authorization", auth);
    }
    return await(body == null ? req.send() : req.sendBuffer(Buffer.buffer(body)));
  }

  private static String code(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getString("errcode");
  }

  @Test
  void missingWrongOrPartialTokensAreRefused() throws Exception {
    String txn = "/_matrix/app/v1/transactions/1";
    HttpResponse<Buffer> none = call(HttpMethod.PUT, txn, null, "{}");
    assertEquals(401, none.statusCode());
    assertEquals("M_MISSING_TOKEN", code(none));
    for (String bad :
        new String[] {
          "Bearer wrong",
          "Bearer " + TOKEN.substring(0, TOKEN.length() - 1),
          "Bearer " + TOKEN + "x",
          "Basic " + TOKEN,
          "Bearer "
        }) {
      HttpResponse<Buffer> r = call(HttpMethod.PUT, txn, bad, "{}");
      assertEquals(403, r.statusCode(), bad);
      assertEquals("M_FORBIDDEN", code(r));
    }
    // Header right, legacy query parameter wrong: both must match.
    assertEquals(
        403,
        call(HttpMethod.PUT, txn + "?access_token=wrong", "Bearer " + TOKEN, "{}").statusCode());
    assertEquals(403, call(HttpMethod.PUT, "/transactions/1", "Bearer nope", "{}").statusCode());
    assertEquals(
        403, call(HttpMethod.POST, "/_matrix/app/v1/ping", "Bearer nope", "{}").statusCode());
    assertEquals(
        403,
        call(HttpMethod.GET, "/_matrix/app/v1/users/@bridge_x:hs", null + "", null).statusCode());
    assertEquals(0, userQueries.get(), "no query reached the bridge");
  }

  @Test
  void theRightTokenPassesByHeaderOrLegacyParameter() throws Exception {
    // Not started: transactions are refused with 503 so the homeserver retries later.
    HttpResponse<Buffer> early =
        call(HttpMethod.PUT, "/_matrix/app/v1/transactions/1", "Bearer " + TOKEN, "{}");
    assertEquals(503, early.statusCode());
    assertEquals(
        503,
        call(HttpMethod.PUT, "/transactions/1?access_token=" + TOKEN, null, "{}").statusCode());
    assertEquals(
        200, call(HttpMethod.POST, "/_matrix/app/v1/ping", "Bearer " + TOKEN, "{}").statusCode());
    assertEquals(
        200,
        call(HttpMethod.GET, "/_matrix/app/v1/users/@bridge_x:hs", "Bearer " + TOKEN, null)
            .statusCode());
    HttpResponse<Buffer> unknown =
        call(HttpMethod.GET, "/users/@someone:hs?access_token=" + TOKEN, null, null);
    assertEquals(404, unknown.statusCode());
    assertEquals(
        404,
        call(HttpMethod.GET, "/_matrix/app/v1/rooms/%23a:hs", "Bearer " + TOKEN, null)
            .statusCode());
  }

  @Test
  void aBodyOverTheBoundIsRefused() throws Exception {
    String big = "{\"events\":[\"" + "x".repeat(8192) + "\"]}";
    assertEquals(
        413,
        call(HttpMethod.PUT, "/_matrix/app/v1/transactions/9", "Bearer " + TOKEN, big)
            .statusCode());
  }
}
