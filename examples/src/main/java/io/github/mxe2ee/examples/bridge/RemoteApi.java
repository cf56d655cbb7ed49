package io.github.mxe2ee.examples.bridge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The example's "remote network", served over HTTP on 127.0.0.1 (issue 15, item 6). Exactly:
 *
 * <pre>
 * POST /remote/portals   {"portal": NAME, "invite": ["@user:server", ...]}
 *      -> 200 {"portal": NAME, "room_id": ID, "created": BOOL, "invited": [...], "failed": [...]}
 *                                                   creates (or reuses) the portal's encrypted room,
 *                                                   invites; "failed": invites the server refused
 * POST /remote/send      {"portal": NAME, "from": REMOTE_NAME, "text": TEXT}
 *      -> 200 {"event_id": ID, "from": GHOST_ID}    the remote user's ghost says TEXT, encrypted
 * GET  /remote/messages?portal=NAME
 *      -> 200 [{"from": MATRIX_USER_ID, "text": TEXT}, ...]   what Matrix users said, oldest first
 * </pre>
 *
 * <p>Every error is JSON {@code {"errcode": CODE, "error": MESSAGE}}: 400 {@code M_BAD_JSON} /
 * {@code M_MISSING_PARAM} / {@code M_INVALID_PARAM} for bad input, 404 {@code M_NOT_FOUND} for an
 * unknown portal or path, 405 {@code M_UNRECOGNIZED} for a wrong method, 413 {@code M_TOO_LARGE}
 * for a body over {@link #MAX_BODY_BYTES}, 502 {@code M_BRIDGE_FAILED} when the homeserver or the
 * store fails (the message names the step, never content). Bad input never reaches the homeserver.
 *
 * <p>Bounds (each with its reason): {@link #MAX_BODY_BYTES}, {@link #MAX_TEXT_BYTES}, {@link
 * #MAX_INVITES}, {@link #MAX_PORTAL_NAME_CODE_POINTS}.
 */
public final class RemoteApi {

  /** Largest request body: a message of {@link #MAX_TEXT_BYTES} with JSON escaping fits. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  /**
   * Largest message text, as UTF-8 bytes once JSON-escaped: the encrypted event (base64 of the
   * ciphertext, 4/3 of the plaintext, plus its envelope) must stay under the 65,536-byte event
   * limit of the Matrix specification.
   */
  public static final int MAX_TEXT_BYTES = 32 * 1024;

  /** Most users one portal request invites: one request cannot fan out without limit. */
  public static final int MAX_INVITES = 100;

  /** Longest portal name in code points (it becomes the room's name). */
  public static final int MAX_PORTAL_NAME_CODE_POINTS = 100;

  private static final System.Logger LOG = System.getLogger(RemoteApi.class.getName());

  private final Portals portals;

  /**
   * @param portals what the endpoints drive
   */
  public RemoteApi(Portals portals) {
    this.portals = Objects.requireNonNull(portals, "portals");
  }

  /** The router with the three endpoints and JSON errors for everything else. */
  public Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.route("/remote/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/remote/portals").handler(this::openPortal);
    router.post("/remote/send").handler(this::send);
    router.get("/remote/messages").handler(this::messages);
    for (String path : List.of("/remote/portals", "/remote/send", "/remote/messages")) {
      router.route(path).handler(ctx -> error(ctx, 405, "M_UNRECOGNIZED", "method not allowed"));
    }
    router.errorHandler(404, ctx -> error(ctx, 404, "M_NOT_FOUND", "no such endpoint"));
    router.errorHandler(405, ctx -> error(ctx, 405, "M_UNRECOGNIZED", "method not allowed"));
    router.errorHandler(
        413, ctx -> error(ctx, 413, "M_TOO_LARGE", "body over " + MAX_BODY_BYTES + " bytes"));
    router.errorHandler(400, ctx -> error(ctx, 400, "M_BAD_JSON", "bad request"));
    router.errorHandler(
        500,
        ctx -> {
          LOG.log(
              System.Logger.Level.WARNING,
              "remote API failure: {0}",
              String.valueOf(ctx.failure()));
          error(ctx, 500, "M_UNKNOWN", "internal error");
        });
    return router;
  }

  /** Starts an HTTP server with {@link #router} on {@code host:port} (0 = any free port). */
  public Future<HttpServer> listen(Vertx vertx, String host, int port) {
    return vertx.createHttpServer().requestHandler(router(vertx)).listen(port, host);
  }

  private void openPortal(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    String portal;
    List<String> invite;
    try {
      portal = portalName(body.getValue("portal"));
      invite = invites(body.getValue("invite"));
    } catch (IllegalArgumentException e) {
      badParam(ctx, e);
      return;
    }
    portals
        .open(portal, invite)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                Portals.Opened o = ar.result();
                ok(
                    ctx,
                    new JsonObject()
                        .put("portal", portal)
                        .put("room_id", o.roomId())
                        .put("created", o.created())
                        .put("invited", new JsonArray(new java.util.ArrayList<Object>(o.invited())))
                        .put("failed", new JsonArray(new java.util.ArrayList<Object>(o.failed()))));
              } else {
                failed(ctx, ar.cause(), "opening the portal");
              }
            });
  }

  private void send(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    String portal;
    String from;
    String text;
    try {
      portal = portalName(body.getValue("portal"));
      if (!(body.getValue("from") instanceof String f)) {
        throw missingOrType("from", body.getValue("from"), "a string");
      }
      from = f;
      portals.ghostOf(from); // validates the name before anything happens
      text = text(body.getValue("text"));
    } catch (IllegalArgumentException e) {
      badParam(ctx, e);
      return;
    }
    portals
        .say(portal, from, text)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                ok(
                    ctx,
                    new JsonObject()
                        .put("event_id", ar.result())
                        .put("from", portals.ghostOf(from)));
              } else {
                failed(ctx, ar.cause(), "sending the message");
              }
            });
  }

  private void messages(RoutingContext ctx) {
    List<String> names = ctx.queryParam("portal");
    String portal;
    try {
      if (names.size() > 1) {
        throw new IllegalArgumentException("'portal': given more than once");
      }
      portal = portalName(names.isEmpty() ? null : names.get(0));
    } catch (IllegalArgumentException e) {
      badParam(ctx, e);
      return;
    }
    portals
        .messages(portal)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                failed(ctx, ar.cause(), "reading the messages");
                return;
              }
              JsonArray out = new JsonArray();
              for (PortalStore.Message m : ar.result()) {
                out.add(new JsonObject().put("from", m.from()).put("text", m.text()));
              }
              ctx.response()
                  .setStatusCode(200)
                  .putHeader("Content-Type", "application/json")
                  .end(out.encode());
            });
  }

  /** The body as a JSON object, or null after answering 400. */
  private static JsonObject jsonBody(RoutingContext ctx) {
    String text = ctx.body() == null ? null : ctx.body().asString(StandardCharsets.UTF_8.name());
    if (text == null || text.isBlank()) {
      error(ctx, 400, "M_NOT_JSON", "expected a JSON object body");
      return null;
    }
    Object parsed;
    try {
      parsed = io.vertx.core.json.Json.decodeValue(text);
    } catch (DecodeException e) {
      error(ctx, 400, "M_NOT_JSON", "the body is not valid JSON");
      return null;
    }
    if (!(parsed instanceof JsonObject o)) {
      error(ctx, 400, "M_BAD_JSON", "expected a JSON object body");
      return null;
    }
    return o;
  }

  /** A valid portal name (1 to {@link #MAX_PORTAL_NAME_CODE_POINTS} printable characters). */
  static String portalName(Object v) {
    if (v == null) {
      throw new MissingParam("portal");
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("'portal': expected a non-empty string");
    }
    if (s.codePointCount(0, s.length()) > MAX_PORTAL_NAME_CODE_POINTS) {
      throw new IllegalArgumentException(
          "'portal': at most " + MAX_PORTAL_NAME_CODE_POINTS + " characters");
    }
    if (s.codePoints()
        .anyMatch(cp -> Character.isISOControl(cp) || (cp >= 0xD800 && cp <= 0xDFFF))) {
      throw new IllegalArgumentException("'portal': control characters are not allowed");
    }
    return s;
  }

  /** The invite list: valid, distinct user ids, at most {@link #MAX_INVITES}; missing = none. */
  static List<String> invites(Object v) {
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray a)) {
      throw new IllegalArgumentException("'invite': expected an array of user ids");
    }
    if (a.size() > MAX_INVITES) {
      throw new IllegalArgumentException("'invite': at most " + MAX_INVITES + " users");
    }
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (Object o : a) {
      if (!(o instanceof String s) || !MatrixIds.isUserId(s)) {
        throw new IllegalArgumentException(
            "'invite': expected Matrix user ids like @user:server, got "
                + (o instanceof String s
                    ? "'" + printable(s) + "'"
                    : String.valueOf(o == null ? "null" : "a " + o.getClass().getSimpleName())));
      }
      out.add(s);
    }
    return new ArrayList<>(out);
  }

  /** A valid message text: non-empty, at most {@link #MAX_TEXT_BYTES} once JSON-escaped. */
  static String text(Object v) {
    if (v == null) {
      throw new MissingParam("text");
    }
    if (!(v instanceof String s) || s.isEmpty()) {
      throw new IllegalArgumentException("'text': expected a non-empty string");
    }
    if (s.chars().anyMatch(c -> c >= 0xD800 && c <= 0xDFFF) && !validSurrogates(s)) {
      throw new IllegalArgumentException("'text': lone surrogates are not allowed");
    }
    int bytes = new JsonArray().add(s).encode().getBytes(StandardCharsets.UTF_8).length - 4;
    if (bytes > MAX_TEXT_BYTES) {
      throw new IllegalArgumentException("'text': at most " + MAX_TEXT_BYTES + " bytes");
    }
    return s;
  }

  private static boolean validSurrogates(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /** At most 80 characters of {@code s}, control characters replaced: safe to echo in an error. */
  private static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  private static IllegalArgumentException missingOrType(String field, Object v, String expected) {
    return v == null
        ? new MissingParam(field)
        : new IllegalArgumentException("'" + field + "': expected " + expected);
  }

  /** A required field is missing. */
  private static final class MissingParam extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    MissingParam(String field) {
      super("'" + field + "': missing");
    }
  }

  private static void badParam(RoutingContext ctx, IllegalArgumentException e) {
    error(
        ctx,
        400,
        e instanceof MissingParam ? "M_MISSING_PARAM" : "M_INVALID_PARAM",
        e.getMessage());
  }

  private static void failed(RoutingContext ctx, Throwable cause, String step) {
    if (cause instanceof Portals.UnknownPortalException) {
      error(ctx, 404, "M_NOT_FOUND", cause.getMessage());
    } else if (cause instanceof IllegalArgumentException) {
      error(ctx, 400, "M_INVALID_PARAM", cause.getMessage());
    } else {
      // Ids and the exception's class in the log; the caller gets the step only.
      LOG.log(System.Logger.Level.WARNING, "{0} failed: {1}", step, cause.toString());
      error(ctx, 502, "M_BRIDGE_FAILED", step + " failed (see the bridge's log)");
    }
  }

  private static void ok(RoutingContext ctx, JsonObject body) {
    ctx.response()
        .setStatusCode(200)
        .putHeader("Content-Type", "application/json")
        .end(body.encode());
  }

  private static void error(RoutingContext ctx, int status, String errcode, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("errcode", errcode).put("error", message).encode());
  }
}
