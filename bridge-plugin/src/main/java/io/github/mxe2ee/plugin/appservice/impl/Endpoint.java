package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.http.SyncBodyException;
import io.github.mxe2ee.plugin.http.SyncBodyParser;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.function.Function;

/**
 * The Application Service API endpoint on a Vert.x {@link Router}: transactions, ping, user and
 * room queries, each behind the {@code hs_token} check (spec {@code application-service-api.md},
 * "Authorisation"). Not API.
 */
final class Endpoint {
  private static final System.Logger LOG = System.getLogger(Endpoint.class.getName());
  private static final String V1 = "/_matrix/app/v1";

  /** What the endpoint asks of the bridge. */
  interface Backend {
    /** Whether transactions can be processed now (started and not closed). */
    boolean ready();

    /** Processes one transaction (already parsed); completes when it may be acknowledged. */
    Future<Void> transaction(String txnId, JsonObject body);

    Future<Boolean> userExists(String userId);

    Future<Boolean> roomAliasExists(String alias);
  }

  private final byte[] hsTokenDigest;
  private final SyncBodyParser parser;
  private final Backend backend;

  Endpoint(String hsToken, long maxBodyBytes, Backend backend) {
    this.hsTokenDigest = digest(hsToken);
    this.parser = new SyncBodyParser(maxBodyBytes);
    this.backend = backend;
  }

  /** Adds the routes to {@code router}. */
  Router mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(parser.maxDocumentBytes());
    for (String path : List.of(V1 + "/transactions/:txnId", "/transactions/:txnId")) {
      // The token is checked (own route, first) before the body is read.
      router.put(path).handler(this::auth);
      router.put(path).handler(body).handler(this::transaction);
    }
    router.post(V1 + "/ping").handler(this::auth).handler(ctx -> ok(ctx, new JsonObject()));
    for (String path : List.of(V1 + "/users/:userId", "/users/:userId")) {
      router
          .get(path)
          .handler(this::auth)
          .handler(ctx -> query(ctx, "userId", backend::userExists));
    }
    for (String path : List.of(V1 + "/rooms/:alias", "/rooms/:alias")) {
      router
          .get(path)
          .handler(this::auth)
          .handler(ctx -> query(ctx, "alias", backend::roomAliasExists));
    }
    return router;
  }

  /**
   * The {@code hs_token} check: {@code Authorization: Bearer}, or the legacy {@code access_token}
   * query parameter; if both are given both must match. Compared as SHA-256 digests with {@link
   * MessageDigest#isEqual} (constant time, and the length of the token is not revealed either).
   */
  private void auth(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    List<String> query = ctx.queryParam("access_token");
    String bearer = null;
    if (header != null) {
      if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        bearer = header.substring(7).trim();
      } else {
        error(ctx, 403, "M_FORBIDDEN", "bad Authorization header");
        return;
      }
    }
    if (bearer == null && query.isEmpty()) {
      error(ctx, 401, "M_MISSING_TOKEN", "missing hs_token");
      return;
    }
    boolean good = true;
    if (bearer != null) {
      good &= matches(bearer);
    }
    for (String q : query) {
      good &= matches(q);
    }
    if (!good) {
      LOG.log(
          System.Logger.Level.WARNING,
          "appservice request with a wrong hs_token refused: {0} {1} from {2}",
          ctx.request().method(),
          ctx.request().path(),
          String.valueOf(ctx.request().remoteAddress()));
      error(ctx, 403, "M_FORBIDDEN", "wrong hs_token");
      return;
    }
    ctx.next();
  }

  private boolean matches(String token) {
    return MessageDigest.isEqual(hsTokenDigest, digest(token));
  }

  private void transaction(RoutingContext ctx) {
    if (!backend.ready()) {
      error(ctx, 503, "M_UNAVAILABLE", "not started");
      return;
    }
    String txnId = ctx.pathParam("txnId");
    if (!AppserviceE2eeImpl.validTxnId(txnId)) {
      error(ctx, 400, "M_INVALID_PARAM", "bad transaction id");
      return;
    }
    Buffer raw = ctx.body() == null ? null : ctx.body().buffer();
    JsonObject body;
    try {
      body = parser.parse(raw == null ? new byte[0] : raw.getBytes()).body();
    } catch (SyncBodyException e) {
      error(ctx, 400, "M_NOT_JSON", "body is not a JSON object within the bounds");
      return;
    }
    backend
        .transaction(txnId, body)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                ok(ctx, new JsonObject());
              } else if (ar.cause() instanceof IllegalArgumentException bad) {
                error(ctx, 400, "M_BAD_JSON", bad.getMessage());
              } else if (ar.cause() instanceof IllegalStateException) {
                error(ctx, 503, "M_UNAVAILABLE", "closing");
              } else {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "transaction {0} not acknowledged (the homeserver will resend it): {1}",
                    txnId,
                    ar.cause().toString());
                error(ctx, 500, "M_UNKNOWN", "transaction not processed; send it again");
              }
            });
  }

  private void query(RoutingContext ctx, String param, Function<String, Future<Boolean>> question) {
    String value = ctx.pathParam(param);
    Future<Boolean> answer;
    try {
      answer = question.apply(value);
    } catch (RuntimeException e) {
      answer = Future.failedFuture(e);
    }
    answer.onComplete(
        ar -> {
          if (ar.succeeded() && Boolean.TRUE.equals(ar.result())) {
            ok(ctx, new JsonObject());
          } else if (ar.succeeded()) {
            error(ctx, 404, "M_NOT_FOUND", "not known");
          } else {
            error(ctx, 500, "M_UNKNOWN", "query failed");
          }
        });
  }

  private static void ok(RoutingContext ctx, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response()
          .setStatusCode(200)
          .putHeader("Content-Type", "application/json")
          .end(body.encode());
    }
  }

  private static void error(RoutingContext ctx, int status, String errcode, String message) {
    if (!ctx.response().ended()) {
      ctx.response()
          .setStatusCode(status)
          .putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("errcode", errcode).put("error", message).encode());
    }
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
