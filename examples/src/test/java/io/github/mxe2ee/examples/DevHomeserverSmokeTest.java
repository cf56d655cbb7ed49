package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Proves the chain: the dev Synapse runs, the shared-secret admin API registers users, the Vert.x
 * Web Client logs in and {@code /sync} answers.
 */
@ExtendWith(VertxExtension.class)
class DevHomeserverSmokeTest {

  private static DevHomeserver hs;

  @BeforeAll
  static void startHomeserver() {
    hs = DevHomeserver.shared();
  }

  @Test
  void statusReportsTheRunningServer() {
    assertTrue(hs.baseUrl().startsWith("http://127.0.0.1:"), hs.baseUrl());
    assertEquals("running " + hs.baseUrl(), hs.status().replaceAll(" pid \\d+$", ""));
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void registerTwoUsersLoginAndSync(Vertx vertx, VertxTestContext ctx) {
    WebClient web = WebClient.create(vertx);
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String alice = "smoke_alice_" + suffix;
    String bob = "smoke_bob_" + suffix;
    HomeserverClient client = new HomeserverClient(web, hs.baseUrl());
    hs.register(web, alice, "alice-pass", false)
        .compose(
            a -> {
              ctx.verify(() -> assertEquals("@" + alice + ":localhost", a.getString("user_id")));
              return hs.register(web, bob, "bob-pass", true);
            })
        .compose(
            b -> {
              ctx.verify(() -> assertEquals("@" + bob + ":localhost", b.getString("user_id")));
              return client.login(alice, "alice-pass", "SMOKEDEV");
            })
        .compose(
            session -> {
              ctx.verify(
                  () -> {
                    assertEquals("@" + alice + ":localhost", session.userId());
                    assertEquals("SMOKEDEV", session.deviceId());
                    assertTrue(!session.toString().contains(session.accessToken()));
                  });
              return client.sync(null, 0);
            })
        .onComplete(
            ctx.succeeding(
                sync ->
                    ctx.verify(
                        () -> {
                          assertNotNull(sync.getString("next_batch"));
                          JsonObject otk = sync.getJsonObject("device_one_time_keys_count");
                          assertNotNull(otk, "sync carries device_one_time_keys_count");
                          ctx.completeNow();
                        })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void wrongPasswordFailsWithForbidden(Vertx vertx, VertxTestContext ctx) {
    WebClient web = WebClient.create(vertx);
    String user = "smoke_carol_" + UUID.randomUUID().toString().substring(0, 8);
    HomeserverClient client = new HomeserverClient(web, hs.baseUrl());
    hs.register(web, user, "right", false)
        .compose(r -> client.login(user, "wrong", null))
        .onComplete(
            ctx.failing(
                err ->
                    ctx.verify(
                        () -> {
                          HomeserverException e = (HomeserverException) err;
                          assertEquals(403, e.statusCode());
                          assertEquals("M_FORBIDDEN", e.errcode());
                          assertTrue(!e.getMessage().contains("wrong"), e.getMessage());
                          ctx.completeNow();
                        })));
  }
}
