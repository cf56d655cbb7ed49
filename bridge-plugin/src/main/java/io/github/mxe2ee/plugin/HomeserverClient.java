package io.github.mxe2ee.plugin;

import io.github.mxe2ee.plugin.http.BoundedBodyCodec;
import io.github.mxe2ee.plugin.http.RequestListener;
import io.github.mxe2ee.plugin.http.SyncBodyException;
import io.github.mxe2ee.plugin.http.SyncBodyParser;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.Objects;

/**
 * A minimal Matrix Client-Server API client on the Vert.x Web Client: password login and {@code
 * /sync}. It is the HTTP seam the example bots use; the E2EE request pump will grow beside it.
 *
 * <p>Spec: Matrix Client-Server API (spec.matrix.org/latest/client-server-api), sections "Login"
 * ({@code POST /_matrix/client/v3/login}) and "Syncing" ({@code GET /_matrix/client/v3/sync}); the
 * E2EE fields of a sync response are in {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}.
 *
 * <p>Every response body is read with a size bound ({@link BoundedBodyCodec}) and parsed by {@link
 * SyncBodyParser}: no recursion, explicit limits, events over the limits dropped and counted.
 *
 * <p>Threading: methods may be called from any thread; the returned futures complete on the Vert.x
 * context of the {@link WebClient}. After a successful {@link #login}, the session is published
 * through a volatile field, so later calls from other threads see it. Nullness: arguments are
 * non-null unless stated. Errors: futures fail with {@link HomeserverException} on a non-2xx status
 * or a malformed body, and with the Web Client's exception on transport failures.
 *
 * <p>The access token is kept only in memory and never appears in {@code toString}, logs or
 * exception messages.
 */
public final class HomeserverClient {

  /**
   * Extra time allowed on top of a long-poll {@code timeout} before the HTTP request is abandoned:
   * the server holds a {@code /sync} open for up to {@code timeout} ms and then needs time to
   * answer.
   */
  public static final long SYNC_GRACE_MS = 15_000;

  /** Timeout for requests that are not long polls (login). */
  public static final long REQUEST_TIMEOUT_MS = 30_000;

  /**
   * Largest body of a response other than {@code /sync} (a {@code /keys/query} answer for a large
   * room is the biggest): 64 MiB.
   */
  public static final long MAX_RESPONSE_BYTES = 64L * 1024 * 1024;

  private static final System.Logger LOG = System.getLogger(HomeserverClient.class.getName());
  private static final SyncBodyParser RESPONSE_PARSER = new SyncBodyParser(MAX_RESPONSE_BYTES);

  private final WebClient client;
  private final String baseUrl;
  private final SyncBodyParser syncParser;
  private volatile Session session;
  private volatile long requestTimeoutMs = REQUEST_TIMEOUT_MS;
  private volatile RequestListener listener = RequestListener.NONE;

  /** Appended to every authenticated request's path (appservice masquerading), or null. */
  private volatile String identityQuery;

  /**
   * @param client the Web Client to send with; not closed by this class
   * @param baseUrl homeserver base URL such as {@code http://127.0.0.1:8008} (trailing slash ok)
   */
  public HomeserverClient(WebClient client, String baseUrl) {
    this(client, baseUrl, SyncBodyParser.DEFAULT_MAX_DOCUMENT_BYTES);
  }

