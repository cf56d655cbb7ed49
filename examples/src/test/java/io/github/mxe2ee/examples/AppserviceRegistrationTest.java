package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The dev homeserver loaded {@code config/appservice-registration.yaml} with MSC4190 enabled: the
 * appservice token authenticates as the sender, registration without {@code inhibit_login} is
 * refused, and the appservice creates its users' devices with {@code PUT /devices/{id}}.
 */
@ExtendWith(VertxExtension.class)
class AppserviceRegistrationTest {

  private static final String CS = "/_matrix/client/v3";

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void appserviceTokenAndMsc4190DeviceManagement(Vertx vertx, VertxTestContext ctx) {
    DevHomeserver hs = DevHomeserver.shared();
    WebClient web = WebClient.create(vertx);
    String token = hs.appserviceSetting("as_token");
    String sender = "@" + hs.appserviceSetting("sender_localpart") + ":localhost";
    String local = "bridge_u" + UUID.randomUUID().toString().substring(0, 8);
    String userId = "@" + local + ":localhost";
    JsonObject register =
        new JsonObject().put("type", "m.login.application_service").put("username", local);

    web.getAbs(hs.baseUrl() + CS + "/account/whoami")
        .bearerTokenAuthentication(token)
        .send()
        .compose(
            r -> {
              ctx.verify(() -> assertEquals(sender, status(r, 200).getString("user_id")));
              // Synapse creates the user before refusing the login, so this probe uses its own
              // name.
              return web.postAbs(hs.baseUrl() + CS + "/register")
                  .bearerTokenAuthentication(token)
                  .sendJsonObject(register.copy().put("username", local + "_login"));
            })
        .compose(
            r -> {
              ctx.verify(
                  () ->
                      assertEquals(
                          "M_APPSERVICE_LOGIN_UNSUPPORTED", status(r, 400).getString("errcode")));
              return web.postAbs(hs.baseUrl() + CS + "/register")
                  .bearerTokenAuthentication(token)
                  .sendJsonObject(register.copy().put("inhibit_login", true));
            })
        .compose(
            r -> {
              ctx.verify(() -> assertEquals(userId, status(r, 200).getString("user_id")));
              return putDevice(web, hs, token, userId);
            })
        .compose(
            r -> {
              ctx.verify(() -> status(r, 201)); // created
              return putDevice(web, hs, token, userId);
            })
        .compose(
            r -> {
              ctx.verify(() -> status(r, 200)); // already there: updated
              return web.getAbs(hs.baseUrl() + CS + "/devices")
                  .bearerTokenAuthentication(token)
                  .addQueryParam("user_id", userId)
                  .send();
            })
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          JsonArray devices = status(r, 200).getJsonArray("devices");
                          assertEquals(1, devices.size(), devices.encode());
                          assertEquals(
                              "BRIDGEDEV", devices.getJsonObject(0).getString("device_id"));
                          ctx.completeNow();
                        })));
  }

  private static Future<HttpResponse<Buffer>> putDevice(
      WebClient web, DevHomeserver hs, String token, String userId) {
    return web.putAbs(hs.baseUrl() + CS + "/devices/BRIDGEDEV")
        .bearerTokenAuthentication(token)
        .addQueryParam("user_id", userId)
        .sendJsonObject(new JsonObject().put("display_name", "mxe2ee bridge device"));
  }

  private static JsonObject status(HttpResponse<Buffer> r, int expected) {
    assertEquals(expected, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }
}
