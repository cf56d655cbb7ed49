package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link HomeserverClient#requestWithPasswordUia} against Synapse's user-interactive auth, on an
 * endpoint that always demands it ({@code POST /delete_devices}): Synapse lets a user publish a
 * first cross-signing identity without UIA, so the bootstrap's upload does not exercise it there.
 */
class HomeserverClientUiaTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void passwordUia_completesTheFlow_andWithoutOrWithAWrongPasswordFailsWithoutLeakingIt()
      throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    WebClient web = WebClient.create(vertx);
    String user = "uia_" + UUID.randomUUID().toString().substring(0, 8);
    await(hs.register(web, user, "uia-secret-pass", false));
    HomeserverClient first = new HomeserverClient(web, hs.baseUrl());
    await(first.login(user, "uia-secret-pass", "UIAONE"));
    await(new HomeserverClient(web, hs.baseUrl()).login(user, "uia-secret-pass", "UIATWO"));
    JsonObject body = new JsonObject().put("devices", new JsonArray().add("UIATWO"));
    String path = "/_matrix/client/v3/delete_devices";

    ExecutionException none =
        assertThrows(
            ExecutionException.class,
            () -> await(first.requestWithPasswordUia("POST", path, body, null)));
    HomeserverException noPassword = assertInstanceOf(HomeserverException.class, none.getCause());
    assertEquals(401, noPassword.statusCode());
    assertTrue(noPassword.getMessage().contains("no account password"), noPassword.getMessage());

    ExecutionException wrong =
        assertThrows(
            ExecutionException.class,
            () -> await(first.requestWithPasswordUia("POST", path, body, "not-the-pass-123")));
    HomeserverException refused = assertInstanceOf(HomeserverException.class, wrong.getCause());
    assertEquals(401, refused.statusCode(), refused.getMessage());
    assertFalse(refused.getMessage().contains("not-the-pass-123"));

    await(first.requestWithPasswordUia("POST", path, body, "uia-secret-pass"));
    JsonObject devices = await(first.request("GET", "/_matrix/client/v3/devices", null));
    assertFalse(devices.encode().contains("UIATWO"), "the second device was deleted");
    assertTrue(devices.encode().contains("UIAONE"));
  }
}