  /**
   * @param client the Web Client to send with; not closed by this class
   * @param baseUrl homeserver base URL such as {@code http://127.0.0.1:8008} (trailing slash ok)
   * @param maxSyncBodyBytes the largest {@code /sync} body read (see {@link SyncBodyParser})
   */
  public HomeserverClient(WebClient client, String baseUrl, long maxSyncBodyBytes) {
    this.syncParser = new SyncBodyParser(maxSyncBodyBytes);
    this.client = Objects.requireNonNull(client, "client");
    Objects.requireNonNull(baseUrl, "baseUrl");
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  /**
   * Sets who is told about every completed request (for metrics: {@link
   * io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics#requestListener()}); null for nobody.
   *
   * @return this
   */
  public HomeserverClient setRequestListener(RequestListener listener) {
    this.listener = listener == null ? RequestListener.NONE : listener;
    return this;
  }

  /** The homeserver base URL without trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  /**
   * Sets how long a request other than {@code /sync} may take before it is abandoned with a timeout
   * (a transient failure that {@link io.github.mxe2ee.plugin.http.RetryPolicy} retries); default
   * {@link #REQUEST_TIMEOUT_MS}.
   *
   * @return this
   */
  public HomeserverClient setRequestTimeoutMs(long timeoutMs) {
    if (timeoutMs < 1) {
      throw new IllegalArgumentException("timeoutMs must be positive, was " + timeoutMs);
    }
    this.requestTimeoutMs = timeoutMs;
    return this;
  }

  /**
   * Acts as an appservice user (Application Service API, "Identity assertion"; MSC4326 for the
   * device): the session becomes {@code userId}/{@code deviceId} with the appservice's {@code
   * as_token}, and every authenticated request carries {@code ?user_id=…} (and {@code &device_id=…}
   * unless {@code deviceId} is null; the session's device id is then empty). Used by bridge mode
   * ({@link io.github.mxe2ee.plugin.appservice.AppserviceE2ee}).
   *
   * @param asToken the registration's {@code as_token}; secret, never printed
   * @param deviceId the device to act as (it must exist: MSC4190 creates it), or null for none
   * @return the session
   */
  public Session masquerade(String asToken, String userId, String deviceId) {
    Objects.requireNonNull(asToken, "asToken");
    Objects.requireNonNull(userId, "userId");
    String q =
        "user_id=" + java.net.URLEncoder.encode(userId, java.nio.charset.StandardCharsets.UTF_8);
    if (deviceId != null) {
      q +=
          "&device_id="
              + java.net.URLEncoder.encode(deviceId, java.nio.charset.StandardCharsets.UTF_8);
    }
    identityQuery = q;
    Session s = new Session(userId, deviceId == null ? "" : deviceId, asToken);
    session = s;
    return s;
  }

  /** The logged-in session, or null before a successful {@link #login}. */
  public Session session() {
    return session;
  }

  /**
   * Logs in with {@code m.login.password}.
   *
   * @param user localpart or full user id
   * @param password the password; used for this request only and not retained
   * @param deviceId device id to reuse, or null to let the server create one
   * @return the session, also kept for {@link #sync}
   */
  public Future<Session> login(String user, String password, String deviceId) {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    JsonObject body =
        new JsonObject()
            .put("type", "m.login.password")
            .put("identifier", new JsonObject().put("type", "m.id.user").put("user", user))
            .put("password", password)
            .put("initial_device_display_name", "mxe2ee");
    if (deviceId != null) {
      body.put("device_id", deviceId);
    }
    String path = "/_matrix/client/v3/login";
    long start = System.nanoTime();
    return observed(
            "POST",
            path,
            start,
            client
                .postAbs(baseUrl + path)
                .timeout(requestTimeoutMs)
                .as(new BoundedBodyCodec(MAX_RESPONSE_BYTES))
                .sendJsonObject(body))
        .map(resp -> json(path, resp))
        .map(
            json -> {
              Session s =
                  new Session(
                      required(path, json, "user_id"),
                      required(path, json, "device_id"),
                      required(path, json, "access_token"));
              session = s;
              return s;
            });
  }

  /**
   * Uses an existing access token instead of a password login: asks {@code GET
   * /_matrix/client/v3/account/whoami} (Client-Server API, "Current account information") who it
   * belongs to and keeps the session.
   *
   * @param accessToken the token; kept in memory only, never printed
   * @return the session; fails with {@link HomeserverException} if the server refuses the token or
   *     names no device for it
   */
  public Future<Session> loginWithAccessToken(String accessToken) {
    Objects.requireNonNull(accessToken, "accessToken");
    String path = "/_matrix/client/v3/account/whoami";
    long start = System.nanoTime();
    return observed(
            "GET",
            path,
            start,
            client
                .getAbs(baseUrl + path)
                .bearerTokenAuthentication(accessToken)
                .timeout(requestTimeoutMs)
                .as(new BoundedBodyCodec(MAX_RESPONSE_BYTES))
                .send())
        .map(resp -> json(path, resp))
        .map(
            json -> {
              Session s =
                  new Session(
                      required(path, json, "user_id"),
                      required(path, json, "device_id"),
                      accessToken);
              session = s;
              return s;
            });
  }

  /**
   * One {@code /sync} request with the logged-in session.
   *
   * @param since the previous response's {@code next_batch}, or null for an initial sync
   * @param timeoutMs how long the server may hold the request open waiting for events (0 = answer
   *     at once)
   * @return the sync response body; its {@code next_batch} is the next {@code since}
   * @throws IllegalStateException if called before a successful {@link #login}
   */
  public Future<JsonObject> sync(String since, long timeoutMs) {
    return sync(since, timeoutMs, null).map(SyncBodyParser.Result::body);
  }

  /**
   * One {@code /sync} request with the logged-in session and an optional filter, its body read with
   * a size bound and parsed by {@link SyncBodyParser} (events over the JSON bounds are dropped and
   * counted in the result, never the whole response).
   *
   * @param since the previous response's {@code next_batch}, or null for an initial sync
   * @param timeoutMs how long the server may hold the request open (0 = answer at once)
   * @param filter a filter id or inline filter JSON (Client-Server API, "Filtering"), or null
   * @return the parsed body with its {@code next_batch} checked
   * @throws IllegalStateException if called before a successful {@link #login}
   */
  public Future<SyncBodyParser.Result> sync(String since, long timeoutMs, String filter) {
    Session s = session;
    if (s == null) {
      throw new IllegalStateException("sync before login");
    }
    if (timeoutMs < 0) {
      throw new IllegalArgumentException("timeoutMs must be >= 0, was " + timeoutMs);
    }
    String path = "/_matrix/client/v3/sync";
    String q = identityQuery;
    HttpRequest<Buffer> req =
        client
            .getAbs(baseUrl + path + (q == null ? "" : "?" + q))
            .bearerTokenAuthentication(s.accessToken)
            .addQueryParam("timeout", Long.toString(timeoutMs))
            .timeout(timeoutMs + SYNC_GRACE_MS);
    if (since != null) {
      req.addQueryParam("since", since);
    }
    if (filter != null) {
      req.addQueryParam("filter", filter);
    }
    long start = System.nanoTime();
    return observed(
            "GET", path, start, req.as(new BoundedBodyCodec(syncParser.maxDocumentBytes())).send())
        .map(resp -> parsed(path, resp, syncParser))
        .map(
            result -> {
              required(path, result.body(), "next_batch");
              if (result.droppedEvents() > 0 || result.droppedValues() > 0) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "{0}: dropped {1} events and {2} other values over the JSON limits",
                    path,
                    result.droppedEvents(),
                    result.droppedValues());
              }
              return result;
            });
  }

  /**
   * One authenticated request with the logged-in session: {@code method} and {@code path} (below
   * the base URL, already percent-encoded) with an optional JSON body.
   *
   * @return the JSON response body of a 2xx answer
   * @throws IllegalStateException if called before a successful {@link #login}
   */
  public Future<JsonObject> request(String method, String path, JsonObject body) {
    Session s = session;
    if (s == null) {
      throw new IllegalStateException("request before login");
    }
    return send(s, method, path, body).map(resp -> json(path, resp));
  }

  /**
   * {@link #request} for an endpoint behind user-interactive auth (Client-Server API, "User-
   * interactive authentication API"), such as {@code POST /keys/device_signing/upload}: the request
   * is sent without {@code auth} first; if the server answers 401 with {@code flows}, it is sent
   * again with an {@code m.login.password} {@code auth} object (identifier {@code m.id.user}, the
   * session's user) and the UIA {@code session}.
   *
   * @param password the account's password, or null (then a 401 fails with a message saying so)
   * @return the JSON response body of a 2xx answer
   * @throws IllegalStateException if called before a successful {@link #login}
   */
  public Future<JsonObject> requestWithPasswordUia(
      String method, String path, JsonObject body, String password) {
    Session s = session;
    if (s == null) {
      throw new IllegalStateException("request before login");
    }
    return send(s, method, path, body)
        .compose(
            resp -> {
              JsonObject uia = resp.statusCode() == 401 ? bodyOrNull(resp) : null;
              if (uia == null || !(uia.getValue("flows") instanceof io.vertx.core.json.JsonArray)) {
                return Future.succeededFuture(json(path, resp));
              }
              if (password == null) {
                return Future.failedFuture(
                    new HomeserverException(
                        path,
                        401,
                        uia.getString("errcode"),
                        "user-interactive auth required and no account password is configured"));
              }
              if (!offersPasswordOnly(uia.getJsonArray("flows"))) {
                return Future.failedFuture(
                    new HomeserverException(
                        path, 401, null, "the server offers no m.login.password-only flow"));
              }
              JsonObject auth =
                  new JsonObject()
                      .put("type", "m.login.password")
                      .put(
                          "identifier",
                          new JsonObject().put("type", "m.id.user").put("user", s.userId()))
                      .put("password", password);
              if (uia.getValue("session") instanceof String session) {
                auth.put("session", session);
              }
              return send(s, method, path, body.copy().put("auth", auth))
                  .map(retry -> json(path, retry));
            });
  }

  private static boolean offersPasswordOnly(io.vertx.core.json.JsonArray flows) {
    for (Object flow : flows) {
      if (flow instanceof JsonObject f
          && f.getValue("stages") instanceof io.vertx.core.json.JsonArray stages
          && stages.size() == 1
          && "m.login.password".equals(stages.getValue(0))) {
        return true;
      }
    }
    return false;
  }

  private Future<HttpResponse<Buffer>> send(
      Session s, String method, String path, JsonObject body) {
    String q = identityQuery;
    String full = q == null ? path : path + (path.indexOf('?') < 0 ? '?' : '&') + q;
    HttpRequest<Buffer> req =
        client
            .requestAbs(io.vertx.core.http.HttpMethod.valueOf(method), baseUrl + full)
            .bearerTokenAuthentication(s.accessToken)
            .timeout(requestTimeoutMs)
            .as(new BoundedBodyCodec(RESPONSE_PARSER.maxDocumentBytes()));
    long start = System.nanoTime();
    return observed(method, path, start, body == null ? req.send() : req.sendJsonObject(body));
  }

  /**
   * Tells the {@link RequestListener} when {@code answer} completes; a listener error is ignored.
   */
  private <T> Future<HttpResponse<T>> observed(
      String method, String path, long start, Future<HttpResponse<T>> answer) {
    RequestListener l = listener;
    if (l == RequestListener.NONE) {
      return answer;
    }
    int q = path.indexOf('?');
    String bare = q < 0 ? path : path.substring(0, q);
    return answer.andThen(
        ar -> {
          try {
            l.completed(
                method,
                bare,
                ar.succeeded() ? ar.result().statusCode() : 0,
                System.nanoTime() - start);
          } catch (RuntimeException ignored) {
            // Metrics never break a request.
          }
        });
  }

  /** The body of a (non-2xx) answer as a JSON object within the bounds, or null. */
  private static JsonObject bodyOrNull(HttpResponse<Buffer> resp) {
    try {
      Buffer raw = resp.body();
      return raw == null || raw.length() == 0 ? null : RESPONSE_PARSER.parse(raw.getBytes()).body();
    } catch (SyncBodyException e) {
      return null;
    }
  }

  private static JsonObject json(String path, HttpResponse<Buffer> resp) {
    return parsed(path, resp, RESPONSE_PARSER).body();
  }

  /**
   * The status check and bounded parse of every response: the body is read by {@link
   * BoundedBodyCodec} and parsed by {@link SyncBodyParser} (no recursion, explicit limits).
   */
  private static SyncBodyParser.Result parsed(
      String path, HttpResponse<Buffer> resp, SyncBodyParser parser) {
    SyncBodyParser.Result parsed;
    try {
      Buffer raw = resp.body();
      parsed = raw == null || raw.length() == 0 ? null : parser.parse(raw.getBytes());
    } catch (SyncBodyException e) {
      throw new HomeserverException(
          path, resp.statusCode(), null, "body is not a JSON object within limits");
    }
    JsonObject body = parsed == null ? null : parsed.body();
    if (resp.statusCode() / 100 != 2) {
      String errcode =
          body == null ? null : body.getValue("errcode") instanceof String c ? c : null;
      String error =
          body == null
              ? "no body"
              : body.getValue("error") instanceof String m ? m : "no error message";
      throw new HomeserverException(
          path,
          resp.statusCode(),
          errcode,
          error,
          retryAfterMs(body, resp.getHeader("Retry-After")));
    }
    if (body == null) {
      throw new HomeserverException(path, resp.statusCode(), null, "empty body, expected JSON");
    }
    return parsed;
  }

  /**
   * The wait a failed answer asks for (Client-Server API, "Rate limiting"): the body's {@code
   * retry_after_ms} (a non-negative integer), else the {@code Retry-After} header (RFC 9110 section
   * 10.2.3: delay seconds or an HTTP date); -1 if neither is usable.
   */
  static long retryAfterMs(JsonObject body, String header) {
    if (body != null
        && body.getValue("retry_after_ms") instanceof Number n
        && !(n instanceof Double || n instanceof Float)
        && n.longValue() >= 0) {
      return n.longValue();
    }
    if (header == null || header.isBlank()) {
      return -1;
    }
    String h = header.trim();
    try {
      if (h.chars().allMatch(Character::isDigit) && h.length() <= 9) {
        return Long.parseLong(h) * 1000;
      }
      java.time.ZonedDateTime at =
          java.time.ZonedDateTime.parse(h, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
      return Math.max(0, at.toInstant().toEpochMilli() - System.currentTimeMillis());
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static String required(String path, JsonObject json, String field) {
    Object v = json.getValue(field);
    if (!(v instanceof String) || ((String) v).isEmpty()) {
      throw new HomeserverException(
          path, 0, null, "expected a non-empty string field '" + field + "'");
    }
    return (String) v;
  }

  /**
   * A logged-in device: user id, device id and access token. Immutable and thread-safe. {@link
   * #toString()} omits the access token.
   */
  public static final class Session {
    private final String userId;
    private final String deviceId;
    private final String accessToken;

    /**
     * @param userId full user id, e.g. {@code @bot:localhost}
     * @param deviceId device id
     * @param accessToken bearer token; secret
     */
    public Session(String userId, String deviceId, String accessToken) {
      this.userId = Objects.requireNonNull(userId, "userId");
      this.deviceId = Objects.requireNonNull(deviceId, "deviceId");
      this.accessToken = Objects.requireNonNull(accessToken, "accessToken");
    }

    /** Full user id. */
    public String userId() {
      return userId;
    }

    /** Device id. */
    public String deviceId() {
      return deviceId;
    }

    /** The bearer token. Secret: never log it. */
    public String accessToken() {
      return accessToken;
    }

    @Override
    public String toString() {
      return "Session[" + userId + ", device " + deviceId + "]";
    }
  }
}
