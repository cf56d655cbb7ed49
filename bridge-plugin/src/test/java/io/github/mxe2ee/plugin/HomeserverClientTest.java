package io.github.mxe2ee.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Request shapes and error mapping of {@link HomeserverClient} against a scripted local HTTP
 * server. The real-Synapse round trip is covered by the examples module's smoke test.
 */
@ExtendWith(VertxExtension.class)
class HomeserverClientTest {

  private static void serve(
      Vertx vertx,
      VertxTestContext ctx,
      Consumer<HttpServerRequest> handler,
      Consumer<HomeserverClient> test) {
    vertx
        .createHttpServer()
        .requestHandler(handler::accept)
        .listen(0, "127.0.0.1")
        .onComplete(
            ctx.succeeding(
                (HttpServer s) ->
                    test.accept(
                        new HomeserverClient(
                            WebClient.create(vertx), "http://127.0.0.1:" + s.actualPort() + "/"))));
  }

  @Test
  void loginSendsPasswordFlowAndKeepsSession(Vertx vertx, VertxTestContext ctx) {
    AtomicReference<JsonObject> seen = new AtomicReference<>();
    serve(
        vertx,
        ctx,
        req ->
            req.body()
                .onSuccess(
                    b -> {
                      seen.set(b.toJsonObject().put("_path", req.path()));
                      req.response()
                          .end(
                              new JsonObject()
                                  .put("user_id", "@bot:localhost")
                                  .put("device_id", "DEV1")
                                  .put("access_token", "secret-token")
                                  .encode());
                    }),
        client ->
            client
                .login("bot", "pw", "DEV1")
                .onComplete(
                    ctx.succeeding(
                        s ->
                            ctx.verify(
                                () -> {
                                  JsonObject body = seen.get();
                                  assertEquals("/_matrix/client/v3/login", body.getString("_path"));
                                  assertEquals("m.login.password", body.getString("type"));
                                  assertEquals(
                                      "bot", body.getJsonObject("identifier").getString("user"));
                                  assertEquals("DEV1", body.getString("device_id"));
                                  assertEquals("@bot:localhost", s.userId());
                                  assertEquals(s, client.session());
                                  assertFalse(s.toString().contains("secret-token"));
                                  ctx.completeNow();
                                }))));
  }

  @Test
  void syncSendsBearerTokenAndSince(Vertx vertx, VertxTestContext ctx) {
    AtomicReference<HttpServerRequest> seen = new AtomicReference<>();
    serve(
        vertx,
        ctx,
        req -> {
          if (req.path().endsWith("/login")) {
            req.response()
                .end("{\"user_id\":\"@b:localhost\",\"device_id\":\"D\",\"access_token\":\"tok\"}");
          } else {
            seen.set(req);
            req.response().end("{\"next_batch\":\"s2\"}");
          }
        },
        client ->
            client
                .login("b", "pw", null)
                .compose(s -> client.sync("s1", 0))
                .onComplete(
                    ctx.succeeding(
                        body ->
                            ctx.verify(
                                () -> {
                                  HttpServerRequest r = seen.get();
                                  assertEquals("/_matrix/client/v3/sync", r.path());
                                  assertEquals("Bearer tok", r.getHeader("Authorization"));
                                  assertEquals("s1", r.getParam("since"));
                                  assertEquals("0", r.getParam("timeout"));
                                  assertEquals("s2", body.getString("next_batch"));
                                  ctx.completeNow();
                                }))));
  }

  @Test
  void errorStatusBecomesHomeserverExceptionWithErrcode(Vertx vertx, VertxTestContext ctx) {
    serve(
        vertx,
        ctx,
        req ->
            req.response()
                .setStatusCode(403)
                .end("{\"errcode\":\"M_FORBIDDEN\",\"error\":\"Invalid password\"}"),
        client ->
            client
                .login("bot", "hunter2", null)
                .onComplete(
                    ctx.failing(
                        err ->
                            ctx.verify(
                                () -> {
                                  HomeserverException e = (HomeserverException) err;
                                  assertEquals(403, e.statusCode());
                                  assertEquals("M_FORBIDDEN", e.errcode());
                                  assertEquals("homeserver", e.kind());
                                  assertFalse(e.getMessage().contains("hunter2"));
                                  assertNull(client.session());
                                  ctx.completeNow();
                                }))));
  }

  @Test
  void nonJsonBodyIsRejected(Vertx vertx, VertxTestContext ctx) {
    serve(
        vertx,
        ctx,
        req -> req.response().end("<html>proxy error</html>"),
        client ->
            client
                .login("bot", "pw", null)
                .onComplete(
                    ctx.failing(
                        err ->
                            ctx.verify(
                                () -> {
                                  assertTrue(err instanceof HomeserverException, err.toString());
                                  assertTrue(err.getMessage().contains("not a JSON object"));
                                  ctx.completeNow();
                                }))));
  }

  @Test
  void loginResponseWithoutTokenIsRejected(Vertx vertx, VertxTestContext ctx) {
    serve(
        vertx,
        ctx,
        req -> req.response().end("{\"user_id\":\"@b:localhost\",\"device_id\":\"D\"}"),
        client ->
            client
                .login("bot", "pw", null)
                .onComplete(
                    ctx.failing(
                        err ->
                            ctx.verify(
                                () -> {
                                  assertTrue(err.getMessage().contains("access_token"));
                                  assertNull(client.session());
                                  ctx.completeNow();
                                }))));
  }

  @Test
  void syncBeforeLoginIsAnError(Vertx vertx) {
    HomeserverClient client = new HomeserverClient(WebClient.create(vertx), "http://127.0.0.1:1");
    assertThrows(IllegalStateException.class, () -> client.sync(null, 0));
  }
}
