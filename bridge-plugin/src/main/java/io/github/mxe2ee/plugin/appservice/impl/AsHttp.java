package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.http.BoundedBodyCodec;
import io.github.mxe2ee.plugin.http.Retrier;
import io.github.mxe2ee.plugin.http.SyncBodyException;
import io.github.mxe2ee.plugin.http.SyncBodyParser;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The appservice's own requests with its {@code as_token} (Application Service API, "Identity
 * assertion", "Server admin style permissions"): whoami, user registration, MSC4190 device
 * creation, appservice login. Retried like every plugin request. The token is never printed. Not
 * API.
 */
final class AsHttp {
  private static final String CS = "/_matrix/client/v3";
  private static final long MAX_RESPONSE_BYTES = 1 << 20;
  private static final SyncBodyParser PARSER = new SyncBodyParser(MAX_RESPONSE_BYTES);

  private final WebClient web;
  private final String baseUrl;
  private final String asToken;
  private final Retrier retrier;

  AsHttp(WebClient web, String baseUrl, String asToken, Retrier retrier) {
    this.web = web;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.asToken = asToken;
    this.retrier = retrier;
  }

  String baseUrl() {
    return baseUrl;
  }

  /** The appservice's sender (the bridge bot). */
  Future<String> whoami() {
    return call(HttpMethod.GET, CS + "/account/whoami", null, null)
        .map(
            r -> {
              if (!(r.getValue("user_id") instanceof String id)) {
                throw new HomeserverException(
                    CS + "/account/whoami", 200, null, "no user_id in the answer");
              }
              return id;
            });
  }

  /**
   * Registers {@code localpart} as an appservice user without a login ({@code inhibit_login});
   * {@code M_USER_IN_USE} counts as done.
   */
  Future<Void> register(String localpart) {
    JsonObject body =
        new JsonObject()
            .put("type", "m.login.application_service")
            .put("username", localpart)
            .put("inhibit_login", true);
    return call(HttpMethod.POST, CS + "/register", null, body)
        .<Void>mapEmpty()
        .recover(
            e ->
                e instanceof HomeserverException h && "M_USER_IN_USE".equals(h.errcode())
                    ? Future.succeededFuture()
                    : Future.failedFuture(e));
  }

  /** Creates (201) or updates (200) a device of one of the appservice's users (MSC4190). */
  Future<Void> putDevice(String userId, String deviceId, String displayName) {
    return call(
            HttpMethod.PUT,
            CS + "/devices/" + seg(deviceId),
            userId,
            new JsonObject().put("display_name", displayName))
        .mapEmpty();
  }

  /**
   * Logs an appservice user in ({@code m.login.application_service}) with a chosen device id, for
   * servers without MSC4190.
   *
   * @return the access token (secret)
   */
  Future<String> login(String userId, String deviceId) {
    JsonObject body =
        new JsonObject()
            .put("type", "m.login.application_service")
            .put("identifier", new JsonObject().put("type", "m.id.user").put("user", userId))
            .put("device_id", deviceId)
            .put("initial_device_display_name", "mxe2ee bridge");
    return call(HttpMethod.POST, CS + "/login", null, body)
        .map(
            r -> {
              if (!(r.getValue("access_token") instanceof String t)) {
                throw new HomeserverException(CS + "/login", 200, null, "no access_token");
              }
              return t;
            });
  }

  /** A request as {@code asUser} (or the sender, if null). */
  Future<JsonObject> call(HttpMethod method, String path, String asUser, JsonObject body) {
    String full = asUser == null ? path : path + "?user_id=" + enc(asUser);
    return retrier.run(method + " " + path, () -> once(method, path, full, body));
  }

  private Future<JsonObject> once(HttpMethod method, String path, String full, JsonObject body) {
    HttpRequest<Buffer> req =
        web.requestAbs(method, baseUrl + full)
            .bearerTokenAuthentication(asToken)
            .timeout(30_000)
            .as(new BoundedBodyCodec(MAX_RESPONSE_BYTES));
    Future<HttpResponse<Buffer>> answer = body == null ? req.send() : req.sendJsonObject(body);
    return answer.map(resp -> json(path, resp));
  }

  private static JsonObject json(String path, HttpResponse<Buffer> resp) {
    JsonObject parsed = null;
    try {
      Buffer b = resp.body();
      parsed = b == null || b.length() == 0 ? new JsonObject() : PARSER.parse(b.getBytes()).body();
    } catch (SyncBodyException e) {
      parsed = null;
    }
    int status = resp.statusCode();
    if (status / 100 != 2) {
      String errcode = parsed != null && parsed.getValue("errcode") instanceof String c ? c : null;
      String error = parsed != null && parsed.getValue("error") instanceof String m ? m : "";
      throw new HomeserverException(path, status, errcode, error);
    }
    if (parsed == null) {
      throw new HomeserverException(path, status, null, "answer is not a JSON object");
    }
    return parsed;
  }

  /** One percent-encoded path segment. */
  static String seg(String s) {
    return enc(s).replace("+", "%20");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
