package io.github.mxe2ee.examples.bridge;

import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The few plain (unencrypted) Client-Server API calls the example bridge makes with the
 * appservice's {@code as_token}: as the bridge bot, or as a ghost with the {@code user_id} query
 * parameter (Application Service API, "Identity assertion"). Encrypted sending goes through {@link
 * io.github.mxe2ee.plugin.appservice.AppserviceE2ee#send}.
 *
 * <p>Thread-safe (stateless over a Web Client). Errors: a non-2xx answer fails with {@link
 * HomeserverException} carrying the status and {@code errcode}; the token is never in a message.
 */
final class AsClient {

  /** Bound on one request, as the plugin's own requests. */
  static final long TIMEOUT_MS = 30_000;

  private final WebClient web;
  private final String baseUrl;
  private final String asToken;

  AsClient(WebClient web, String baseUrl, String asToken) {
    this.web = Objects.requireNonNull(web, "web");
    this.baseUrl = baseUrl.replaceAll("/+$", "");
    this.asToken = Objects.requireNonNull(asToken, "asToken");
  }

  /**
   * One request below {@code /_matrix/client/v3}.
   *
   * @param path already percent-encoded, starting with {@code /}
   * @param asUser the user to act as ({@code user_id}), or null for the bridge bot
   * @param body the JSON body, or null
   * @return the JSON body of a 2xx answer
   */
  Future<JsonObject> request(HttpMethod method, String path, String asUser, JsonObject body) {
    return send(method, "/_matrix/client/v3" + path, asUser, body);
  }

  private Future<JsonObject> send(HttpMethod method, String path, String asUser, JsonObject body) {
    HttpRequest<Buffer> req =
        web.requestAbs(method, baseUrl + path)
            .bearerTokenAuthentication(asToken)
            .timeout(TIMEOUT_MS);
    if (asUser != null) {
      req.addQueryParam("user_id", asUser);
    }
    Future<HttpResponse<Buffer>> sent = body == null ? req.send() : req.sendJsonObject(body);
    return sent.compose(
        r -> {
          JsonObject json = parse(r);
          if (r.statusCode() / 100 != 2) {
            String errcode = json == null ? null : json.getString("errcode");
            String error = json == null ? null : json.getString("error");
            return Future.failedFuture(
                new HomeserverException(method + " " + path, r.statusCode(), errcode, error));
          }
          return Future.succeededFuture(json == null ? new JsonObject() : json);
        });
  }

  private static JsonObject parse(HttpResponse<Buffer> r) {
    try {
      return r.body() == null || r.body().length() == 0 ? null : r.bodyAsJsonObject();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** One path segment, percent-encoded. */
  static String seg(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
